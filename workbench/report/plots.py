"""Plotly figures of runs and experiments.

Every function takes plain arrays or tidy data frames (the statistics come computed, from
`workbench.report.seed_statistics`) and returns a `go.Figure` with an explicit title; traces are named by
algorithm (confidence bands `"<algo> 95% CI"`, seeds `"<algo> seed <k>"`), one colour per
algorithm across figures, or by another `series` column (an ablation's values), coloured in turn
from a second palette. Nothing here reads files or displays anything.
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

__all__ = [
    "ALGORITHM_COLORS",
    "SERIES_COLORS",
    "add_reference_lines",
    "curves_with_ci",
    "final_return_vs_n",
    "improvement_figure",
    "ordered",
    "probe_samples_figure",
    "run_learning_curve",
]

ALGORITHM_COLORS: dict[str, str] = dict(zip(ALGORITHMS, qualitative.D3, strict=False))
"""One colour per algorithm, the same in every figure."""


SERIES_COLORS: tuple[str, ...] = tuple(qualitative.Dark2)
"""The colours of series that are not algorithms (an ablation's values), in turn."""


def _colors(names: Sequence[str]) -> dict[str, str]:
    """An algorithm's own colour (`ALGORITHM_COLORS`); any other name the next colour of
    `SERIES_COLORS`, a palette apart from the algorithms'."""
    others = [n for n in names if n not in ALGORITHM_COLORS]
    palette = dict(zip(others, SERIES_COLORS * (1 + len(others) // len(SERIES_COLORS)),
                       strict=False))
    return {n: ALGORITHM_COLORS.get(n) or palette[n] for n in names}


def _number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.inf


def ordered(names: Sequence[str]) -> list[str]:
    """Algorithms in `ALGORITHMS` order, other names (an ablation's values) after, numbers by
    value."""
    present = list(dict.fromkeys(names))
    return sorted(present, key=lambda a: (ALGORITHMS.index(a) if a in ALGORITHMS else 99,
                                          _number(a), str(a)))


def _band(step: np.ndarray, lo: np.ndarray, hi: np.ndarray, name: str,
          color: str) -> go.Scatter:
    """The filled interval between `lo` and `hi` along `step`."""
    return go.Scatter(
        x=np.concatenate([step, step[::-1]]), y=np.concatenate([hi, lo[::-1]]),
        fill="toself", fillcolor=color, opacity=0.2, line={"width": 0},
        name=f"{name} 95% CI", legendgroup=name, showlegend=False, hoverinfo="skip")


def _seed_traces(seeds: pd.DataFrame, name: str, color: str, series: str) -> list[go.Scatter]:
    """One thin line per seed of the series `name` (rows `series`, `seed`, `step`, `value`)."""
    rows = seeds[seeds[series] == name]
    return [go.Scatter(x=run["step"], y=run["value"], mode="lines", name=f"{name} seed {seed}",
                       legendgroup=name, showlegend=False, opacity=0.45,
                       line={"color": color, "width": 1},
                       hovertemplate=f"{name} seed {seed}<br>step %{{x}}<br>%{{y:.3g}}"
                                     "<extra></extra>")
            for seed, run in rows.sort_values("step").groupby("seed", sort=True)]


def curves_with_ci(summary: pd.DataFrame, *, title: str, y_title: str,
                   seeds: pd.DataFrame | None = None, series: str = "algo") -> go.Figure:
    """An aggregate curve per algorithm (or per value of `series`), its confidence band where
    `lo`/`hi` are given, and each seed's curve as a thin line of the same colour (one legend
    entry toggles all three).

    Args:
      summary: rows `series`, `step`, `value` (the aggregate), `lo`, `hi` (NaN: no band), `n`.
      title: the figure title.
      y_title: the y axis title (say what `value` and the band are).
      seeds: rows `series`, `seed`, `step`, `value`, or None.
      series: the column naming the curves (`algo`; an ablation's `variant`).
    """
    figure = go.Figure()
    names = ordered(summary[series])
    colors = _colors(names)
    for name in names:
        rows = summary[summary[series] == name].sort_values("step")
        step = rows["step"].to_numpy()
        if rows[["lo", "hi"]].notna().any().any():
            lo, hi = rows["lo"].fillna(rows["value"]), rows["hi"].fillna(rows["value"])
            figure.add_trace(_band(step, lo.to_numpy(), hi.to_numpy(), name, colors[name]))
        if seeds is not None:
            figure.add_traces(_seed_traces(seeds, name, colors[name], series))
        figure.add_trace(go.Scatter(
            x=step, y=rows["value"], mode="lines+markers", name=name, legendgroup=name,
            line={"color": colors[name], "width": 3}, customdata=rows["n"],
            hovertemplate=f"{name}<br>step %{{x}}<br>%{{y:.3g}}<br>n=%{{customdata}}"
                          "<extra></extra>"))
    figure.update_layout(title={"text": title}, xaxis_title="env step", yaxis_title=y_title)
    return figure


REFERENCE_DASHES = ("dot", "dash", "longdash", "dashdot")
"""Line styles of the reference policies, in the order given (grey, told apart by dash)."""


def _reference_line(label: str, dash: str, x: Sequence[float], y: Sequence[float]) -> go.Scatter:
    return go.Scatter(x=list(x), y=list(y), mode="lines", name=label, legendgroup="references",
                      line={"dash": dash, "color": "#555555", "width": 1.5},
                      hovertemplate=f"{label}<br>%{{y:.3g}}<extra></extra>")


def add_reference_lines(figure: go.Figure, references: dict[str, float]) -> go.Figure:
    """Draw each `{label: return}` as a grey horizontal line across the figure's x range, a
    legend entry `label (value)` each, told apart by dash style."""
    xs = [x for trace in figure.data for x in (trace.x if trace.x is not None else [])]
    if not xs:
        return figure
    span = (min(xs), max(xs))
    for (label, value), dash in zip(references.items(), REFERENCE_DASHES, strict=False):
        figure.add_trace(_reference_line(f"{label} ({value:.3g})", dash, span, (value, value)))
    return figure


def final_return_vs_n(summary: pd.DataFrame, *, title: str,
                      references: pd.DataFrame | None = None, series: str = "algo") -> go.Figure:
    """Final return against the number of reward locations N: the IQM with its 95% bootstrap
    interval per algorithm (or per value of `series`), and the reference policies as dotted
    grey lines.

    Args:
      summary: rows `series`, `n_locations`, `iqm`, `lo`, `hi` (one env and noise).
      title: the figure title.
      references: rows `n_locations`, `policy`, `mean`, or None (grey lines, one dash each).
      series: the column naming the lines (`algo`; an ablation's `variant`).
    """
    figure = go.Figure()
    policies = [] if references is None else references.groupby("policy", sort=False)
    for (policy, rows), dash in zip(policies, REFERENCE_DASHES, strict=False):
        rows = rows.sort_values("n_locations")
        figure.add_trace(_reference_line(policy, dash, rows["n_locations"], rows["mean"]))
    names = ordered(summary[series])
    colors = _colors(names)
    for name in names:
        rows = summary[summary[series] == name].sort_values("n_locations")
        figure.add_trace(go.Scatter(
            x=rows["n_locations"], y=rows["iqm"], mode="lines+markers", name=name,
            line={"color": colors[name]},
            error_y={"type": "data", "symmetric": False, "visible": True,
                     "array": (rows["hi"] - rows["iqm"]).fillna(0.0),
                     "arrayminus": (rows["iqm"] - rows["lo"]).fillna(0.0)}))
    ticks = sorted(summary["n_locations"].dropna().unique())
    figure.update_layout(title={"text": title},
                         yaxis_title="final eval return (IQM, 95% bootstrap CI)",
                         xaxis={"title": "N (reward locations)", "tickvals": ticks})
    return figure


def improvement_figure(improvement: pd.DataFrame, *, title: str) -> go.Figure:
    """Probability of improvement of each DSDPG variant (one panel each) over each baseline (one
    line each, its colour, shifted a little sideways) against N, with 95% bootstrap intervals;
    ½ is "no difference".

    Args:
      improvement: rows `n_locations`, `variant`, `baseline`, `p`, `lo`, `hi`.
      title: the figure title.
    """
    variants = ordered(improvement["variant"])
    figure = make_subplots(rows=1, cols=len(variants), shared_yaxes=True,
                           subplot_titles=[f"P({v} > baseline)" for v in variants])
    baselines = ordered(improvement["baseline"])
    colors = _colors(baselines)
    for col, variant in enumerate(variants, start=1):
        for k, baseline in enumerate(baselines):
            rows = improvement[(improvement["variant"] == variant)
                               & (improvement["baseline"] == baseline)].sort_values("n_locations")
            dodge = 0.1 * (k - (len(baselines) - 1) / 2)  # side by side, not on top of each other
            figure.add_trace(go.Scatter(
                x=rows["n_locations"] + dodge, y=rows["p"], mode="lines+markers", name=baseline,
                customdata=rows["n_locations"],
                hovertemplate=f"P({variant} > {baseline})<br>N = %{{customdata}}<br>%{{y:.2f}}"
                              "<extra></extra>",
                legendgroup=baseline, showlegend=col == 1, line={"color": colors[baseline]},
                error_y={"type": "data", "symmetric": False, "visible": True,
                         "array": (rows["hi"] - rows["p"]).fillna(0.0),
                         "arrayminus": (rows["p"] - rows["lo"]).fillna(0.0)}),
                row=1, col=col)
        figure.add_hline(y=0.5, line={"dash": "dot", "color": "#555555"}, row=1, col=col)
    ticks = sorted(improvement["n_locations"].dropna().unique())
    figure.update_xaxes(title_text="N (reward locations)", tickvals=ticks)
    figure.update_yaxes(range=[-0.05, 1.05], title_text="probability of improvement", col=1)
    figure.update_layout(title={"text": title}, legend_title_text="over baseline")
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
