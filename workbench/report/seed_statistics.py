"""Seed statistics of the reports: interquartile means with stratified bootstrap confidence
intervals and the probability of improvement, through rliable.

Source: Agarwal et al., "Deep Reinforcement Learning at the Edge of the Statistical Precipice",
NeurIPS 2021 (https://arxiv.org/abs/2108.13264), §4 (IQM, stratified bootstrap CIs, probability of
improvement), with their library `rliable` (`rliable.library.get_interval_estimates`,
`rliable.metrics`). One environment setting is one rliable "task": scores enter rliable as
`[S, 1]` (S seeds) or `[S, 1, P]` (P curve points), so the stratified bootstrap resamples seeds.

Determinism: rliable 1.2.0 draws its bootstrap indices from NumPy's *global* generator and
ignores the `random_state` it is given, so every interval here seeds the global generator with
`seed` for the duration of the call and restores its previous state afterwards; the same scores
and seed give the same interval, and callers' own use of `np.random` is left as it was.

With one seed there is no interval: the bounds are NaN. With 2 to 5 seeds the percentile
bootstrap is narrow-biased (it can only recombine the seen values), but unlike a Student-t
interval with df = 1 it stays within the range of the data.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from rliable import library as rly

from dvg_core.util.validation import check_int_at_least, check_range

__all__ = [
    "BOOTSTRAP_REPS",
    "CURVE_REPS",
    "Interval",
    "improvement_interval",
    "iqm",
    "iqm_curve",
    "iqm_interval",
    "probability_of_improvement",
]

BOOTSTRAP_REPS = 2000
"""Bootstrap replications of a final score's or a probability of improvement's interval
(rliable's own performance-profile default; its 50 000 would take a report of 24 cells past a
minute on two cores: each replication costs about 50 µs inside rliable and arch)."""
CURVE_REPS = 500
"""Bootstrap replications of a learning curve's band: fewer, since a band is read by eye and
decides nothing (the Monte-Carlo error of a 2.5% percentile from 500 replications is about
±0.7 percentile points)."""


class Interval(NamedTuple):
    """A point estimate and its two-sided confidence interval (NaN bounds from one seed)."""

    point: float | np.ndarray
    """The statistic on the data: a float, or `[P]` for a curve."""
    lo: float | np.ndarray
    """Lower bound, same shape as `point`."""
    hi: float | np.ndarray
    """Upper bound, same shape as `point`."""


def _scores(name: str, scores: object, ndim: int) -> np.ndarray:
    """`scores` as a finite float array of `ndim` dims with at least one seed, else ValueError."""
    array = np.asarray(scores, dtype=float)
    shape = "[S]" if ndim == 1 else "[S, P]"
    if array.ndim != ndim or array.shape[0] < 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty {shape} array of scores (S seeds), "
                         f"got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite (a NaN or inf score: drop that run first)")
    return array


@contextlib.contextmanager
def _global_seed(seed: int) -> Iterator[np.random.RandomState]:
    """Seed NumPy's global generator (which rliable 1.2.0 draws from) and restore it after."""
    check_int_at_least("seed", seed, 0)
    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        with warnings.catch_warnings():  # arch 7 deprecates the random_state rliable passes
            warnings.filterwarnings("ignore", "random_state", FutureWarning)
            yield np.random.RandomState(seed)
    finally:
        np.random.set_state(saved)


