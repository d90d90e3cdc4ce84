"""The deterministic actor `π(s)`."""

from __future__ import annotations

import torch

from dvg_core.models.ensemble import EnsembleMLP, StateInput
from dvg_core.util.validation import check_shape

__all__ = ["Actor"]


class Actor(StateInput):
    """Deterministic policy `π(s)`, tanh-bounded to the box `[action_low, action_high]`.

    Args:
      state_dim, action_dim: sizes.
      action_low, action_high: bounds `[d_a]` (default the unit box).
      hidden, activation: MLP shape (TD3's default: two ReLU layers of 256).

    Shapes: `state [*, d_s] -> action [*, d_a]`.
    """

    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        *,
        action_low: torch.Tensor | None = None,
        action_high: torch.Tensor | None = None,
        hidden: tuple[int, ...] = (256, 256),
        activation: str = "relu",
    ) -> None:
        super().__init__()
        low = -torch.ones(action_dim) if action_low is None else torch.as_tensor(action_low)
        high = torch.ones(action_dim) if action_high is None else torch.as_tensor(action_high)
        check_shape("action_low", low, [action_dim])
        check_shape("action_high", high, [action_dim])
        if not bool((high > low).all()):
            raise ValueError("action_high must exceed action_low in every dimension")
        self.register_buffer("center", ((high + low) / 2).float())
        self.register_buffer("half_range", ((high - low) / 2).float())
        self.net = EnsembleMLP(1, state_dim, action_dim, hidden, activation)
        self.state_dim = state_dim

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return self.squash(self.preactivation(state))

    def preactivation(self, state: torch.Tensor) -> torch.Tensor:
        """The pre-tanh output `u [*, d_a]`; `forward(s) = squash(preactivation(s))`."""
        check_shape("state", state, ["...", self.state_dim])
        return self.net(self.normalize_state(state).unsqueeze(0)).squeeze(0)

    def squash(self, raw: torch.Tensor) -> torch.Tensor:
        """`center + half_range · tanh(u)`: a pre-tanh output `[*, d_a]` into the action box."""
        return self.center + self.half_range * torch.tanh(raw)


