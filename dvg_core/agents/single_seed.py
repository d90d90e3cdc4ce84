"""One agent behind the seed-dim interface of `SeedStack`, calling the plain eager agent.

The trainer always works with a leading seed dim `S` (like SB3's env dim, `n_envs = 1` by
default). With S = 1 it drives a `SingleSeed`: every call strips the seed dim, runs the agent's
own single-seed method (no vmap, no stacking), and puts the dim back, so a one-seed run is the
plain eager update bit for bit. `make_learner` picks it for one agent and `SeedStack` for more.

Shapes: as `SeedStack`'s, with S = 1: a replay batch `state [1, B, d_s]`, states `[1, d_s]`,
actions `[1, d_a]`, per-seed diagnostics `[1]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from dvg_core.agents.agent import Agent
from dvg_core.agents.replay import Batch
from dvg_core.agents.seed_stack import SeedStack

__all__ = ["SingleSeed", "make_learner"]


def _per_seed(info: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {key: value.reshape(1) for key, value in info.items()}


def _one(batch: Batch) -> Batch:
    return Batch(*(t[0] for t in batch))


class SingleSeed:
    """`agent` with a seed dim of one; see the module docstring."""

    n_seeds = 1

    def __init__(self, agent: Agent) -> None:
        self.agent, self.config = agent, agent.config
        model = agent.world_model
        self.fits_model = model is not None and any(True for _ in model.parameters())

    @property
    def device(self) -> torch.device:
        return next(self.agent.critic.parameters()).device

    @property
    def n_critic_updates(self) -> int:
        return self.agent.n_critic_updates

    def update(self, batch: Batch, generator: torch.Generator | None = None):
        """`Agent.update` on `batch [1, B, ·]`; diagnostics `{key: [1]}`."""
        return _per_seed(self.agent.update(_one(batch), generator))

    def fit_model(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One world-model step (`WorldModel.fit`) on `batch [1, B, ·]`; `{}` without one."""
        if not self.fits_model:
            return {}
        b = _one(batch)
        return _per_seed(self.agent.world_model.fit(b.state, b.action, b.reward, b.next_state))

    @torch.no_grad()
    def act(self, state: torch.Tensor, *, noise_std: float = 0.0,
            generator: torch.Generator | None = None) -> torch.Tensor:
        """`Agent.act`: `state [1, d_s] -> action [1, d_a]`."""
        return self.agent.act(state[0], noise_std=noise_std, generator=generator)[None]

    def observe(self, observation: torch.Tensor, include: torch.Tensor | None = None) -> None:
        """`Agent.observe(observation [1, d_s])`, unless `include [1]` is 0."""
        if include is None or bool(include[0]):
            self.agent.observe(observation[0])

    def seed_checkpoint_state(self, seed_index: int, agent: Agent) -> dict[str, Any]:
        """The agent's `checkpoint_state()` (`seed_index` is 0, `agent` the agent itself)."""
        return self.agent.checkpoint_state()

    def load_seed_checkpoint_states(self, states: Sequence[dict[str, Any]],
                                    agents: Sequence[Agent]) -> None:
        """`Agent.load_checkpoint_state` of the one state."""
        (state,) = states
        self.agent.load_checkpoint_state(state)


def make_learner(agents: Sequence[Agent]) -> SingleSeed | SeedStack:
    """The plain agent for one seed, the vmapped stack for more."""
    return SingleSeed(agents[0]) if len(agents) == 1 else SeedStack(agents)