def _bootstrap(scores: np.ndarray | tuple[np.ndarray, ...], func, *, reps: int,
               confidence: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rliable's stratified bootstrap of `func` on `scores`: (point, lo, hi)."""
    check_int_at_least("reps", reps, 1)
    check_range("confidence", confidence, 0.0, 1.0, low_closed=False, high_closed=False)
    with _global_seed(seed) as random_state:
        point, interval = rly.get_interval_estimates(
            {"x": scores}, func, reps=reps, confidence_interval_size=confidence,
            random_state=random_state)
    return np.asarray(point["x"]), np.asarray(interval["x"][0]), np.asarray(interval["x"][1])


def iqm(scores: np.ndarray) -> np.ndarray:
    """Interquartile mean over seeds: the mean of the middle 50%, `floor(S / 4)` scores trimmed
    from each end.

    Source: Agarwal et al. 2021, §4.1. Equals `rliable.metrics.aggregate_iqm` (scipy's
    `trim_mean(·, 0.25)`) column by column, which a test checks; written with one sort because
    the bootstrap calls it thousands of times and `trim_mean` costs 10× more per call.

    Args:
      scores: `[S]` final scores or `[S, P]` curves of S seeds.

    Returns:
      a 0-d array, or `[P]` (one IQM per curve point).
    """
    ordered = np.sort(np.asarray(scores, dtype=float), axis=0)
    trim = ordered.shape[0] // 4
    return ordered[trim:ordered.shape[0] - trim].mean(axis=0)


def iqm_interval(scores: np.ndarray, *, reps: int = BOOTSTRAP_REPS, confidence: float = 0.95,
                 seed: int = 0) -> Interval:
    """IQM of final scores with its stratified bootstrap confidence interval.

    Args:
      scores: `[S]` one score per seed.
      reps: bootstrap replications.
      confidence: coverage of the two-sided percentile interval, in (0, 1).
      seed: seeds the bootstrap (the same scores and seed give the same interval).

    Returns:
      `Interval` of floats.
    """
    scores = _scores("scores", scores, 1)
    if len(scores) == 1:
        return Interval(float(scores[0]), math.nan, math.nan)
    point, lo, hi = _bootstrap(scores[:, None], lambda s: np.array([iqm(s[:, 0])]), reps=reps,
                               confidence=confidence, seed=seed)
    return Interval(float(point[0]), float(lo[0]), float(hi[0]))


def iqm_curve(scores: np.ndarray, *, reps: int = CURVE_REPS, confidence: float = 0.95,
              seed: int = 0) -> Interval:
    """IQM learning curve with a pointwise stratified bootstrap band (seeds resampled whole,
    so each replication is a set of S complete curves).

    Args:
      scores: `[S, P]` the eval return of S seeds at P common steps.
      reps, confidence, seed: as in `iqm_interval`.

    Returns:
      `Interval` of `[P]` arrays.
    """
    scores = _scores("scores", scores, 2)
    if len(scores) == 1:
        nan = np.full(scores.shape[1], np.nan)
        return Interval(scores[0], nan, nan.copy())
    point, lo, hi = _bootstrap(scores[:, None, :], lambda s: iqm(s[:, 0, :]), reps=reps,
                               confidence=confidence, seed=seed)
    return Interval(point, lo, hi)


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) + ½ P(X = Y) for a random seed of X against a random seed of Y.

    Source: Agarwal et al. 2021, §4.3 (the Mann-Whitney U statistic over `S_x · S_y`); equals
    `rliable.metrics.probability_of_improvement` on one task (a test checks it) and is
    vectorised, since the bootstrap calls it thousands of times and rliable's calls
    `scipy.stats.mannwhitneyu` each time.

    Args:
      x: `[S_x]` scores of X.
      y: `[S_y]` scores of Y.
    """
    x, y = _scores("x", x, 1), _scores("y", y, 1)
    return float(_improvement(x[:, None], y[:, None])[0])


def _improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """`[1]`: the probability of improvement of `x [S_x, 1]` over `y [S_y, 1]`."""
    difference = x[:, None, 0] - y[None, :, 0]  # [S_x, S_y]
    return np.array([np.mean(difference > 0) + 0.5 * np.mean(difference == 0)])


def improvement_interval(x: np.ndarray, y: np.ndarray, *, reps: int = BOOTSTRAP_REPS,
                         confidence: float = 0.95, seed: int = 0) -> Interval:
    """Probability of improvement of X over Y with its bootstrap CI (X's and Y's seeds resampled
    independently: rliable's `StratifiedIndependentBootstrap`).

    Args:
      x: `[S_x]` scores of X; y: `[S_y]` scores of Y.
      reps, confidence, seed: as in `iqm_interval`.

    Returns:
      `Interval` of floats; NaN bounds when either side has one seed.
    """
    x, y = _scores("x", x, 1), _scores("y", y, 1)
    point = probability_of_improvement(x, y)
    if len(x) == 1 or len(y) == 1:
        return Interval(point, math.nan, math.nan)
    _, lo, hi = _bootstrap((x[:, None], y[:, None]), _improvement, reps=reps,
                           confidence=confidence, seed=seed)
    return Interval(point, float(lo[0]), float(hi[0]))
