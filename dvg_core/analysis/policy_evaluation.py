"""Policy evaluation: train a critic for a fixed policy and measure it against the Monte-Carlo truth.

The first scientific check of the method, and the engine of the explore notebook: with a fixed
policy (the agent's actor, never stepped) and usually the oracle world model, the critic is
trained on random `(s, a)` pairs by its strategy's loss, and its joint samples
`(Z, ∇ₐZ)` at probe pairs are compared with `dvg_core.analysis.ground_truth.sobolev_return_samples`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from dvg_core.agents.agent import Agent
from dvg_core.agents import Batch
from dvg_core.losses.distances import mmd2
from dvg_core.analysis.ground_truth import DifferentiableSimulator, sobolev_return_samples
from dvg_core.losses.kernels import make_kernel
from dvg_core.losses.sobolev import joint_samples
from dvg_core.util.validation import check_int_at_least

__all__ = [
    "EVALUATION_BANDWIDTHS",
    "critic_joint_samples",
    "joint_mmd_to_truth",
    "train_critic",
    "truth_at",
    "uniform_pairs",
]

PairSampler = Callable[[int, torch.Generator | None], tuple[torch.Tensor, torch.Tensor]]

EVALUATION_BANDWIDTHS = (0.25, 0.5, 1.0, 2.0)
"""Bandwidths of the RBF-mixture MMD used as the accuracy metric, in units of the truth's
per-coordinate standard deviation (so return and gradient parts both count)."""


def uniform_pairs(low: torch.Tensor, high: torch.Tensor, action_dim: int) -> PairSampler:
    """A sampler of states uniform in the box `[low, high]` and actions uniform in `[-1, 1]`."""

    def sample(batch: int, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        u = torch.rand(batch, low.shape[-1], generator=generator, device=low.device)
        state = low + (high - low) * u
        action = 2 * torch.rand(batch, action_dim, generator=generator, device=low.device) - 1
        return state, action

    return sample


def train_critic(
    agent: Agent,
    sample_pairs: PairSampler,
    *,
    n_updates: int,
    batch_size: int,
    generator: torch.Generator | None = None,
    callback: Callable[[int, dict[str, torch.Tensor]], None] | None = None,
    polyak: bool = True,
) -> torch.Tensor:
    """Train `agent.critic` for the agent's fixed actor on transitions from its world model.

    Each update draws `(s, a)` pairs, one model transition per pair (for the real-transition
    `td3` loss), takes a critic step, and Polyak-updates the target critic only (`polyak=False`
    leaves the target critic alone: a fixed stand-in such as `dvg_core.analysis.fidelity.MonteCarloCritic`).

    Returns:
      the critic loss of every update, `[n_updates]` (one host sync, at the end).
    """
    check_int_at_least("n_updates", n_updates, 1)
    check_int_at_least("batch_size", batch_size, 1)
    losses = []
    for i in range(n_updates):
        state, action = sample_pairs(batch_size, generator)
        with torch.no_grad():
            noise = agent.world_model.sample_noise((batch_size,), generator=generator)
            next_state, reward, done = agent.world_model.sample(state, action, noise)
        info = agent.update_critic(Batch(state, action, reward, next_state, done), generator)
        if polyak:
            agent.update_targets(actor=False)
        losses.append(info["critic_loss"])
        if callback is not None:
            callback(i, info)
    return torch.stack(losses)


def critic_joint_samples(
    agent: Agent, state: torch.Tensor, action: torch.Tensor, *, n_samples: int,
    generator: torch.Generator | None = None, complete: bool = False,
) -> torch.Tensor:
    """The critic's `(Z, ∇ₐZ)` at `(s, a)`, pooled over its members: `[B, E·M, 1+d_a]`; with
    `complete`, `(Z, ∇ₛZ, ∇ₐZ)`: `[B, E·M, 1+d_s+d_a]` (any critic: ∇ₛZ is autodiff).

    A deterministic critic contributes one point per member; the gradient part is unscaled (λ = 1).
    """
    critic = agent.critic
    xi = None
    if hasattr(critic, "sample_xi"):
        xi = critic.sample_xi((state.shape[0], n_samples), generator=generator)
    x = joint_samples(critic, state, action, xi, lam=1.0,
                      lam_state=1.0 if complete else None).detach()  # [E, B, M, D]
    return x.transpose(0, 1).reshape(state.shape[0], -1, x.shape[-1])


def joint_mmd_to_truth(
    samples: torch.Tensor, truth: torch.Tensor
) -> torch.Tensor:
    """MMD² between critic samples and Monte-Carlo truth, per probe, in standardised units.

    Each coordinate is divided by the truth's standard deviation over all probes and samples
    (floored at 1e-3), then an RBF mixture over `EVALUATION_BANDWIDTHS` compares the sets.

    Args:
      samples: `[B, M, 1+d_a]` critic samples; truth: `[B, K, 1+d_a]`.

    Returns:
      `[B]` MMD² (V-statistic).
    """
    scale = truth.reshape(-1, truth.shape[-1]).std(dim=0).clamp_min(1e-3)
    kernel = make_kernel("rbf", bandwidths=EVALUATION_BANDWIDTHS)
    return mmd2(samples / scale, truth / scale, kernel)


def truth_at(
    simulator: DifferentiableSimulator, agent: Agent, state: torch.Tensor, action: torch.Tensor,
    *, gamma: float, n_samples: int, generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Monte-Carlo `(G, ∇ₐG)` at `(s, a)` under the agent's actor: `[B, K, 1+d_a]`."""
    return sobolev_return_samples(simulator, agent.actor, state, action, gamma=gamma,
                                  n_samples=n_samples, generator=generator)
