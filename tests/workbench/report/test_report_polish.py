"""What the reports and explorers show: readable probe titles, an unclipped plane title, a colour
bar from 0 for the (non-negative) contraction factor, no empty failed-runs table; the experiment
report's IQM intervals, reference lines, probabilities of improvement and verdict, on records
written here and in the rendered HTML."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from IPython.display import Markdown

from dvg_core.analysis.contraction import ContractionEstimate
from dvg_core.envs import point_mass_spec
from dvg_core.envs.reference_policies import reference_returns
from workbench.contraction import figures as contraction_plots
from workbench.explorer import figures as explore_plots
from workbench.report import plots
from workbench.report import report_notebook as report
from workbench.config.presets import preset
from workbench.report.report_notebook import ExperimentData, problem_runs_or_none, status_counts
from workbench.records.run_record import MetricsWriter, create_or_open


def test_probe_titles_are_plain_coordinates_not_numpy_reprs():
    states = np.array([[0.05, -0.031], [1.0, 2.0]])
    samples = np.zeros((2, 4, 3))
    figure = plots.probe_samples_figure(states, samples, title="T")
    titles = [a.text for a in figure.layout.annotations]
    assert titles == ["probe 1: s = (0.05, -0.03)", "probe 2: s = (1.00, 2.00)"]
    big = plots.probe_samples_figure(np.zeros((1, 17)), np.zeros((1, 4, 7)), title="T")
    assert [a.text for a in big.layout.annotations] == ["probe 1 (17-d state)"]


def test_the_plane_keeps_room_for_a_two_line_title():
    n = 3
    figure = explore_plots.toy_plane(np.linspace(-1, 1, n), np.zeros((n, n)), np.zeros((n, n, 2)),
                             np.zeros((1, 2)), title="Head<br><sup>setting</sup>")
    assert figure.layout.margin.t >= 80 and figure.layout.title.xanchor == "left"


def test_the_contraction_colour_bar_starts_at_0_and_is_white_at_factor_1():
    estimates = [ContractionEstimate(setting="linear", gamma=g, gain=k, dt=0.5, kappa=1.0 + k,
                                     norm_l=1.0, msmmd2=g * (1.0 + 3 * k), w1=1.0, mmd2=1.0)
                 for k in (0.5, 1.0) for g in (0.2, 0.5, 0.8)]
    heat = contraction_plots.factor_map(estimates, title="Map").data[0]
    top = 0.8 * 4.0
    assert (heat.zmin, heat.zmax) == (0.0, top)
    positions = [stop[0] for stop in heat.colorscale]
    assert positions[0] == 0.0 and positions[-1] == 1.0
    assert heat.colorscale[1] == (1.0 / top, "#f7f7f7")  # white exactly at factor 1


def test_no_failed_runs_gives_a_line_not_an_empty_table():
    statuses = pd.DataFrame({"run_id": ["a"], "status": ["done"], "algo": ["td3"],
                             "setting": ["s"], "seed": [0], "message": [""]})
    empty = pd.DataFrame(columns=["name", "status", "message", "parameters"])
    evals = pd.DataFrame({"run_id": ["a"], "algo": ["td3"], "setting": ["s"], "env_id": ["e"],
                          "noise": ["none"], "noise_scale": [None], "env_kwargs": ["{}"],
                          "n_locations": [1], "seed": [0], "step": [100], "kind": ["eval"],
                          "eval_return_mean": [1.0]})
    data = ExperimentData(path=None, metrics=evals, statuses=statuses, invalid=empty)
    shown = problem_runs_or_none(data)
    assert isinstance(shown, Markdown) and "every run (1) ended `done`" in shown.data
    failed = ExperimentData(path=None, metrics=evals, invalid=empty,
                            statuses=statuses.assign(status="failed", message="boom"))
    assert list(problem_runs_or_none(failed)["message"]) == ["boom"]
    unscored = ExperimentData(path=None, metrics=pd.DataFrame(), statuses=statuses,
                              invalid=empty)  # done, but nothing to draw: named, not dropped
    assert list(problem_runs_or_none(unscored)["message"]) == [
        "left out of the figures: no evaluation row yet"]


def test_status_counts_are_one_row_per_algorithm_and_one_column_per_setting():
    statuses = pd.DataFrame({"run_id": list("abcd"), "status": ["done", "done", "running", None],
                             "algo": ["td3", "td3", "td3", "iqn"],
                             "setting": ["N=1", "N=1", "N=3", "N=1"],
                             "seed": [0, 1, 0, 0], "message": [""] * 4})
    empty = pd.DataFrame(columns=["name", "status", "message", "parameters"])
    data = ExperimentData(path=None, metrics=pd.DataFrame(), statuses=statuses, invalid=empty)
    counts = status_counts(data)
    assert counts.loc["td3", "N=1"] == "2 done" and counts.loc["td3", "N=3"] == "1 running"
    assert counts.loc["iqn", "N=1"] == "1 not started" and counts.loc["iqn", "N=3"] == ""


def _toy_experiment(run_root, *, algos=("td3", "dsdpg_msmmd"), ns=(1, 3), seeds=3) -> str:
    """Done records of a v1 toy grid with made-up eval returns (dsdpg_msmmd 3·N above td3)."""
    for n in ns:
        for algo in algos:
            for seed in range(seeds):
                config = preset("toy-quick", [
                    f"run_root={run_root}", "experiment=toy", f"algo={algo}", f"seed={seed}",
                    f"n_locations={n}", "env.env_id=dvg/PointMass-v1"])
                record = create_or_open(config)
                record.set_status("running")
                writer = MetricsWriter(record.metrics_path)
                top = 10.0 + seed + (3.0 * n if algo.startswith("dsdpg") else 0.0)
                for step in (100, 200, 300):
                    writer.write({"step": step, "kind": "eval",
                                  "eval_return_mean": top * step / 300})
                record.set_status("done", "", 300)
    return f"{run_root}/toy"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return _toy_experiment(tmp_path_factory.mktemp("runs"))


def test_learning_curves_draw_iqm_bands_seeds_and_the_reference_returns(toy):
    figures = report.learning_curve_figures(report.load_experiment(toy))
    assert [f.layout.title.text for f in figures] == [
        "Learning curves: dvg/PointMass-v1/none/N=1", "Learning curves: dvg/PointMass-v1/none/N=3"]
    names = [t.name for t in figures[0].data]
    assert {"td3", "td3 95% CI", "td3 seed 0", "td3 seed 2", "dsdpg_msmmd 95% CI"} <= set(names)
    expected = reference_returns(point_mass_spec("dvg/PointMass-v1", n_locations=1))
    lines = {t.name: t.y[0] for t in figures[0].data if t.legendgroup == "references"}
    assert lines == {f"{label} ({expected[policy][0]:.3g})": expected[policy][0]
                     for policy, label in report.REFERENCE_LABELS.items()}
    td3 = next(t for t in figures[0].data if t.name == "td3")
    assert list(td3.y) == pytest.approx([11 / 3, 22 / 3, 11.0])  # IQM of 10, 11, 12 (x step/300)


def test_the_final_table_gives_iqm_with_its_interval_and_the_references(toy):
    table = report.final_return_table(report.load_experiment(toy))
    assert table.columns.name == "final return: IQM [95% CI] (n)"
    assert list(table.index) == ["td3", "dsdpg_msmmd", "random policy (reference)",
                                 "stay at the centre (reference)", "go to a location (reference)"]
    cell = table.loc["td3", "dvg/PointMass-v1/none/N=1"]
    low, high = (float(v) for v in cell.split("[")[1].split("]")[0].split(", "))
    assert cell.startswith("11.00 [") and cell.endswith("(n=3)") and 10 <= low < 11 < high <= 12
    assert " ± " in table.loc["random policy (reference)", "dvg/PointMass-v1/none/N=3"]


def test_the_claim_compares_each_variant_with_each_baseline(toy):
    verdicts = report.claim_verdicts(report.load_experiment(toy))
    (key,) = verdicts
    improvement = report.improvement_table(verdicts)
    assert list(improvement.columns) == ["N=1", "N=3"]
    assert improvement.loc[(key, "dsdpg_msmmd", "td3"), "N=3"] == "1.00 [1.00, 1.00] leads"
    assert len(report.improvement_figures(verdicts)) == 1
    assert key in report.claim_text(verdicts).data


def test_learning_scores_are_each_runs_mean_evaluation_return(toy):
    data = report.load_experiment(toy)
    finals = data.finals.set_index("run_id")["score"]
    learning = data.learning.set_index("run_id")["score"]
    assert len(learning) == len(finals) == 12
    # each curve is top · step / 300 at steps 100, 200, 300: its mean is 2/3 of its last value
    assert learning.to_dict() == pytest.approx((finals * 2 / 3).to_dict())


def test_the_claim_judged_on_learning_speed_says_so(toy):
    data = report.load_experiment(toy)
    (speed,) = report.claim_verdicts(data, measure="learning").values()
    assert "judged on the mean evaluation return over training" in speed.text
    assert "judged on" not in next(iter(report.claim_verdicts(data).values())).text
    td3 = speed.iqm[(speed.iqm["algo"] == "td3") & (speed.iqm["n_locations"] == 1)]
    assert float(td3["iqm"].iloc[0]) == pytest.approx(11.0 * 2 / 3)
    with pytest.raises(ValueError, match="measure must be one of"):
        report.claim_verdicts(data, measure="auc")


@pytest.mark.slow
def test_the_rendered_report_holds_intervals_references_and_the_verdict(toy):
    from workbench.report.render import render_report

    html = render_report(toy).read_text()
    assert "Traceback" not in html
    assert "final return: IQM [95% CI] (n)" in html and "go to a location (reference)" in html
    assert json.dumps("random policy (")[:-1] in html  # a reference line's legend entry
    assert "Probability of improvement: dvg/PointMass-v1 (noise: none)" in html.replace(
        "\\u002f", "/")
    assert "The toy claim is" in html
    assert "The toy claim, judged on the mean evaluation return over training" in html
