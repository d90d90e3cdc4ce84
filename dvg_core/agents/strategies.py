"""The six algorithms as critic strategies: each builds its critic and computes its critic loss.

Everything else (actor, replay, world model, loop, evaluation) is shared by `dvg_core.agents.agent`;
the configuration (`AlgorithmConfig`, variants, names) lives in `dvg_core.agents.config` and is
re-exported here.
A strategy is a small object with

* `build_critic() -> nn.Module` (an ensemble critic of `dvg_core.models`, E members first),
* `critic_loss(critic, targets, batch, generator) -> (loss [B], info)`, where `targets` bundles
  the target actor, target critic and world model,
* `actor_value(critic, state, action) -> [B]`, what the actor ascends,
* `state_dict()` / `load_state_dict()` for any state of its own (max-slicing's direction).

Adding a seventh algorithm is one subclass and one entry in `STRATEGIES`.

| name | critic | target | loss |
|---|---|---|---|
| `td3` | twin Q | real transition, min of twins, smoothing | squared TD error |
| `mage` | twin Q | model transition, differentiable in a | Huber TD + λ·Huber(‖∇ₐ TD‖) |
| `iqn` | quantile | model, distributional, no gradients | quantile Huber |
| `mmd` | generative | model, distributional, no gradients | MMD² on returns |
| `dsdpg_mmd` | generative | model, Sobolev joint samples | MMD² on joint samples |
| `dsdpg_msmmd` | generative | model, Sobolev joint samples | max-sliced MMD² |
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from dvg_core.agents.config import AlgorithmConfig
from dvg_core.agents.replay import Batch
from dvg_core.losses.distances import mmd2, quantile_huber
from dvg_core.models.head_noise_critic import HeadNoiseCritic
from dvg_core.losses.kernels import make_kernel
from dvg_core.models import GenerativeCritic, QuantileCritic, TwinQ
from dvg_core.losses.slicing import axial_mean_direction, max_sliced_mmd2, sliced_mmd2
from dvg_core.losses.sobolev import (
    joint_samples,
    mage_targets,
    return_targets,
    smoothed_target_action,
    sobolev_targets,
)

__all__ = ["CriticStrategy", "STRATEGIES", "Targets", "make_strategy"]

class Targets(NamedTuple):
    """What a critic loss bootstraps from: target actor, target critic, world model."""

    actor: nn.Module
    critic: nn.Module
    world_model: Any


class CriticStrategy:
    """Base of the six strategies; see the module docstring."""

    name: ClassVar[str]
    uses_world_model: ClassVar[bool] = True
    """Whether the critic loss bootstraps through the world model (td3's does not)."""

    def __init__(self, config: AlgorithmConfig, state_dim: int, action_dim: int) -> None:
        self.config, self.state_dim, self.action_dim = config, state_dim, action_dim

    def build_critic(self) -> nn.Module:
        """A fresh critic with two members."""
        raise NotImplementedError

    def critic_loss(
        self, critic: nn.Module, targets: Targets, batch: Batch, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Per-state loss `[B]` (summed over critic members) and detached diagnostics."""
        raise NotImplementedError

    def actor_value(self, critic: nn.Module, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """The value the actor ascends at `(s, π(s))`: `[B]`."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Strategy state for checkpoints (none by default)."""
        return {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore `state_dict()`."""

    def _target_kwargs(self, generator: torch.Generator | None) -> dict[str, Any]:
        c = self.config
        return dict(gamma=c.gamma, policy_noise=c.smoothing, noise_clip=c.target_noise_clip,
                    generator=generator)


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
                noise_clip=self.config.target_noise_clip, generator=generator,
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
        delta = self.config.huber_delta
        loss = (_huber(td, delta) + self.config.lam * _huber(grad_td, delta)).sum(0)
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
                           batch.action, n_samples=c.n_target_samples, truncate=c.truncate,
                           **self._target_kwargs(generator))  # [B, M'']
        n_members, batch_size = critic.n_members, batch.state.shape[0]
        tau = torch.rand((n_members, batch_size, c.n_samples), generator=generator,
                         device=y.device)
        z = critic(batch.state, batch.action, tau)  # [E, B, N]
        loss = quantile_huber(z.reshape(-1, c.n_samples), tau.reshape(-1, c.n_samples),
                              y.repeat(n_members, 1), kappa=c.huber_delta)
        info = {"critic_value": z.detach().mean(), "critic_grad_scale": torch.zeros(())}
        return loss.reshape(n_members, batch_size).sum(0), info

    def actor_value(self, critic, state, action):
        tau = torch.rand((*state.shape[:-1], self.config.n_samples), device=state.device)
        return critic(state, action, tau).mean(dim=(0, -1))


def _return_samples(
    critic: nn.Module, state: torch.Tensor, action: torch.Tensor, xi: torch.Tensor
) -> torch.Tensor:
    """Every member's return sample at each noise: `[B, d_s], [B, d_a], [B, M, d_ξ] -> [E, B, M]`
    (through `forward_members`, which every generative critic shares)."""
    lead = (critic.n_members, *xi.shape[:-1])
    return critic.forward_members(state[:, None].expand(*lead, state.shape[-1]),
                                  action[:, None].expand(*lead, action.shape[-1]), xi)


class _GenerativeStrategy(CriticStrategy):
    """Generative critic `Z(s, a, ξ)` trained by a distance between sample sets."""

    sobolev: ClassVar[bool]

    def __init__(self, config: AlgorithmConfig, state_dim: int, action_dim: int) -> None:
        super().__init__(config, state_dim, action_dim)
        params = ({"bandwidths": config.bandwidth} if config.kernel == "rbf"
                  else {"h": config.bandwidth})
        self.kernel = make_kernel(config.kernel, **params)

    def build_critic(self) -> nn.Module:
        c = self.config
        activation = {} if c.critic_activation is None else {"activation": c.critic_activation}
        if c.critic_noise == "quantile":
            return QuantileCritic(self.state_dim, self.action_dim, hidden=c.hidden[0],
                                  **activation)
        critic_class = HeadNoiseCritic if c.critic_noise == "head" else GenerativeCritic
        return critic_class(self.state_dim, self.action_dim, xi_dim=c.xi_dim, hidden=c.hidden,
                            **activation)

    def actor_value(self, critic, state, action):
        xi = critic.sample_xi((*state.shape[:-1], self.config.n_samples))
        return _return_samples(critic, state, action, xi).mean(dim=(0, -1))

    def critic_loss(self, critic, targets, batch, generator):
        c = self.config
        state, action = batch.state, batch.action
        xi = critic.sample_xi((state.shape[0], c.n_samples), generator=generator)
        common = dict(n_samples=c.n_target_samples, truncate=c.truncate,
                      **self._target_kwargs(generator))
        if self.sobolev:
            x = joint_samples(critic, state, action, xi, lam=c.lam)  # [E, B, M, 1+d_a]
            y = sobolev_targets(targets.world_model, targets.actor, targets.critic, state,
                                action, lam=c.lam, **common)  # [B, M'', 1+d_a]
        else:
            x = _return_samples(critic, state, action, xi).unsqueeze(-1)  # [E, B, M, 1]
            y = return_targets(targets.world_model, targets.actor, targets.critic, state,
                               action, **common).unsqueeze(-1)  # [B, M'', 1]
        n_members = x.shape[0]
        flat_x = x.reshape(-1, *x.shape[2:])  # [E·B, M, D]
        flat_y = y.repeat(n_members, 1, 1)  # [E·B, M'', D]
        search_x = None
        if self.fresh_search:  # a second, independent draw of the critic's samples, detached
            xi_search = critic.sample_xi((state.shape[0], c.n_samples), generator=generator)
            search_x = joint_samples(critic, state, action, xi_search, lam=c.lam).detach()
            search_x = search_x.reshape(-1, *search_x.shape[2:])
        loss = self.distance(flat_x, flat_y, generator, search_x=search_x)
        loss = loss.reshape(n_members, -1).sum(0)
        info = {"critic_value": x[..., 0].detach().mean(),
                "critic_grad_scale": x[..., 1:].detach().norm(dim=-1).mean()}
        return loss, info

    fresh_search: ClassVar[bool] = False
    """Whether `distance` wants `search_x`, a second independent draw of the critic's samples."""

    def distance(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None,
        search_x: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Distance between sample sets `[N, M, D]`, `[N, M'', D] -> [N]` (`search_x`: see
        `fresh_search`)."""
        return mmd2(x, y, self.kernel, unbiased=self.config.unbiased)


class MMDStrategy(_GenerativeStrategy):
    """MMD on returns only (MMD-DQN, Nguyen et al. 2021, with a generative critic)."""

    name = "mmd"
    sobolev = False


class DSDPGMMDStrategy(_GenerativeStrategy):
    """DSDPG with MMD² on the joint (return, √λ action-gradient) samples."""

    name = "dsdpg_mmd"
    sobolev = True


class DSDPGMaxSlicedStrategy(_GenerativeStrategy):
    """DSDPG with max-sliced MMD² (the paper's MSMMD), one direction per state.

    GUESS (paper-notes §7.2): each update starts from the batch-shared mean of the last update's
    directions (`axial_mean_direction`), plus `slicing.restarts` random directions (and the
    coordinate axes if `slicing.axes`), and ascends every start; the best is kept per state.
    With `slicing.fresh_search` the ascent runs on a second, detached draw of the critic's
    samples and the loss is the sliced MMD² of the first draw at the direction found.
    """

    name = "dsdpg_msmmd"
    sobolev = True

    def __init__(self, config: AlgorithmConfig, state_dim: int, action_dim: int) -> None:
        super().__init__(config, state_dim, action_dim)
        self.direction = torch.zeros(1 + action_dim)
        self.direction[0] = 1.0
        self.fresh_search = config.slicing.fresh_search

    def distance(self, x, y, generator, search_x=None):
        c = self.config
        axes = torch.eye(x.shape[-1], dtype=x.dtype, device=x.device) if c.slicing.axes else None
        value, direction = max_sliced_mmd2(
            x if search_x is None else search_x, y, self.kernel, direction=self.direction.to(x),
            candidates=axes, n_restarts=c.slicing.restarts, n_steps=c.slicing.steps,
            step_size=c.slicing.step_size, unbiased=c.unbiased, generator=generator,
        )
        if search_x is not None:  # the loss at the direction found on the other draw
            value = sliced_mmd2(x, y, self.kernel, directions=direction[:, None, :],
                                unbiased=c.unbiased)
        self.direction = axial_mean_direction(direction)
        return value

    def state_dict(self):
        return {"direction": self.direction}

    def load_state_dict(self, state):
        self.direction = state["direction"]


STRATEGIES: dict[str, type[CriticStrategy]] = {
    cls.name: cls
    for cls in (TD3Strategy, MAGEStrategy, IQNStrategy, MMDStrategy, DSDPGMMDStrategy,
                DSDPGMaxSlicedStrategy)
}
"""Algorithm name -> strategy class."""


def make_strategy(config: AlgorithmConfig, state_dim: int, action_dim: int) -> CriticStrategy:
    """The strategy of `config.name`."""
    return STRATEGIES[config.name](config, state_dim, action_dim)
