"""`python -m workbench reproduce ablation NAME`: each ablation's grid varies exactly its named
setting, `ablations --list` prints them all, bad input stops before anything trains, and a tiny
ablation run's records and report carry the ablation value (`workbench.experiments.ablations`)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest

from dvg_core.agents import PAPER_ALGORITHMS
from dvg_core.agents.strategies import STRATEGIES
from tests.workbench.grid.test_batch import TINY
from workbench.report import plots
from workbench.report import report_notebook as report_api
from workbench.experiments.ablations import ABLATION_PREFIX, ABLATIONS, MODEL_BASED
from workbench.grid.batch import GridOptions, grid_cells
from workbench.cli.main import main
from workbench.config.notebook_parameters import config_from_parameters
from workbench.records.run_record import MetricsWriter, create_or_open
from workbench.report.record_frames import load_metrics


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config dict as `{dotted.key: leaf}`."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


@pytest.mark.parametrize("name", list(ABLATIONS))
def test_an_ablation_grid_varies_its_named_setting_and_nothing_else(name):
    ablation = ABLATIONS[name]
    cells = grid_cells(ABLATION_PREFIX + name, GridOptions(seeds=(0,)))
    algos = ablation.algos or (None,)
    assert len(cells) == len(ablation.values) * len(algos)
    for index, algo in enumerate(algos):
        own = cells[index::len(algos)]  # one cell per value, in the ablation's order
        assert [c["overrides"] for c in own] == [ablation.overrides(v) for v in ablation.values]
        assert [c["overrides"][-len(ablation.keys):] for c in own] == [
            [f"{key}={v}" for key in ablation.keys] for v in ablation.values]
        rest = [{k: v for k, v in c.items() if k != "overrides"} for c in own]
        assert all(r == rest[0] for r in rest) and rest[0].get("algo") == algo
        assert rest[0]["n_locations"] == 3 and rest[0]["preset"] == "toy-quick"
        configs = [config_from_parameters(**c).to_dict() for c in own]
        flat = [_flat(c) for c in configs]
        changed = {k for k in flat[0] if any(f[k] != flat[0][k] for f in flat)}
        assert changed == set(ablation.keys)
        assert [ablation.label(c) for c in configs] == list(ablation.values)
        assert {c["env"]["env_id"] for c in configs} == {"dvg/PointMass-v1"}


def test_ablation_defaults_seeds_and_the_model_based_algorithms():
    assert len(grid_cells("ablation-lambda")) == 4 * 3  # 4 values x 3 seeds, dsdpg_msmmd, N=3
    assert {c["algo"] for c in grid_cells("ablation-lambda")} == {"dsdpg_msmmd"}
    assert MODEL_BASED == tuple(a for a in PAPER_ALGORITHMS if STRATEGIES[a].uses_world_model)
    options = GridOptions(seeds=(4,), algos=("mage",), n_locations=(1, 5),
                          overrides=("loop.total_steps=900",))
    cells = grid_cells("ablation-world-model", options)
    assert len(cells) == 4 * 2
    assert cells[0]["overrides"] == ["loop.total_steps=900", "model.kind=oracle"]


def test_list_prints_every_ablation_with_its_setting_and_values(capsys):
    assert main(["reproduce", "ablations", "--list"]) == 0
    out = capsys.readouterr().out
    for ablation in ABLATIONS.values():
        assert f"{ablation.name}: {ablation.description}" in out
        assert f"sets {ablation.setting} to {', '.join(ablation.values)}" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["ablation", "bandwith"], "unknown ablation 'bandwith'; did you mean 'bandwidth'?"),
    (["ablation"], "`reproduce ablation` needs a NAME"),
    (["toy", "lambda"], "only `reproduce ablation NAME` takes a name"),
    (["ablation", "lambda", "--set", "lam=2"], "changes algorithm.lam, which ablation lambda"),
    (["ablation", "noise", "--set", "noise=obs"], "changes env.noise, which ablation noise"),
    (["ablation", "world-model", "--set", "env=Hopper-v5"], "an ablation runs on the toy"),
    (["ablation", "msmmd-vs-mmd", "--algos", "td3"], "varies the algorithm itself"),
    (["ablation", "lambda", "--algos", "dsdpg_msmd"], "did you mean 'dsdpg_msmmd'?"),
    (["ablation", "samples", "--set", "algorithm.truncate=0.97"],  # M=5 keeps no target sample
     "invalid cell in the ablation-samples grid"),
])
def test_bad_input_exits_2_with_a_message_before_anything_trains(argv, message, tmp_path, capsys):
    assert main(["reproduce", *argv, "--run-root", str(tmp_path), "--no-progress"]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_a_tiny_ablation_records_its_values_and_reports_one_series_each(tmp_path):
    argv = ["reproduce", "ablation", "truncation", "--seeds", "1", "--n-locations", "1",
            "--workers", "2", "--run-root", str(tmp_path), "--timeout", "300", "--no-progress",
            "--no-report", *[f"--set={o}" for o in TINY]]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(argv) == 0
    experiment = Path(tmp_path) / "ablation-truncation"
    assert set(load_metrics(experiment)["variant"]) == {"0", "0.1"}
    data = report_api.load_experiment(experiment)
    assert set(data.statuses["status"]) == {"done"} and data.series == "variant"
    (figure,) = report_api.learning_curve_figures(data)
    assert "(varied: algorithm.truncate)" in figure.layout.title.text
    series = [t for t in figure.data if t.legendgroup != "references"]  # not the toy's references
    assert [t.name for t in series if t.showlegend is not False] == ["0", "0.1"]
    assert {t.line.color for t in series} <= set(plots.SERIES_COLORS)  # not algorithm colours
    table = report_api.final_return_table(data)
    assert table.index.name == "algorithm.truncate" and list(table.index[:2]) == ["0", "0.1"]
    assert all(row.endswith("(reference)") for row in table.index[2:])
    (verdict,) = report_api.claim_verdicts(data).values()
    assert verdict.improvement.empty and "No verdict: ablation truncation" in verdict.text
    assert report_api.improvement_figures(report_api.claim_verdicts(data)) == []


def test_an_ablation_of_several_algorithms_names_each_series_by_algorithm_and_value(tmp_path):
    options = GridOptions(seeds=(0,), algos=("mage", "dsdpg_msmmd"))
    for cell in grid_cells("ablation-world-model", options)[:4]:  # oracle and cvae
        create_or_open(config_from_parameters(**cell, run_root=str(tmp_path),
                                              experiment="ablation-world-model"))
    data = report_api.load_experiment(tmp_path / "ablation-world-model")
    assert data.ablation is ABLATIONS["world-model"]
    assert set(data.statuses["variant"]) == {
        "mage · oracle", "mage · cvae", "dsdpg_msmmd · oracle", "dsdpg_msmmd · cvae"}
    counts = report_api.status_counts(data)
    assert counts.index.name == "variant" and list(counts.columns) == ["dvg/PointMass-v1/none/N=3"]


def _ablation_records(run_root: Path, name: str, seeds: int = 3) -> Path:
    """Done records of ablation `name` (its default algorithm, N = 3) with made-up eval returns,
    value k's `10 + k + seed` at the last step."""
    experiment = ABLATION_PREFIX + name
    for k, cell in enumerate(grid_cells(experiment, GridOptions(seeds=tuple(range(seeds))))):
        record = create_or_open(config_from_parameters(**cell, run_root=str(run_root),
                                                       experiment=experiment))
        record.set_status("running")
        writer = MetricsWriter(record.metrics_path)
        top = 10.0 + k // seeds + cell["seed"]
        for step in (100, 200, 300):
            writer.write({"step": step, "kind": "eval", "eval_return_mean": top * step / 300})
        record.set_status("done", "", 300)
    return run_root / experiment


