"""Replay buffer of tensors on the training device."""

from __future__ import annotations

import torch

from dvg_core.algorithms import Batch
from dvg_core.validation import check_int_at_least

__all__ = ["ReplayBuffer"]


class ReplayBuffer:
    """A circular buffer of transitions `(s, a, r, s', done)`, sampled uniformly.

    Args:
      state_dim, action_dim: sizes.
      capacity: transitions kept; the oldest are overwritten.
      device: where the tensors live (the training device: no host transfer per batch).
    """

    def __init__(self, state_dim: int, action_dim: int, capacity: int, device: torch.device) -> None:
        check_int_at_least("capacity", capacity, 1)
        self.capacity, self.device = capacity, device
        self.state = torch.zeros(capacity, state_dim, device=device)
        self.action = torch.zeros(capacity, action_dim, device=device)
        self.reward = torch.zeros(capacity, device=device)
        self.next_state = torch.zeros(capacity, state_dim, device=device)
        self.done = torch.zeros(capacity, device=device)
        self.size = 0
        self.position = 0

    def __len__(self) -> int:
        return self.size

    def add(self, state, action, reward: float, next_state, done: bool) -> None:
        """Store one transition (array-likes of shapes `[d_s]`, `[d_a]`, scalars)."""
        i = self.position
        self.state[i] = torch.as_tensor(state, dtype=torch.float32)
        self.action[i] = torch.as_tensor(action, dtype=torch.float32)
        self.reward[i] = float(reward)
        self.next_state[i] = torch.as_tensor(next_state, dtype=torch.float32)
        self.done[i] = float(done)
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Batch:
        """`batch_size` transitions drawn uniformly with replacement."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        index = torch.randint(self.size, (batch_size,), generator=generator, device=self.device)
        return Batch(self.state[index], self.action[index], self.reward[index],
                     self.next_state[index], self.done[index])

    def state_dict(self) -> dict[str, torch.Tensor | int]:
        """The filled part of the buffer and its write position."""
        n = self.size
        return {"state": self.state[:n].clone(), "action": self.action[:n].clone(),
                "reward": self.reward[:n].clone(), "next_state": self.next_state[:n].clone(),
                "done": self.done[:n].clone(), "size": n, "position": self.position}

    def load_state_dict(self, saved: dict[str, torch.Tensor | int]) -> None:
        """Restore `state_dict()`."""
        n = int(saved["size"])
        for name in ("state", "action", "reward", "next_state", "done"):
            getattr(self, name)[:n] = saved[name].to(self.device)
        self.size, self.position = n, int(saved["position"])
