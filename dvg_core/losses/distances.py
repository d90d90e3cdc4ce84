"""Distances between batched sample sets: MMD², energy distance, 1-D W_p, and IQN's quantile
Huber loss (the sliced and max-sliced MMD² are in `dvg_core.losses.slicing`).

Every function compares B independent pairs of sample sets, `x [B, M, D]` against `y [B, M', D]`
(M and M' may differ unless stated), and returns the per-pair value `[B]`; the caller reduces.
Kernels are functions of squared distances (`dvg_core.losses.kernels`).
"""

from __future__ import annotations

import math

import torch

from dvg_core.losses.kernels import Kernel, check_sample_sets, pairwise_sq_dists
from dvg_core.util.validation import (
    check_nonnegative,
    check_range,
    check_shape,
)

__all__ = [
    "energy_distance",
    "mmd2",
    "mmd2_from_kernel_values",
    "mmd2_from_sq_dists",
    "quantile_huber",
    "wasserstein_1d",
]


def mmd2(
    x: torch.Tensor, y: torch.Tensor, kernel: Kernel, *, unbiased: bool = False
) -> torch.Tensor:
    """Squared maximum mean discrepancy between the sample sets `x` and `y`, per row.

    Source: Gretton et al. 2012, eqs. 3 (U) and 5 (V); V-statistic as in MMD-DQN and
    paper-notes §2.6: `mean k(X, X') + mean k(Y, Y') - 2 mean k(X, Y)`, all pairs incl. the
    diagonal. It is exactly 0 for `y = x`, and >= 0 for PD and conditionally PD kernels (the
    negative multiquadric). `unbiased=True`: U-statistic, the diagonals of `k(X, X')` and
    `k(Y, Y')` excluded (needs M, M' >= 2; may be negative).

    Args:
      x: `[B, M, D]` samples (e.g. online joint samples; gradients flow).
      y: `[B, M', D]` samples (e.g. targets; the caller detaches them).
      kernel: radial kernel on squared distances, e.g. `make_kernel("multiquadric", h=100.0)`.
      unbiased: U-statistic instead of the V-statistic.

    Returns:
      `[B]` MMD², no reduction over the batch.
    """
    check_sample_sets(x, y)
    check_estimator(kernel, unbiased, x.shape[1], y.shape[1])
    return mmd2_from_sq_dists(
        pairwise_sq_dists(x, x), pairwise_sq_dists(y, y), pairwise_sq_dists(x, y), kernel, unbiased
    )


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Energy distance `D² = 2E‖X - Y‖ - E‖X - X'‖ - E‖Y - Y'‖` (Euclidean), per row.

    Source: Székely & Rizzo 2013; V-statistic (all pairs incl. the zero diagonal), so it is
    exactly 0 for `y = x` and equals `lim_{h→∞} MMD²_h / h` of the negative multiquadric.
    Returns D², not D (`scipy.stats.energy_distance` returns `D = sqrt(D²)` in 1-D). The norm
    has a zero (sub)gradient at coincident points instead of NaN.

    Args:
      x: `[B, M, D]` samples.
      y: `[B, M', D]` samples.

    Returns:
      `[B]` squared energy distance, >= 0.
    """
    check_sample_sets(x, y)
    dxy = _safe_sqrt(pairwise_sq_dists(x, y)).mean((-2, -1))
    dxx = _safe_sqrt(pairwise_sq_dists(x, x)).mean((-2, -1))
    dyy = _safe_sqrt(pairwise_sq_dists(y, y)).mean((-2, -1))
    return 2.0 * dxy - dxx - dyy


def wasserstein_1d(x: torch.Tensor, y: torch.Tensor, *, p: float = 1.0) -> torch.Tensor:
    """p-Wasserstein distance **to the power p**, `W_p^p`, between 1-D empirical laws, per row.

    Source: `W_p^p = ∫₀¹ |F⁻¹ - G⁻¹|^p`; with equal sample counts the optimal coupling matches
    sorted samples: `mean_i |x_(i) - y_(i)|^p` (same convention as POT's `wasserstein_1d`).

    Args:
      x: `[B, M]` samples.
      y: `[B, M]` samples (same M as x).
      p: order, >= 1.

    Returns:
      `[B]` W_p^p (take `** (1 / p)` for W_p).
    """
    check_shape("x", x, [None, None])
    check_shape("y", y, list(x.shape))
    if x.shape[1] < 1:
        raise ValueError(f"x must have M >= 1 samples, got {list(x.shape)}")
    p = check_range("p", p, 1.0, math.inf)
    gap = (torch.sort(x, dim=-1).values - torch.sort(y, dim=-1).values).abs()
    return (gap if p == 1.0 else gap.pow(p)).mean(-1)


def quantile_huber(
    pred_quantiles: torch.Tensor, taus: torch.Tensor, targets: torch.Tensor, *, kappa: float = 1.0
) -> torch.Tensor:
    """IQN's quantile Huber loss, summed over predicted quantiles, averaged over targets.

    Source: Dabney et al. 2018 (IQN, arXiv 1806.06923), eq. 10:
    `Σ_i mean_j ρ^κ_{τ_i}(y_j - q_i)`, `ρ^κ_τ(u) = |τ - 1{u < 0}| · L_κ(u) / κ`, with Huber
    `L_κ(u) = u²/2` if `|u| <= κ` else `κ(|u| - κ/2)`. `kappa = 0` gives the plain quantile
    (pinball) loss `|τ - 1{u < 0}| · |u|`, the κ → 0 limit.

    Args:
      pred_quantiles: `[B, N]` predicted quantiles q_i at levels τ_i.
      taus: `[B, N]` or `[N]` quantile levels in [0, 1] (not checked: data-dependent).
      targets: `[B, M']` target samples y_j (the caller detaches them).
      kappa: Huber threshold κ >= 0.

    Returns:
      `[B]` loss: sum over the N quantiles, mean over the M' targets.
    """
    check_shape("pred_quantiles", pred_quantiles, [None, None])
    batch, n = pred_quantiles.shape
    check_shape("taus", taus, ["...", n])
    if taus.dim() == 1:
        taus = taus.expand(batch, n)
    check_shape("taus", taus, [batch, n])
    check_shape("targets", targets, [batch, None])
    if n < 1 or targets.shape[1] < 1:
        raise ValueError("pred_quantiles and targets must hold at least one value per row")
    kappa = check_nonnegative("kappa", kappa)
    u = targets[:, None, :] - pred_quantiles[:, :, None]  # [B, N, M']
    abs_u = u.abs()
    if kappa > 0:
        loss = torch.where(abs_u <= kappa, 0.5 * u.square(), kappa * (abs_u - 0.5 * kappa)) / kappa
    else:
        loss = abs_u
    weight = (taus[:, :, None] - (u < 0).to(u.dtype)).abs()  # [B, N, M']
    return (weight * loss).sum(1).mean(-1)


def mmd2_from_sq_dists(dxx, dyy, dxy, kernel, unbiased):
    """MMD² from squared-distance matrices `[..., M, M]`, `[..., M', M']`, `[..., M, M']`."""
    return mmd2_from_kernel_values(kernel(dxx), kernel(dyy), kernel(dxy), unbiased)


def mmd2_from_kernel_values(kxx, kyy, kxy, unbiased):
    """MMD² from kernel matrices `[..., M, M]`, `[..., M', M']`, `[..., M, M']`."""
    if unbiased:
        m, n = kxx.shape[-1], kyy.shape[-1]
        xx = (kxx.sum((-2, -1)) - kxx.diagonal(dim1=-2, dim2=-1).sum(-1)) / (m * (m - 1))
        yy = (kyy.sum((-2, -1)) - kyy.diagonal(dim1=-2, dim2=-1).sum(-1)) / (n * (n - 1))
    else:
        xx, yy = kxx.mean((-2, -1)), kyy.mean((-2, -1))
    return xx + yy - 2.0 * kxy.mean((-2, -1))


def check_estimator(kernel: object, unbiased: bool, m: int, n: int) -> None:
    """`ValueError` unless `kernel` is callable and, for the U-statistic, M, M' >= 2."""
    if not callable(kernel):
        raise ValueError(f"kernel must be callable (see dvg_core.losses.kernels), got {kernel!r}")
    if unbiased and min(m, n) < 2:
        raise ValueError(f"unbiased=True needs at least 2 samples in x and y, got M={m}, M'={n}")


def _safe_sqrt(d2: torch.Tensor) -> torch.Tensor:
    """sqrt with zero gradient at 0 (the double-where trick) instead of 0 · inf = NaN."""
    positive = d2 > 0
    return torch.where(positive, torch.where(positive, d2, torch.ones_like(d2)).sqrt(), 0.0)
