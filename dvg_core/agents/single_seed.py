"""The one-seed `Learner`: the plain eager agent behind the seed dim of the contract.

The trainer always works with a leading seed dim `S` (like SB3's env dim, `n_envs = 1` by
default). With S = 1 it drives a `SingleSeed`: every call strips the seed dim, runs the agent's
own single-seed method (no vmap, no stacking: the update and model fit are the agent's
`UpdateSchedule`, the code `SeedStack` runs too), and puts the dim back, so a one-seed run is
the plain eager update bit for bit, and may run compiled. `make_learner` picks it for one agent
and `SeedStack` for more (`dvg_core.agents.learner` says why both exist).

Shapes: as `SeedStack`'s, with S = 1: a replay batch `state [1, B, d_s]`, states `[1, d_s]`,
actions `[1, d_a]`, per-seed diagnostics `[1]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from dvg_core.agents.agent import Agent
from dvg_core.agents.learner import Learner
from dvg_core.agents.replay import Batch
from dvg_core.agents.seed_stack import SeedStack

__all__ = ["SingleSeed", "make_learner"]


def _per_seed(info: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {key: value.reshape(1) for key, value in info.items()}


def _one(batch: Batch) -> Batch:
    return Batch(*(t[0] for t in batch))


class SingleSeed:
    """`agent` as a `Learner` of one seed; see the module docstring."""

    n_seeds = 1

    def __init__(self, agent: Agent) -> None:
        self._agent, self.config = agent, agent.config

    @property
    def device(self) -> torch.device:
        return next(self._agent.critic.parameters()).device

    @property
    def n_critic_updates(self) -> int:
        return self._agent.n_critic_updates

    @property
    def fits_model(self) -> bool:
        return self._agent.fits_model

    def update(self, batch: Batch, generator: torch.Generator | None = None):
        """`Agent.update` on `batch [1, B, ·]`; diagnostics `{key: [1]}`."""
        return _per_seed(self._agent.update(_one(batch), generator))

    def fit_model(self, batch: Batch) -> dict[str, torch.Tensor]:
        """`Agent.fit_model` on `batch [1, B, ·]`; `{}` without a learned world model."""
        return _per_seed(self._agent.fit_model(_one(batch)))

    @torch.no_grad()
    def act(self, state: torch.Tensor, *, noise_std: float = 0.0,
            generator: torch.Generator | None = None) -> torch.Tensor:
        """`Agent.act`: `state [1, d_s] -> action [1, d_a]`."""
        return self._agent.act(state[0], noise_std=noise_std, generator=generator)[None]

    def observe(self, observation: torch.Tensor, include: torch.Tensor | None = None) -> None:
        """`Agent.observe(observation [1, d_s])`, unless `include [1]` is 0."""
        if include is None or bool(include[0]):
            self._agent.observe(observation[0])

    def agent(self, seed_index: int) -> Agent:
        """The agent itself (it is always up to date; `seed_index` is 0)."""
        return self._agent

    def seed_state_dict(self, seed_index: int) -> dict[str, Any]:
        """The agent's `checkpoint_state()` (`seed_index` is 0)."""
        return self._agent.checkpoint_state()

    def load_seed_state_dicts(self, states: Sequence[dict[str, Any]]) -> None:
        """`Agent.load_checkpoint_state` of the one state."""
        (state,) = states
        self._agent.load_checkpoint_state(state)


def make_learner(agents: Sequence[Agent]) -> Learner:
    """The plain agent for one seed, the vmapped stack for more."""
    return SingleSeed(agents[0]) if len(agents) == 1 else SeedStack(agents)
