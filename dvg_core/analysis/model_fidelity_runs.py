"""The world-model fidelity benchmark's runs on the toy: data sets, probe pairs, fitting.

Two data sets per toy setting (`dvg_core.analysis.model_fidelity` measures the models on them):

* `uniform_data`: transitions of the simulator at uniform states (in `[-REGION, REGION]²`, the
  circle of reward locations with a margin) and uniform actions; its probes are half uniform in
  the same region and half within `NEAR` of a reward location, where the reward is multimodal;
* `replay_data`: a real Dyna run's replay; its probes are the states that run's final policy
  visits, at the policy's own actions, where the learner queries the model and the data is thin.

`fit_model` fits a world model by its own `fit` (the workbench's), in batches drawn with
replacement, as the Dyna loop does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from dvg_core.envs import PointMassDynamics
from dvg_core.util.validation import check_int_at_least

__all__ = ["NEAR", "REGION", "TransitionData", "fit_model", "replay_data", "uniform_data"]

REGION = 1.2
"""Uniform data and probes: states in `[-REGION, REGION]²` (the toy's locations lie at 0.6)."""
NEAR = 0.15
"""Half the uniform probes lie within this of a reward location (per coordinate)."""


@dataclass(frozen=True)
class TransitionData:
    """Transitions to fit on, `[n, ·]`, and probe pairs to measure at, `[B, ·]`."""

    state: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_state: torch.Tensor
    probe_state: torch.Tensor
    probe_action: torch.Tensor

    def __len__(self) -> int:
        return self.state.shape[0]


def uniform_data(dynamics: PointMassDynamics, *, n_pairs: int, n_probes: int,
                 generator: torch.Generator) -> TransitionData:
    """`n_pairs` simulator transitions at uniform pairs, and `n_probes` probes (see the module
    docstring)."""
    check_int_at_least("n_pairs", n_pairs, 1)
    check_int_at_least("n_probes", n_probes, 2)
    state = (torch.rand(n_pairs, 2, generator=generator) * 2 - 1) * REGION
    action = torch.rand(n_pairs, 2, generator=generator) * 2 - 1
    next_state, reward = dynamics.step(state, action,
                                       dynamics.sample_noise((n_pairs,), generator=generator))
    probe_state = (torch.rand(n_probes, 2, generator=generator) * 2 - 1) * REGION
    near = n_probes // 2
    index = torch.arange(near) % dynamics.spec.n_locations
    offset = (torch.rand(near, 2, generator=generator) * 2 - 1) * NEAR
    probe_state[n_probes - near:] = dynamics.spec.locations()[index] + offset
    probe_action = torch.rand(n_probes, 2, generator=generator) * 2 - 1
    return TransitionData(state, action, reward, next_state, probe_state, probe_action)


def replay_data(replay: Any, seed: int, actor: Any, probe_state: torch.Tensor) -> TransitionData:
    """Seed `seed`'s transitions of a trainer's replay (`dvg_core.agents.SeedReplay`), probed at
    `probe_state [B, d_s]` with the actor's actions."""
    n = len(replay)
    with torch.no_grad():
        probe_action = actor(probe_state)
    return TransitionData(replay.state[:n, seed], replay.action[:n, seed],
                          replay.reward[:n, seed], replay.next_state[:n, seed],
                          probe_state, probe_action)


def fit_model(model: Any, data: TransitionData, *, steps: int, batch_size: int = 256,
              generator: torch.Generator | None = None) -> dict[str, float]:
    """`steps` calls of `model.fit` on batches of `data` drawn with replacement; the last
    step's metrics as floats (`{}` for a model with nothing to fit)."""
    check_int_at_least("steps", steps, 0)
    metrics: dict[str, torch.Tensor] = {}
    for _ in range(steps):
        index = torch.randint(len(data), (batch_size,), generator=generator)
        metrics = model.fit(data.state[index], data.action[index], data.reward[index],
                            data.next_state[index])
    return {key: float(value) for key, value in metrics.items()}
