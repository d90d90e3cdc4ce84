"""Issue 9: does a speed lever keep the critic's accuracy? Policy evaluation against Monte-Carlo.

The setting of `tests/test_policy_evaluation.py` (toy, N = 3 reward locations, γ = 0.5, oracle
world model, a fixed random policy, 2000 critic updates of batch 64, 64-64 critics), run for each
lever as `AlgorithmConfig` overrides and several seeds; prints the joint MMD² (RBF mixture in the
truth's standardised units, mean over 32 probes) of the trained critic's `(Z, ∇ₐZ)` samples to
256 Monte-Carlo samples of `(G, ∇ₐG)`, and the wall time of the 2000 updates.

Usage, from the repo root:
  .venv/bin/python scripts/lever_accuracy.py [SEED ...]      (default: 1 2 3)
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time

import torch

from dvg_core.agents.agent import Agent
from dvg_core.agents import AlgorithmConfig, SlicingConfig
from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.models import Actor
from dvg_core.analysis.policy_evaluation import (
    critic_joint_samples,
    joint_mmd_to_truth,
    train_critic,
    truth_at,
    uniform_pairs,
)
from dvg_core.models.world_models import OracleWorldModel

GAMMA, N_UPDATES, BOX = 0.5, 2000, torch.tensor([1.5, 1.5])
BASE = AlgorithmConfig(name="dsdpg_msmmd", gamma=GAMMA, hidden=(64, 64), truncate=0.0, tau=0.05,
                       critic_lr=3e-3, slicing=SlicingConfig(restarts=0))
LEVERS = {
    "dsdpg_msmmd, M' = 10 per target critic (default)": {},
    "dsdpg_msmmd, M' = 5 per target critic": {"n_target_samples": 5},
    "dsdpg_mmd, M' = 10": {"name": "dsdpg_mmd"},
    "dsdpg_mmd, M' = 5": {"name": "dsdpg_mmd", "n_target_samples": 5},
}


def evaluate(config: AlgorithmConfig, seed: int) -> tuple[float, float]:
    """(joint MMD² to the truth after training, seconds of training)."""
    dyn = PointMassDynamics(PointMassSpec(n_locations=3))
    torch.manual_seed(0)
    actor = Actor(2, 2, hidden=(32, 32)).requires_grad_(False)
    torch.manual_seed(seed)
    agent = Agent(config, 2, 2, OracleWorldModel(dyn), actor=actor)
    start = time.perf_counter()
    train_critic(agent, uniform_pairs(-BOX, BOX, 2), n_updates=N_UPDATES, batch_size=64,
                 generator=torch.Generator().manual_seed(seed + 100))
    seconds = time.perf_counter() - start
    g = torch.Generator().manual_seed(123)
    state, action = uniform_pairs(-BOX, BOX, 2)(32, g)
    truth = truth_at(dyn, agent, state, action, gamma=GAMMA, n_samples=256, generator=g)
    samples = critic_joint_samples(agent, state, action, n_samples=64, generator=g)
    return float(joint_mmd_to_truth(samples, truth).mean()), seconds


def main(seeds: list[int]) -> None:
    torch.set_num_threads(1)
    print(f"| lever | joint MMD² to truth, seeds {', '.join(map(str, seeds))} | mean | "
          "s per 2000 updates |")
    print("|---|---|---:|---:|")
    for label, changes in LEVERS.items():
        config = dataclasses.replace(BASE, **changes)
        results = [evaluate(config, seed) for seed in seeds]
        values = ", ".join(f"{mmd:.3f}" for mmd, _ in results)
        mean = statistics.mean(mmd for mmd, _ in results)
        seconds = statistics.median(s for _, s in results)
        print(f"| {label} | {values} | {mean:.3f} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or [1, 2, 3])
