"""Plotly figures of measured contraction factors (`dvg_core.analysis.contraction.ContractionEstimate`).

* `factor_vs_gamma`: the measured factors against γ beside the ‖L‖ prediction and γκ.
* `factor_map`: the measured factor over (γ, κ) as a heat-map, with the γκ = 1 curve.
* `mmd_vs_max_sliced`: plain MMD² beside max-sliced MMD², one panel per setting.
* `estimates_table`: the estimates as a data frame (one row each).

Every function takes a sequence of estimates and returns a `go.Figure` with an explicit title;
nothing here computes factors, reads files or displays anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dvg_core.analysis.contraction import ContractionEstimate
from dvg_core.util.validation import check_choice

__all__ = [
    "METRIC_LABELS",
    "estimates_table",
    "factor_map",
    "factor_vs_gamma",
    "mmd_vs_max_sliced",
]

METRIC_LABELS: dict[str, str] = {
    "msmmd2": "max-sliced MMD²",
    "w1": "W₁, worst slice",
    "mmd2": "plain MMD²",
    "msmmd2_complete": "max-sliced MMD², complete inputs",
    "msmmd2_complete_operator": "max-sliced MMD², complete operator",
}
"""The measured factors of a `ContractionEstimate`, by field name."""

_COLORS = {"msmmd2": "#1f77b4", "w1": "#17becf", "mmd2": "#d62728", "msmmd2_complete": "#9467bd",
           "msmmd2_complete_operator": "#8c564b",
           "norm_l": "#2ca02c", "norm_l_action": "#bcbd22", "gamma_kappa": "#000000"}


def estimates_table(estimates: Sequence[ContractionEstimate]) -> pd.DataFrame:
    """One row per estimate: every field of `ContractionEstimate` plus `gamma_kappa`."""
    frame = pd.DataFrame([asdict(e) for e in estimates])
    frame["gamma_kappa"] = [e.gamma_kappa for e in estimates]
    return frame


def _by_gamma(estimates: Sequence[ContractionEstimate]) -> list[ContractionEstimate]:
    if not estimates:
        raise ValueError("estimates must hold at least one ContractionEstimate")
    return sorted(estimates, key=lambda e: e.gamma)


def _error(rows: Sequence[ContractionEstimate], name: str) -> dict | None:
    se = [getattr(r, f"{name}_se", math.nan) for r in rows]
    if all(math.isnan(s) for s in se):
        return None
    return {"type": "data", "array": [0.0 if math.isnan(s) else s for s in se], "visible": True}


def _one_line(gammas: list[float]) -> go.Scatter:
    return go.Scatter(x=[min(gammas), max(gammas)], y=[1.0, 1.0], mode="lines", name="factor = 1",
                      line={"color": "#7f7f7f", "dash": "dot"}, hoverinfo="skip")


def factor_vs_gamma(estimates: Sequence[ContractionEstimate], *, title: str) -> go.Figure:
    """Measured factors against γ (one setting, gain and dt), with the predictions.

    Args:
      estimates: estimates at several γ, same setting, gain and dt.
      title: the figure title.

    Returns:
      traces `"measured (max-sliced MMD²)"`, `"measured (W₁, worst slice)"`,
      `"measured (plain MMD²)"` (± standard error where known), then for the toy
      `"measured (max-sliced MMD², complete inputs)"` and `"measured (max-sliced MMD², complete
      operator)"`, then `"‖L‖ prediction"`, for the toy
      `"‖L_a‖ prediction"`, then `"γκ"` and `"factor = 1"`.
    """
    rows = _by_gamma(estimates)
    gammas = [r.gamma for r in rows]
    toy = not all(math.isnan(r.msmmd2_complete) for r in rows)
    figure = go.Figure()
    for name in ("msmmd2", "w1", "mmd2",
                 *(("msmmd2_complete", "msmmd2_complete_operator") if toy else ())):
        figure.add_trace(go.Scatter(
            x=gammas, y=[getattr(r, name) for r in rows], mode="lines+markers",
            name=f"measured ({METRIC_LABELS[name]})", line={"color": _COLORS[name]},
            error_y=_error(rows, name)))
    predictions = [("norm_l", "‖L‖ prediction"), *((("norm_l_action", "‖L_a‖ prediction"),)
                                                  if toy else ())]
    for name, label in predictions:
        figure.add_trace(go.Scatter(x=gammas, y=[getattr(r, name) for r in rows], mode="lines",
                                    name=label, line={"color": _COLORS[name], "dash": "dash"}))
    figure.add_trace(go.Scatter(x=gammas, y=[r.gamma_kappa for r in rows], mode="lines",
                                name="γκ", line={"color": _COLORS["gamma_kappa"]}))
    figure.add_trace(_one_line(gammas))
    figure.update_layout(title={"text": title}, xaxis_title="γ",
                         yaxis_title="contraction factor d(TZ₁, TZ₂) / d(Z₁, Z₂)")
    return figure


def _from_zero_white_at_one(top: float) -> list[list[float | str]]:
    """A blue-white-red colour scale over [0, top] with white at 1 (RdBu's ends)."""
    return [[0.0, "#2166ac"], [1.0 / top, "#f7f7f7"], [1.0, "#b2182b"]]


def factor_map(estimates: Sequence[ContractionEstimate], *, metric: str = "msmmd2",
               title: str) -> go.Figure:
    """The measured factor over (γ, κ) as a heat-map, with the curve γκ = 1.

    Args:
      estimates: a grid: every γ at every κ (κ set by gain and/or dt).
      metric: the factor drawn, a key of `METRIC_LABELS`.
      title: the figure title.

    Returns:
      traces `"measured (<metric label>)"` (heatmap; x = γ, y = κ; the colour bar runs from 0,
      blue below 1, white at 1, red above) and
      `"γκ = 1"` (the hyperbola γ = 1/κ inside the grid's range).
    """
    check_choice("metric", metric, list(METRIC_LABELS))
    rows = _by_gamma(estimates)
    gammas = sorted({r.gamma for r in rows})
    kappas = sorted({round(r.kappa, 12) for r in rows})
    cell = {(r.gamma, round(r.kappa, 12)): getattr(r, metric) for r in rows}
    z = [[cell.get((g, k), math.nan) for g in gammas] for k in kappas]  # [κ, γ]
    low, high = max(kappas[0], 1.0 / gammas[-1]), min(kappas[-1], 1.0 / gammas[0])
    curve_k = np.linspace(low, high, 50) if low <= high else np.zeros(0)  # empty: not in range
    top = max([2.0, *(v for row in z for v in row if math.isfinite(v))])  # a factor is >= 0
    figure = go.Figure([
        go.Heatmap(x=gammas, y=kappas, z=z, name=f"measured ({METRIC_LABELS[metric]})",
                   colorscale=_from_zero_white_at_one(top), zmin=0.0, zmax=top,
                   colorbar={"title": "factor"},
                   hovertemplate="γ=%{x:.3g}<br>κ=%{y:.3g}<br>factor=%{z:.3f}<extra></extra>"),
        go.Scatter(x=1.0 / curve_k, y=curve_k, mode="lines", name="γκ = 1",
                   line={"color": "black", "width": 3}),
    ])
    figure.update_layout(title={"text": title}, xaxis_title="γ", yaxis_title="κ",
                         legend={"orientation": "h", "y": -0.2})
    return figure


def mmd_vs_max_sliced(panels: Mapping[str, Sequence[ContractionEstimate]], *,
                      title: str) -> go.Figure:
    """Plain MMD² beside max-sliced MMD²: their factors against γ, one panel per setting.

    Args:
      panels: panel title -> estimates at several γ.
      title: the figure title.

    Returns:
      per panel, traces `"max-sliced MMD²"`, `"plain MMD²"`, `"‖L‖ prediction"`,
      `"factor = 1"` (legend from the first panel only).
    """
    if not panels:
        raise ValueError("panels must hold at least one setting")
    figure = make_subplots(rows=1, cols=len(panels), subplot_titles=list(panels),
                           shared_yaxes=True, horizontal_spacing=0.06)
    for col, estimates in enumerate(panels.values(), start=1):
        rows = _by_gamma(estimates)
        gammas = [r.gamma for r in rows]
        traces = [go.Scatter(x=gammas, y=[getattr(r, name) for r in rows], mode="lines+markers",
                             name=METRIC_LABELS[name], line={"color": _COLORS[name]},
                             error_y=_error(rows, name))
                  for name in ("msmmd2", "mmd2")]
        traces.append(go.Scatter(x=gammas, y=[r.norm_l for r in rows], mode="lines",
                                 name="‖L‖ prediction",
                                 line={"color": _COLORS["norm_l"], "dash": "dash"}))
        traces.append(_one_line(gammas))
        for trace in traces:
            trace.update(legendgroup=trace.name, showlegend=col == 1)
            figure.add_trace(trace, row=1, col=col)
        figure.update_xaxes(title_text="γ", row=1, col=col)
    figure.update_yaxes(title_text="contraction factor", row=1, col=1)
    figure.update_layout(title={"text": title})
    return figure
