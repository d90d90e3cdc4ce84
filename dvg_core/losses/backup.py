"""The model backup `r̂ + γ(1 - done) Z̄(ŝ', π̄(ŝ'))` and the targets built on it without a
Sobolev part: where every model-based critic target starts.

* `model_backup`: the backup as a function of `(s, a)` for a batch of model draws (the Sobolev
  targets of `dvg_core.losses.sobolev` differentiate it);
* `return_targets` (no gradients; the `mmd` and `iqn` baselines) and `mage_targets` (a scalar
  target and its action-gradient, min over twin critics; the MAGE baseline);
* `smoothed_target_action` (TD3's target smoothing), `truncate_top` (TQC-style truncation),
  `pool_members` and `check_backup_args`, shared with the Sobolev targets.

Targets carry no gradient: they are returned detached. A *target critic* is any critic of
`dvg_core.models` (`sample_returns(s, a, members=...)` gives one return sample per member
`[E, *]`); a *world model* follows `dvg_core.models.world_models` (`sample_noise`,
`sample(s, a, noise) -> (s', r, done)`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from dvg_core.util.autodiff import once_per_pair, once_per_pair_pays, value_and_grad_of_sum
from dvg_core.util.validation import (
    check_int_at_least,
    check_probability,
    check_range,
    check_shape,
)

__all__ = [
    "check_backup_args",
    "mage_targets",
    "model_backup",
    "pair_features_once",
    "pool_members",
    "return_targets",
    "smoothed_target_action",
    "truncate_top",
]


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


def check_backup_args(state, action, gamma, n_samples, world_model) -> None:
    """Shapes of `state [B, d_s]` and `action [B, d_a]`, γ in [0, 1), `n_samples` >= 1."""
    check_shape("state", state, [None, world_model.state_dim])
    check_shape("action", action, [state.shape[0], world_model.action_dim])
    check_range("gamma", gamma, 0.0, 1.0, high_closed=False)
    check_int_at_least("n_samples", n_samples, 1)


def pool_members(samples: torch.Tensor) -> torch.Tensor:
    """Pool every member's samples per pair: `[E, B, M', D] -> [B, E·M', D]`."""
    return samples.transpose(0, 1).reshape(samples.shape[1], -1, samples.shape[-1])


def pair_features_once(
    world_model: Any, state: torch.Tensor, action: torch.Tensor, differentiated: str | None,
    n_draws: int,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None:
    """The model's per-pair features, computed once per pair, read by every draw of that pair.

    A model whose generation starts with a noise-free function of `(s, a)` exposes it as
    `pair_features(state, action) -> [*, C]` (the cVAE: its prior and mean networks) and accepts
    it back in `sample(..., pair_features=...)`. Evaluated on every one of the `E·M'` draws of a
    pair, it repeats the same rows; here it runs once per pair
    (`dvg_core.util.autodiff.once_per_pair`: where the targets are differentiated, through its
    tangent plane, so every per-draw gradient is exact).

    Args:
      state: `[B, 1, d_s]`; action: `[B, 1, d_a]` (one row per pair, broadcasting to the draws).
      differentiated: None (targets without gradients), `"action"`, or `"state_action"`.
      n_draws: the draws' rows (`E·B·M'`), which decide whether a Jacobian pays
        (`once_per_pair_pays`, with the model's `pair_features_width`).

    Returns:
      None if the model has no `pair_features`, or the Jacobian does not pay; else
      `(state_in, action_in) -> [*, C]`, the features broadcast to the draws' inputs.
    """
    if not hasattr(world_model, "pair_features"):
        return None
    if differentiated is not None and not once_per_pair_pays(
            n_draws, world_model.pair_features_width):
        return None
    return once_per_pair(world_model.pair_features, state, action, differentiated)


def model_backup(
    world_model, target_actor, target_critic, state, action, *, gamma, lead, members,
    policy_noise, noise_clip, generator, differentiated=None,
):
    """`(state, action) -> r̂ + γ(1 - done) Z̄(ŝ', ã')` for `lead` model draws per pair, to be
    called once, and the state and action broadcast to `lead`.

    `lead` is `(E, B, M)` with `members` (each target critic reads its own draws), or `(B, M)`
    or `(B,)` without (every critic reads the same draws, each with its own critic noise); the
    function returns `[E, *lead without E]`, differentiable in state and action (through the
    model, the target policy and the target critic): `dvg_core.util.autodiff.value_and_input_grad` of it
    gives the pathwise gradients, inside `torch.func.vmap` too (seed-vectorised training).
    `differentiated` names the inputs it will be differentiated in (None, `"action"` or
    `"state_action"`), so a model's per-pair features are computed once per pair
    (`pair_features_once`).
    """
    features = None
    if len(lead) > 1:  # [B, d] -> [B, 1, d], which broadcasts to (B, M) and (E, B, M)
        state, action = state[:, None], action[:, None]
        features = pair_features_once(world_model, state.detach(), action.detach(),
                                      differentiated, math.prod(lead))
    action_l = action.detach().expand(*lead, action.shape[-1])
    state_l = state.detach().expand(*lead, state.shape[-1])
    noise = world_model.sample_noise(tuple(lead), generator=generator)

    def backup(state_in: torch.Tensor, action_in: torch.Tensor) -> torch.Tensor:  # called once
        per_pair = {} if features is None else {"pair_features": features(state_in, action_in)}
        next_state, reward, done = world_model.sample(state_in, action_in, noise, **per_pair)
        next_action = smoothed_target_action(
            target_actor, next_state, policy_noise=policy_noise, noise_clip=noise_clip,
            generator=generator,
        )
        z_next = target_critic.sample_returns(
            next_state, next_action, members=members, generator=generator
        )  # [E, *lead without E]
        return reward + gamma * (1.0 - done) * z_next

    return backup, state_l, action_l


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
    shared_draws: bool = False,
    policy_noise: float = 0.0,
    noise_clip: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Return-only distributional targets (no gradients), for the `mmd` and `iqn` baselines.

    As `sobolev_targets` without the gradient part: pooled over members, top-truncated
    (`shared_draws` as there).

    Returns:
      `[B, E·M' - round(truncate·E·M')]`, detached.
    """
    check_backup_args(state, action, gamma, n_samples, world_model)
    lead = (state.shape[0], n_samples)  # shared: one set of draws read by every critic
    if not shared_draws:
        lead = (target_critic.n_members, *lead)  # each critic its own draws
    backup, state_l, action_l = model_backup(
        world_model, target_actor, target_critic, state, action, gamma=gamma, lead=lead,
        members=not shared_draws, policy_noise=policy_noise, noise_clip=noise_clip,
        generator=generator,
    )
    with torch.no_grad():  # no gradient part: no graph
        y = backup(state_l, action_l)
    return truncate_top(pool_members(y.detach().unsqueeze(-1)), truncate).squeeze(-1)


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
    check_backup_args(state, action, gamma, 1, world_model)
    backup, state_l, action_l = model_backup(
        world_model, target_actor, target_critic, state, action, gamma=gamma,
        lead=(state.shape[0],), members=False, policy_noise=policy_noise,
        noise_clip=noise_clip, generator=generator,
    )
    # min_k: reward + γ(1-done)·min_k Q̄_k, [B]; its gradient [B, d_a]
    return value_and_grad_of_sum(lambda a: backup(state_l, a).min(dim=0).values, action_l)
