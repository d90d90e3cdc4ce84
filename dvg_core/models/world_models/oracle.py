"""The oracle world model: a differentiable simulator used as the model, to isolate the critic
from model error."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dvg_core.models.world_models.base import check_state_action, check_transitions


class OracleWorldModel(nn.Module):
    """A differentiable simulator used as the world model (no parameters, no training).

    Args:
      dynamics: an object with `state_dim`, `action_dim`, `sample_noise(batch_shape, generator=,
        dtype=, device=)`, `step(state, action, noise) -> (next_state, reward)` and
        `terminated(next_state) -> bool [*]`, e.g. `dvg_core.envs.PointMassDynamics`.
      dtype: float dtype of the noise; `.double()` / `.to(device)` change dtype and device.

    Noise: the simulator's own noise object. `fit` validates its batch and returns `{}`;
    `optimizer` is None.
    """

    def __init__(self, dynamics: Any, *, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.dynamics = dynamics
        self.state_dim, self.action_dim = int(dynamics.state_dim), int(dynamics.action_dim)
        # Empty, non-persistent: only tracks the dtype and device that `.to()` gives the module.
        self.register_buffer("_anchor", torch.zeros(0, dtype=dtype), persistent=False)
        self.optimizer = None

    def sample_noise(
        self, batch_shape: tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> Any:
        """The simulator's noise for `batch_shape` transitions, on the model's device."""
        return self.dynamics.sample_noise(
            tuple(batch_shape), generator=generator, dtype=self._anchor.dtype,
            device=self._anchor.device,
        )

    def sample(
        self, state: torch.Tensor, action: torch.Tensor, noise: Any
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`dynamics.step` then `dynamics.terminated`: `([*, d_s], [*], [*] float 0/1)`."""
        check_state_action(state, action, self.state_dim, self.action_dim)
        next_state, reward = self.dynamics.step(state, action, noise)
        done = self.dynamics.terminated(next_state).to(next_state.dtype)
        return next_state, reward, done

    def fit(
        self,
        state: torch.Tensor,
        action: torch.Tensor,
        reward: torch.Tensor,
        next_state: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """Nothing to learn: validate the batch and return `{}`."""
        check_transitions(state, action, reward, next_state, self.state_dim, self.action_dim)
        return {}


