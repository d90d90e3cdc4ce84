"""One agent for all the algorithms: actor, targets, world model, and a critic strategy.

The update reads like TD3's algorithm box (Fujimoto et al. 2018, Alg. 1), with the critic loss
delegated to the strategy (`dvg_core.agents.strategies`):

1. critic step on the strategy's loss (targets through the world model, or the real transition);
2. every `policy_delay` critic steps: actor step ascending the strategy's value at `(s, π(s))`,
   then Polyak updates of the target actor and target critic.

Gradients are taken with `torch.autograd.grad` on exactly the parameters being stepped, so the
actor loss never touches critic gradients and vice versa. With `compile=True` the two losses run
compiled (`dvg_core.agents.compiled`); the update around them is the same.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from dvg_core.agents.compiled import NOT_COMPILABLE, CompiledLosses, compile_losses
from dvg_core.agents.config import AlgorithmConfig
from dvg_core.agents.learner import TensorPairs, UpdateSchedule
from dvg_core.agents.replay import Batch
from dvg_core.agents.strategies import CriticStrategy, Targets, make_strategy
from dvg_core.models import Actor
from dvg_core.models.normalization import RunningNormalizer
from dvg_core.util.updates import gradient_step, soft_update

__all__ = ["Agent", "actor_loss", "gradient_step", "soft_update"]


def actor_loss(agent: "Agent", batch: Batch) -> torch.Tensor:
    """The actor's loss, a scalar: minus the strategy's value at `(s, π(s))`, plus the saturation
    penalty `c · mean(u²)` on the pre-tanh output `u` (`ActorConfig.saturation_penalty`)."""
    raw = agent.actor.preactivation(batch.state)
    value = agent.strategy.actor_value(agent.critic, batch.state, agent.actor.squash(raw))
    loss = -value.mean()
    penalty = agent.config.actor.saturation_penalty
    if penalty > 0:
        loss = loss + penalty * raw.pow(2).mean()
    return loss


class Agent(UpdateSchedule, nn.Module):
    """Actor, critic and their targets, the optimisers, the world model and the strategy; one
    seed's learner (`UpdateSchedule`: the update schedule, target updates and model fit).

    Args:
      config: the algorithm.
      state_dim, action_dim: sizes.
      world_model: a `dvg_core.models.world_models` model, or None for a model-free strategy (`td3`).
      action_low, action_high: action bounds `[d_a]`.
      actor: a fixed actor to use instead of a fresh one (policy evaluation).
      obs_normalizer: a `RunningNormalizer` of states shared by actor, critic and their targets
        (None: the nets see raw states); `observe` feeds it real observations.
      compile: run the critic and actor losses under `torch.compile`
        (`dvg_core.agents.compiled`; `loop.compile`); each compiles on its first call.
    """

    def __init__(
        self,
        config: AlgorithmConfig,
        state_dim: int,
        action_dim: int,
        world_model: Any,
        *,
        action_low: torch.Tensor | None = None,
        action_high: torch.Tensor | None = None,
        actor: nn.Module | None = None,
        obs_normalizer: RunningNormalizer | None = None,
        compile: bool = False,
    ) -> None:
        super().__init__()
        if compile and config.name in NOT_COMPILABLE:
            raise ValueError(f"compile (loop.compile) is not available for {config.name}: "
                             f"{NOT_COMPILABLE[config.name]}; train it eager")
        self.config = config
        self.strategy: CriticStrategy = make_strategy(config, state_dim, action_dim)
        self.actor = actor if actor is not None else Actor(
            state_dim, action_dim, action_low=action_low, action_high=action_high,
            hidden=config.hidden,
        )
        self.critic = self.strategy.build_critic()
        self.obs_normalizer = obs_normalizer
        if obs_normalizer is not None:
            self.actor.obs_normalizer = self.critic.obs_normalizer = obs_normalizer
        shared = {id(obs_normalizer): obs_normalizer}  # targets share the normaliser, not copy it
        self.actor_target = copy.deepcopy(self.actor, shared).requires_grad_(False)
        self.critic_target = copy.deepcopy(self.critic, shared).requires_grad_(False)
        self.world_model = world_model
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.actor.lr)
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=config.critic.lr)
        self.n_critic_updates = 0
        self.compiled: CompiledLosses | None = (
            compile_losses(self.critic_loss, lambda batch: actor_loss(self, batch))
            if compile else None)

    @property
    def targets(self) -> Targets:
        """What the critic loss bootstraps from."""
        return Targets(self.actor_target, self.critic_target, self.world_model)

    def observe(self, observation: Any) -> None:
        """Merge one real observation `[d_s]` into the observation statistics (if normalising)."""
        if self.obs_normalizer is not None:
            x = torch.as_tensor(observation, dtype=torch.float32,
                                device=self.obs_normalizer.mean.device)
            self.obs_normalizer.update(x.reshape(1, -1))

    @torch.no_grad()
    def act(
        self, state: torch.Tensor, *, noise_std: float = 0.0, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """`π(s)` plus Gaussian exploration noise (in half-range units), clipped to the bounds."""
        action = self.actor(state)
        if noise_std > 0:
            noise = torch.randn(action.shape, generator=generator, device=action.device)
            action = action + noise_std * self.actor.half_range * noise
        low = self.actor.center - self.actor.half_range
        return torch.clamp(action, low, self.actor.center + self.actor.half_range)

    def critic_loss(
        self, batch: Batch, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The strategy's critic loss averaged over the batch (a scalar), and its diagnostics."""
        loss, info = self.strategy.critic_loss(self.critic, self.targets, batch, generator)
        return loss.mean(), info

    def update_critic(
        self, batch: Batch, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """One critic step on the strategy's loss; returns detached diagnostics."""
        critic_loss = self.critic_loss if self.compiled is None else self.compiled.critic
        loss, info = critic_loss(batch, generator)
        gradient_step(self.critic_optimizer, loss, list(self.critic.parameters()))
        self.n_critic_updates += 1
        return {"critic_loss": loss.detach(), **info}

    def update_actor(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One actor step on `actor_loss`."""
        loss = actor_loss(self, batch) if self.compiled is None else self.compiled.actor(batch)
        gradient_step(self.actor_optimizer, loss, list(self.actor.parameters()))
        return {"actor_loss": loss.detach()}

    def target_pairs(self, actor: bool = True) -> TensorPairs:
        """The target critic's and (with `actor`) the target actor's parameters, with the online
        ones they follow."""
        pairs = [(self.critic_target, self.critic)] + ([(self.actor_target, self.actor)]
                                                       if actor else [])
        return [(list(t.parameters()), list(o.parameters())) for t, o in pairs]

    @property
    def model_optimizer(self) -> torch.optim.Optimizer | None:
        """The world model's optimiser (None: no world model, or one not learned)."""
        return getattr(self.world_model, "optimizer", None)

    def model_loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The world model's `fit_loss` on `batch [B, ·]`."""
        return self.world_model.fit_loss(batch.state, batch.action, batch.reward,
                                         batch.next_state)

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything needed to resume: networks, targets, optimisers, strategy, world model."""
        model_optimizer = self.model_optimizer
        return {
            "networks": self.state_dict(),
            "actor_optimizer": self.actor_optimizer.state_dict(),
            "critic_optimizer": self.critic_optimizer.state_dict(),
            "model_optimizer": None if model_optimizer is None else model_optimizer.state_dict(),
            "strategy": self.strategy.state_dict(),
            "n_critic_updates": self.n_critic_updates,
        }

    def load_checkpoint_state(self, state: dict[str, Any]) -> None:
        """Restore `checkpoint_state()`."""
        self.load_state_dict(state["networks"])
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        if state["model_optimizer"] is not None:
            self.model_optimizer.load_state_dict(state["model_optimizer"])
        self.strategy.load_state_dict(state["strategy"])
        self.n_critic_updates = int(state["n_critic_updates"])
