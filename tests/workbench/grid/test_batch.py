"""workbench.grid.batch and `python -m workbench reproduce`: a tiny grid executed as papermill notebooks
(4 at once), a failing cell that does not stop it, the re-run that executes only that cell, the
same grid on a local Dask cluster, and the HTML report drawn from its records."""

from __future__ import annotations

import contextlib
import io
import json
import re
from html import unescape
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from dvg_core.training.trainer import TIMING_METRICS
from workbench.grid.batch import GridOptions, grid_cells, plan_cell
from workbench.cli.main import main
from workbench.config.notebook_parameters import config_from_parameters
from workbench.records.run_record import RunRecord, read_metrics

TINY = [
    "loop.total_steps=200", "loop.warmup_steps=100", "loop.utd=1", "loop.batch_size=32",
    "loop.eval_every=100", "loop.eval_episodes=1", "loop.log_every=100",
    "loop.checkpoint_every=100", "algorithm.hidden=16,16", "algorithm.n_samples=4",
    "algorithm.n_target_samples=4", "model.hidden=16,16", "model.fit_steps=5",
    "model.warmup_fit_steps=10", "model.batch_size=32", "env.kwargs.horizon=20", "device=cpu",
]
ALGOS = ["td3", "iqn", "dsdpg_msmmd", "nope"]  # "nope" fails validation inside its notebook
GOOD = ALGOS[:3]


def _reproduce(run_root: Path, *extra: str) -> tuple[int, str]:
    argv = ["reproduce", "toy", "--algos", ",".join(ALGOS), "--seeds", "1", "--n-locations",
            "1", "--workers", "4", "--run-root", str(run_root), "--timeout", "300",
            "--no-progress", *[f"--set={o}" for o in TINY], *extra]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


def _records(experiment_dir: Path) -> dict[str, RunRecord]:
    return {p.name: RunRecord(p) for p in sorted(experiment_dir.iterdir()) if p.is_dir()}


def _invalid_message() -> str:
    with pytest.raises(ValueError) as err:
        config_from_parameters(algo="nope")
    return str(err.value)


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """The grid run once, with its report: (run_root, exit code, stdout)."""
    root = tmp_path_factory.mktemp("runs")
    code, out = _reproduce(root)
    return root, code, out


def test_a_failing_cell_does_not_stop_the_grid(first):
    root, code, out = first
    records = _records(root / "toy")
    statuses = {name: r.status for name, r in records.items()}
    assert sorted(statuses.values()) == ["done", "done", "done", "failed"], statuses
    assert code == 1  # a cell failed
    assert out.strip().splitlines()[-1] == str(root.resolve() / "toy" / "report.html")
    assert "3 done, 0 diverged, 1 failed, 0 skipped" in out
    (bad,) = [r for r in records.values() if r.status == "failed"]
    assert bad.run_id.startswith("invalid-") and not bad.params_path.exists()
    assert _invalid_message() in bad.read_status()["message"]
    assert _invalid_message() in out  # the summary lists it
    errors = [o for c in nbformat.read(bad.notebook_path, as_version=4).cells
              for o in c.get("outputs", []) if o.output_type == "error"]
    assert [(e.ename, e.evalue) for e in errors] == [("ValueError", _invalid_message())]
    assert json.loads((bad.path / "cell.json").read_text())["algo"] == "nope"


def test_each_good_cell_trained_its_own_record_in_its_notebook(first):
    root, _, _ = first
    done = [r for r in _records(root / "toy").values() if r.status == "done"]
    assert sorted(r.config().algorithm.name for r in done) == sorted(GOOD)
    for record in done:
        config = record.config()
        assert record.run_id == record.path.name and config.loop.total_steps == 200
        assert list(read_metrics(record.metrics_path).query("kind == 'eval'")["step"]) == [100, 200]
        nb = nbformat.read(record.notebook_path, as_version=4)
        assert nb.metadata.papermill.exception is None
        figures = [o for c in nb.cells for o in c.get("outputs", [])
                   if "application/vnd.plotly.v1+json" in o.get("data", {})]
        assert len(figures) == 2  # learning curve and critic joint samples


def test_the_four_notebooks_ran_in_parallel(first):
    root, _, _ = first
    spans = [nbformat.read(r.notebook_path, as_version=4).metadata.papermill
             for r in _records(root / "toy").values()]
    assert len(spans) == 4
    # Run in parallel: some two notebooks overlapped in time (run one after another, none would).
    # Not "all four at once": on a loaded machine a kernel can start after another has ended.
    overlapping = [(a, b) for i, a in enumerate(spans) for b in spans[i + 1:]
                   if a.start_time < b.end_time and b.start_time < a.end_time]
    assert overlapping


def _texts(html: str, key: str) -> set[str]:
    """Every JSON string value of `key` in the page (plotly's figure JSON)."""
    return {json.loads(m) for m in re.findall(rf'"{key}":("(?:[^"\\]|\\.)*")', html)}


