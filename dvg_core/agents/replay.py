"""The replay: S seeds' circular buffers of tensors on the training device, filled in lockstep
(one transition per seed per env step; S = 1 for one run)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch

from dvg_core.util.validation import check_int_at_least

__all__ = ["Batch", "SeedReplay"]

_FIELDS = ("state", "action", "reward", "next_state", "done")


class Batch(NamedTuple):
    """A replay batch; rewards and dones are `[B]` (`[S, B]` with a seed dim), dones float 0/1."""

    state: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_state: torch.Tensor
    done: torch.Tensor


class SeedReplay:
    """S circular buffers of transitions `(s, a, r, s', done)`, sampled uniformly per seed.

    Stored as `[capacity, S, ·]`; `add` takes `[S, ·]` rows, `sample` draws independent indices
    per seed and returns a `Batch` of `[S, B, ·]`. The oldest transitions are overwritten.

    Args:
      n_seeds: S >= 1.
      state_dim, action_dim: sizes.
      capacity: transitions kept per seed.
      device: where the tensors live (the training device: no host transfer per batch).
    """

    def __init__(self, n_seeds: int, state_dim: int, action_dim: int, capacity: int,
                 device: torch.device) -> None:
        check_int_at_least("n_seeds", n_seeds, 1)
        check_int_at_least("capacity", capacity, 1)
        self.n_seeds, self.capacity, self.device = n_seeds, capacity, device
        for name, width in (("state", state_dim), ("action", action_dim), ("reward", None),
                            ("next_state", state_dim), ("done", None)):
            shape = (capacity, n_seeds) if width is None else (capacity, n_seeds, width)
            setattr(self, name, torch.zeros(shape, device=device))
        self.size = 0
        self.position = 0

    def __len__(self) -> int:
        return self.size

    def add(self, state, action, reward, next_state, done) -> None:
        """Store one transition per seed: `[S, d_s]`, `[S, d_a]`, `[S]`, `[S, d_s]`, `[S]`
        (array-likes)."""
        i = self.position
        for name, value in zip(_FIELDS, (state, action, reward, next_state, done)):
            getattr(self, name)[i] = torch.as_tensor(value, dtype=torch.float32)
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Batch:
        """`batch_size` transitions per seed, uniformly with replacement: `[S, B, ·]`."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        index = torch.randint(self.size, (self.n_seeds, batch_size), generator=generator,
                              device=self.device)  # [S, B]
        seed = torch.arange(self.n_seeds, device=self.device)[:, None]
        return Batch(*(getattr(self, name)[index, seed] for name in _FIELDS))

    def seed_state_dict(self, seed_index: int) -> dict[str, torch.Tensor | int]:
        """Seed `seed_index`'s filled part of the buffer (`[size, ·]`) and the write position."""
        n = self.size
        return {**{name: getattr(self, name)[:n, seed_index].clone() for name in _FIELDS},
                "size": n, "position": self.position}

    def load_seed_state_dicts(self, states: Sequence[dict[str, torch.Tensor | int]]) -> None:
        """Restore every seed from its `seed_state_dict` (one per seed, in order; all written
        at the same step)."""
        if len(states) != self.n_seeds:
            raise ValueError(f"states must hold one state per seed ({self.n_seeds}), "
                             f"got {len(states)}")
        n = int(states[0]["size"])
        for name in _FIELDS:
            getattr(self, name)[:n] = torch.stack([s[name] for s in states], 1).to(self.device)
        self.size, self.position = n, int(states[0]["position"])
