"""`python -m workbench fidelity` and notebooks/fidelity.ipynb: a tiny grid, its JSON rows, resuming,
the acceptance criteria and the notebook under papermill."""

from __future__ import annotations

import json
from pathlib import Path
import math

import nbformat
import papermill
import pytest
from tests.workbench.notebook.test_notebooks import NOTEBOOKS, _unstripped

from workbench.cli import main as cli
from workbench.host.kernels import IpcKernelManager
from workbench.fidelity.critic_grid import load_rows
from workbench.fidelity.critic_options import FidelityOptions
from workbench.fidelity.critic_tables import criteria, format_criteria_summary, format_table

TINY = ["fidelity", "--n-locations", "3", "--gamma", "0.5", "--noise", "0.05", "--algos",
        "td3,iqn,dsdpg_msmmd", "--updates", "6", "--checkpoints", "2", "--seeds", "2",
        "--exact-updates", "4", "--probes", "16", "--truth-samples", "64",
        "--regression-pairs", "256", "--workers", "1", "--no-progress"]
REQUIRED = {"algorithm", "n_locations", "gamma", "noise", "updates", "mean_bias", "mean_error",
            "gradient_error", "spread_ratio", "energy", "mmd2"}


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    path = tmp_path_factory.mktemp("fidelity") / "rows.json"
    assert cli.main([*TINY, "--json", str(path)]) == 0
    return path


def test_rows_hold_every_setting_algorithm_seed_and_checkpoint(grid):
    rows = load_rows(grid)
    assert all(REQUIRED <= set(r) for r in rows)
    critic = {(r["algorithm"], r["seed"], r["updates"]) for r in rows if r["kind"] == "critic"}
    assert critic == {(a, s, u) for a in ("td3", "iqn", "dsdpg_msmmd") for s in (0, 1)
                      for u in (3, 6)}
    regression = {(r["seed"], r["updates"]) for r in rows if r["kind"] == "regression"}
    assert regression == {(0, 3), (0, 6), (1, 3), (1, 6)}
    exact = {(r["seed"], r["updates"]) for r in rows if r["kind"] == "exact_targets"}
    assert exact == {(0, 2), (0, 4)}  # one seed by default, its own budget
    assert all((r["n_locations"], r["gamma"], r["noise"]) == (3, 0.5, 0.05) for r in rows)
    assert all(math.isnan(r["spread_ratio"]) for r in rows if r["algorithm"] == "td3")


def test_a_rerun_resumes_and_trains_nothing(grid, capsys):
    parts = sorted(grid.with_name(grid.name + ".d").glob("*.jsonl"))
    before = [p.read_text() for p in parts]
    assert cli.main([*TINY, "--json", str(grid)]) == 0
    assert [p.read_text() for p in parts] == before
    out = capsys.readouterr().out
    assert "| dsdpg_msmmd [exact targets] | 4 |" in out
    assert "| dsdpg_msmmd [regression] | 6 |" in out
    assert "decided criteria pass" in out


def test_bad_options_are_named_before_any_work(tmp_path, capsys):
    assert cli.main(["fidelity", "--algos", "td4", "--json", str(tmp_path / "x.json")]) == 2
    assert "algos: 'td4' is not one of" in capsys.readouterr().err
    with pytest.raises(ValueError, match="variants"):
        FidelityOptions(variants=("papr",))
    with pytest.raises(ValueError, match="'shared-draws' with dsdpg_msmmd: shared_target_draws"):
        FidelityOptions(algos=("mmd", "dsdpg_msmmd"), variants=("shared-draws",))
    FidelityOptions(algos=("mmd",), variants=("default", "shared-draws"))
    with pytest.raises(ValueError, match="gamma"):
        FidelityOptions(gammas=(1.5,))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json cannot be read"):
        load_rows(bad)


def _row(algorithm, **metrics):
    base = {"algorithm": algorithm, "kind": "critic", "variant": "default", "seed": 0,
            "n_locations": 3, "gamma": 0.9, "noise": 0.0, "updates": 10, "seconds": 1.0,
            "mean_bias": 0.0, "mean_error": 0.5, "gradient_error": 0.5, "spread_ratio": 1.0,
            "energy": 0.5, "mmd2": 0.1}
    return base | metrics


def test_criteria_compare_with_td3_iqn_and_mage():
    rows = [_row("td3", mean_error=0.5, gradient_error=0.6, spread_ratio=math.nan),
            _row("mage", gradient_error=0.4, spread_ratio=math.nan),
            _row("iqn", mean_error=0.61, energy=0.3),
            _row("dsdpg_msmmd", mean_error=0.59, spread_ratio=1.4, energy=0.2,
                 gradient_error=0.45),
            _row("dsdpg_msmmd", updates=5, mean_error=9.0)]  # an earlier checkpoint: ignored
    results = {(r["algorithm"], r["criterion"]): r["passed"] for r in criteria(rows)}
    assert results == {("iqn", "mean"): False, ("dsdpg_msmmd", "mean"): True,
                       ("dsdpg_msmmd", "spread"): False, ("dsdpg_msmmd", "energy"): True,
                       ("dsdpg_msmmd", "gradient"): False}
    assert "| dsdpg_msmmd | 10 | 0.00 | 0.59 |" in format_table(rows)
    summary = format_criteria_summary(criteria(rows))
    assert "| dsdpg_msmmd | 1 / 1 | 0 / 1 | 1 / 1 | 0 / 1 |" in summary
    assert "| iqn | 0 / 1 | — | — | — |" in summary


