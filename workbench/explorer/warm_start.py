"""Warm starts of the toy explorer: the critic one exploration ends with, to start the next from.

A slider move in the explorer (`workbench.explorer.toy_explorer.ToyExplorer`) changes λ, γ, N, σ, M, h or the
probe, none of which changes the critic's architecture; retraining from the previous critic for a
few updates (`ExploreSettings.warm_updates`) instead of from a fresh initialisation for
`n_updates` is what lets the explorer answer within a second (docs/lab/results.md, "The explorer").
A warm answer depends on the path of settings that led to it; a cold start (no `CriticState`)
depends on the settings alone.

GUESS (not from the paper): the warm start carries the whole critic side of the agent, the
online and target critics, the critic's Adam moments and the strategy's state (the max-slicing
direction), so that it continues training as if the settings had changed mid-run.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch

from dvg_core.agents.agent import Agent

__all__ = ["CriticState", "critic_key", "capture_critic", "load_critic"]


def critic_key(*, algorithm: str, hidden: tuple[int, ...], seed: int,
               device: torch.device) -> tuple[Any, ...]:
    """What a critic must share with the next exploration's to warm-start it: the algorithm and
    hidden sizes (its architecture), the seed (its fixed policy) and the device."""
    return (algorithm, tuple(hidden), seed, str(device))


@dataclass(frozen=True)
class CriticState:
    """A trained critic, copied out of its agent (later training never changes it)."""

    key: tuple[Any, ...]
    """`critic_key` of the exploration that trained it."""
    critic: dict[str, torch.Tensor]
    """The online critic's `state_dict`."""
    critic_target: dict[str, torch.Tensor]
    """The target critic's `state_dict`."""
    optimizer: dict[str, Any]
    """The critic optimiser's `state_dict` (Adam moments and step counts)."""
    strategy: dict[str, Any]
    """The strategy's `state_dict` (`dsdpg_msmmd`: the max-slicing direction)."""


def capture_critic(agent: Agent, key: tuple[Any, ...]) -> CriticState:
    """Deep copies of `agent`'s critic, target critic, critic optimiser and strategy states."""
    return CriticState(
        key=key,
        critic={k: v.detach().clone() for k, v in agent.critic.state_dict().items()},
        critic_target={k: v.detach().clone()
                       for k, v in agent.critic_target.state_dict().items()},
        optimizer=copy.deepcopy(agent.critic_optimizer.state_dict()),
        strategy=copy.deepcopy(agent.strategy.state_dict()))


def load_critic(agent: Agent, state: CriticState, key: tuple[Any, ...]) -> None:
    """Load `state` into `agent` (copies: training `agent` leaves `state` unchanged).

    Raises:
      ValueError: naming the mismatch, if `state.key` is not `key` (another algorithm, hidden
        sizes, seed or device: such a critic cannot start this exploration).
    """
    if state.key != key:
        raise ValueError(f"start was trained with (algorithm, hidden, seed, device) = "
                         f"{state.key}, this exploration has {key}: it needs a cold start")
    agent.critic.load_state_dict(state.critic)
    agent.critic_target.load_state_dict(state.critic_target)
    agent.critic_optimizer.load_state_dict(copy.deepcopy(state.optimizer))
    agent.strategy.load_state_dict(copy.deepcopy(state.strategy))
