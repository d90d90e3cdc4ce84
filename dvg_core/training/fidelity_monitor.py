"""The critic's fidelity while training: after each evaluation, how well each seed's critic knows
the law of `(Z, ∇ₐZ)` at the states its own policy visits, against Monte-Carlo truth from the
env's differentiable simulator (the toy: `dvg_core.envs.PointMassDynamics`).

It reads, never changes, the training state, and draws its randomness from a generator seeded
by `(seed, step)`, so a resumed run logs the same rows as an uninterrupted one.
"""

from __future__ import annotations

import torch

from dvg_core.agents import Agent
from dvg_core.analysis.fidelity import on_policy_fidelity
from dvg_core.analysis.ground_truth import DifferentiableSimulator
from dvg_core.util.validation import check_int_at_least

__all__ = ["FidelityMonitor"]


class FidelityMonitor:
    """`monitor(agent, visited, seed=, step=)` -> the `fidelity_*` metrics of one seed.

    Args:
      simulator: the env's differentiable simulator.
      gamma: the critics' discount.
      n_probes: states taken, evenly spaced, from the visited ones.
      n_truth: Monte-Carlo samples per probe.
      n_samples: critic samples per probe and member.
    """

    def __init__(self, simulator: DifferentiableSimulator, *, gamma: float, n_probes: int = 16,
                 n_truth: int = 64, n_samples: int = 16) -> None:
        check_int_at_least("n_probes", n_probes, 1)
        self.simulator, self.gamma = simulator, gamma
        self.n_probes, self.n_truth, self.n_samples = n_probes, n_truth, n_samples

    def __call__(self, agent: Agent, visited: torch.Tensor, *, seed: int, step: int
                 ) -> dict[str, float]:
        """Metrics at `n_probes` of the `visited [T, d_s]` states (all of them if fewer)."""
        index = torch.linspace(0, visited.shape[0] - 1, min(self.n_probes, visited.shape[0]))
        state = visited[index.round().long().to(visited.device)]
        generator = torch.Generator(device=visited.device).manual_seed(
            1_000_003 * (seed + 1) + step)
        metrics = on_policy_fidelity(agent, self.simulator, state, gamma=self.gamma,
                                     n_truth=self.n_truth, n_samples=self.n_samples,
                                     generator=generator)
        return {f"fidelity_{name}": value for name, value in metrics.items()}