NOTEBOOK = NOTEBOOKS / "fidelity.ipynb"
NOTEBOOK_TINY = {"n_locations": [1], "gammas": [0.5], "noises": [0.0],
                 "algos": ["td3", "dsdpg_mmd"], "updates": 4, "n_checkpoints": 2,
                 "exact_updates": 2}


def test_fidelity_notebook_is_stripped_and_declares_its_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert _unstripped(nb) == []
    found = papermill.inspect_notebook(str(NOTEBOOK))
    assert set(NOTEBOOK_TINY) <= set(found) and "json_path" in found


def test_fidelity_notebook_runs_under_papermill_and_draws_its_figures(tmp_path):
    output = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        NOTEBOOK, output, parameters=NOTEBOOK_TINY | {"json_path": str(tmp_path / "rows.json")},
        kernel_name="python3", cwd=str(tmp_path), progress_bar=False, execution_timeout=300,
        start_timeout=120, kernel_manager_class=IpcKernelManager)
    nb = nbformat.read(output, as_version=4)
    assert nb.metadata.papermill.exception is None
    figures = [o.data["application/vnd.plotly.v1+json"] for c in nb.cells
               if c.cell_type == "code" for o in c.outputs
               if "application/vnd.plotly.v1+json" in o.get("data", {})]
    titles = [f["layout"]["title"]["text"] for f in figures]
    assert titles[0].startswith("Critic fidelity against updates: N = 1, γ = 0.5")
    assert sum(t.startswith("td3 after 4 updates<br>N = 1") for t in titles) == 1
    assert any(t.startswith("dsdpg_msmmd [exact targets] after 2 updates") for t in titles)
    assert len(json.loads((tmp_path / "rows.json").read_text())) == 8  # 4 row series x 2


def test_rows_of_another_config_are_not_resumed(grid, capsys):
    """A row written under other settings (an older default) is trained again, not reused."""
    part = sorted(grid.with_name(grid.name + ".d").glob("*seed1.jsonl"))[0]
    rows = [json.loads(line) for line in part.read_text().splitlines()]
    stale = [r | {"config": "0" * 12} if r["algorithm"] == "td3" else r for r in rows]
    part.write_text("".join(json.dumps(r) + "\n" for r in stale))
    assert cli.main([*TINY, "--json", str(grid)]) == 0
    after = [json.loads(line) for line in part.read_text().splitlines()]
    td3 = [r for r in after if r["algorithm"] == "td3"]
    assert len(td3) == 4 and sum(r["config"] == "0" * 12 for r in td3) == 2
    merged = [r for r in load_rows(grid) if r["algorithm"] == "td3" and r["seed"] == 1]
    assert len(merged) == 2 and all(r["config"] != "0" * 12 for r in merged)


def test_config_fingerprints_are_those_of_the_committed_rows():
    """Nesting max-slicing's options (`AlgorithmConfig.slicing`) kept every fingerprint: the
    committed grid resumes instead of retraining."""
    from workbench.fidelity.critic_grid import config_fingerprint
    from workbench.fidelity.critic_options import FidelityOptions, algorithm_config

    path = Path(__file__).resolve().parents[3] / "docs/results/fidelity.json.d"
    rows = [json.loads(line) for line in (path / "n1_gamma0.5_noise0.0_seed0.jsonl").open()]
    stored = {(r["algorithm"], r["variant"]): r["config"] for r in rows if r["kind"] == "critic"}
    assert len(stored) == 6
    for (name, variant), fingerprint in stored.items():
        config = algorithm_config(name, variant, 0.5, FidelityOptions().hidden)
        assert config_fingerprint(config) == fingerprint, name


def test_grids_default_to_the_papers_six_and_take_the_complete_operator_when_named():
    from dvg_core.agents import PAPER_ALGORITHMS
    from workbench.grid.batch import grid_cells
    from workbench.experiments.registry import GridOptions

    assert FidelityOptions().algos == PAPER_ALGORITHMS
    assert "dsdpg_complete" in FidelityOptions(algos=("dsdpg_complete",)).algos
    toy = grid_cells("toy", GridOptions(seeds=(0,), n_locations=(1,)))
    assert tuple(cell["algo"] for cell in toy) == PAPER_ALGORITHMS
    (cell,) = grid_cells("toy", GridOptions(seeds=(0,), algos=("dsdpg_complete",),
                                            n_locations=(1,)))
    assert cell["algo"] == "dsdpg_complete"
