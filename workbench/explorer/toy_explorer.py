"""The toy explorer of `notebooks/explore_toy.ipynb`: ipywidgets controls, live plotly figures.

`ToyExplorer(settings)` lays out one control per setting a researcher moves (algorithm, λ, γ,
N, dynamics noise σ, samples M, kernel bandwidth h, the probe state, the numbers of cold and warm
updates), a "warm start" checkbox, a progress bar, and the three figures of
`workbench.explorer.exploration.figures` as `go.FigureWidget`s. Every change (a released slider, a click on the
plane) reruns `workbench.explorer.exploration.explore` and updates the figures in place (`batch_update`), so
zoom and layout persist. With "warm start" on (the default), a change that keeps the critic's
architecture and the probe's training window (`workbench.explorer.exploration.warm_start`: any change but of
the algorithm, or of the probe by more than `window`) retrains the previous critic for
`warm_updates` (under a second on one CPU core, docs/lab/results.md) and the answer depends on the
path of settings; with it off, or after such a change, a fresh critic trains for `n_updates` (a
few seconds) and the answer depends on the settings alone.

Needs `anywidget` (plotly's FigureWidget is built on it). Every control and figure carries a
CSS class `dvg-<name>` (`dvg-lam`, `dvg-samples` ...), which the browser test finds them by.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
from collections.abc import Iterator
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from workbench.explorer.exploration import (
    EXPLORE_ALGORITHMS,
    Exploration,
    ExploreSettings,
    explore,
    figures,
    summary,
    warm_start,
)

__all__ = ["PROBE_STEP", "ToyExplorer", "update_figure"]

PROBE_STEP = 0.05
"""Resolution of the probe sliders; a click on the plane snaps to it."""

_STYLE = {"description_width": "90px"}
_SLIDER_LAYOUT = W.Layout(width="340px")


def _slider(cls: type, description: str, value: float, low: float, high: float, step: float,
            **kwargs: Any) -> W.Widget:
    """A released-only slider whose range is widened to hold `value`."""
    return cls(value=value, min=min(low, value), max=max(high, value), step=step,
               description=description, continuous_update=False, style=_STYLE,
               layout=_SLIDER_LAYOUT, **kwargs)


def _controls(settings: ExploreSettings) -> dict[str, W.Widget]:
    """One control per `ExploreSettings` field the explorer exposes (probe as `probe_x/_y`)."""
    box = settings.spec().box
    x, y = settings.probe
    return {
        "algorithm": W.Dropdown(options=EXPLORE_ALGORITHMS, value=settings.algorithm,
                                description="algorithm", style=_STYLE, layout=_SLIDER_LAYOUT),
        "lam": _slider(W.FloatSlider, "λ", settings.lam, 0.0, 5.0, 0.1),
        "gamma": _slider(W.FloatSlider, "γ", settings.gamma, 0.0, 0.95, 0.05),
        "n_locations": _slider(W.IntSlider, "N locations", settings.n_locations, 1, 8, 1),
        "noise": _slider(W.FloatSlider, "noise σ", settings.noise, 0.0, 0.3, 0.01),
        "n_samples": _slider(W.IntSlider, "samples M", settings.n_samples, 2, 32, 1),
        "bandwidth": W.FloatLogSlider(value=settings.bandwidth, base=10, min=-1, max=3, step=0.25,
                                      description="bandwidth h", continuous_update=False,
                                      style=_STYLE, layout=_SLIDER_LAYOUT),
        "probe_x": _slider(W.FloatSlider, "probe x", x, -box, box, PROBE_STEP),
        "probe_y": _slider(W.FloatSlider, "probe y", y, -box, box, PROBE_STEP),
        "n_updates": _slider(W.IntSlider, "updates", settings.n_updates, 50, 2000, 50),
        "warm_updates": _slider(W.IntSlider, "warm steps", settings.warm_updates, 10, 500, 10),
    }


def update_figure(widget: go.FigureWidget, fresh: go.Figure) -> None:
    """Copy `fresh`'s traces and layout into `widget` in one `batch_update` (one message).

    The traces must match one to one in number and type (the explorer's figures always do).
    """
    if [t.type for t in widget.data] != [t.type for t in fresh.data]:
        raise ValueError("fresh must have the widget's traces: "
                         f"{[t.type for t in widget.data]}, got {[t.type for t in fresh.data]}")
    layout = fresh.layout.to_plotly_json()
    layout.pop("template", None)  # unchanged; resending it would only cost bandwidth
    with widget.batch_update():
        for trace, new in zip(widget.data, fresh.data):
            props = new.to_plotly_json()
            props.pop("type", None)
            props.pop("uid", None)
            trace.update(props, overwrite=True)
        widget.layout.update(layout, overwrite=True)


class ToyExplorer:
    """Controls, progress and live figures of one toy exploration (see the module docstring).

    Args:
      settings: the first exploration; fields without a control (hidden sizes, learning rate,
        seed, budgets of the truth and of the fields) keep their values here.
      run: run the first exploration now (else the figures appear on the first `refresh`).
      warm: the first value of the "warm start" checkbox.

    Attributes:
      controls: name -> widget (`ExploreSettings` fields, the probe as `probe_x`, `probe_y`).
      warm: the "warm start" checkbox.
      figures: `"samples"`, `"plane"`, `"loss"` -> `go.FigureWidget` (after the first run).
      result: the last `Exploration`, or None.
      view: the whole explorer, an `ipywidgets.VBox` to display.
    """

    def __init__(self, settings: ExploreSettings = ExploreSettings(), *, run: bool = True,
                 warm: bool = True) -> None:
        self._base = settings
        self._held = False
        self.controls = _controls(settings)
        for name, control in self.controls.items():
            control.add_class(f"dvg-{name.replace('_', '-')}")
            control.observe(self._on_change, names="value")
        self.warm = W.Checkbox(value=warm, description="warm start", style=_STYLE)
        self.warm.add_class("dvg-warm")
        self.progress = W.IntProgress(value=0, min=0, max=settings.n_updates,
                                      description="training", style=_STYLE)
        self.progress.add_class("dvg-progress")
        self.status = W.HTML(value="")
        self.status.add_class("dvg-status")
        self.figures: dict[str, go.FigureWidget] = {}
        self.result: Exploration | None = None
        self._figure_box = W.VBox([])
        names = list(self.controls)
        half = (len(names) + 1) // 2
        columns = W.HBox([W.VBox([self.controls[n] for n in names[:half]]),
                          W.VBox([self.controls[n] for n in names[half:]])])
        self.view = W.VBox([columns, W.HBox([self.warm, self.progress, self.status]),
                            self._figure_box])
        if run:
            self.refresh()

    def settings(self) -> ExploreSettings:
        """The settings the controls show (raises `ValueError` naming a bad one)."""
        values = {name: c.value for name, c in self.controls.items()
                  if name not in ("probe_x", "probe_y")}
        probe = (float(self.controls["probe_x"].value), float(self.controls["probe_y"].value))
        return dataclasses.replace(self._base, probe=probe, **values)

    def refresh(self) -> Exploration | None:
        """Rerun the exploration with the controls' settings (warm-started from the last one's
        critic when "warm start" is on and `warm_start` allows) and redraw; None (and the error
        in the status line) if the settings are invalid."""
        try:
            settings = self.settings()
        except ValueError as error:
            self.status.value = f"<b style='color:#d62728'>{html.escape(str(error))}</b>"
            return None
        start = warm_start(self.result, settings) if self.warm.value else None
        total = settings.n_updates if start is None else settings.warm_updates
        self.progress.max, self.progress.value, self.progress.bar_style = total, 0, ""
        self.status.value = "training the critic…"
        result = explore(settings, start=start, progress=self._on_progress)
        self._draw(figures(result))
        self.result = result
        self.progress.bar_style = "success"
        self.status.value = html.escape(summary(result))
        return result

    def set_probe(self, x: float, y: float) -> Exploration | None:
        """Move the probe to `(x, y)` (snapped to `PROBE_STEP`) and rerun once."""
        with self._hold():
            self.controls["probe_x"].value = round(round(x / PROBE_STEP) * PROBE_STEP, 6)
            self.controls["probe_y"].value = round(round(y / PROBE_STEP) * PROBE_STEP, 6)
        return self.refresh()

    @contextlib.contextmanager
    def _hold(self) -> Iterator[None]:
        """Change several controls without a rerun per change."""
        self._held = True
        try:
            yield
        finally:
            self._held = False

    def _on_change(self, change: dict[str, Any]) -> None:
        if not self._held:
            self.refresh()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.value = done

    def _on_plane_click(self, trace: Any, points: Any, state: Any) -> None:
        if points.point_inds:
            self.set_probe(points.xs[0], points.ys[0])

    def _draw(self, fresh: dict[str, go.Figure]) -> None:
        if self.figures:
            for name, figure in fresh.items():
                update_figure(self.figures[name], figure)
            return
        self.figures = {name: go.FigureWidget(figure) for name, figure in fresh.items()}
        for name, widget in self.figures.items():
            widget.add_class(f"dvg-{name}")
        for trace in self.figures["plane"].data:
            trace.on_click(self._on_plane_click)
        self._figure_box.children = tuple(self.figures.values())
