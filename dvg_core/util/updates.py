"""The two parameter updates every learner takes: one optimiser step on a loss (its gradients
taken for that optimiser's parameters only) and Polyak averaging of target parameters."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["gradient_step", "polyak_update", "soft_update"]


def gradient_step(
    optimizer: torch.optim.Optimizer, loss: torch.Tensor,
    params: Sequence[torch.Tensor] | None = None,
) -> None:
    """One optimiser step on the scalar `loss`, its gradients taken with `torch.autograd.grad`
    for `params` only (default: every parameter of `optimizer`), so no other tensor's `.grad`
    is touched and gradients left on `params` by earlier backward passes are replaced."""
    if params is None:
        params = [p for group in optimizer.param_groups for p in group["params"]]
    grads = torch.autograd.grad(loss, list(params))
    for p, g in zip(params, grads):
        p.grad = g
    optimizer.step()


@torch.no_grad()
def polyak_update(targets: Sequence[torch.Tensor], online: Sequence[torch.Tensor],
                  tau: float) -> None:
    """`θ̄ ← θ̄ + τ(θ - θ̄)` for every pair of `targets` and `online` tensors, in one fused call."""
    torch._foreach_lerp_(list(targets), list(online), tau)


def soft_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """`polyak_update` of every parameter of `target` towards `online`'s."""
    polyak_update(list(target.parameters()), list(online.parameters()), tau)
