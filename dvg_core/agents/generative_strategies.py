"""The generative critics' strategies: `Z(s, a, ξ)` trained by a distance between sample sets.

| name | target | loss |
|---|---|---|
| `mmd` | model, distributional, no gradients | MMD² on returns |
| `dsdpg_mmd` | model, Sobolev joint samples `(Z, √λ∇ₐZ)` | MMD² on joint samples |
| `dsdpg_msmmd` | model, Sobolev joint samples `(Z, √λ∇ₐZ)` | max-sliced MMD² |
| `dsdpg_complete` | model, complete samples `(Z, √λₛ∇ₛZ, √λ∇ₐZ)` | max-sliced MMD² |

They differ in two class attributes, `sobolev` and `complete`, and in `distance`.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from dvg_core.agents.config import AlgorithmConfig
from dvg_core.agents.strategy_base import CriticStrategy
from dvg_core.losses.distances import mmd2
from dvg_core.losses.kernels import make_kernel
from dvg_core.losses.slicing import axial_mean_direction, max_sliced_mmd2, sliced_mmd2
from dvg_core.losses.sobolev import joint_samples, return_targets, sobolev_targets
from dvg_core.models import GenerativeCritic, QuantileCritic
from dvg_core.models.head_noise_critic import HeadNoiseCritic

__all__ = [
    "DSDPGCompleteStrategy", "DSDPGMMDStrategy", "DSDPGMaxSlicedStrategy", "MMDStrategy",
]


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
    """Whether the samples carry gradients (Sobolev joint vectors) or returns only."""
    complete: ClassVar[bool] = False
    """Whether the joint vectors carry `∇ₛZ` too: `(Z, √λₛ∇ₛZ, √λ∇ₐZ)`, `[·, 1 + d_s + d_a]`."""
    stacks_seeds = False  # the samples fill the cache already: see CriticStrategy.stacks_seeds
    compile_pays = True  # measured: see CriticStrategy.compile_pays

    def __init__(self, config: AlgorithmConfig, state_dim: int, action_dim: int) -> None:
        super().__init__(config, state_dim, action_dim)
        params = ({"bandwidths": config.distance.bandwidth} if config.distance.kernel == "rbf"
                  else {"h": config.distance.bandwidth})
        self.kernel = make_kernel(config.distance.kernel, **params)

    def build_critic(self) -> nn.Module:
        c = self.config
        activation = {} if c.critic.activation is None else {"activation": c.critic.activation}
        if c.critic.noise == "quantile":
            return QuantileCritic(self.state_dim, self.action_dim, hidden=c.hidden[0],
                                  **activation)
        critic_class = HeadNoiseCritic if c.critic.noise == "head" else GenerativeCritic
        return critic_class(self.state_dim, self.action_dim, xi_dim=c.critic.xi_dim, hidden=c.hidden,
                            **activation)

    def actor_value(self, critic, state, action):
        xi = critic.sample_xi((*state.shape[:-1], self.config.critic.n_samples))
        return _return_samples(critic, state, action, xi).mean(dim=(0, -1))

    def critic_loss(self, critic, targets, batch, generator):
        c = self.config
        state, action = batch.state, batch.action
        xi = critic.sample_xi((state.shape[0], c.critic.n_samples), generator=generator)
        common = dict(n_samples=c.targets.n_samples, truncate=c.targets.truncate,
                      **self._target_kwargs(generator))
        if self.sobolev:
            weights = dict(lam=c.distance.lam, lam_state=c.state_lam if self.complete else None)
            x = joint_samples(critic, state, action, xi, **weights)  # [E, B, M, D]
            y = sobolev_targets(targets.world_model, targets.actor, targets.critic, state,
                                action, **weights, **common)  # [B, M'', D]
            # D = 1 + d_a, or 1 + d_s + d_a when complete
        else:
            x = _return_samples(critic, state, action, xi).unsqueeze(-1)  # [E, B, M, 1]
            y = return_targets(targets.world_model, targets.actor, targets.critic, state,
                               action, shared_draws=c.targets.shared_draws,
                               **common).unsqueeze(-1)  # [B, M'', 1]
        n_members = x.shape[0]
        flat_x = x.reshape(-1, *x.shape[2:])  # [E·B, M, D]
        flat_y = y.repeat(n_members, 1, 1)  # [E·B, M'', D]
        search_x = None
        if self.fresh_search:  # a second, independent draw of the critic's samples, detached
            xi_search = critic.sample_xi((state.shape[0], c.critic.n_samples), generator=generator)
            search_x = joint_samples(critic, state, action, xi_search, **weights).detach()
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
        return mmd2(x, y, self.kernel, unbiased=self.config.distance.unbiased)


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
        self.direction = torch.zeros(1 + action_dim + (state_dim if self.complete else 0))
        self.direction[0] = 1.0  # the return axis, in the joint vectors' dimension
        self.fresh_search = config.slicing.fresh_search

    def distance(self, x, y, generator, search_x=None):
        c = self.config
        axes = torch.eye(x.shape[-1], dtype=x.dtype, device=x.device) if c.slicing.axes else None
        value, direction = max_sliced_mmd2(
            x if search_x is None else search_x, y, self.kernel, direction=self.direction.to(x),
            candidates=axes, n_restarts=c.slicing.restarts, n_steps=c.slicing.steps,
            step_size=c.slicing.step_size, unbiased=c.distance.unbiased, generator=generator,
        )
        if search_x is not None:  # the loss at the direction found on the other draw
            value = sliced_mmd2(x, y, self.kernel, directions=direction[:, None, :],
                                unbiased=c.distance.unbiased)
        self.direction = axial_mean_direction(direction)
        return value

    def state_dict(self):
        return {"direction": self.direction}

    def load_state_dict(self, state):
        self.direction = state["direction"]


class DSDPGCompleteStrategy(DSDPGMaxSlicedStrategy):
    """The complete Sobolev operator: max-sliced MMD² on `(Z, √λₛ∇ₛZ, √λ∇ₐZ)`.

    Source: ours (issue 20; docs/concepts/method.md). The target's action-gradient reads the next state's
    `∇ₛZ̄` (chain rule through the model), which the paper's `(Z, ∇ₐZ)` vectors do not carry, so
    their operator has no γκ bound; on the complete vectors the backup is a push-forward by the
    closed-loop Jacobian and contracts by γκ in max-sliced MMD. Online samples and targets carry
    `∇ₛ` by autodiff through the critic, and through model, target policy and target critic;
    λₛ is `algorithm.distance.lam_state` (default λ). Max-slicing as `dsdpg_msmmd`.
    """

    name = "dsdpg_complete"
    complete = True
    compile_pays = False  # not compilable: `dvg_core.agents.compiled.NOT_COMPILABLE`
