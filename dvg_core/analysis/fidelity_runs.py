"""One row series of the fidelity benchmark: a probe (actor, pairs, truth) and a critic trained on it.

`make_probe` fixes, for one `FidelitySetting`, the evaluated actor, the probe pairs with their
Monte-Carlo truth, and the regression data set; `evaluate_critic` trains one critic for that actor
and measures it (`dvg_core.analysis.fidelity.fidelity_metrics`) after each checkpoint's number of updates.
Three kinds of row:

* `critic`: the algorithm's own loss, bootstrapped from its target critic (what training does);
* `exact_targets`: the same network and loss, the target critic replaced by Monte-Carlo rollouts
  (`MonteCarloCritic`): what the loss reaches when bootstrapping is perfect;
* `regression`: the same network fitted by Sobolev regression on Monte-Carlo means
  (`fit_regression`): the approximation floor of the mean and mean-gradient errors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from dvg_core.agents.agent import Agent
from dvg_core.agents import AlgorithmConfig
from dvg_core.envs import PointMassDynamics
from dvg_core.analysis.fidelity import FidelitySetting, MonteCarloCritic, fidelity_metrics, fit_regression
from dvg_core.analysis.ground_truth import sobolev_return_samples
from dvg_core.models import Actor
from dvg_core.analysis.policy_evaluation import critic_joint_samples, train_critic, uniform_pairs
from dvg_core.util.validation import check_choice, check_int_at_least
from dvg_core.models.world_models import OracleWorldModel

__all__ = [
    "ROW_KINDS",
    "FidelityProbe",
    "evaluate_critic",
    "load_probe",
    "make_probe",
    "sample_pairs",
    "save_probe",
    "showcase_probe",
]

ROW_KINDS = ("critic", "exact_targets", "regression")
"""How a row's critic is trained (see the module docstring)."""

SHOWN_TRUTH = 128
"""Monte-Carlo samples of the showcase probe kept in a row (for figures)."""

PROBE_BOX = 1.5
"""Probe and training states are uniform in `[-PROBE_BOX, PROBE_BOX]²` (the toy's box is 2)."""


@dataclass
class FidelityProbe:
    """What every critic of one setting is measured against (fixed across algorithms and seeds)."""

    setting: FidelitySetting
    dynamics: PointMassDynamics
    actor: nn.Module
    """The fixed, evaluated policy (a random 32-32 ReLU actor, never trained)."""
    state: torch.Tensor
    """Probe states `[B, 2]`."""
    action: torch.Tensor
    """Probe actions `[B, 2]`."""
    truth: torch.Tensor
    """Monte-Carlo `(G, ∇ₐG)` at the probes, `[B, K, 3]`."""
    regression_state: torch.Tensor
    """Regression pairs' states `[P, 2]`."""
    regression_action: torch.Tensor
    """Regression pairs' actions `[P, 2]`."""
    regression_target: torch.Tensor
    """Monte-Carlo means of `(G, ∇ₐG)` at the regression pairs, `[P, 3]`."""
    truth_grad_s: torch.Tensor
    """Monte-Carlo `∇ₛG` at the probes, `[B, K, 2]` (the same draws as `truth`)."""



