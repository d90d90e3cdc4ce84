"""The algorithms as critic strategies: each builds its critic and computes its critic loss.

Everything else (actor, replay, world model, loop, evaluation) is shared by `dvg_core.agents.agent`;
the configuration (`AlgorithmConfig`, variants, names) lives in `dvg_core.agents.config`.
A strategy (`dvg_core.agents.strategy_base.CriticStrategy`) is a small object with

* `build_critic() -> nn.Module` (an ensemble critic of `dvg_core.models`, E members first),
* `critic_loss(critic, targets, batch, generator) -> (loss [B], info)`, where `targets` bundles
  the target actor, target critic and world model,
* `actor_value(critic, state, action) -> [B]`, what the actor ascends,
* `state_dict()` / `load_state_dict()` for any state of its own (max-slicing's direction).

This module holds the twin-Q and quantile strategies and the registry; the generative critics'
are in `dvg_core.agents.generative_strategies`. A new algorithm is one subclass and one entry in
`STRATEGIES`.

| name | critic | target | loss |
|---|---|---|---|
| `td3` | twin Q | real transition, min of twins, smoothing | squared TD error |
| `mage` | twin Q | model transition, differentiable in a | Huber TD + λ·Huber(‖∇ₐ TD‖) |
| `iqn` | quantile | model, distributional, no gradients | quantile Huber |
| `mmd` | generative | model, distributional, no gradients | MMD² on returns |
| `dsdpg_mmd` | generative | model, Sobolev joint samples | MMD² on joint samples |
| `dsdpg_msmmd` | generative | model, Sobolev joint samples | max-sliced MMD² |
| `dsdpg_complete` | generative | model, complete samples `(Z, ∇ₛZ, ∇ₐZ)` | max-sliced MMD² |

The first six are the paper's (`PAPER_ALGORITHMS`); `dsdpg_complete` is ours (docs/concepts/method.md).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from dvg_core.agents.config import AlgorithmConfig
from dvg_core.agents.generative_strategies import (
    DSDPGCompleteStrategy,
    DSDPGMaxSlicedStrategy,
    DSDPGMMDStrategy,
    MMDStrategy,
)
from dvg_core.agents.strategy_base import CriticStrategy, Targets
from dvg_core.losses.distances import quantile_huber
from dvg_core.losses.sobolev import (
    joint_samples,
    mage_targets,
    return_targets,
    smoothed_target_action,
)
from dvg_core.models import QuantileCritic, TwinQ

__all__ = ["CriticStrategy", "STRATEGIES", "Targets", "make_strategy"]


def _huber(x: torch.Tensor, delta: float) -> torch.Tensor:
    return F.huber_loss(x, torch.zeros_like(x), reduction="none", delta=delta)


class _TwinQStrategy(CriticStrategy):
    _activation = "relu"

    def build_critic(self) -> nn.Module:
        return TwinQ(self.state_dim, self.action_dim, hidden=self.config.hidden,
                     activation=self._activation)

    def actor_value(self, critic, state, action):
        return critic(state, action).min(dim=0).values


class TD3Strategy(_TwinQStrategy):
    """TD3 (Fujimoto et al. 2018): twin Q, clipped double-Q target on the real transition."""

    name = "td3"
    uses_world_model = False

    def critic_loss(self, critic, targets, batch, generator):
        with torch.no_grad():
            next_action = smoothed_target_action(
                targets.actor, batch.next_state, policy_noise=self.config.smoothing,
                noise_clip=self.config.targets.noise_clip, generator=generator,
            )
            q_next = targets.critic(batch.next_state, next_action).min(dim=0).values  # [B]
            y = batch.reward + self.config.gamma * (1.0 - batch.done) * q_next
        q = critic(batch.state, batch.action)  # [E, B]
        loss = (q - y).pow(2).sum(0)  # TD3's MSE on each twin (Fujimoto et al.'s code), summed
        return loss, {"critic_value": q.detach().mean(), "critic_grad_scale": torch.zeros(())}


class MAGEStrategy(_TwinQStrategy):
    """MAGE (D'Oro & Jaśkowski 2020): TD error plus λ times the norm of its action-gradient.

    GUESS: both terms at the replay action through the learned model; the gradient term is a
    Huber of the gradient error's norm; smooth activations, since ∇ₐQ is trained.
    """

    name = "mage"
    _activation = "silu"

    def critic_loss(self, critic, targets, batch, generator):
        y, grad_a_y = mage_targets(targets.world_model, targets.actor, targets.critic,
                                   batch.state, batch.action, **self._target_kwargs(generator))
        x = joint_samples(critic, batch.state, batch.action, lam=1.0)[:, :, 0]  # [E, B, 1+d_a]
        td = x[..., 0] - y  # [E, B]
        grad_td = (x[..., 1:] - grad_a_y).norm(dim=-1)  # [E, B]
        delta = self.config.distance.huber_delta
        loss = (_huber(td, delta) + self.config.distance.lam * _huber(grad_td, delta)).sum(0)
        info = {"critic_value": x[..., 0].detach().mean(),
                "critic_grad_scale": x[..., 1:].detach().norm(dim=-1).mean()}
        return loss, info


class IQNStrategy(CriticStrategy):
    """IQN (Dabney et al. 2018) critic on model targets, quantile Huber loss, twin members pooled."""

    name = "iqn"

    def build_critic(self) -> nn.Module:
        return QuantileCritic(self.state_dim, self.action_dim, hidden=self.config.hidden[0])

    def critic_loss(self, critic, targets, batch, generator):
        c = self.config
        y = return_targets(targets.world_model, targets.actor, targets.critic, batch.state,
                           batch.action, n_samples=c.targets.n_samples, truncate=c.targets.truncate,
                           shared_draws=c.targets.shared_draws,
                           **self._target_kwargs(generator))  # [B, M'']
        n_members, batch_size = critic.n_members, batch.state.shape[0]
        tau = torch.rand((n_members, batch_size, c.critic.n_samples), generator=generator,
                         device=y.device)
        z = critic(batch.state, batch.action, tau)  # [E, B, N]
        loss = quantile_huber(z.reshape(-1, c.critic.n_samples), tau.reshape(-1, c.critic.n_samples),
                              y.repeat(n_members, 1), kappa=c.distance.huber_delta)
        info = {"critic_value": z.detach().mean(), "critic_grad_scale": torch.zeros(())}
        return loss.reshape(n_members, batch_size).sum(0), info

    def actor_value(self, critic, state, action):
        tau = torch.rand((*state.shape[:-1], self.config.critic.n_samples), device=state.device)
        return critic(state, action, tau).mean(dim=(0, -1))


STRATEGIES: dict[str, type[CriticStrategy]] = {
    cls.name: cls
    for cls in (TD3Strategy, MAGEStrategy, IQNStrategy, MMDStrategy, DSDPGMMDStrategy,
                DSDPGMaxSlicedStrategy, DSDPGCompleteStrategy)
}
"""Algorithm name -> strategy class."""


def make_strategy(config: AlgorithmConfig, state_dim: int, action_dim: int) -> CriticStrategy:
    """The strategy of `config.name`."""
    return STRATEGIES[config.name](config, state_dim, action_dim)
