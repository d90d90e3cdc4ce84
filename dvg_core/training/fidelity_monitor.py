"""The critic's and the world model's fidelity while training: after each evaluation, how well
each seed's critic knows the law of `(Z, ∇ₐZ)` at the states its own policy visits, against
Monte-Carlo truth from the env's differentiable simulator (the toy:
`dvg_core.envs.PointMassDynamics`), and, for a learned world model, how well the model knows the
step there (`dvg_core.analysis.model_fidelity`: its samples, its pathwise derivatives and the
Sobolev targets it gives the learner, at `(s, π(s))`), so a failing run says whether its model or
its critic failed.

It reads, never changes, the training state, and draws its randomness from a generator seeded
by `(seed, step)`, so a resumed run logs the same rows as an uninterrupted one.
"""

from __future__ import annotations

import gymnasium
import torch

from dvg_core.agents import Agent
from dvg_core.analysis.fidelity import on_policy_fidelity
from dvg_core.analysis.ground_truth import DifferentiableSimulator
from dvg_core.analysis.model_fidelity import model_metrics, target_metrics
from dvg_core.configs import EnvConfig, LoopConfig
from dvg_core.envs import POINT_MASS_IDS, PointMassDynamics
from dvg_core.models.world_models import OracleWorldModel
from dvg_core.util.validation import check_int_at_least

__all__ = ["FidelityMonitor"]


class FidelityMonitor:
    """`monitor(agent, visited, seed=, step=)` -> the `fidelity_*` metrics of one seed.

    Args:
      simulator: the env's differentiable simulator.
      gamma: the critics' discount.
      n_probes: states taken, evenly spaced, from the visited ones.
      n_truth: Monte-Carlo samples per probe.
      n_samples: critic samples per probe and member; also the model draws per probe and
        target critic of the target metrics.
      n_model_draws: draws per probe of the model and of the simulator for the model metrics.
    """

    def __init__(self, simulator: DifferentiableSimulator, *, gamma: float, n_probes: int = 16,
                 n_truth: int = 64, n_samples: int = 16, n_model_draws: int = 64) -> None:
        check_int_at_least("n_probes", n_probes, 1)
        self.simulator, self.gamma = simulator, gamma
        self.truth_model = OracleWorldModel(simulator)
        self.n_probes, self.n_truth, self.n_samples = n_probes, n_truth, n_samples
        self.n_model_draws = check_int_at_least("n_model_draws", n_model_draws, 2)

    @classmethod
    def for_env(cls, env_config: EnvConfig, loop: LoopConfig, env: gymnasium.Env, *,
                gamma: float) -> FidelityMonitor | None:
        """The monitor of a run of `env_config` (its env `env`) where the env has a
        differentiable simulator (the toy without observation noise) and
        `loop.fidelity_probes > 0`; else None."""
        if (loop.fidelity_probes == 0 or env_config.env_id not in POINT_MASS_IDS
                or env_config.noise == "obs"):
            return None
        return cls(PointMassDynamics(env.unwrapped.spec_params), gamma=gamma,
                   n_probes=loop.fidelity_probes, n_truth=loop.fidelity_truth_samples)

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
        row = {f"fidelity_{name}": value for name, value in metrics.items()}
        if agent.world_model is not None and not isinstance(agent.world_model, OracleWorldModel):
            row |= {f"model_{name}": value
                    for name, value in self.model_fidelity(agent, state, generator).items()}
        return row

    def model_fidelity(self, agent: Agent, state: torch.Tensor,
                       generator: torch.Generator | None) -> dict[str, float]:
        """The agent's world model against the simulator at `(s, π(s))`: `model_metrics` and
        `target_metrics` (with the agent's target policy and target critic)."""
        truth = self.truth_model.to(state.device)
        with torch.no_grad():
            action = agent.actor(state)
        return {**model_metrics(agent.world_model, truth, state, action,
                                n_draws=self.n_model_draws, generator=generator),
                **target_metrics(agent.world_model, truth, agent.actor_target,
                                 agent.critic_target, state, action, gamma=self.gamma,
                                 n_samples=self.n_samples, generator=generator)}
