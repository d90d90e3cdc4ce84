"""How-to example: a new algorithm, a Sobolev critic trained by the energy distance.

`dsdpg_energy` is `dsdpg_mmd` with the kernel MMD² replaced by the (kernel-free) energy distance
between the online joint samples `X = (Z, √λ∇ₐZ)` and the Sobolev targets `Y = (y, √λ∇ₐy)`.
Everything else (actor, replay, world model, loop, evaluation, checkpoints) is the shared agent's.
`tests/test_howto_examples.py` trains it.
"""

from __future__ import annotations

import torch
from torch import nn

from dvg_core.agents import CriticStrategy
from dvg_core.losses.distances import energy_distance
from dvg_core.losses.sobolev import joint_samples, sobolev_targets
from dvg_core.models import GenerativeCritic


class DSDPGEnergyStrategy(CriticStrategy):
    """Generative critic `Z(s, a, ξ)`; loss: energy distance of Sobolev joint samples."""

    name = "dsdpg_energy"
    uses_world_model = True  # its targets go through the world model (td3's do not)
    stacks_seeds = False  # its [E, B, M, ·] samples fill the cache: stacking seeds does not pay

    def build_critic(self) -> nn.Module:
        c = self.config
        return GenerativeCritic(self.state_dim, self.action_dim, xi_dim=c.xi_dim, hidden=c.hidden)

    def critic_loss(self, critic, targets, batch, generator):
        c = self.config
        xi = critic.sample_xi((batch.state.shape[0], c.n_samples), generator=generator)
        x = joint_samples(critic, batch.state, batch.action, xi, lam=c.lam)  # [E, B, M, 1+d_a]
        y = sobolev_targets(targets.world_model, targets.actor, targets.critic, batch.state,
                            batch.action, lam=c.lam, n_samples=c.n_target_samples,
                            truncate=c.truncate, **self._target_kwargs(generator))  # [B, M'', 1+d_a]
        n_members = x.shape[0]
        distance = energy_distance(x.reshape(-1, *x.shape[2:]), y.repeat(n_members, 1, 1))  # [E·B]
        loss = distance.reshape(n_members, -1).sum(0)  # [B], summed over the critic members
        info = {"critic_value": x[..., 0].detach().mean(),
                "critic_grad_scale": x[..., 1:].detach().norm(dim=-1).mean()}
        return loss, info

    def actor_value(self, critic, state, action):
        xi = critic.sample_xi((*state.shape[:-1], self.config.n_samples))  # [B, M, d_ξ]
        z = critic(state[..., None, :].expand(*xi.shape[:-1], state.shape[-1]),
                   action[..., None, :].expand(*xi.shape[:-1], action.shape[-1]), xi)  # [E, B, M]
        return z.mean(dim=(0, -1))  # [B]
