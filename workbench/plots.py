"""Plotly figures of runs and experiments, and the seed statistics they draw.

Every function takes plain arrays or tidy data frames and returns a `go.Figure` with an explicit
title; traces are named by algorithm (confidence bands `"<algo> 95% CI"`), one colour per
algorithm across figures. Nothing here reads files or displays anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from dvg_core.agents import ALGORITHMS
from dvg_core.util.validation import check_int_at_least, check_range

__all__ = [
    "ALGORITHM_COLORS",
    "curves_with_ci",
    "final_return_vs_n",
    "mean_ci",
    "probe_samples_figure",
    "run_learning_curve",
    "t_quantile",
]

ALGORITHM_COLORS: dict[str, str] = dict(zip(ALGORITHMS, qualitative.D3, strict=False))
"""One colour per algorithm, the same in every figure."""


def _color(algo: str) -> str:
    return ALGORITHM_COLORS.get(algo, "#7f7f7f")


def t_quantile(p: float, df: int) -> float:
    """The `p`-quantile of Student's t with `df` degrees of freedom.

    Source: with `t = √ν tan θ` the t density becomes `∝ cos^(ν-1) θ` on `(-π/2, π/2)`, a smooth
    bounded integrand; its cumulative integral on a fine grid (trapezoid, 2·10⁴ steps) is
    inverted by interpolation (relative error < 1e-6 for df <= 1000, against scipy; scipy is
    not a runtime dependency).

    Args:
      p: probability in (0, 1).
      df: degrees of freedom, an integer >= 1.
    """
    check_range("p", p, 0.0, 1.0, low_closed=False, high_closed=False)
    check_int_at_least("df", df, 1)
    theta = np.linspace(0.0, math.pi / 2, 20_001)
    density = np.cos(theta) ** (df - 1)
    cumulative = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2)])
    target = abs(p - 0.5) * 2 * cumulative[-1]  # mass of (0, t) is |p - 1/2| of the half's 1/2
    angle = float(np.interp(target, cumulative, theta))
    return math.copysign(math.sqrt(df) * math.tan(angle), p - 0.5)


def mean_ci(frame: pd.DataFrame, keys: Sequence[str], column: str, *,
            confidence: float = 0.95) -> pd.DataFrame:
    """Mean and two-sided t-interval of `column` over the rows of each `keys` group.

    Returns:
      one row per group: `keys`, `mean`, `ci` (half-width; NaN for n = 1), `lo`, `hi`, `n`.
    """
    check_range("confidence", confidence, 0.0, 1.0, low_closed=False, high_closed=False)
    columns = [*keys, "mean", "ci", "lo", "hi", "n"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    stats = (frame.groupby(list(keys), dropna=False, sort=True)[column]
             .agg(["mean", "std", "count"]).reset_index())
    t = stats["count"].map(lambda n: t_quantile((1 + confidence) / 2, int(n) - 1)
                           if n > 1 else math.nan)
    stats["ci"] = t * stats["std"] / np.sqrt(stats["count"])
    stats["lo"], stats["hi"] = stats["mean"] - stats["ci"], stats["mean"] + stats["ci"]
    return stats.rename(columns={"count": "n"})[columns]


def _ordered(algos: Sequence[str]) -> list[str]:
    """Algorithms in `ALGORITHMS` order, unknown ones after."""
    present = list(dict.fromkeys(algos))
    return sorted(present, key=lambda a: (ALGORITHMS.index(a) if a in ALGORITHMS else 99, a))


def curves_with_ci(summary: pd.DataFrame, *, title: str,
                   y_title: str = "eval return (mean ± 95% CI over seeds)") -> go.Figure:
    """Mean curve and confidence band per algorithm.

    Args:
      summary: `mean_ci` rows with keys `algo`, `step` (one setting).
      title: the figure title.
      y_title: the y axis title.
    """
    figure = go.Figure()
    for algo in _ordered(summary["algo"]):
        rows = summary[summary["algo"] == algo].sort_values("step")
        step = rows["step"].to_numpy()
        lo = rows["lo"].fillna(rows["mean"]).to_numpy()
        hi = rows["hi"].fillna(rows["mean"]).to_numpy()
        figure.add_trace(go.Scatter(
            x=np.concatenate([step, step[::-1]]), y=np.concatenate([hi, lo[::-1]]),
            fill="toself", fillcolor=_color(algo), opacity=0.2, line={"width": 0},
            name=f"{algo} 95% CI", legendgroup=algo, showlegend=False, hoverinfo="skip"))
        figure.add_trace(go.Scatter(
            x=step, y=rows["mean"], mode="lines+markers", name=algo, legendgroup=algo,
            line={"color": _color(algo)}, customdata=rows["n"],
            hovertemplate="step %{x}<br>%{y:.3g}<br>n=%{customdata}"))
    figure.update_layout(title={"text": title}, xaxis_title="env step", yaxis_title=y_title)
    return figure


def final_return_vs_n(summary: pd.DataFrame, *, title: str) -> go.Figure:
    """Final return against the number of reward locations N, one line per algorithm.

    Args:
      summary: `mean_ci` rows with keys `algo`, `n_locations` (one env and noise).
      title: the figure title.
    """
    figure = go.Figure()
    for algo in _ordered(summary["algo"]):
        rows = summary[summary["algo"] == algo].sort_values("n_locations")
        figure.add_trace(go.Scatter(
            x=rows["n_locations"], y=rows["mean"], mode="lines+markers", name=algo,
            line={"color": _color(algo)},
            error_y={"type": "data", "array": rows["ci"].fillna(0.0), "visible": True}))
    ticks = sorted(summary["n_locations"].dropna().unique())
    figure.update_layout(title={"text": title}, yaxis_title="final eval return (mean ± 95% CI)",
                         xaxis={"title": "N (reward locations)", "tickvals": ticks})
    return figure


def run_learning_curve(metrics: pd.DataFrame, *, title: str) -> go.Figure:
    """One run: evaluation return (± std over its eval episodes) and training-episode returns.

    Args:
      metrics: one run's `metrics.csv` rows (`kind` eval / episode).
      title: the figure title.
    """
    figure = go.Figure()
    episodes = metrics[metrics["kind"] == "episode"]
    if len(episodes):
        figure.add_trace(go.Scatter(x=episodes["step"], y=episodes["episode_return"],
                                    mode="markers", name="training episode", opacity=0.4,
                                    marker={"size": 4, "color": "#7f7f7f"}))
    evals = metrics[metrics["kind"] == "eval"]
    if len(evals):
        figure.add_trace(go.Scatter(
            x=evals["step"], y=evals["eval_return_mean"], mode="lines+markers",
            name="evaluation", error_y={"type": "data", "array": evals["eval_return_std"]}))
    figure.update_layout(title={"text": title}, xaxis_title="env step", yaxis_title="return")
    return figure


def _probe_label(p: int, state: np.ndarray) -> str:
    """`probe 1: s = (0.05, -0.03)` for a small state, else `probe 1 (17-d state)`."""
    if state.shape[0] <= 3:
        return f"probe {p + 1}: s = ({', '.join(f'{float(v):.2f}' for v in state)})"
    return f"probe {p + 1} ({state.shape[0]}-d state)"


def probe_samples_figure(states: np.ndarray, samples: np.ndarray, *, title: str) -> go.Figure:
    """The critic's joint samples at probe states: the return's histogram (top row) and the
    action-gradient's samples, coloured by return (bottom row), one column per probe.

    Args:
      states: `[P, d_s]` probe states (a state of up to 3 coordinates labels its column).
      samples: `[P, K, 1+d_a]` joint samples `(Z, ∇ₐZ)`; NaN gradients are not drawn.
      title: the figure title.
    """
    n_probes, grad_dim = samples.shape[0], samples.shape[-1] - 1
    labels = [_probe_label(p, s) for p, s in enumerate(states)]
    figure = make_subplots(rows=2, cols=n_probes, subplot_titles=labels, vertical_spacing=0.15)
    for p in range(n_probes):
        z, grad = samples[p, :, 0], samples[p, :, 1:]
        figure.add_trace(go.Histogram(x=z, name=f"Z, probe {p}", showlegend=False,
                                      marker={"color": "#1f77b4"}), row=1, col=p + 1)
        if np.isnan(grad).all():
            continue
        y = grad[:, 1] if grad_dim > 1 else z
        figure.add_trace(go.Scatter(
            x=grad[:, 0], y=y, mode="markers", name=f"∇ₐZ, probe {p}", showlegend=False,
            marker={"size": 5, "color": z, "colorscale": "Viridis", "showscale": p == 0,
                    "colorbar": {"title": "Z", "len": 0.4, "y": 0.2}}), row=2, col=p + 1)
        figure.update_xaxes(title_text="∂Z/∂a₁", row=2, col=p + 1)
        figure.update_yaxes(title_text="∂Z/∂a₂" if grad_dim > 1 else "Z", row=2, col=p + 1)
    figure.update_xaxes(title_text="Z (return)", row=1)
    figure.update_layout(title={"text": title}, height=620)
    return figure
