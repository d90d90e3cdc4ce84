"""`python -m workbench model-fidelity` and notebooks/model_fidelity.ipynb: a tiny grid, its JSON
rows, resuming and adding a model, bad options, the notebook under papermill."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill
import pytest

from workbench.cli import main as cli
from workbench.host.kernels import IpcKernelManager
from workbench.fidelity.world_model_grid import ModelFidelityOptions, TABLE_METRICS

NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"
TINY = ["model-fidelity", "--n-locations", "3", "--noise", "0.05", "--probes", "6",
        "--draws", "16", "--reference-steps", "600", "--no-progress", "--fit-steps", "20"]
REQUIRED = {"model", "data", "n_locations", "noise", "fit_steps", "sample_mmd2", "joint_energy",
            "reward_gradient_error", "state_gradient_error", "target_mean_error",
            "target_gradient_error"}


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    path = tmp_path_factory.mktemp("mf") / "rows.json"
    assert cli.main([*TINY, "--models", "cvae,oracle", "--json", str(path)]) == 0
    return path


def test_rows_hold_every_metric_per_model_and_data_set(grid, capsys):
    rows = json.loads(grid.read_text())["rows"]
    assert {(r["model"], r["data"]) for r in rows} == {
        (m, d) for m in ("cvae", "oracle") for d in ("uniform", "replay")}
    for row in rows:
        assert REQUIRED <= set(row) and set(TABLE_METRICS) <= set(row)
        assert len(row["probe_draws"]) == len(row["probe_truth"]) == 128
    oracle = {r["data"]: r for r in rows if r["model"] == "oracle"}
    assert all(r["state_gradient_error"] < 1e-6 and r["between_modes"] < 0.05
               for r in oracle.values())
    assert Path(f"{grid}.tb").is_dir()


def test_a_rerun_resumes_and_a_new_model_adds_only_its_rows(grid, capsys, monkeypatch):
    before = json.loads(grid.read_text())["rows"]
    assert cli.main([*TINY, "--models", "cvae,oracle", "--json", str(grid)]) == 0
    assert json.loads(grid.read_text())["rows"] == before  # nothing measured again
    assert cli.main([*TINY, "--models", "cvae,ensemble", "--data", "uniform", "--json",
                     str(grid)]) == 0
    after = json.loads(grid.read_text())["rows"]
    assert after[:len(before)] == before and [(r["model"], r["data"]) for r in after[len(before):]
                                              ] == [("ensemble", "uniform")]
    table = capsys.readouterr().out
    assert "| uniform | 3 | 0.05 | ensemble | 1 |" in table and "| replay |" not in table.split(
        "ensemble")[-1]


def test_rows_of_other_options_are_refused_naming_the_file(grid, capsys):
    assert cli.main([*TINY[:-1], "21", "--json", str(grid)]) == 2
    assert str(grid) in capsys.readouterr().err


@pytest.mark.parametrize("bad, named", [
    (["--models", "cvea"], "did you mean 'cvae'"), (["--data", "replays"], "data"),
    (["--n-locations", "9"], "n_locations"), (["--fit-steps", "-1"], "fit_steps"),
])
def test_bad_options_are_refused_before_any_work(bad, named, tmp_path, capsys):
    assert cli.main([*TINY, *bad, "--json", str(tmp_path / "r.json")]) == 2
    assert named in capsys.readouterr().err and not (tmp_path / "r.json").exists()


def test_options_validate_on_construction():
    with pytest.raises(ValueError, match="noises"):
        ModelFidelityOptions(noises=(0.9,))


def test_model_fidelity_notebook_runs_under_papermill_and_draws_its_figures(tmp_path):
    output = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        NOTEBOOKS / "model_fidelity.ipynb", output, parameters={
            "models": ["cvae", "oracle"], "fit_steps": 10, "n_probes": 4, "n_draws": 8,
            "data": ["uniform"], "reference_steps": 600,
            "json_path": str(tmp_path / "rows.json")},
        kernel_name="python3", cwd=str(tmp_path), progress_bar=False, execution_timeout=300,
        start_timeout=120, kernel_manager_class=IpcKernelManager)
    nb = nbformat.read(output, as_version=4)
    assert nb.metadata.papermill.exception is None
    titles = [o.data["application/vnd.plotly.v1+json"]["layout"]["title"]["text"]
              for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(titles) == 1 and titles[0].startswith("cvae on uniform data, N=3, noise 0.05")


def test_the_default_learned_model_meets_its_gradient_bounds_at_a_cheap_setting():
    """The guard on the default world model's derivatives (`toy-quick`'s `model`): fitted 600
    batches on 2048 uniform transitions of the deterministic-reward toy (N = 1, noise-free),
    measured at 32 uniform and near-location probes. Measured (torch 2.13 CPU): reward-gradient
    error 0.737, state-gradient error 0.031; bounds 0.85 and 0.06 (margins 0.11 and 0.03). At
    N >= 3 no learned model gets the reward's gradient (docs/lab/world-models.md), so the guard sits
    where it can."""
    import gymnasium
    import torch

    from dvg_core.analysis.model_fidelity import model_metrics
    from dvg_core.analysis.model_fidelity_runs import fit_model, uniform_data
    from dvg_core.models.world_models import OracleWorldModel
    from dvg_core.training.build import build_world_model
    from workbench.config.presets import preset

    config = preset("toy-quick", ["n_locations=1", "model=cvae"])
    env = gymnasium.make(config.env.env_id, **config.env.kwargs)
    dynamics = env.unwrapped.dynamics
    data = uniform_data(dynamics, n_pairs=2048, n_probes=32,
                        generator=torch.Generator().manual_seed(0))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model = build_world_model(config.model, config.env, env)
        fit_model(model, data, steps=600, generator=torch.Generator().manual_seed(1))
        got = model_metrics(model, OracleWorldModel(dynamics), data.probe_state,
                            data.probe_action, n_draws=128,
                            generator=torch.Generator().manual_seed(2))
    finally:
        torch.set_num_threads(threads)
    assert got["reward_gradient_error"] < 0.85, got
    assert got["state_gradient_error"] < 0.06, got
