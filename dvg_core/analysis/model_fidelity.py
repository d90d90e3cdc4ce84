"""World-model fidelity: what a value-gradient learner takes from its model, against the truth.

A Sobolev target differentiates through the model: at a fixed noise draw it reads `(s', r)` and
their pathwise derivatives `∂s'/∂a`, `∂r/∂a`. A model can reproduce the law of `(s', r)` and
still get those derivatives wrong (docs/concepts/world-models.md). On the toy the truth of all of it is the
differentiable step (`OracleWorldModel(PointMassDynamics(spec))`), so every model is measured at
fixed probe pairs against it:

* `transition_draws`: `K` draws per pair of `(s', r)` and of their pathwise action-Jacobian,
  any world model (learned or the simulator);
* `model_metrics`: the law of `(s', r)` (`sample_mmd2`, what the workbench measured before), the
  joint law of `(s', r, ∂s'/∂a, ∂r/∂a)` (`joint_energy`), the errors of the mean derivatives
  (`reward_gradient_error`, `state_gradient_error`) and how often the reward falls between the
  truth's modes (`between_modes`);
* `target_metrics`: what the learner receives, the Sobolev targets `(y, ∇ₐy)` built through the
  model against the same targets built through the simulator, with the same target policy and
  target critic (`target_mean_error`, `target_gradient_error`, `target_energy`).

Relative errors are relative L2 errors over the probes, `rms_b ‖est_b - truth_b‖ / rms_b
‖truth_b‖` (0 exact; 1 is as bad as predicting zero everywhere). Distances are in standardised
units: every coordinate divided by the truth's standard deviation over all probes and draws, or
by a tenth of its root mean square where the truth (nearly) holds it fixed (`truth_scale`: the
toy's `∂s'/∂a = dt·I` inside the box).

The benchmark's grid and records live in `workbench.fidelity.world_model_grid`; the trainer logs the same
metrics at the policy's own states (`dvg_core.training.FidelityMonitor`).
"""

from __future__ import annotations

from typing import Any

import torch

from dvg_core.analysis.policy_evaluation import joint_mmd_to_truth
from dvg_core.losses.distances import energy_distance
from dvg_core.losses.sobolev import sobolev_targets
from dvg_core.util.validation import check_int_at_least, check_shape

__all__ = [
    "MODEL_METRICS",
    "TARGET_METRICS",
    "model_metrics",
    "relative_error",
    "standardised_energy",
    "target_metrics",
    "transition_draws",
]

MODEL_METRICS = ("sample_mmd2", "joint_energy", "reward_gradient_error",
                 "state_gradient_error", "between_modes")
"""The keys `model_metrics` returns, in table order."""
TARGET_METRICS = ("target_mean_error", "target_gradient_error", "target_energy")
"""The keys `target_metrics` returns, in table order."""

SCALE_FLOOR = 1e-3
"""The absolute floor of `truth_scale` (a coordinate the truth holds at zero)."""
RELATIVE_SCALE_FLOOR = 0.1
"""`truth_scale`'s floor relative to the coordinate's root mean square."""


