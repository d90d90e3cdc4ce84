"""Plotly figures of the toy explorer (`workbench.explorer.exploration`) and the fidelity figures: the critic's
joint samples `(Z, ∇ₐZ)` against the Monte-Carlo truth, the value plane with its gradient
arrows, and the critic's loss."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = ["CRITIC_COLOR", "TRUTH_COLOR", "joint_samples_vs_truth", "loss_curve", "toy_plane"]

CRITIC_COLOR, TRUTH_COLOR = "#1f77b4", "#ff7f0e"
"""Critic samples and Monte-Carlo truth, in every explorer figure."""

_PROJECTIONS = ((0, 1), (0, 2), (1, 2))
_LABELS = ("Z", "∂Z/∂a₁", "∂Z/∂a₂")


def joint_samples_vs_truth(samples: np.ndarray, truth: np.ndarray, *, mmd: float,
                           title: str) -> go.Figure:
    """The critic's joint samples `(Z, ∂Z/∂a₁, ∂Z/∂a₂)` beside the Monte-Carlo truth, in the
    three 2-D projections Z–∂a₁, Z–∂a₂, ∂a₁–∂a₂; the joint MMD² in the title.

    Args:
      samples: `[K, 3]` critic samples at one `(s, a)`.
      truth: `[K', 3]` Monte-Carlo samples there.
      mmd: their joint MMD², shown as `"<title><br>joint MMD² to truth: <mmd>"`.
      title: the figure title's first line.

    Returns:
      six traces: `"critic"`, `"truth"` per panel (legend once), panels in the order above.
    """
    for name, x in (("samples", samples), ("truth", truth)):
        if x.ndim != 2 or x.shape[1] != 3:
            raise ValueError(f"{name} must have shape [K, 3], got {list(x.shape)}")
    subtitles = [f"{_LABELS[j]} against {_LABELS[i]}" for i, j in _PROJECTIONS]
    figure = make_subplots(rows=1, cols=3, subplot_titles=subtitles, horizontal_spacing=0.1)
    for col, (i, j) in enumerate(_PROJECTIONS, start=1):
        for name, x, color, size in (("truth", truth, TRUTH_COLOR, 4),
                                     ("critic", samples, CRITIC_COLOR, 6)):
            figure.add_trace(go.Scatter(
                x=x[:, i], y=x[:, j], mode="markers", name=name, legendgroup=name,
                showlegend=col == 1, marker={"size": size, "color": color, "opacity": 0.6}),
                row=1, col=col)
        figure.update_xaxes(title_text=_LABELS[i], row=1, col=col)
        figure.update_yaxes(title_text=_LABELS[j], row=1, col=col)
    figure.update_layout(title={"text": f"{title}<br>joint MMD² to truth: {mmd:.4f}"},
                         height=420, width=940, margin={"t": 110})
    return figure


def _arrow_segments(grid: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quiver as one polyline: start, tip, gap per grid point, the longest arrow 0.9 cells."""
    x, y = np.meshgrid(grid, grid)  # [G, G], rows indexed by y
    norm = np.linalg.norm(vectors, axis=-1).max()
    cell = grid[1] - grid[0]
    scale = 0.9 * cell / norm if norm > 0 else 0.0
    tip_x, tip_y = x + scale * vectors[..., 0], y + scale * vectors[..., 1]
    gap = np.full(x.shape, np.nan)
    xs = np.stack([x, tip_x, gap], axis=-1).reshape(-1)  # [3·G·G]
    ys = np.stack([y, tip_y, gap], axis=-1).reshape(-1)
    return xs, ys


def toy_plane(grid: np.ndarray, value: np.ndarray, grad: np.ndarray, locations: np.ndarray, *,
              probe: np.ndarray | None = None, title: str) -> go.Figure:
    """The toy's plane: the critic's mean value as a heat-map, its mean action-gradient as
    arrows (scaled so the longest spans 0.9 grid cells), the reward locations and the probe.

    Args:
      grid: `[G]` coordinates of both axes.
      value: `[G, G]` mean value, rows indexed by y, columns by x.
      grad: `[G, G, 2]` mean action-gradient, same indexing.
      locations: `[N, 2]` reward locations.
      probe: `[2]` the probe state, or None.
      title: the figure title; keep a line under ~50 characters (the figure is 620 px wide),
        breaking it with `<br>`.

    Returns:
      traces `"mean value"` (heatmap), `"mean ∇ₐZ"`, `"reward locations"`, then `"probe"`.
    """
    n = grid.shape[0]
    if value.shape != (n, n) or grad.shape != (n, n, 2):
        raise ValueError(f"value and grad must be [{n}, {n}] and [{n}, {n}, 2], "
                         f"got {list(value.shape)} and {list(grad.shape)}")
    xs, ys = _arrow_segments(grid, grad)
    tips = np.tile([0, 7, 0], n * n)  # arrowheads only at the tips
    figure = go.Figure([
        go.Heatmap(x=grid, y=grid, z=value, name="mean value", colorscale="Viridis",
                   colorbar={"title": "E Z"}, hovertemplate="s=(%{x:.2f}, %{y:.2f})<br>"
                   "E Z=%{z:.3f}<extra></extra>"),
        go.Scatter(x=xs, y=ys, mode="lines+markers", name="mean ∇ₐZ", hoverinfo="skip",
                   line={"color": "white", "width": 1.5},
                   marker={"symbol": "arrow", "angleref": "previous", "size": tips,
                           "color": "white"}),
        go.Scatter(x=locations[:, 0], y=locations[:, 1], mode="markers", name="reward locations",
                   marker={"symbol": "star", "size": 14, "color": "#d62728",
                           "line": {"color": "white", "width": 1}}),
    ])
    if probe is not None:
        figure.add_trace(go.Scatter(x=[probe[0]], y=[probe[1]], mode="markers", name="probe",
                                    marker={"symbol": "x", "size": 12, "color": "#e377c2",
                                            "line": {"color": "black", "width": 1}}))
    figure.update_layout(title={"text": title, "x": 0.02, "xanchor": "left"},
                         xaxis={"title": "x", "constrain": "domain"},
                         yaxis={"title": "y", "scaleanchor": "x"}, height=540, width=620,
                         margin={"t": 90}, legend={"orientation": "h", "y": -0.15})
    return figure


def loss_curve(losses: np.ndarray, *, title: str) -> go.Figure:
    """The critic loss per update and its moving average (window: a twentieth of the run).

    Args:
      losses: `[T]` one loss per update.
      title: the figure title.

    Returns:
      traces `"loss"`, `"moving average"`.
    """
    if losses.ndim != 1 or losses.shape[0] < 1:
        raise ValueError(f"losses must have shape [T] with T >= 1, got {list(losses.shape)}")
    window = max(1, losses.shape[0] // 20)
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")  # [T - window + 1]
    step = np.arange(1, losses.shape[0] + 1)
    figure = go.Figure([
        go.Scatter(x=step, y=losses, mode="lines", name="loss", opacity=0.35,
                   line={"color": CRITIC_COLOR}),
        go.Scatter(x=step[window - 1:], y=smooth, mode="lines", name="moving average",
                   line={"color": CRITIC_COLOR, "width": 2.5}),
    ])
    figure.update_layout(title={"text": title}, xaxis_title="critic update",
                         yaxis_title="critic loss", height=320, width=940)
    return figure