def test_an_ablation_report_draws_iqm_curves_per_value_and_gives_no_verdict(tmp_path):
    data = report_api.load_experiment(_ablation_records(tmp_path, "lambda"))
    (figure,) = report_api.learning_curve_figures(data)
    assert figure.layout.title.text.endswith("(varied: algorithm.lam)")
    names = [t.name for t in figure.data if t.legendgroup != "references"]
    assert {"0", "0 95% CI", "0 seed 0", "0 seed 2", "10"} <= set(names)
    assert [t.name for t in figure.data if t.showlegend is not False
            and t.legendgroup != "references"] == ["0", "0.1", "1", "10"]  # numbers by value
    assert list(next(t for t in figure.data if t.name == "1").y) == pytest.approx(
        [13 / 3, 26 / 3, 13.0])  # IQM of 12, 13, 14 (x step/300)
    assert any(t.legendgroup == "references" for t in figure.data)
    table = report_api.final_return_table(data)
    assert table.index.name == "algorithm.lam"
    assert list(table.index[:4]) == ["0", "0.1", "1", "10"]
    assert table.loc["10", "dvg/PointMass-v1/none/N=3"].startswith("14.00 [")
    (final,) = report_api.final_return_figures(data)
    assert "(varied: algorithm.lam)" in final.layout.title.text
    verdicts = report_api.claim_verdicts(data)
    assert report_api.improvement_table(verdicts).empty
    assert "No verdict: ablation lambda" in report_api.claim_text(verdicts).data


def test_an_ablation_of_the_env_draws_no_ambiguous_references(tmp_path, recwarn):
    data = report_api.load_experiment(_ablation_records(tmp_path, "noise", seeds=1))
    assert data.references.empty and not recwarn.list
    assert list(report_api.final_return_table(data).index) == ["0", "0.05", "0.1"]


def test_each_ablation_knows_the_value_the_workbench_uses():
    assert {name: a.default_value() for name, a in ABLATIONS.items()} == {
        "truncation": "0", "msmmd-vs-mmd": "dsdpg_msmmd", "bandwidth": "10", "samples": "10",
        "lambda": "1", "noise": "0", "world-model": "cvae"}
