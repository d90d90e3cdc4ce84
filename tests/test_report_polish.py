"""What the reports and explorers show: readable probe titles, an unclipped plane title, a colour
bar from 0 for the (non-negative) contraction factor, no empty failed-runs table."""

from __future__ import annotations

import numpy as np
import pandas as pd
from IPython.display import Markdown

from dvg_core.analysis.contraction import ContractionEstimate
from workbench import contraction_plots, explore_plots, plots
from workbench.report_api import ExperimentData, problem_runs_or_none


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
    data = ExperimentData(path=None, metrics=pd.DataFrame(), statuses=statuses, invalid=empty)
    shown = problem_runs_or_none(data)
    assert isinstance(shown, Markdown) and "every run (1) ended `done`" in shown.data
    failed = ExperimentData(path=None, metrics=pd.DataFrame(), invalid=empty,
                            statuses=statuses.assign(status="failed", message="boom"))
    assert list(problem_runs_or_none(failed)["message"]) == ["boom"]
