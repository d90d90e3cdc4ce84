"""The measured contraction of the linear system's Sobolev operator: samples of two laws of
next-state vectors pushed through `b + L x`, their max-sliced, W₁ and plain MMD² distances before
and after, against ‖L‖ and γκ.

The system, the operator and its derivation (paper-notes §3, RECONSTRUCTION):
`dvg_core.analysis.linear_sobolev_operator`, whose names this module re-exports.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from dvg_core.analysis.contraction import ContractionEstimate, ratio_stats, slice_distances
from dvg_core.analysis.linear_sobolev_operator import (
    closed_loop_jacobian,
    double_integrator,
    kappa_bound,
    linear_sobolev_backup,
    push_forward,
    reward_part,
    sobolev_matrix,
)
from dvg_core.losses.kernels import make_kernel
from dvg_core.util.validation import check_int_at_least, check_nonnegative, check_range, check_shape

__all__ = [
    "closed_loop_jacobian",
    "double_integrator",
    "kappa_bound",
    "linear_contraction",
    "linear_sobolev_backup",
    "push_forward",
    "reward_part",
    "shifted_pair",
    "sobolev_matrix",
]


def shifted_pair(
    batch: int, n_samples: int, direction: torch.Tensor, *, shift: float, spread: float = 0.0,
    spread_direction: torch.Tensor | None = None, generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Samples of two laws of next-state vectors: μ₁ = N(0, I + spread² n nᵀ) and its perturbed
    copy μ₂ = μ₁ shifted by `shift · v` (the same samples moved: an exact shift per row).

    Args:
      batch: B independent replicates; n_samples: M samples per law.
      direction: v `[D]` (normalised here); shift: its length.
      spread: extra standard deviation along `spread_direction` n `[D]` (normalised here).
      generator: torch RNG.

    Returns:
      `(x1, x2)`, each `[B, M, D]`, in `direction`'s dtype.
    """
    check_int_at_least("batch", batch, 1)
    check_int_at_least("n_samples", n_samples, 2)
    check_shape("direction", direction, [None])
    spread = check_nonnegative("spread", spread)
    dim, dtype = direction.shape[0], direction.dtype
    v = direction / direction.norm()
    x1 = torch.randn(batch, n_samples, dim, generator=generator, dtype=dtype)
    if spread > 0:
        if spread_direction is None:
            raise ValueError("spread_direction must be given when spread > 0")
        check_shape("spread_direction", spread_direction, [dim])
        n = spread_direction.to(dtype) / spread_direction.norm()
        x1 = x1 + spread * torch.randn(batch, n_samples, 1, generator=generator, dtype=dtype) * n
    return x1, x1 + check_nonnegative("shift", shift) * v


def _probe_offset(n_rows, n_samples, *, reward_noise, generator, dtype) -> torch.Tensor:
    """`b` at the probe `(s, a) = ((1, 0), 0)`, reward `q = (1, 0; 0.5)`, `c = 0.1`, plus the
    common reward noise `σ_r η` on the value: `[B, M, D]`."""
    state, action = torch.tensor([[1.0, 0.0]], dtype=dtype), torch.zeros(1, 1, dtype=dtype)
    offset = reward_part(state, action, reward_state=torch.tensor([1.0, 0.0], dtype=dtype),
                         reward_action=torch.tensor([0.5], dtype=dtype), curvature=0.1)  # [1, D]
    noise = reward_noise * torch.randn(n_rows, n_samples, 1, generator=generator, dtype=dtype)
    return offset + torch.nn.functional.pad(noise, (0, offset.shape[-1] - 1))  # [B, M, D]


def linear_contraction(
    gammas: Sequence[float], *, dt: float, gain: float, n_rows: int = 8, n_samples: int = 48,
    shift: float = 2.0, spread: float = 0.0, reward_noise: float = 0.0, h: float = 100.0,
    n_restarts: int = 1, n_steps: int = 5, seed: int = 0,
) -> list[ContractionEstimate]:
    """Measured contraction factors of the double integrator's Sobolev operator, one per γ.

    Z₁ has next-vector law μ₁ = N(0, I + spread² n nᵀ), n spanning L's null space; Z₂ is its
    copy shifted by `shift` along v₁, the top right singular vector of L (the worst direction,
    so the population factor is ‖L‖; L = γ L₁ has the same singular vectors for every γ, so the
    inputs and their distances are shared by all γ). Both are pushed through `b + L x` at the
    probe of `_probe_offset`. Distances: multiquadric MMD² (bandwidth h), max-sliced from the
    axes and the singular vectors of L; factors are means over independent replicates. Each γ's
    value does not depend on the other γ of the list (its random starts have their own seed).

    Args:
      gammas: discounts in (0, 1]; dt, gain: the system (`double_integrator`).
      n_rows: B replicates; n_samples: M samples per law; shift: length of the shift.
      spread: standard deviation added along L's null space (0: isotropic laws).
      reward_noise: σ_r of the common reward noise; h: multiquadric bandwidth.
      n_restarts, n_steps: the max-slicing's random starts and ascent steps.
      seed: seeds every draw.

    Returns:
      one `ContractionEstimate` per γ (setting `"linear"`), in the order of `gammas`.
    """
    gammas = [check_range("gammas", g, 0.0, 1.0, low_closed=False) for g in gammas]
    a_mat, b_mat, k_mat = double_integrator(dt=dt, gain=gain)
    unit = sobolev_matrix(a_mat, b_mat, k_mat, gamma=1.0)  # L / γ
    left, _, right_t = torch.linalg.svd(unit)
    eye = torch.eye(unit.shape[0], dtype=unit.dtype)
    generator = torch.Generator().manual_seed(seed)
    x1, x2 = shifted_pair(n_rows, n_samples, right_t[0], shift=shift, spread=spread,
                          spread_direction=right_t[-1], generator=generator)
    offset = _probe_offset(n_rows, n_samples, reward_noise=reward_noise, generator=generator,
                           dtype=unit.dtype)
    kernel, kappa = make_kernel("multiquadric", h=h), kappa_bound(a_mat, b_mat, k_mat)
    slicing = {"n_restarts": n_restarts, "n_steps": n_steps}
    before = slice_distances(x1, x2, kernel, candidates=torch.cat([eye, right_t]),
                             generator=generator, **slicing)
    estimates = []
    for gamma in gammas:  # a handful of γ values: each step is batched over rows and samples
        matrix = gamma * unit
        after = slice_distances(
            push_forward(x1, matrix, offset), push_forward(x2, matrix, offset), kernel,
            candidates=torch.cat([eye, left.T]), generator=torch.Generator().manual_seed(seed + 1),
            **slicing)
        factors = {name: ratio_stats(getattr(before, name), getattr(after, name))
                   for name in ("msmmd2", "w1", "mmd2")}
        estimates.append(ContractionEstimate(
            setting="linear", gamma=gamma, gain=gain, dt=dt, kappa=kappa,
            norm_l=torch.linalg.matrix_norm(matrix, ord=2).item(),
            **{name: mean for name, (mean, _) in factors.items()},
            **{f"{name}_se": se for name, (_, se) in factors.items()},
        ))
    return estimates
