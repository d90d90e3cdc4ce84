"""Issue 5 diagnostic: how fast does each critic learn the *mean* return (what the actor ascends)?

Policy evaluation on the toy (N = 5 reward locations, γ = 0.9, oracle model, a fixed random policy,
64-64 critics, batch 64, the algorithms' default learning rates and losses): after each block of
updates, the relative error of the critic's mean value `|E Z - E G| / std(E G)` over 64 probe
pairs, against 256 Monte-Carlo returns per probe, and the same for the mean action-gradient.

Usage, from the repo root:  .venv/bin/python scripts/critic_mean_error.py [UPDATES_PER_BLOCK BLOCKS]
"""

from __future__ import annotations

import sys

import torch

from dvg_core.agents.agent import Agent
from dvg_core.agents import AlgorithmConfig, SlicingConfig
from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.models import Actor
from dvg_core.analysis.policy_evaluation import critic_joint_samples, train_critic, truth_at, uniform_pairs
from dvg_core.models.world_models import OracleWorldModel

GAMMA, BOX = 0.9, torch.tensor([1.5, 1.5])


def main(block: int, n_blocks: int) -> None:
    torch.set_num_threads(1)
    dyn = PointMassDynamics(PointMassSpec(n_locations=5))
    torch.manual_seed(0)
    actor = Actor(2, 2, hidden=(32, 32)).requires_grad_(False)
    g = torch.Generator().manual_seed(123)
    state, action = uniform_pairs(-BOX, BOX, 2)(64, g)
    print(f"| algo | mean-value error after {block}, {2 * block}, ... updates | "
          "mean-gradient error at the end |\n|---|---|---|")
    truth = None
    for name in ("td3", "mage", "iqn", "mmd", "dsdpg_mmd", "dsdpg_msmmd"):
        torch.manual_seed(1)
        config = AlgorithmConfig(name=name, gamma=GAMMA, hidden=(64, 64), 
                                 slicing=SlicingConfig(steps=2, restarts=0))
        agent = Agent(config, 2, 2, OracleWorldModel(dyn), actor=actor)
        if truth is None:
            truth = truth_at(dyn, agent, state, action, gamma=GAMMA, n_samples=256,
                             generator=torch.Generator().manual_seed(7)).mean(1)  # [B, 1+d_a]
        errors, train_g = [], torch.Generator().manual_seed(2)
        for _ in range(n_blocks):
            train_critic(agent, uniform_pairs(-BOX, BOX, 2), n_updates=block, batch_size=64,
                         generator=train_g)
            mean = critic_joint_samples(agent, state, action, n_samples=64,
                                        generator=torch.Generator().manual_seed(9)).mean(1)
            rel = (mean - truth).abs().mean(0) / truth.std(0)  # [1+d_a]
            errors.append(rel)
        values = ", ".join(f"{e[0]:.2f}" for e in errors)
        print(f"| {name} | {values} | {errors[-1][1:].mean():.2f} |", flush=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]] or [1000, 4]
    main(*args)
