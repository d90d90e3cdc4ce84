"""Critic fidelity: how well a trained critic's law matches the Monte-Carlo truth of `(G, ∇ₐG)`.

The workbench's first-class accuracy check (see `docs/concepts/fidelity.md`). On the point-mass toy, with
the oracle world model and a fixed actor, each critic is trained by its own loss (policy
evaluation, `dvg_core.analysis.policy_evaluation.train_critic`) and compared, at fixed probe pairs, with
`dvg_core.analysis.ground_truth.sobolev_return_samples`:

* `fidelity_metrics`: signed mean bias, relative mean and mean-gradient errors, the return-spread
  ratio, and the joint energy distance and MMD² in standardised units;
* `MonteCarloCritic`: a "target critic" that answers with Monte-Carlo rollouts of the truth, so
  the Sobolev backup through it is exact (the *exact-targets* reference, and the fixed-point
  check: its targets' law is the truth's);
* `fit_regression`: the same network fitted by Sobolev regression on Monte-Carlo means (the
  approximation floor for the mean and the mean gradient).

The grid, the table and the JSON records live in `workbench.fidelity.critic_grid`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dvg_core.agents.agent import Agent
from dvg_core.util.updates import gradient_step
from dvg_core.losses.distances import energy_distance
from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.analysis.ground_truth import (
    DifferentiableSimulator,
    discounted_horizon,
    rollout_return,
    sobolev_return_samples,
)
from dvg_core.analysis.policy_evaluation import critic_joint_samples, joint_mmd_to_truth
from dvg_core.losses.sobolev import joint_samples
from dvg_core.util.validation import check_int_at_least, check_nonnegative, check_probability

__all__ = [
    "FIDELITY_METRICS",
    "STATE_GRADIENT_METRIC",
    "FidelitySetting",
    "MonteCarloCritic",
    "fidelity_metrics",
    "fit_regression",
    "on_policy_fidelity",
]

FIDELITY_METRICS = ("mean_bias", "mean_error", "gradient_error", "spread_ratio", "energy", "mmd2")
"""The keys `fidelity_metrics` returns, in table order."""

STATE_GRADIENT_METRIC = "state_gradient_error"
"""The extra key `fidelity_metrics` returns when given state-gradients (rows written since
`dsdpg_complete`; older rows lack it)."""

SPREAD_FLOOR = 1e-3
"""Below this mean within-probe standard deviation of the truth's return, the law is (nearly) a
point mass and the spread ratio is undefined (NaN)."""


@dataclass(frozen=True)
class FidelitySetting:
    """One point of the fidelity grid: the toy's reward locations, the discount and the noise."""

    n_locations: int = 5
    """N, reward locations of `dvg/PointMass-v0` (one drawn per step: the return's randomness)."""
    gamma: float = 0.9
    """Discount γ of the evaluated value."""
    noise: float = 0.0
    """σ, the toy's dynamics noise (`PointMassSpec.dynamics_noise`)."""

    def __post_init__(self) -> None:
        check_int_at_least("n_locations", self.n_locations, 1)
        check_probability("gamma", self.gamma)
        check_nonnegative("noise", self.noise)

    def dynamics(self) -> PointMassDynamics:
        """The toy's differentiable dynamics at this setting."""
        return PointMassDynamics(
            PointMassSpec(n_locations=self.n_locations, dynamics_noise=self.noise)
        )


