"""Monte-Carlo ground truth of the Sobolev return `(G, ∇ₐG)` for a differentiable simulator.

The random vector every critic in the workbench is measured against (paper-notes §2.1):

    Z^Sa(s, a) = [ Σ_t γ^t r_t ;  ∇ₐ Σ_t γ^t r_t ],   s_0 = s, a_0 = a, a_t = π(s_t) for t ≥ 1,

the gradient taken pathwise, through the reparameterised transitions with the exogenous noise held
fixed (SVG-style). A simulator is any object with `sample_noise(batch_shape, generator=...)`,
`step(state, action, noise) -> (next_state, reward)` and `terminated(next_state) -> bool`, such as
`dvg_core.envs.PointMassDynamics`; its noise is a tensor or a tuple of tensors whose first dim
indexes time when drawn for a whole rollout.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import torch

from dvg_core.util.validation import check_int_at_least, check_probability, check_range, check_shape

__all__ = [
    "DifferentiableSimulator",
    "discounted_horizon",
    "rollout_return",
    "sobolev_return_samples",
]

Policy = Callable[[torch.Tensor], torch.Tensor]


class DifferentiableSimulator(Protocol):
    """What the ground truth needs of an environment (see the module docstring)."""

    state_dim: int
    action_dim: int

    def sample_noise(self, batch_shape: tuple[int, ...], **kwargs: Any) -> Any: ...

    def step(self, state: torch.Tensor, action: torch.Tensor, noise: Any) -> Any: ...

    def terminated(self, next_state: torch.Tensor) -> torch.Tensor: ...


def discounted_horizon(gamma: float, *, tol: float = 1e-4) -> int:
    """Number of steps T after which `γ^T < tol`: the truncation of an infinite discounted sum.

    With rewards in [0, 1] the neglected tail is at most `tol / (1 - γ)`.
    """
    check_probability("gamma", gamma)
    check_range("tol", tol, 0.0, 1.0, low_closed=False, high_closed=False)
    if gamma == 0.0:
        return 1
    return max(1, math.ceil(math.log(tol) / math.log(gamma)))


def _noise_at(noise: Any, t: int) -> Any:
    """Slice step `t` out of a whole-rollout noise (a tensor or a tuple of tensors, time first)."""
    if isinstance(noise, torch.Tensor):
        return noise[t]
    return type(noise)(*(part[t] for part in noise))


def rollout_return(
    simulator: DifferentiableSimulator,
    policy: Policy,
    state: torch.Tensor,
    action: torch.Tensor,
    noise: Any,
    *,
    gamma: float,
    n_steps: int,
) -> torch.Tensor:
    """Discounted return of one rollout per row, differentiable in `action` (noise fixed).

    Args:
      simulator: the differentiable environment.
      policy: deterministic policy `[*, d_s] -> [*, d_a]`, used from step 1 on.
      state: start states `[*, d_s]`.
      action: first actions `[*, d_a]`.
      noise: the simulator's noise for `[n_steps, *]` transitions (time first).
      gamma: discount in [0, 1).
      n_steps: rollout length T.

    Returns:
      `G = Σ_{t<T} γ^t r_t (episode stops at termination)`, shape `[*]`.
    """
    alive = torch.ones(state.shape[:-1], dtype=state.dtype, device=state.device)
    total = torch.zeros_like(alive)
    for t in range(n_steps):  # a loop over time, not over samples: every step is batched
        next_state, reward = simulator.step(state, action, _noise_at(noise, t))
        total = total + (gamma**t) * alive * reward
        alive = alive * (~simulator.terminated(next_state)).to(alive.dtype)
        state = next_state
        action = policy(state)
    return total


def sobolev_return_samples(
    simulator: DifferentiableSimulator,
    policy: Policy,
    state: torch.Tensor,
    action: torch.Tensor,
    *,
    gamma: float,
    n_samples: int,
    n_steps: int | None = None,
    tol: float = 1e-4,
    generator: torch.Generator | None = None,
    wrt_state: bool = False,
) -> torch.Tensor:
    """K Monte-Carlo samples of the joint vector `(G, ∇ₐG)` at each `(s, a)`, or of the complete
    vector `(G, ∇ₛG, ∇ₐG)` with `wrt_state` (the same draws: its return and action coordinates
    equal the plain call's).

    Args:
      simulator: the differentiable environment.
      policy: deterministic policy followed after the first action.
      state: `[B, d_s]`.
      action: `[B, d_a]`.
      gamma: discount in [0, 1).
      n_samples: K, independent noise sequences per pair.
      n_steps: rollout length; default `discounted_horizon(gamma, tol=tol)`.
      tol: discount mass neglected when `n_steps` is not given.
      generator: torch RNG for the noise.
      wrt_state: also differentiate in the start state.

    Returns:
      `[B, K, 1 + d_a]`: the return then its action-gradient (`[B, K, 1 + d_s + d_a]`, the
      state-gradient between them, with `wrt_state`), detached.
    """
    check_shape("state", state, [None, simulator.state_dim])
    check_shape("action", action, [state.shape[0], simulator.action_dim])
    check_int_at_least("n_samples", n_samples, 1)
    steps = discounted_horizon(gamma, tol=tol) if n_steps is None else n_steps
    check_int_at_least("n_steps", steps, 1)
    batch, k = state.shape[0], n_samples
    noise = simulator.sample_noise(
        (steps, batch, k), generator=generator, dtype=state.dtype, device=state.device
    )
    with torch.enable_grad():
        state_k = state.detach().unsqueeze(1).expand(batch, k, -1)  # [B, K, d_s]
        if wrt_state:
            state_k = state_k.clone().requires_grad_(True)
        action_k = action.detach().unsqueeze(1).expand(batch, k, -1).clone().requires_grad_(True)
        g = rollout_return(
            simulator, policy, state_k, action_k, noise, gamma=gamma, n_steps=steps
        )  # [B, K]
        # Samples do not interact, so one gradient of the sum gives every per-sample gradient.
        inputs = (state_k, action_k) if wrt_state else (action_k,)
        grads = torch.autograd.grad(g.sum(), inputs)  # ([B, K, d_s],) [B, K, d_a]
    return torch.cat([g.detach().unsqueeze(-1), *grads], dim=-1)