def test_report_html_embeds_plotly_and_draws_every_algorithm(first):
    root, _, _ = first
    html = (root / "toy" / "report.html").read_text()
    assert "plotly.js v" in html and "Plotly.newPlot" in html  # the library itself, offline
    assert not re.search(r'(src=|import )"https://cdn\.plot\.ly', html)  # not fetched
    titles = _texts(html, "text")
    assert "Learning curves: dvg/PointMass-v1/none/N=1" in titles
    assert "Final return against N: dvg/PointMass-v1 (noise: none)" in titles
    assert "Critic mean-gradient error while training: dvg/PointMass-v1/none/N=1" in titles
    names = _texts(html, "name")
    assert set(GOOD) | {f"{a} seed 0" for a in GOOD} <= names  # the IQM and the seed's curve
    assert not any(name.endswith("95% CI") for name in names)  # one seed: no interval drawn
    assert "nope" not in names
    assert _invalid_message() in unescape(html)  # the failed cell, in the problem table
    assert "Traceback" not in html  # the report notebook ran without an error
    assert not (root / "toy" / "report.ipynb").exists()  # written once: the HTML only


def test_a_rerun_executes_only_the_failed_cell(first):
    root, _, _ = first
    records = _records(root / "toy")
    before = {name: (r.notebook_path.stat().st_mtime_ns, r.metrics_path.read_bytes(),
                     r.status_path.read_bytes())
              for name, r in records.items() if r.status == "done"}
    (bad,) = [r for r in records.values() if r.status == "failed"]
    bad_mtime = bad.notebook_path.stat().st_mtime_ns
    code, out = _reproduce(root, "--no-report")
    assert code == 1 and "0 done, 0 diverged, 1 failed, 3 skipped" in out
    after = {name: (r.notebook_path.stat().st_mtime_ns, r.metrics_path.read_bytes(),
                    r.status_path.read_bytes())
             for name, r in _records(root / "toy").items() if r.status == "done"}
    assert after == before
    assert bad.notebook_path.stat().st_mtime_ns > bad_mtime
    assert bad.status == "failed"


def test_a_dask_local_cluster_gives_the_same_records(first, tmp_path):
    root, _, _ = first
    code, _ = _reproduce(tmp_path, "--dask", "local", "--no-report")
    assert code == 1
    ours, theirs = _records(root / "toy"), _records(tmp_path / "toy")
    assert sorted(ours) == sorted(theirs)
    for name, record in ours.items():
        assert theirs[name].status == record.status
        if record.status == "done":
            a, b = (read_metrics(r.metrics_path).drop(columns=list(TIMING_METRICS))
                    for r in (record, theirs[name]))
            pd.testing.assert_frame_equal(a, b)


# ----------------------------------------------------------------- fast units
def test_toy_grid_is_algorithms_by_n_by_seeds_with_distinct_records(tmp_path):
    cells = grid_cells("toy")
    assert len(cells) == 6 * 3 * 3
    dirs = {plan_cell(c, run_root=tmp_path, experiment="toy").run_dir for c in cells}
    assert len(dirs) == len(cells)
    assert {c["preset"] for c in cells} == {"toy-quick"}


def test_mujoco_grid_is_tasks_by_noise_by_algorithms_by_seeds(tmp_path):
    assert len(grid_cells("mujoco")) == 6 * 3 * 6 * 3
    options = GridOptions(seeds=(0, 1), algos=("td3", "dsdpg_msmmd"), tasks=("Hopper-v5",),
                          noises=("none", "obs"))
    cells = grid_cells("mujoco", options)
    assert len(cells) == 2 * 2 * 2
    assert {(c["env_id"], c["preset"]) for c in cells} == {("Hopper-v5", "mujoco-100k")}
    tasks = [plan_cell(c, run_root=tmp_path, experiment="mujoco") for c in cells]
    assert all(t.error is None for t in tasks)
    assert len({t.run_dir for t in tasks}) == len(cells)
    config = config_from_parameters(**{**cells[-1], "run_root": str(tmp_path)})
    assert (config.env.env_id, config.env.noise, config.loop.total_steps) == (
        "Hopper-v5", "obs", 100_000)


def test_an_invalid_cell_gets_a_failed_plan_in_an_invalid_dir(tmp_path):
    (cell,) = grid_cells("toy", GridOptions(seeds=(0,), algos=("td3",), n_locations=(1,)))
    task = plan_cell({**cell, "lam": -1.0}, run_root=tmp_path, experiment="toy")
    assert "algorithm: lam must be >= 0" in task.error
    assert Path(task.run_dir).parent == tmp_path / "toy"
    assert Path(task.run_dir).name.startswith("invalid-")
    again = plan_cell({**cell, "lam": -1.0}, run_root=tmp_path / "elsewhere", experiment="toy")
    assert Path(again.run_dir).name == Path(task.run_dir).name  # named by what, not where
    assert plan_cell(cell, run_root=tmp_path, experiment="toy").error is None
    with pytest.raises(ValueError, match="not train.ipynb parameters"):
        plan_cell({**cell, "lamda": 1.0}, run_root=tmp_path, experiment="toy")


def test_unknown_experiment_and_all_invalid_grids_stop_before_running(tmp_path, capsys):
    assert main(["reproduce", "mujocoo", "--run-root", str(tmp_path)]) == 2
    assert "unknown experiment 'mujocoo'; experiments: toy: " in capsys.readouterr().err
    assert main(["reproduce", "toy", "--set", "loop.utd=0", "--run-root", str(tmp_path)]) == 2
    assert "utd must be" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
