"""What `notebooks/contraction.ipynb` calls, so the notebook stays thin: sweeps of measured
contraction factors over (γ, gain, dt), the linear system's L as a table and its autograd check,
and `ContractionExplorer`, the γ / gain / dt sliders driving a live `go.FigureWidget`.

The factors come from `dvg_core.analysis.contraction_linear.linear_contraction` and
`dvg_core.analysis.contraction_toy.toy_contraction`; the figures from `workbench.contraction.figures`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
import torch

from dvg_core.analysis.contraction import ContractionEstimate
from dvg_core.analysis.contraction_linear import (
    double_integrator,
    kappa_bound,
    linear_contraction,
    linear_sobolev_backup,
    reward_part,
    sobolev_matrix,
)
from dvg_core.analysis.contraction_toy import toy_contraction
from dvg_core.util.validation import check_choice
from workbench.contraction.figures import factor_vs_gamma

__all__ = [
    "SETTINGS",
    "ContractionExplorer",
    "autograd_residual",
    "linear_operator_table",
    "measure",
    "sweep",
]

SETTINGS = ("linear", "toy")
"""The two measurements: the double integrator (exact push-forward) and the point-mass toy."""


def measure(setting: str, gammas: Sequence[float], *, gain: float, dt: float,
            **budget: Any) -> list[ContractionEstimate]:
    """Measured factors at every γ for one (gain, dt): `linear_contraction` or `toy_contraction`
    with `budget` (their keyword arguments: sample sizes, λ, seed, ...)."""
    check_choice("setting", setting, SETTINGS)
    run = linear_contraction if setting == "linear" else toy_contraction
    return run(list(gammas), gain=gain, dt=dt, **budget)


def sweep(setting: str, gammas: Sequence[float], *, gains: Sequence[float],
          dts: Sequence[float], **budget: Any) -> list[ContractionEstimate]:
    """`measure` on the grid gains × dts (γ shared): the points of a (γ, κ) map."""
    return [e for gain, dt in itertools.product(gains, dts)
            for e in measure(setting, gammas, gain=gain, dt=dt, **budget)]


def linear_operator_table(*, gamma: float, dt: float, gain: float) -> pd.DataFrame:
    """L of the double integrator as a labelled table (rows: the backup's vector, columns: the
    next-state vector), with ‖L‖, κ and γκ in `attrs`."""
    a_mat, b_mat, k_mat = double_integrator(dt=dt, gain=gain)
    matrix = sobolev_matrix(a_mat, b_mat, k_mat, gamma=gamma)
    labels = ["Z", "∂Z/∂s₁", "∂Z/∂s₂", "∂Z/∂a"]
    table = pd.DataFrame(matrix.numpy(), index=[f"{x} (backup)" for x in labels],
                         columns=[f"{x} (next)" for x in labels])
    kappa = kappa_bound(a_mat, b_mat, k_mat)
    table.attrs = {"norm_l": torch.linalg.matrix_norm(matrix, ord=2).item(), "kappa": kappa,
                   "gamma_kappa": gamma * kappa}
    return table


def autograd_residual(*, gamma: float, dt: float, gain: float, n_rows: int = 64,
                      seed: int = 0) -> float:
    """Largest |autograd backup − (b + L x')| over random `(s, a)`, dynamics noise and sample
    paths `Z(s, a) = tanh(u W) v + ½ uᵀ diag(q) u` (float64): L checked against the chain rule."""
    g = torch.Generator().manual_seed(seed)
    a_mat, b_mat, k_mat = double_integrator(dt=dt, gain=gain)
    w = torch.randn(3, 16, generator=g, dtype=torch.float64)
    v, q = torch.randn(16, generator=g, dtype=torch.float64), torch.randn(3, generator=g,
                                                                           dtype=torch.float64)

    def critic(s, a):
        u = torch.cat([s, a], dim=-1)
        return torch.tanh(u @ w) @ v + 0.5 * (u * q * u).sum(-1)

    state, action = torch.randn(n_rows, 2, generator=g, dtype=torch.float64), \
        torch.randn(n_rows, 1, generator=g, dtype=torch.float64)
    eps = torch.randn(n_rows, 2, generator=g, dtype=torch.float64)
    reward = {"reward_state": torch.tensor([1.0, 0.0], dtype=torch.float64),
              "reward_action": torch.tensor([0.5], dtype=torch.float64), "curvature": 0.1}
    x_g, x_next = linear_sobolev_backup(critic, state, action, eps, a_mat, b_mat, k_mat,
                                        gamma=gamma, sigma=0.1, **reward)
    matrix = sobolev_matrix(a_mat, b_mat, k_mat, gamma=gamma)
    return (x_g - reward_part(state, action, **reward) - x_next @ matrix.T).abs().max().item()


class ContractionExplorer:
    """Sliders for γ, the policy gain and dt over a live figure of the measured factors.

    Moving gain or dt re-measures the factor-vs-γ curves (`factor_vs_gamma` on `gammas`); moving
    γ moves the `"selected γ"` marker and the numbers under the figure. The figure is updated in
    place (`go.FigureWidget.batch_update`).

    Args:
      setting: `"linear"` or `"toy"`.
      gammas: the γ grid of the curves.
      gamma, gain, dt: initial slider values.
      **budget: keyword arguments of the measurement (see `measure`).

    Attributes:
      figure: the `go.FigureWidget`; sliders: `{"gamma", "gain", "dt"}` -> `FloatSlider`;
      label: the numbers at the selected γ; widget: the whole `VBox`, to display.
    """

    def __init__(self, setting: str, gammas: Sequence[float], *, gamma: float, gain: float,
                 dt: float, **budget: Any) -> None:
        check_choice("setting", setting, SETTINGS)
        self.setting, self.gammas, self.budget = setting, sorted(gammas), budget
        self.sliders = {
            "gamma": widgets.FloatSlider(value=gamma, min=0.05, max=0.98, step=0.01,
                                         description="γ", continuous_update=False),
            "gain": widgets.FloatSlider(value=gain, min=0.0, max=6.0, step=0.1,
                                        description="gain", continuous_update=False),
            "dt": widgets.FloatSlider(value=dt, min=0.05, max=1.5, step=0.05,
                                      description="dt", continuous_update=False),
        }
        self.figure = go.FigureWidget()
        self.label = widgets.HTML()
        self.refresh()
        for name, slider in self.sliders.items():
            slider.observe(self._on_gamma if name == "gamma" else self._on_physics, names="value")
        self.widget = widgets.VBox([widgets.HBox(list(self.sliders.values())), self.figure,
                                    self.label])

    def _measure(self, gammas: Sequence[float]) -> list[ContractionEstimate]:
        return measure(self.setting, gammas, gain=self.sliders["gain"].value,
                       dt=self.sliders["dt"].value, **self.budget)

    def refresh(self) -> None:
        """Re-measure the curves and the selected γ; redraw in place."""
        gain, dt = self.sliders["gain"].value, self.sliders["dt"].value
        static = factor_vs_gamma(self._measure(self.gammas),
                                 title=f"{self.setting}: gain {gain:.2f}, dt {dt:.2f}")
        with self.figure.batch_update():
            self.figure.data = ()
            self.figure.add_traces(list(static.data))
            self.figure.add_trace(go.Scatter(x=[], y=[], mode="markers", name="selected γ",
                                             marker={"size": 13, "symbol": "diamond",
                                                     "color": "#ff7f0e"}))
            self.figure.layout = static.layout
        self._on_gamma()

    def _on_gamma(self, change: dict | None = None) -> None:
        (point,) = self._measure([self.sliders["gamma"].value])
        with self.figure.batch_update():
            self.figure.data[-1].x, self.figure.data[-1].y = [point.gamma], [point.msmmd2]
        self.label.value = (
            f"γ = {point.gamma:.2f}: measured factor (max-sliced MMD²) {point.msmmd2:.3f}, "
            f"plain MMD² {point.mmd2:.3f}, ‖L‖ {point.norm_l:.3f}, κ {point.kappa:.3f}, "
            f"γκ {point.gamma_kappa:.3f}")

    def _on_physics(self, change: dict | None = None) -> None:
        self.refresh()
