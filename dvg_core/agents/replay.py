"""Replay buffers of tensors on the training device: one run's, and S seeds' filled in lockstep."""

from __future__ import annotations

from typing import NamedTuple

import torch

from dvg_core.util.validation import check_int_at_least

__all__ = ["Batch", "ReplayBuffer", "SeedReplay"]


class Batch(NamedTuple):
    """A replay batch; rewards and dones are `[B]`, dones as float 0/1."""

    state: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_state: torch.Tensor
    done: torch.Tensor


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


class SeedReplay(ReplayBuffer):
    """S replay buffers filled in lockstep (one transition per seed per env step).

    Stored as `[capacity, S, ·]`; `add` takes `[S, ·]` rows, `sample` draws independent indices
    per seed and returns a `Batch` of `[S, B, ·]`.
    """

    def __init__(self, n_seeds: int, state_dim: int, action_dim: int, capacity: int,
                 device: torch.device) -> None:
        super().__init__(state_dim, action_dim, capacity, device)
        self.n_seeds = n_seeds
        for name, width in (("state", state_dim), ("action", action_dim), ("reward", None),
                            ("next_state", state_dim), ("done", None)):
            shape = (capacity, n_seeds) if width is None else (capacity, n_seeds, width)
            setattr(self, name, torch.zeros(shape, device=device))

    def add(self, state, action, reward, next_state, done) -> None:
        """Store one transition per seed: `[S, d_s]`, `[S, d_a]`, `[S]`, `[S, d_s]`, `[S]`."""
        super().add(state, action, 0.0, next_state, False)
        i = (self.position - 1) % self.capacity
        self.reward[i] = torch.as_tensor(reward, dtype=torch.float32)
        self.done[i] = torch.as_tensor(done, dtype=torch.float32)

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Batch:
        """`batch_size` transitions per seed, uniformly with replacement: `[S, B, ·]`."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        index = torch.randint(self.size, (self.n_seeds, batch_size), generator=generator,
                              device=self.device)  # [S, B]
        seed = torch.arange(self.n_seeds, device=self.device)[:, None]
        return Batch(self.state[index, seed], self.action[index, seed], self.reward[index, seed],
                     self.next_state[index, seed], self.done[index, seed])