def _relative_abs_error(estimate: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """`mean_b |estimate - truth| / std_b(truth)` per coordinate: `[B, D] -> [D]`."""
    scale = truth.std(dim=0).clamp_min(1e-8)
    return (estimate - truth).abs().mean(dim=0) / scale


def fidelity_metrics(
    samples: torch.Tensor, truth: torch.Tensor, *, distributional: bool = True,
    grad_s: torch.Tensor | None = None, truth_grad_s: torch.Tensor | None = None,
) -> dict[str, float]:
    """Compare a critic's joint samples with the Monte-Carlo truth at B probe pairs.

    * `mean_bias`: `mean_b (E Z - E G)`, signed, in return units.
    * `mean_error`: `mean_b |E Z - E G| / std_b(E G)`: the error of the mean value, relative to
      how much the true mean varies over the probes (0 is exact; 1 is as bad as a constant at the
      true average).
    * `gradient_error`: the same for the mean action-gradient, averaged over the d_a coordinates.
    * `spread_ratio`: `mean_b std(Z) / mean_b std(G)`, the critic's within-probe return spread
      relative to the truth's; NaN where the truth is a point mass (mean std < `SPREAD_FLOOR`)
      or the critic is not distributional (its "samples" are its twin members' values).
    * `energy`, `mmd2`: joint energy distance and RBF-mixture MMD² (`joint_mmd_to_truth`)
      between the sets, with every coordinate divided by the truth's standard deviation over all
      probes and samples, averaged over probes.
    * `state_gradient_error` (only with `grad_s` and `truth_grad_s`): the mean state-gradient's
      error, as `gradient_error` (the complete vectors' extra coordinates, `dsdpg_complete`).

    Args:
      samples: `[B, M, 1+d_a]` critic samples (return, then its action-gradient at λ = 1).
      truth: `[B, K, 1+d_a]` Monte-Carlo samples at the same probes.
      distributional: whether the samples are draws of a law (False: a deterministic critic).
      grad_s: `[B, M, d_s]` the critic's state-gradients at the samples (optional).
      truth_grad_s: `[B, K, d_s]` the Monte-Carlo state-gradients (with `grad_s`).

    Returns:
      the `FIDELITY_METRICS` (then `STATE_GRADIENT_METRIC`) as Python floats.
    """
    if samples.ndim != 3 or truth.ndim != 3 or samples.shape[::2] != truth.shape[::2]:
        raise ValueError(f"samples [B, M, D] and truth [B, K, D] must share B and D, got "
                         f"{list(samples.shape)} and {list(truth.shape)}")
    mean, true_mean = samples.mean(dim=1), truth.mean(dim=1)  # [B, D]
    relative = _relative_abs_error(mean, true_mean)  # [D]
    true_spread = truth[..., 0].std(dim=1).mean()
    spread = samples[..., 0].std(dim=1).mean() / true_spread
    scale = truth.reshape(-1, truth.shape[-1]).std(dim=0).clamp_min(1e-3)  # [D]
    metrics = {
        "mean_bias": float((mean[:, 0] - true_mean[:, 0]).mean()),
        "mean_error": float(relative[0]),
        "gradient_error": float(relative[1:].mean()),
        "spread_ratio": (float(spread) if distributional and float(true_spread) >= SPREAD_FLOOR
                         else float("nan")),
        "energy": float(energy_distance(samples / scale, truth / scale).mean()),
        "mmd2": float(joint_mmd_to_truth(samples, truth).mean()),
    }
    if grad_s is not None and truth_grad_s is not None:
        state_relative = _relative_abs_error(grad_s.mean(dim=1), truth_grad_s.mean(dim=1))  # [d_s]
        metrics[STATE_GRADIENT_METRIC] = float(state_relative.mean())
    return metrics


class MonteCarloCritic(nn.Module):
    """A stand-in *target critic* whose return samples are Monte-Carlo rollouts of the truth.

    `sample_returns(s, a)` rolls the simulator out from `(s, a)` under `policy` for
    `discounted_horizon(γ)` steps with fresh noise and returns the discounted return,
    differentiable in `s` and `a`. Put in place of the target critic, the distributional Sobolev
    backup `r̂ + γ Z̄(ŝ', π(ŝ'))` becomes an exact sample of `(G, ∇ₐG)`: what the critic loss would
    see if bootstrapping were perfect.

    Args:
      simulator: the differentiable simulator (`PointMassDynamics`).
      policy: the deterministic policy followed from the next state on (the evaluated actor).
      gamma: discount in [0, 1).
      n_members: E, how many members the backup pools over (a critic's twin count).
    """

    def __init__(self, simulator, policy: nn.Module, *, gamma: float, n_members: int = 2) -> None:
        super().__init__()
        self.simulator, self.policy, self.gamma = simulator, policy, gamma
        self.n_members = n_members
        self.n_steps = discounted_horizon(gamma)

    def sample_returns(
        self, state: torch.Tensor, action: torch.Tensor, *, members: bool,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """One Monte-Carlo return per member and row: `[E, *]` (inputs `[E, *, ·]` if members)."""
        lead = torch.broadcast_shapes(state.shape[:-1], action.shape[:-1])
        if not members:
            lead = (self.n_members, *lead)
        state = state.expand(*lead, state.shape[-1])
        action = action.expand(*lead, action.shape[-1])
        noise = self.simulator.sample_noise((self.n_steps, *lead), generator=generator,
                                            dtype=state.dtype, device=state.device)
        return rollout_return(self.simulator, self.policy, state, action, noise,
                              gamma=self.gamma, n_steps=self.n_steps)


def fit_regression(
    critic: nn.Module,
    state: torch.Tensor,
    action: torch.Tensor,
    target: torch.Tensor,
    *,
    n_updates: int,
    batch_size: int,
    lr: float,
    n_samples: int,
    generator: torch.Generator | None = None,
) -> None:
    """Fit a critic's mean value and mean action-gradient to Monte-Carlo means (Sobolev regression).

    The loss is `‖E_ξ Z(s, a, ξ) - Ḡ‖² + ‖E_ξ ∇ₐZ - ∇ₐḠ‖²` per member (ξ averaged over
    `n_samples` draws; a deterministic critic has no ξ), on minibatches of a fixed data set: no
    bootstrapping and no distribution, so what it reaches is what the network and the budget
    allow (the floor of the fidelity table's mean and gradient errors).

    Args:
      critic: a critic of `dvg_core.models` (trained in place with Adam).
      state: `[P, d_s]`; action: `[P, d_a]`; target: `[P, 1+d_a]` Monte-Carlo means.
      n_updates, batch_size, lr: the optimisation budget.
      n_samples: ξ draws per pair for the critic's mean.
      generator: RNG for minibatches and ξ.
    """
    check_int_at_least("n_updates", n_updates, 1)
    optimizer = torch.optim.Adam(critic.parameters(), lr=lr)
    params = list(critic.parameters())
    for _ in range(n_updates):
        index = torch.randint(0, state.shape[0], (batch_size,), generator=generator,
                              device=state.device)
        s, a, y = state[index], action[index], target[index]
        xi = None
        if hasattr(critic, "sample_xi"):
            xi = critic.sample_xi((batch_size, n_samples), generator=generator)
        x = joint_samples(critic, s, a, xi, lam=1.0).mean(dim=2)  # [E, B, 1+d_a]
        loss = (x - y).square().sum(-1).sum(0).mean()
        gradient_step(optimizer, loss, params)


def on_policy_fidelity(
    agent: Agent, simulator: DifferentiableSimulator, state: torch.Tensor, *, gamma: float,
    n_truth: int = 64, n_samples: int = 16, generator: torch.Generator | None = None,
) -> dict[str, float]:
    """`fidelity_metrics` of the agent's critic at `(s, π(s))` for the given states, against
    Monte-Carlo truth under its own actor: how well the critic knows the law of the policy it
    is training, where that policy goes.

    Args:
      agent: the agent (actor and critic are read, not changed).
      simulator: the env's differentiable simulator (e.g. `PointMassDynamics`).
      state: `[B, d_s]` probe states (e.g. those of an evaluation episode).
      gamma: the critic's discount.
      n_truth: Monte-Carlo samples per probe; n_samples: critic samples per probe and member.
      generator: RNG of the truth's noise and the critic's ξ (the training stream is untouched).
    """
    with torch.no_grad():
        action = agent.actor(state)
    truth = sobolev_return_samples(simulator, agent.actor, state, action, gamma=gamma,
                                   n_samples=n_truth, generator=generator)
    samples = critic_joint_samples(agent, state, action, n_samples=n_samples, generator=generator)
    return fidelity_metrics(samples, truth, distributional=hasattr(agent.critic, "sample_xi"))
