"""The contraction estimates as tables and figures (workbench.contraction_plots) and the
explorer (workbench.contraction.explorer): deterministic tables per seed and γ, the figures'
traces, the explorer redrawing in place (the estimates themselves:
tests/dvg_core/analysis/test_contraction.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from dvg_core.analysis.contraction import ContractionEstimate
from dvg_core.analysis.contraction_linear import linear_contraction
from dvg_core.analysis.contraction_toy import toy_contraction
from workbench.contraction import figures as contraction_plots


@pytest.mark.parametrize("measure", [toy_contraction, linear_contraction])
def test_estimates_are_deterministic_per_seed_and_per_gamma(measure):
    kwargs = dict(gain=1.0, dt=0.5, n_samples=6, seed=3)
    once, again = measure([0.5], **kwargs), measure([0.2, 0.5], **kwargs)[1:]
    pd.testing.assert_frame_equal(contraction_plots.estimates_table(once),
                                  contraction_plots.estimates_table(again))


# ----------------------------------------------------------------- figures
def _estimates():
    return [ContractionEstimate(setting="linear", gamma=g, gain=k, dt=0.5, kappa=1.0 + k,
                                norm_l=g * (0.9 + k), msmmd2=g * (0.8 + k), w1=g * (0.85 + k),
                                mmd2=g * (1.2 + k), msmmd2_se=0.01, w1_se=0.01, mmd2_se=0.02)
            for k in (0.5, 1.0) for g in (0.2, 0.5, 0.8)]


def test_factor_vs_gamma_figure_has_measured_prediction_and_gamma_kappa_traces():
    estimates = [e for e in _estimates() if e.gain == 0.5]
    fig = contraction_plots.factor_vs_gamma(estimates, title="Factor X")
    assert fig.layout.title.text == "Factor X"
    assert [t.name for t in fig.data] == [
        "measured (max-sliced MMD²)", "measured (W₁, worst slice)", "measured (plain MMD²)",
        "‖L‖ prediction", "γκ", "factor = 1"]
    assert list(fig.data[0].x) == [0.2, 0.5, 0.8]
    assert list(fig.data[0].error_y.array) == [0.01, 0.01, 0.01]
    assert list(fig.data[4].y) == pytest.approx([0.3, 0.75, 1.2])


def test_factor_map_figure_is_a_heatmap_with_the_gamma_kappa_curve():
    fig = contraction_plots.factor_map(_estimates(), title="Map X")
    assert fig.layout.title.text == "Map X"
    assert [t.type for t in fig.data] == ["heatmap", "scatter"]
    assert [t.name for t in fig.data] == ["measured (max-sliced MMD²)", "γκ = 1"]
    assert list(fig.data[0].x) == [0.2, 0.5, 0.8] and list(fig.data[0].y) == [1.5, 2.0]
    curve = fig.data[1]
    assert all(x * y == pytest.approx(1.0) for x, y in zip(curve.x, curve.y))


def test_mmd_vs_max_sliced_figure_puts_the_two_metrics_side_by_side():
    fig = contraction_plots.mmd_vs_max_sliced({"left": _estimates()[:3],
                                                "right": _estimates()[3:]}, title="Side X")
    assert fig.layout.title.text == "Side X"
    assert [a.text for a in fig.layout.annotations] == ["left", "right"]
    assert [t.name for t in fig.data] == ["max-sliced MMD²", "plain MMD²", "‖L‖ prediction",
                                          "factor = 1", "max-sliced MMD²", "plain MMD²",
                                          "‖L‖ prediction", "factor = 1"]
    assert [t.xaxis for t in fig.data] == ["x"] * 4 + ["x2"] * 4


def test_explorer_redraws_its_figure_in_place_when_a_slider_moves():
    from workbench.contraction.explorer import ContractionExplorer

    explorer = ContractionExplorer("linear", [0.3, 0.6, 0.9], gamma=0.5, gain=1.0, dt=0.5,
                                   n_rows=2, n_samples=8)
    figure = explorer.figure
    assert figure.data[-1].name == "selected γ" and list(figure.data[-1].x) == [0.5]
    before = list(figure.data[0].y)
    explorer.sliders["gain"].value = 3.0
    assert explorer.figure is figure and list(figure.data[0].y) != before
    assert "gain 3.00" in figure.layout.title.text
    explorer.sliders["gamma"].value = 0.7
    assert list(figure.data[-1].x) == [0.7] and "γ = 0.70" in explorer.label.value
