"""Measuring how much a Bellman operator contracts the distance between two laws of joint vectors.

The theory (paper-notes §3): the Sobolev distributional Bellman operator is a γκ-contraction in
max-sliced MMD / Wasserstein when γκ < 1, κ bounding the Jacobians of environment and policy.
`dvg_core.analysis.contraction_linear` (a linear system, where the operator is an exact affine push-forward
`x ↦ b + L x`) and `dvg_core.analysis.contraction_toy` (the point-mass toy with generative critics as
random functions) apply the operator to two random functions; this module holds what both share:

* `slice_distances`: for B pairs of sample sets, the max-sliced MMD² (with its direction θ*), the
  1-D Wasserstein-1 distance on that worst slice θ*, and the plain (joint-kernel) MMD².
* `ratio_stats` (B independent replicates, linear system) and `sup_ratio` (sup over probe pairs
  over sup over next states, toy) turn distances before and after the operator into a factor.
* `ContractionEstimate`: one measured point, a flat record (a table row).

Units. Every factor is a ratio of the distances *as computed*: MMD² (not MMD) and W₁. With the
paper's negative multiquadric kernel at h = 100 on unit-scale data, MMD²_h ≈ h × energy distance,
which is 1-homogeneous (`D²(cX, cY) = c D²(X, Y)`), like W₁; so both factors compare directly
with ‖L‖ and γκ (for MMD itself, take the square root of the MMD² factor).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch

from dvg_core.losses.distances import mmd2, wasserstein_1d
from dvg_core.losses.slicing import max_sliced_mmd2
from dvg_core.losses.kernels import Kernel, check_sample_sets
from dvg_core.util.validation import check_shape

__all__ = [
    "ContractionEstimate",
    "SliceDistances",
    "ratio_stats",
    "slice_distances",
    "sup_ratio",
]


@dataclass(frozen=True)
class ContractionEstimate:
    """One measured contraction factor, with its predictions (a flat record: one table row).

    Factors are `distance(T Z₁, T Z₂) / distance(Z₁, Z₂)` in the units of `dvg_core.analysis.contraction`
    (MMD², W₁); `*_se` are standard errors over independent replicates (NaN where the estimate is
    a single sup over probes, as on the toy).
    """

    setting: str
    """`"linear"` or `"toy"`."""
    gamma: float
    """Discount γ."""
    gain: float
    """Policy gain (sets the policy's Jacobian, hence κ)."""
    dt: float
    """Time step of the dynamics (sets the environment's Jacobian, hence κ)."""
    kappa: float
    """κ = max(1, ‖J_env‖·‖[I; J_π]‖), the Jacobian bound (sup over probes on the toy)."""
    norm_l: float
    """The ‖L‖-based prediction: ‖L‖₂ = γ max(1, ‖∂(s', a')/∂(s, a)‖₂) (sup over probes)."""
    msmmd2: float
    """Measured factor in max-sliced MMD²."""
    w1: float
    """Measured factor in 1-D Wasserstein-1 on the worst slice θ* of the max-sliced MMD²."""
    mmd2: float
    """Measured factor in plain MMD² (the kernel on the whole joint vector)."""
    msmmd2_se: float = math.nan
    """Standard error of `msmmd2`."""
    w1_se: float = math.nan
    """Standard error of `w1`."""
    mmd2_se: float = math.nan
    """Standard error of `mmd2`."""
    norm_l_action: float = math.nan
    """Toy only: ‖L_a‖, the norm of the rows of L that the agents' targets `(G, ∇ₐG)` keep
    (sup over probes); it bounds `msmmd2_complete`."""
    msmmd2_complete: float = math.nan
    """Toy only: max-sliced MMD² factor whose denominator uses the complete next-state vectors
    `(Z, ∇ₛZ, ∇ₐZ)` (what the theory bounds) instead of the agents' `(Z, √λ ∇ₐZ)`."""
    msmmd2_complete_operator: float = math.nan
    """Toy only: max-sliced MMD² factor of the complete operator (`dsdpg_complete`): complete
    targets `(y, ∇ₛy, ∇ₐy)` over complete next-state vectors; bounded by ‖L‖ <= γκ."""

    @property
    def gamma_kappa(self) -> float:
        """γκ, the theorem's contraction modulus."""
        return self.gamma * self.kappa


class SliceDistances(NamedTuple):
    """Distances between B pairs of sample sets (see `slice_distances`)."""

    msmmd2: torch.Tensor
    """`[B]` max-sliced MMD²."""
    w1: torch.Tensor
    """`[B]` W₁ between the projections on the worst slice θ*."""
    mmd2: torch.Tensor
    """`[B]` plain MMD² with the kernel on the whole vector."""
    direction: torch.Tensor
    """`[B, D]` the worst slice θ* (unit rows)."""


def slice_distances(
    x: torch.Tensor,
    y: torch.Tensor,
    kernel: Kernel,
    *,
    candidates: torch.Tensor | None = None,
    n_restarts: int = 2,
    n_steps: int = 8,
    generator: torch.Generator | None = None,
) -> SliceDistances:
    """Max-sliced MMD², W₁ on its worst slice, and plain MMD² between `x` and `y`, per row.

    The sup over directions is `dvg_core.losses.slicing.max_sliced_mmd2` (ascent from the
    `candidates`, one random start and `n_restarts` more); every start is a lower bound of the
    sup, so adding candidates (the coordinate axes, the singular vectors of L) only tightens it.

    Args:
      x: `[B, M, D]` samples.
      y: `[B, M, D]` samples (same M: W₁ matches sorted samples).
      kernel: radial kernel on squared distances, e.g. `make_kernel("multiquadric", h=100.0)`.
      candidates: `[K, D]` or `[B, K, D]` extra start directions, or None.
      n_restarts, n_steps: random starts and ascent steps of the max-slicing.
      generator: RNG of the random starts.

    Returns:
      `SliceDistances` of `[B]` tensors and the `[B, D]` worst slices, detached.
    """
    check_sample_sets(x, y)
    check_shape("y", y, list(x.shape))
    with torch.no_grad():
        sliced, theta = max_sliced_mmd2(
            x, y, kernel, candidates=candidates, n_restarts=n_restarts, n_steps=n_steps,
            generator=generator,
        )
        px = torch.einsum("bmd,bd->bm", x, theta)  # [B, M]
        py = torch.einsum("bmd,bd->bm", y, theta)
        return SliceDistances(sliced, wasserstein_1d(px, py), mmd2(x, y, kernel), theta)


def ratio_stats(before: torch.Tensor, after: torch.Tensor) -> tuple[float, float]:
    """Mean and standard error of the per-row factor `after / before` over B replicates.

    Args:
      before: `[B]` distances between the inputs (> 0).
      after: `[B]` distances between the outputs.

    Returns:
      `(mean, standard error)`; the error is NaN for B = 1.
    """
    check_shape("before", before, [None])
    check_shape("after", after, list(before.shape))
    ratio = (after / before).double()
    n = ratio.shape[0]
    se = ratio.std().item() / math.sqrt(n) if n > 1 else math.nan
    return ratio.mean().item(), se


def sup_ratio(before: torch.Tensor, after: torch.Tensor) -> float:
    """The sup-metric factor `max(after) / max(before)`: sup over probe pairs of the outputs'
    distance over sup over next states of the inputs' distance (`[P]` and `[Q]`, any P, Q)."""
    check_shape("before", before, [None])
    check_shape("after", after, [None])
    return (after.max() / before.max()).item()
