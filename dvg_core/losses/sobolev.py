"""Sobolev joint samples and Bellman targets: where `∇ₐZ` (and, complete, `∇ₛZ`) enters the method.

* `joint_samples`: the online critic's `(Z, √λ ∇ₐZ)` samples, differentiable in the critic's
  parameters so a loss can train the gradient part (the one create-graph pass of the codebase).
* `sobolev_targets`: the distributional Sobolev backup through a reparameterised world model
  (paper-notes §2.2, §2.4), `y = r̂ + γ(1 - done) Z̄(ŝ', π̄(ŝ'), ξ')` and its total derivative
  in `a` through model, target policy and target critic, pooled over the target critics and
  truncated at the top (TQC-style, §2.5).

Both take `lam_state`: None gives the agents' (paper's) vectors `(Z, √λ ∇ₐZ)`, `[..., 1 + d_a]`;
a number gives the *complete* vectors `(Z, √λₛ ∇ₛZ, √λ ∇ₐZ)`, `[..., 1 + d_s + d_a]` (state
coordinates before action ones), whose operator is a γκ-contraction (`dsdpg_complete`,
docs/concepts/method.md). The two differ only in the inputs differentiated
(`dvg_core.util.autodiff.value_and_input_grad`) and in the weights of the gradient coordinates.

The return-only and MAGE targets, the model backup and truncation are in
`dvg_core.losses.backup` (re-exported here). Targets carry no gradient: they are returned
detached.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from dvg_core.losses.backup import (
    check_backup_args,
    mage_targets,
    model_backup,
    pool_members,
    return_targets,
    smoothed_target_action,
    truncate_top,
)
from dvg_core.util.autodiff import value_and_input_grad
from dvg_core.util.validation import check_nonnegative, check_shape

__all__ = [
    "joint_samples",
    "mage_targets",
    "return_targets",
    "smoothed_target_action",
    "sobolev_targets",
    "truncate_top",
]


def _check_weights(lam: float, lam_state: float | None) -> None:
    check_nonnegative("lam", lam)
    if lam_state is not None:
        check_nonnegative("lam_state", lam_state)


def _joint(
    value: torch.Tensor, grad: torch.Tensor, *, state_dim: int, lam: float,
    lam_state: float | None,
) -> torch.Tensor:
    """Stack a value and its weighted gradient: `(value, √λ ∇ₐ)` if `lam_state` is None (`grad`
    `[*, d_a]`), else `(value, √λₛ ∇ₛ, √λ ∇ₐ)` (`grad` `[*, d_s + d_a]`); returns `[*, 1 + ·]`."""
    if lam_state is None:
        return torch.cat([value.unsqueeze(-1), math.sqrt(lam) * grad], dim=-1)
    return torch.cat([value.unsqueeze(-1), math.sqrt(lam_state) * grad[..., :state_dim],
                      math.sqrt(lam) * grad[..., state_dim:]], dim=-1)


def joint_samples(
    critic: Any,
    state: torch.Tensor,
    action: torch.Tensor,
    xi: torch.Tensor | None = None,
    *,
    lam: float,
    lam_state: float | None = None,
) -> torch.Tensor:
    """Online Sobolev samples `X = (Z_φ(s,a,ξ), √λ ∇ₐZ_φ(s,a,ξ))` for every critic member, or
    the complete `X = (Z_φ, √λₛ ∇ₛZ_φ, √λ ∇ₐZ_φ)` when `lam_state` is given.

    Source: paper-notes §2.3 (the gradient is autodiff of the same network, no gradient head);
    the complete vectors are ours (the operator's γκ bound needs ∇ₛZ, docs/concepts/method.md).
    One gradient of the sum over members and samples gives every per-sample gradient, because
    samples and members do not interact; `create_graph=True` keeps it trainable. A
    critic with `value_and_action_grad` (`dvg_core.models.head_noise_critic`) computes the
    agents' vectors by its own cheaper, equally differentiable path (the complete ones by
    autodiff: its closed form has no ∇ₛ).

    Args:
      critic: a `GenerativeCritic`, or a deterministic `TwinQ` (then `xi` is None and the
        "samples" are its single point, M = 1: MAGE's value and gradient).
      state: `[B, d_s]` (a constant input when differentiated, with `lam_state`).
      action: `[B, d_a]`, treated as a constant input (the critic loss never moves it).
      xi: critic noise `[B, M, d_ξ]` (shared by members) or `[E, B, M, d_ξ]`; M >= 2.
      lam: λ ≥ 0, weight of the action-gradient part (enters as √λ, so MMD sees λ‖Δ∇ₐ‖²).
      lam_state: None (the agents' vectors), or λₛ ≥ 0, weight of the state-gradient part.

    Returns:
      `[E, B, M, 1 + d_a]`, or `[E, B, M, 1 + d_s + d_a]` with `lam_state`; differentiable in
      the critic's parameters.
    """
    _check_weights(lam, lam_state)
    check_shape("state", state, [None, critic.state_dim])
    check_shape("action", action, [state.shape[0], critic.action_dim])
    n_members, batch = critic.n_members, state.shape[0]
    complete = lam_state is not None
    if xi is None:
        inputs, n_samples = (), 1
    else:
        check_shape("xi", xi, ["...", batch, None, critic.xi_dim])
        if xi.shape[-2] < 2:
            raise ValueError(f"M (xi.shape[-2]) must be >= 2 samples, got {xi.shape[-2]}")
        inputs, n_samples = (xi,), xi.shape[-2]
    if not complete and lam != 0.0 and xi is not None and hasattr(critic, "value_and_action_grad"):
        # A critic with a closed-form gradient path (`HeadNoiseCritic`): no autograd pass here.
        z, grad_a_z = critic.value_and_action_grad(state, action.detach(), xi)
        return _joint(z, grad_a_z, state_dim=state.shape[-1], lam=lam, lam_state=None)
    state_m = state[:, None].expand(n_members, batch, n_samples, -1)  # [E, B, M, d_s]
    action_m = action.detach()[:, None].expand(n_members, batch, n_samples, -1)
    if not complete and lam == 0.0:
        z = critic.forward_members(state_m, action_m, *inputs)  # [E, B, M]
        return torch.cat([z.unsqueeze(-1), torch.zeros_like(action_m)], dim=-1)
    z, grad = value_and_input_grad(
        lambda s, a: critic.forward_members(s, a, *inputs), state_m, action_m,
        wrt_state=complete, create_graph=True,
    )  # [E, B, M], [E, B, M, (d_s +) d_a]
    return _joint(z, grad, state_dim=state.shape[-1], lam=lam, lam_state=lam_state)


def sobolev_targets(
    world_model: Any,
    target_actor: Any,
    target_critic: Any,
    state: torch.Tensor,
    action: torch.Tensor,
    *,
    gamma: float,
    n_samples: int,
    lam: float,
    lam_state: float | None = None,
    truncate: float = 0.0,
    policy_noise: float = 0.0,
    noise_clip: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Target joint samples `Y = (y, √λ ∇ₐy)` of the Sobolev distributional backup, or the
    complete `Y = (y, √λₛ ∇ₛy, √λ ∇ₐy)` when `lam_state` is given.

    Source: paper-notes §2.4 (RECONSTRUCTION). For each pair and each of the E target critics,
    `n_samples` independent model draws `(ŝ', r̂, done) = g(s, a, ε)`, `a' = π̄(ŝ')` (TD3
    smoothing if `policy_noise > 0`; GUESS: off by default), `y = r̂ + γ(1-done) Z̄_k(ŝ', a', ξ')`
    and `∇ₐy` (and `∇ₛy`) by the chain rule through model, target policy and target critic
    (noise fixed): `∇ₛy` reaches the next state both directly and through `π̄(ŝ')`.
    GUESS: every member gets its own model draws (more independent samples in the pooled set).
    Sharing them (`return_targets`' `shared_draws`) would save little here: each member's
    per-draw `∇ₐy` needs its own backward pass through the model and target policy.
    The E·M' samples are pooled, then the top `truncate` fraction by return is dropped.

    Args:
      world_model, target_actor, target_critic: see `dvg_core.losses.backup`.
      state: `[B, d_s]`; action: `[B, d_a]` (replay or on-policy actions: the caller chooses).
      gamma: discount in [0, 1); n_samples: M' model draws per pair and member.
      lam: λ ≥ 0, the action-gradient part is scaled by √λ as in `joint_samples`.
      lam_state: None, or λₛ ≥ 0: carry `√λₛ ∇ₛy` too, as in `joint_samples`.
      truncate: fraction of pooled samples dropped, in [0, 1).

    Returns:
      `[B, E·M' - round(truncate·E·M'), 1 + d_a]` (`1 + d_s + d_a` with `lam_state`), detached
      (ascending in return if truncated).
    """
    check_backup_args(state, action, gamma, n_samples, world_model)
    _check_weights(lam, lam_state)
    lead = (target_critic.n_members, state.shape[0], n_samples)
    backup, state_l, action_l = model_backup(
        world_model, target_actor, target_critic, state, action, gamma=gamma, lead=lead,
        members=True, differentiated="action" if lam_state is None else "state_action",
        policy_noise=policy_noise, noise_clip=noise_clip, generator=generator,
    )
    y, grad = value_and_input_grad(backup, state_l, action_l, wrt_state=lam_state is not None)
    joint = _joint(y, grad, state_dim=state.shape[-1], lam=lam, lam_state=lam_state)
    return truncate_top(pool_members(joint), truncate)  # [B, E·M'(-dropped), 1 + ·]
