"""What the Sobolev tests share: a small double-precision generative critic, the oracle toy
set-up, and a critic evaluated with explicit parameter tensors (for gradcheck)."""

from __future__ import annotations

import torch
from torch.func import functional_call

from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.models import Actor, GenerativeCritic
from dvg_core.models.world_models import OracleWorldModel


def make_critic(seed=0, hidden=(16, 16)):
    torch.manual_seed(seed)
    return GenerativeCritic(2, 2, xi_dim=3, n_members=2, hidden=hidden).double()


def oracle_setup(seed=0, n_locations=3, noise=0.05):
    torch.manual_seed(seed)
    model = OracleWorldModel(PointMassDynamics(PointMassSpec(n_locations=n_locations,
                                                             dynamics_noise=noise)))
    actor = Actor(2, 2, hidden=(16, 16), activation="silu").double()
    critic = make_critic(seed + 1)
    g = torch.Generator().manual_seed(seed)
    state = (torch.rand(4, 2, generator=g, dtype=torch.float64) * 2 - 1)
    action = torch.rand(4, 2, generator=g, dtype=torch.float64) * 1.6 - 0.8
    return model, actor, critic, state, action



class CriticWithParameters:
    """`critic.forward_members` evaluated with explicit parameter tensors (for gradcheck)."""

    def __init__(self, critic, params):
        self.critic, self.params = critic, params
        self.state_dim, self.action_dim = critic.state_dim, critic.action_dim
        self.xi_dim, self.n_members = critic.xi_dim, critic.n_members

    def forward_members(self, state, action, xi):
        lead = torch.broadcast_shapes(state.shape[:-1], action.shape[:-1], xi.shape[:-1])
        x = torch.cat([t.expand(*lead, t.shape[-1]) for t in (state, action, xi)], dim=-1)
        net_params = {k.removeprefix("net."): v for k, v in self.params.items()}
        return functional_call(self.critic.net, net_params, (x,)).squeeze(-1)
