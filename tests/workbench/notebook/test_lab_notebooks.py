"""The notebooks as JupyterLab runs them: the kernel's working directory is not the repository
root, relative paths still mean the repository's, and the papermill templates stay clean
(`make lab` opens copies in lab/)."""

from __future__ import annotations

import os
import subprocess

import nbformat
import papermill
import pytest

from workbench.notebook.lab import prepare_lab
from workbench.host.paths import REPO_ROOT, display_path, repo_path

NOTEBOOKS = REPO_ROOT / "notebooks"
TINY = [
    "loop.total_steps=120", "loop.warmup_steps=40", "loop.utd=1", "loop.batch_size=16",
    "loop.eval_every=40", "loop.eval_episodes=1", "loop.log_every=40",
    "loop.checkpoint_every=40", "algorithm.hidden=8,8", "model.hidden=8,8", "model.fit_steps=2",
    "model.warmup_fit_steps=2", "model.batch_size=16", "env.kwargs.horizon=10", "device=cpu",
]


def _outputs(nb: nbformat.NotebookNode, kind: str) -> list:
    return [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == kind]


def _texts(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in _outputs(nb, "stream"))


def test_relative_paths_start_at_the_repository_root_wherever_the_process_is(tmp_path,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert repo_path("runs/toy") == REPO_ROOT / "runs" / "toy"
    assert repo_path(tmp_path / "x") == tmp_path / "x"
    assert display_path(REPO_ROOT / "runs" / "toy") == "runs/toy"
    assert display_path(tmp_path) == str(tmp_path.resolve())


@pytest.mark.slow
def test_train_then_report_under_labs_working_directory_leave_the_templates_clean(tmp_path):
    """Both notebooks with their kernel in notebooks/ (where `jupyter lab notebooks/` starts
    it) and relative paths: the record lands where the path means from the repository root."""
    before = {p.name: p.read_bytes() for p in NOTEBOOKS.glob("*.ipynb")}
    run_root = os.path.relpath(tmp_path / "runs", REPO_ROOT)  # relative to the repo, not cwd
    train = tmp_path / "train.ipynb"
    papermill.execute_notebook(
        NOTEBOOKS / "train.ipynb", train, cwd=str(NOTEBOOKS), kernel_name="python3",
        progress_bar=False, execution_timeout=300,
        parameters={"algo": "td3", "run_root": run_root, "experiment": "lab", "overrides": TINY})
    records = list((tmp_path / "runs" / "lab").glob("*/params.json"))
    assert len(records) == 1 and not (NOTEBOOKS / "runs").exists()
    trained = nbformat.read(train, as_version=4)
    summary = _texts(trained)
    assert "td3 on dvg/PointMass-v1" in summary and "status: done" in summary
    assert '"algorithm": {' not in summary  # a summary line, not the config's JSON
    assert _outputs(trained, "display_data")  # the progress bar and figures (interactive)

    report = tmp_path / "report.ipynb"
    experiment = os.path.relpath(tmp_path / "runs" / "lab", REPO_ROOT)
    papermill.execute_notebook(
        NOTEBOOKS / "report.ipynb", report, cwd=str(NOTEBOOKS), kernel_name="python3",
        progress_bar=False, execution_timeout=300, parameters={"experiment_dir": experiment})
    reported = nbformat.read(report, as_version=4)
    html = "".join(str(o.get("data", {})) for o in _outputs(reported, "execute_result"))
    assert "None: every run (1) ended `done`" in html  # no empty failed-runs table
    assert {p.name: p.read_bytes() for p in NOTEBOOKS.glob("*.ipynb")} == before


def test_lab_copies_missing_templates_and_keeps_edited_copies(tmp_path):
    lab = tmp_path / "lab"
    first = prepare_lab(lab)
    assert sorted(p.name for p in first) == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    edited = lab / "train.ipynb"
    edited.write_text("edited")
    assert prepare_lab(lab) == [] and edited.read_text() == "edited"


def test_make_lab_opens_the_copies_not_the_templates():
    dry = subprocess.run(["make", "-n", "lab"], cwd=REPO_ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert "-m workbench.notebook.lab lab" in dry and "jupyter lab lab/" in dry
    assert "jupyter lab notebooks" not in dry
    ignored = subprocess.run(["git", "check-ignore", "lab/train.ipynb", "docs/lab/README.md"],
                             cwd=REPO_ROOT, capture_output=True, text=True).stdout.split()
    assert ignored == ["lab/train.ipynb"]  # the working copies, never the docs' lab notebook