def sample_pairs(batch: int, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Probe and training pairs: states uniform in the probe box, actions uniform in `[-1, 1]²`.

    Returns:
      `(state [batch, 2], action [batch, 2])`.
    """
    box = torch.full((2,), PROBE_BOX)
    return uniform_pairs(-box, box, 2)(batch, generator)


def save_probe(probe: FidelityProbe, path) -> None:
    """Write a probe's tensors and actor weights (`torch.save`, atomically via a temp file)."""
    import os

    tensors = {name: getattr(probe, name) for name in _PROBE_TENSORS}
    tmp = f"{path}.{os.getpid()}.tmp"
    torch.save({"actor": probe.actor.state_dict(), **tensors}, tmp)
    os.replace(tmp, path)


def load_probe(setting: FidelitySetting, path) -> FidelityProbe:
    """The probe `save_probe` wrote for `setting` (loaded with `weights_only=True`)."""
    state = torch.load(path, weights_only=True)
    actor = Actor(2, 2, hidden=(32, 32)).requires_grad_(False)
    actor.load_state_dict(state["actor"])
    return FidelityProbe(setting, setting.dynamics(), actor,
                         *(state[name] for name in _PROBE_TENSORS))


_PROBE_TENSORS = ("state", "action", "truth", "regression_state", "regression_action",
                  "regression_target", "truth_grad_s")


def make_probe(
    setting: FidelitySetting, *, n_probes: int = 64, n_truth: int = 256,
    n_regression: int = 8192, regression_samples: int = 32, seed: int = 0,
) -> FidelityProbe:
    """Draw the actor, probes and truths of `setting` (seeded by `seed` alone)."""
    for name, value in (("n_probes", n_probes), ("n_truth", n_truth),
                        ("n_regression", n_regression), ("regression_samples", regression_samples)):
        check_int_at_least(name, value, 2)
    dynamics = setting.dynamics()
    torch.manual_seed(seed)
    actor = Actor(2, 2, hidden=(32, 32)).requires_grad_(False)
    generator = torch.Generator().manual_seed(seed + 1)
    state, action = sample_pairs(n_probes, generator)
    complete_truth = sobolev_return_samples(dynamics, actor, state, action, gamma=setting.gamma,
                                            n_samples=n_truth, generator=generator,
                                            wrt_state=True)  # [B, K, 1 + 2 + 2]
    truth, truth_grad_s = _split_state_gradient(complete_truth)
    regression_state, regression_action = sample_pairs(n_regression, generator)
    regression_target = sobolev_return_samples(
        dynamics, actor, regression_state, regression_action, gamma=setting.gamma,
        n_samples=regression_samples, generator=generator,
    ).mean(dim=1)
    return FidelityProbe(setting, dynamics, actor, state, action, truth, regression_state,
                         regression_action, regression_target, truth_grad_s)


def _split_state_gradient(complete: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`(Z, ∇ₛZ, ∇ₐZ)` `[*, 1 + 2 + 2]` -> `(Z, ∇ₐZ)` `[*, 3]` and `∇ₛZ` `[*, 2]` (the toy)."""
    return torch.cat([complete[..., :1], complete[..., 3:]], dim=-1), complete[..., 1:3]


def evaluate_critic(
    config: AlgorithmConfig, probe: FidelityProbe, *, kind: str = "critic", seed: int = 0,
    checkpoints: tuple[int, ...] = (1000, 2000, 3000, 4000), batch_size: int = 64,
    n_eval_samples: int = 64,
) -> list[dict[str, float]]:
    """Train one critic for the probe's actor and measure it after each checkpoint.

    Args:
      config: the algorithm (its `gamma` must be the setting's).
      probe: from `make_probe`.
      kind: one of `ROW_KINDS`.
      seed: seeds the critic's initialisation, training pairs and noise.
      checkpoints: increasing update counts at which the critic is measured.
      batch_size: pairs per update.
      n_eval_samples: critic samples per probe (per member) for the metrics.

    Returns:
      one dict per checkpoint: `updates`, `seconds` (training time so far) and the metrics; the
      last also holds `probe_samples` `[E·M, 1+d_a]` and `probe_truth` `[SHOWN_TRUTH, 1+d_a]`
      (nested lists) at the `showcase_probe`, for figures.
    """
    check_choice("kind", kind, ROW_KINDS)
    if config.gamma != probe.setting.gamma:
        raise ValueError(f"config.gamma={config.gamma} differs from the setting's "
                         f"gamma={probe.setting.gamma}")
    if not checkpoints or any(b <= a for a, b in zip((0, *checkpoints), checkpoints)):
        raise ValueError(f"checkpoints must be increasing positive counts, got {checkpoints}")
    torch.manual_seed(seed + 1000)
    agent = Agent(config, 2, 2, OracleWorldModel(probe.dynamics), actor=probe.actor)
    if kind == "exact_targets":
        agent.critic_target = MonteCarloCritic(probe.dynamics, probe.actor, gamma=config.gamma,
                                               n_members=agent.critic.n_members)
    distributional = hasattr(agent.critic, "sample_xi")
    generator = torch.Generator().manual_seed(seed + 2000)
    rows, done, seconds = [], 0, 0.0
    for updates in checkpoints:
        start = time.perf_counter()
        if kind == "regression":
            fit_regression(agent.critic, probe.regression_state, probe.regression_action,
                           probe.regression_target, n_updates=updates - done,
                           batch_size=batch_size, lr=config.critic.lr,
                           n_samples=config.critic.n_samples, generator=generator)
        else:
            train_critic(agent, sample_pairs, n_updates=updates - done,
                         batch_size=batch_size, generator=generator,
                         polyak=kind == "critic")
        seconds += time.perf_counter() - start
        done = updates
        samples, grad_s = _split_state_gradient(critic_joint_samples(
            agent, probe.state, probe.action, n_samples=n_eval_samples,
            generator=torch.Generator().manual_seed(seed + 3000), complete=True))
        rows.append({"updates": updates, "seconds": seconds,
                     **fidelity_metrics(samples, probe.truth, distributional=distributional,
                                        grad_s=grad_s, truth_grad_s=probe.truth_grad_s)})
    shown = showcase_probe(probe)
    rows[-1]["probe_samples"] = samples[shown].tolist()
    rows[-1]["probe_truth"] = probe.truth[shown, :SHOWN_TRUTH].tolist()
    return rows


def showcase_probe(probe: FidelityProbe) -> int:
    """The probe whose true return is the most spread out: where the laws differ most visibly."""
    return int(probe.truth[..., 0].std(dim=1).argmax())