def transition_draws(
    model: Any, state: torch.Tensor, action: torch.Tensor, *, n_draws: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`K` draws per pair of `(s', r)` and their pathwise action-Jacobian at the same noise.

    The derivative of draw `k` is the model's at its own noise (`sample(s, a, noise_k)`
    differentiated in `a`, the noise held fixed): what `dvg_core.losses.sobolev` differentiates.
    Draws do not interact, so one backward pass of the sum over draws per output coordinate gives
    every draw's row of the Jacobian (d_s + 1 passes; not a hot path).

    Args:
      model: a world model (`dvg_core.models.world_models`), the simulator's oracle included.
      state: `[B, d_s]`; action: `[B, d_a]`.
      n_draws: K >= 2.

    Returns:
      `(values [B, K, d_s+1], jacobian [B, K, d_s+1, d_a])`: `(s', r)` and `∂(s', r)/∂a`,
      detached.
    """
    check_int_at_least("n_draws", n_draws, 2)
    check_shape("state", state, [None, model.state_dim])
    check_shape("action", action, [state.shape[0], model.action_dim])
    lead = (state.shape[0], n_draws)
    noise = model.sample_noise(lead, generator=generator)
    state_k = state.detach()[:, None].expand(*lead, state.shape[-1])
    with torch.enable_grad():
        action_k = action.detach()[:, None].expand(*lead, action.shape[-1]).clone()
        action_k.requires_grad_(True)
        next_state, reward, _ = model.sample(state_k, action_k, noise)
        values = torch.cat([next_state, reward.unsqueeze(-1)], -1)  # [B, K, d_s+1]
        rows = [torch.autograd.grad(values[..., j].sum(), action_k,
                                    retain_graph=j + 1 < values.shape[-1])[0]
                for j in range(values.shape[-1])]
    return values.detach(), torch.stack(rows, -2)  # [B, K, d_s+1, d_a]


def relative_error(estimate: torch.Tensor, truth: torch.Tensor) -> float:
    """`rms_b ‖estimate_b - truth_b‖ / rms_b ‖truth_b‖` over `[B, ...]` (0 exact, 1 = zero)."""
    if estimate.shape != truth.shape:
        raise ValueError(f"estimate {list(estimate.shape)} and truth {list(truth.shape)} "
                         "must have one shape")
    error = (estimate - truth).flatten(1).square().sum(-1).mean()
    scale = truth.flatten(1).square().sum(-1).mean().clamp_min(1e-24)
    return float((error / scale).sqrt())


def truth_scale(truth: torch.Tensor) -> torch.Tensor:
    """`[D]` units of `truth [B, K, D]`'s coordinates: the std over all probes and draws, at
    least `RELATIVE_SCALE_FLOOR` times the root mean square and `SCALE_FLOOR`."""
    flat = truth.reshape(-1, truth.shape[-1])
    floor = (RELATIVE_SCALE_FLOOR * flat.square().mean(0).sqrt()).clamp_min(SCALE_FLOOR)
    return torch.maximum(flat.std(dim=0), floor)


def standardised_energy(samples: torch.Tensor, truth: torch.Tensor) -> float:
    """Energy distance per probe between `[B, M, D]` and `[B, K, D]`, every coordinate in units
    of `truth_scale(truth)`; mean over probes."""
    scale = truth_scale(truth)
    return float(energy_distance(samples / scale, truth / scale).mean())


def _joint(values: torch.Tensor, jacobian: torch.Tensor) -> torch.Tensor:
    """`(s', r, ∂s'/∂a, ∂r/∂a)` per draw: `[B, K, (d_s+1)(1+d_a)]`."""
    return torch.cat([values, jacobian.flatten(-2)], -1)


def between_modes(reward: torch.Tensor, truth_reward: torch.Tensor, *, gap: float = 0.1
                  ) -> float:
    """Fraction of model rewards farther than `gap` from every reward value the truth takes at
    the same probe, in units of the truth's reward range over all probes: mass between the
    truth's modes (0 for the simulator itself, up to its own noise).

    Args:
      reward: `[B, M]` model rewards; truth_reward: `[B, K]` the truth's at the same probes.
    """
    unit = (truth_reward.amax() - truth_reward.amin()).clamp_min(SCALE_FLOOR)
    distance = (reward[..., :, None] - truth_reward[..., None, :]).abs().amin(-1)  # [B, M]
    return float((distance > gap * unit).float().mean())


def model_metrics(
    model: Any, truth: Any, state: torch.Tensor, action: torch.Tensor, *, n_draws: int = 256,
    generator: torch.Generator | None = None,
) -> dict[str, float]:
    """A world model against the truth (the simulator as a world model) at probe pairs.

    * `sample_mmd2`: MMD² (RBF mixture, `joint_mmd_to_truth`) between the laws of `(s', r)`,
      standardised, mean over probes: the measure the workbench used before.
    * `joint_energy`: energy distance between the joint laws of `(s', r, ∂s'/∂a, ∂r/∂a)`,
      standardised, mean over probes.
    * `reward_gradient_error`, `state_gradient_error`: relative L2 errors of the mean pathwise
      derivatives `E ∂r/∂a` `[B, d_a]` and `E ∂s'/∂a` `[B, d_s, d_a]` (`relative_error`).
    * `between_modes`: `between_modes` of the rewards.

    Args:
      model, truth: world models; state: `[B, d_s]`; action: `[B, d_a]`.
      n_draws: K draws per pair of each.
      generator: one generator for both (the model's draws first).

    Returns:
      the `MODEL_METRICS` as floats.
    """
    values, jacobian = transition_draws(model, state, action, n_draws=n_draws,
                                        generator=generator)
    truth_values, truth_jacobian = transition_draws(truth, state, action, n_draws=n_draws,
                                                    generator=generator)
    mean_jacobian, truth_mean_jacobian = jacobian.mean(1), truth_jacobian.mean(1)
    return {
        "sample_mmd2": float(joint_mmd_to_truth(values, truth_values).mean()),
        "joint_energy": standardised_energy(_joint(values, jacobian),
                                            _joint(truth_values, truth_jacobian)),
        "reward_gradient_error": relative_error(mean_jacobian[:, -1], truth_mean_jacobian[:, -1]),
        "state_gradient_error": relative_error(mean_jacobian[:, :-1],
                                               truth_mean_jacobian[:, :-1]),
        "between_modes": between_modes(values[..., -1], truth_values[..., -1]),
    }


def target_metrics(
    model: Any, truth: Any, target_actor: Any, target_critic: Any, state: torch.Tensor,
    action: torch.Tensor, *, gamma: float, n_samples: int = 16,
    generator: torch.Generator | None = None,
) -> dict[str, float]:
    """The Sobolev targets a learner receives through `model` against those through `truth`.

    Both are `dvg_core.losses.sobolev.sobolev_targets` at λ = 1, untruncated, with the same
    target policy and target critic (any critic with `sample_returns`, deterministic or
    generative), `n_samples` draws per pair and member.

    * `target_mean_error`: relative L2 error of the mean target `E y` `[B]` over the probes;
    * `target_gradient_error`: the same for `E ∇ₐy` `[B, d_a]`;
    * `target_energy`: standardised energy distance between the joint laws of `(y, ∇ₐy)`.

    Returns:
      the `TARGET_METRICS` as floats.
    """
    def targets(world_model: Any) -> torch.Tensor:  # [B, E·M', 1+d_a]
        return sobolev_targets(world_model, target_actor, target_critic, state, action,
                               gamma=gamma, n_samples=n_samples, lam=1.0, generator=generator)

    y, y_truth = targets(model), targets(truth)
    return {
        "target_mean_error": relative_error(y[..., 0].mean(1, keepdim=True),
                                            y_truth[..., 0].mean(1, keepdim=True)),
        "target_gradient_error": relative_error(y[..., 1:].mean(1), y_truth[..., 1:].mean(1)),
        "target_energy": standardised_energy(y, y_truth),
    }
