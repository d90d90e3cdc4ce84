"""workbench.report.seed_statistics: the IQM against its closed form and rliable's, bootstrap intervals that
hold the estimate, narrow with seeds and repeat for a seed, the probability of improvement."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rliable import metrics

from workbench.report import seed_statistics as statistics


def test_iqm_is_the_mean_of_the_middle_half():
    scores = np.array([100.0, -50.0, 1.0, 2.0, 3.0, 4.0, 7.0, 0.0])  # sorted: -50 0 1 2 3 4 7 100
    assert statistics.iqm(scores) == pytest.approx((1 + 2 + 3 + 4) / 4)


@pytest.mark.parametrize("n_seeds", [2, 3, 5, 7, 10])
def test_iqm_equals_rliable_on_final_scores_and_on_each_curve_point(n_seeds):
    scores = np.random.default_rng(n_seeds).normal(size=(n_seeds, 6))
    assert statistics.iqm(scores[:, 0]) == pytest.approx(metrics.aggregate_iqm(scores[:, :1]))
    expected = [metrics.aggregate_iqm(scores[:, [p]]) for p in range(6)]
    np.testing.assert_allclose(statistics.iqm(scores), expected)


def test_the_interval_holds_the_estimate_and_repeats_for_a_seed():
    scores = np.random.default_rng(0).normal(size=5)
    first = statistics.iqm_interval(scores, seed=3)
    assert first.lo <= first.point <= first.hi and first.lo < first.hi
    assert statistics.iqm_interval(scores, seed=3) == first
    assert statistics.iqm_interval(scores, seed=4) != first


def test_the_interval_leaves_numpys_global_generator_as_it_was():
    np.random.seed(11)
    expected = np.random.rand()
    np.random.seed(11)
    statistics.iqm_interval(np.arange(5.0), seed=0)
    assert np.random.rand() == expected


def test_the_interval_narrows_with_more_seeds():
    draws = np.random.default_rng(1).normal(size=80)
    widths = [statistics.iqm_interval(draws[:n]).hi - statistics.iqm_interval(draws[:n]).lo
              for n in (5, 20, 80)]
    assert widths[0] > widths[1] > widths[2]


def test_the_curve_band_holds_the_curve_point_by_point():
    curves = np.cumsum(np.random.default_rng(2).normal(size=(5, 12)), axis=1)
    band = statistics.iqm_curve(curves, seed=0)
    assert band.point.shape == band.lo.shape == band.hi.shape == (12,)
    np.testing.assert_allclose(band.point, statistics.iqm(curves))
    assert np.all(band.lo <= band.point) and np.all(band.point <= band.hi)
    np.testing.assert_array_equal(statistics.iqm_curve(curves, seed=0).lo, band.lo)


def test_one_seed_has_no_interval():
    one = statistics.iqm_interval(np.array([2.0]))
    assert one.point == 2.0 and math.isnan(one.lo) and math.isnan(one.hi)
    assert np.isnan(statistics.iqm_curve(np.ones((1, 3))).lo).all()
    assert math.isnan(statistics.improvement_interval(np.array([1.0]), np.ones(3)).lo)


def test_probability_of_improvement_of_separated_and_identical_samples():
    low, high = np.arange(5.0), np.arange(5.0) + 10
    assert statistics.probability_of_improvement(high, low) == 1.0
    assert statistics.probability_of_improvement(low, high) == 0.0
    assert statistics.probability_of_improvement(low, low) == 0.5
    assert tuple(statistics.improvement_interval(high, low)) == (1.0, 1.0, 1.0)
    same = statistics.improvement_interval(low, low)
    assert same.point == 0.5 and same.lo < 0.5 < same.hi


def test_probability_of_improvement_equals_rliables():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=6), np.round(rng.normal(size=4), 0)  # with a tie or two
    x[0] = y[0]
    expected = metrics.probability_of_improvement(x[:, None], y[:, None])
    assert statistics.probability_of_improvement(x, y) == pytest.approx(expected)


@pytest.mark.parametrize(("call", "named"), [
    (lambda: statistics.iqm_interval(np.ones((3, 2))), "scores must be a non-empty \\[S\\]"),
    (lambda: statistics.iqm_curve(np.ones(3)), "scores must be a non-empty \\[S, P\\]"),
    (lambda: statistics.iqm_interval(np.array([1.0, np.nan])), "scores must be finite"),
    (lambda: statistics.improvement_interval(np.ones(2), np.array([])), "y must be a non-empty"),
    (lambda: statistics.iqm_interval(np.ones(3), confidence=1.0), "confidence"),
    (lambda: statistics.iqm_interval(np.ones(3), reps=0), "reps"),
    (lambda: statistics.iqm_interval(np.ones(3), seed=-1), "seed"),
])
def test_bad_input_raises_a_value_error_naming_it(call, named):
    with pytest.raises(ValueError, match=named):
        call()
