"""Sobolev joint samples and Bellman targets: where `∇ₐZ` enters the method.

* `joint_samples`: the online critic's `(Z, √λ ∇ₐZ)` samples, differentiable in the critic's
  parameters so a loss can train the gradient part (the one create-graph pass of the codebase).
* `sobolev_targets`: the distributional Sobolev backup through a reparameterised world model
  (paper-notes §2.2, §2.4), `y = r̂ + γ(1 - done) Z̄(ŝ', π̄(ŝ'), ξ')` and its total derivative
  in `a` through model, target policy and target critic, pooled over the target critics and
  truncated at the top (TQC-style, §2.5).
* `return_targets` (no gradients; the `mmd` and `iqn` baselines) and `mage_targets` (a scalar
  target and its action-gradient, min over twin critics; the MAGE baseline).

Targets carry no gradient: they are returned detached. Every action-gradient here comes from
`dvg_core.util.autodiff.value_and_grad_of_sum` (autograd on a private leaf in eager code,
`torch.func.vjp` inside the seed-vectorised vmap of `dvg_core.agents.seed_stack`).

A *target critic* here is any critic of `dvg_core.models` (`sample_returns(s, a, members=...)`
gives one return sample per member `[E, *]`); a *world model* follows `dvg_core.models.world_models`
(`sample_noise`, `sample(s, a, noise) -> (s', r, done)`).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from dvg_core.util.autodiff import value_and_grad_of_sum
from dvg_core.util.validation import (
    check_int_at_least,
    check_nonnegative,
    check_probability,
    check_range,
    check_shape,
)

__all__ = [
    "joint_samples",
    "mage_targets",
    "return_targets",
    "smoothed_target_action",
    "sobolev_targets",
    "truncate_top",
]


def joint_samples(
    critic: Any,
    state: torch.Tensor,
    action: torch.Tensor,
    xi: torch.Tensor | None = None,
    *,
    lam: float,
) -> torch.Tensor:
    """Online Sobolev samples `X = (Z_φ(s,a,ξ), √λ ∇ₐZ_φ(s,a,ξ))` for every critic member.

    Source: paper-notes §2.3 (the gradient is autodiff of the same network, no gradient head).
    One gradient of the sum over members and samples gives every per-sample gradient, because
    samples and members do not interact; `create_graph=True` keeps it trainable. A
    critic with `value_and_action_grad` (`dvg_core.models.head_noise_critic`) computes the same
    quantities by its own cheaper, equally differentiable path.

    Args:
      critic: a `GenerativeCritic`, or a deterministic `TwinQ` (then `xi` is None and the
        "samples" are its single point, M = 1: MAGE's value and gradient).
      state: `[B, d_s]`.
      action: `[B, d_a]`, treated as a constant input (the critic loss never moves it).
      xi: critic noise `[B, M, d_ξ]` (shared by members) or `[E, B, M, d_ξ]`; M >= 2.
      lam: λ ≥ 0, weight of the gradient part (enters as √λ, so MMD sees λ‖Δ∇‖²).

    Returns:
      `[E, B, M, 1 + d_a]`, differentiable in the critic's parameters.
    """
    check_nonnegative("lam", lam)
    check_shape("state", state, [None, critic.state_dim])
    check_shape("action", action, [state.shape[0], critic.action_dim])
    n_members, batch = critic.n_members, state.shape[0]
    if xi is None:
        inputs, n_samples = (), 1
    else:
        check_shape("xi", xi, ["...", batch, None, critic.xi_dim])
        if xi.shape[-2] < 2:
            raise ValueError(f"M (xi.shape[-2]) must be >= 2 samples, got {xi.shape[-2]}")
        inputs, n_samples = (xi,), xi.shape[-2]
    if lam != 0.0 and xi is not None and hasattr(critic, "value_and_action_grad"):
        # A critic with a closed-form gradient path (`HeadNoiseCritic`): no autograd pass here.
        z, grad_a_z = critic.value_and_action_grad(state, action.detach(), xi)
        return torch.cat([z.unsqueeze(-1), math.sqrt(lam) * grad_a_z], dim=-1)
    state_m = state[:, None].expand(n_members, batch, n_samples, -1)  # [E, B, M, d_s]
    action_m = action.detach()[:, None].expand(n_members, batch, n_samples, -1)
    if lam == 0.0:
        z = critic.forward_members(state_m, action_m, *inputs)  # [E, B, M]
        return torch.cat([z.unsqueeze(-1), torch.zeros_like(action_m)], dim=-1)
    z, grad_a_z = value_and_grad_of_sum(
        lambda a: critic.forward_members(state_m, a, *inputs), action_m, create_graph=True
    )  # [E, B, M], [E, B, M, d_a]
    return torch.cat([z.unsqueeze(-1), math.sqrt(lam) * grad_a_z], dim=-1)


def smoothed_target_action(
    target_actor: Any,
    next_state: torch.Tensor,
    *,
    policy_noise: float,
    noise_clip: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """TD3's target policy smoothing: `clip(π̄(s') + clip(σε, -c, c), low, high)`.

    Source: Fujimoto et al. 2018 (https://arxiv.org/abs/1802.09477), §5.3; noise scaled by the
    action half-range. `policy_noise = 0` gives `π̄(s')` itself (no clipping, full gradients).

    Returns:
      `[*, d_a]`, differentiable in `next_state`.
    """
    action = target_actor(next_state)
    if policy_noise == 0.0:
        return action
    eps = torch.randn(action.shape, generator=generator, device=action.device)
    eps = (policy_noise * eps).clamp(-noise_clip, noise_clip) * target_actor.half_range
    low = target_actor.center - target_actor.half_range
    high = target_actor.center + target_actor.half_range
    return torch.clamp(action + eps, low, high)


def truncate_top(y: torch.Tensor, fraction: float) -> torch.Tensor:
    """Drop the top `fraction` of each sample set, ranked by the return coordinate (TQC-style).

    Source: Kuznetsov et al. 2020 (TQC, https://arxiv.org/abs/2005.04269) truncates the pooled
    atoms of all critics; DSDPG drops "the top p%" of the pooled joint samples (paper-notes §2.5).
    GUESS: ranked by the return `y[..., 0]`, whole joint vectors dropped; `round(fraction · M)`
    samples go.

    Args:
      y: `[B, M, D]` sample sets; coordinate 0 is the return.
      fraction: in [0, 1).

    Returns:
      `[B, M - round(fraction · M), D]`: the kept samples in ascending order of return (in
      their original order when nothing is dropped).
    """
    check_probability("fraction", fraction)
    n_keep = y.shape[1] - round(fraction * y.shape[1])
    if n_keep == y.shape[1]:
        return y  # nothing to drop: the samples keep their order
    if n_keep < 1:
        raise ValueError(f"fraction={fraction} would drop every one of {y.shape[1]} samples")
    order = y[..., 0].argsort(dim=1)[:, :n_keep]  # [B, M_keep]
    return y.gather(1, order.unsqueeze(-1).expand(-1, -1, y.shape[-1]))


def _check_backup_args(state, action, gamma, n_samples, world_model) -> None:
    check_shape("state", state, [None, world_model.state_dim])
    check_shape("action", action, [state.shape[0], world_model.action_dim])
    check_range("gamma", gamma, 0.0, 1.0, high_closed=False)
    check_int_at_least("n_samples", n_samples, 1)


def _pool_members(samples: torch.Tensor) -> torch.Tensor:
    """Pool every member's samples per pair: `[E, B, M', D] -> [B, E·M', D]`."""
    return samples.transpose(0, 1).reshape(samples.shape[1], -1, samples.shape[-1])


def _model_backup(
    world_model, target_actor, target_critic, state, action, *, gamma, lead, members,
    policy_noise, noise_clip, generator,
):
    """`action -> r̂ + γ(1 - done) Z̄(ŝ', ã')` for `lead` model draws per pair, to be called
    once, and the action broadcast to `lead`.

    `lead` is `(B, M)` or `(E, B, M)`; the function returns `[E, B, M]` (or `[E, B]` per critic
    member when `lead` is `(B,)`), differentiable in the action: `torch.func.vjp` of it gives
    the pathwise action-gradient, inside `torch.func.vmap` too (seed-vectorised training).
    """
    if len(lead) > 1:  # [B, d] -> [B, 1, d], which broadcasts to (B, M) and (E, B, M)
        state, action = state[:, None], action[:, None]
    action_l = action.detach().expand(*lead, action.shape[-1])
    state_l = state.detach().expand(*lead, state.shape[-1])
    noise = world_model.sample_noise(tuple(lead), generator=generator)

    def backup(action_in: torch.Tensor) -> torch.Tensor:  # called once: draws its own noise
        next_state, reward, done = world_model.sample(state_l, action_in, noise)
        next_action = smoothed_target_action(
            target_actor, next_state, policy_noise=policy_noise, noise_clip=noise_clip,
            generator=generator,
        )
        z_next = target_critic.sample_returns(
            next_state, next_action, members=members, generator=generator
        )  # [E, *lead without E]
        return reward + gamma * (1.0 - done) * z_next

    return backup, action_l


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
    truncate: float = 0.0,
    policy_noise: float = 0.0,
    noise_clip: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Target joint samples `Y = (y, √λ ∇ₐy)` of the Sobolev distributional backup.

    Source: paper-notes §2.4 (RECONSTRUCTION). For each pair and each of the E target critics,
    `n_samples` independent model draws `(ŝ', r̂, done) = g(s, a, ε)`, `a' = π̄(ŝ')` (TD3
    smoothing if `policy_noise > 0`; GUESS: off by default), `y = r̂ + γ(1-done) Z̄_k(ŝ', a', ξ')`
    and `∇ₐy` by the chain rule through model, target policy and target critic (noise fixed).
    GUESS: every member gets its own model draws (more independent samples in the pooled set).
    The E·M' samples are pooled, then the top `truncate` fraction by return is dropped.

    Args:
      world_model, target_actor, target_critic: see the module docstring.
      state: `[B, d_s]`; action: `[B, d_a]` (replay or on-policy actions: the caller chooses).
      gamma: discount in [0, 1); n_samples: M' model draws per pair and member.
      lam: λ ≥ 0, the gradient part is scaled by √λ as in `joint_samples`.
      truncate: fraction of pooled samples dropped, in [0, 1).

    Returns:
      `[B, E·M' - round(truncate·E·M'), 1 + d_a]`, detached (ascending in return if truncated).
    """
    _check_backup_args(state, action, gamma, n_samples, world_model)
    check_nonnegative("lam", lam)
    lead = (target_critic.n_members, state.shape[0], n_samples)
    backup, action_l = _model_backup(
        world_model, target_actor, target_critic, state, action, gamma=gamma, lead=lead,
        members=True, policy_noise=policy_noise, noise_clip=noise_clip, generator=generator,
    )
    y, grad_a_y = value_and_grad_of_sum(backup, action_l)  # [E, B, M'], [E, B, M', d_a]
    joint = torch.cat([y.unsqueeze(-1), math.sqrt(lam) * grad_a_y], dim=-1)
    return truncate_top(_pool_members(joint), truncate)


def return_targets(
    world_model: Any,
    target_actor: Any,
    target_critic: Any,
    state: torch.Tensor,
    action: torch.Tensor,
    *,
    gamma: float,
    n_samples: int,
    truncate: float = 0.0,
    policy_noise: float = 0.0,
    noise_clip: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Return-only distributional targets (no gradients), for the `mmd` and `iqn` baselines.

    As `sobolev_targets` without the gradient part: pooled over members, top-truncated.

    Returns:
      `[B, E·M' - round(truncate·E·M')]`, detached.
    """
    _check_backup_args(state, action, gamma, n_samples, world_model)
    lead = (target_critic.n_members, state.shape[0], n_samples)
    backup, action_l = _model_backup(
        world_model, target_actor, target_critic, state, action, gamma=gamma, lead=lead,
        members=True, policy_noise=policy_noise, noise_clip=noise_clip, generator=generator,
    )
    with torch.no_grad():  # no gradient part: no graph
        y = backup(action_l)
    return truncate_top(_pool_members(y.detach().unsqueeze(-1)), truncate).squeeze(-1)


def mage_targets(
    world_model: Any,
    target_actor: Any,
    target_critic: Any,
    state: torch.Tensor,
    action: torch.Tensor,
    *,
    gamma: float,
    policy_noise: float = 0.0,
    noise_clip: float = 0.5,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MAGE's scalar target and its action-gradient: one model draw, min over the twin critics.

    Source: D'Oro & Jaśkowski 2020 (https://arxiv.org/abs/2004.14309), eq. 6-7: the TD error's
    action-gradient needs `∇ₐ[r̂ + γ min_k Q̄_k(ŝ', π̄(ŝ'))]` through the model.

    Returns:
      `(y [B], grad_a_y [B, d_a])`, detached.
    """
    _check_backup_args(state, action, gamma, 1, world_model)
    backup, action_l = _model_backup(
        world_model, target_actor, target_critic, state, action, gamma=gamma,
        lead=(state.shape[0],), members=False, policy_noise=policy_noise,
        noise_clip=noise_clip, generator=generator,
    )
    # min_k: reward + γ(1-done)·min_k Q̄_k, [B]; its gradient [B, d_a]
    return value_and_grad_of_sum(lambda a: backup(a).min(dim=0).values, action_l)
