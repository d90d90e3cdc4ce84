"""What the learned world models share: normalised inputs and targets, soft clamps, one fit step."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from dvg_core.models.ensemble import EnsembleMLP
from dvg_core.models.normalization import RunningNormalizer
from dvg_core.util.updates import gradient_step
from dvg_core.util.validation import check_int_at_least, check_shape
from dvg_core.models.world_models.base import TerminatedFn, check_state_action, check_transitions, never_terminates


def soft_clamp(
    x: torch.Tensor, low: torch.Tensor | float, high: torch.Tensor | float
) -> torch.Tensor:
    """Smoothly bound `x` to `(low, high)` with softplus (PETS' max/min log-variance trick)."""
    x = high - F.softplus(high - x)
    return low + F.softplus(x - low)


def check_hidden(hidden: Sequence[int]) -> tuple[int, ...]:
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise ValueError(f"hidden must be a sequence of layer widths, got {hidden!r}")
    return tuple(check_int_at_least(f"hidden[{i}]", h, 1) for i, h in enumerate(hidden))


def check_order(low_name: str, low: float, high_name: str, high: float) -> None:
    if not float(low) < float(high):
        raise ValueError(f"{low_name} must be < {high_name} (= {high!r}), got {low!r}")


class LearnedWorldModel(nn.Module):
    """Shared plumbing of the learned models: normalisers, validation, `done`, the `fit` step."""

    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        terminated_fn: TerminatedFn | None,
        update_normalizer_in_fit: bool,
    ) -> None:
        super().__init__()
        self.state_dim = check_int_at_least("state_dim", state_dim, 1)
        self.action_dim = check_int_at_least("action_dim", action_dim, 1)
        if terminated_fn is not None and not callable(terminated_fn):
            raise ValueError(f"terminated_fn must be callable or None, got {terminated_fn!r}")
        self.terminated_fn = never_terminates if terminated_fn is None else terminated_fn
        self.update_normalizer_in_fit = bool(update_normalizer_in_fit)
        self.input_norm = RunningNormalizer(state_dim + action_dim)  # (s, a)
        self.target_norm = RunningNormalizer(state_dim + 1)  # (Δs, r)
        self.optimizer: torch.optim.Optimizer | None = None  # set by subclasses

    def _param(self) -> torch.Tensor:
        return next(self.parameters())

    def _standard_normal(
        self, batch_shape: tuple[int, ...], dim: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """`N(0, I)` noise `[*batch_shape, dim]` in the model's dtype, on its device."""
        p = self._param()
        return torch.randn((*batch_shape, dim), generator=generator, dtype=p.dtype,
                           device=p.device)

    def _loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The batch-mean loss and its terms, from normalised `x [B, d_s+d_a]`, `y [B, d_s+1]`."""
        raise NotImplementedError

    def update_normalizer(
        self,
        state: torch.Tensor,
        action: torch.Tensor,
        reward: torch.Tensor,
        next_state: torch.Tensor,
    ) -> None:
        """Merge a batch of transitions (`[B, ·]` as in `fit`) into the normaliser statistics."""
        check_transitions(state, action, reward, next_state, self.state_dim, self.action_dim)
        self.input_norm.update(torch.cat([state, action], -1))
        self.target_norm.update(transition_targets(state, reward, next_state))

    def fit(
        self,
        state: torch.Tensor,
        action: torch.Tensor,
        reward: torch.Tensor,
        next_state: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """One gradient step of the model's loss on a replay batch, with its own optimiser.

        Gradients the caller left on the model's parameters (e.g. from backpropagating a critic
        loss through `sample`) are replaced (`dvg_core.util.updates.gradient_step`).

        Args:
          state: `[B, d_s]`; action: `[B, d_a]`; reward: `[B]`; next_state: `[B, d_s]`.

        Returns:
          detached scalar metrics (`loss` and model-specific terms), batch means.
        """
        loss, metrics = self.fit_loss(state, action, reward, next_state)
        assert self.optimizer is not None
        gradient_step(self.optimizer, loss)  # the learners' model fit takes the same step
        return metrics

    def fit_loss(
        self,
        state: torch.Tensor,
        action: torch.Tensor,
        reward: torch.Tensor,
        next_state: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """`fit` without the step: merge the batch into the normalisers (if
        `update_normalizer_in_fit`), return the loss (attached) and its detached metrics."""
        check_transitions(state, action, reward, next_state, self.state_dim, self.action_dim)
        if self.update_normalizer_in_fit:
            self.update_normalizer(state, action, reward, next_state)
        x = self.input_norm.normalize(torch.cat([state, action], -1))  # [B, d_s+d_a]
        y = self.target_norm.normalize(transition_targets(state, reward, next_state))  # [B, d_s+1]
        loss, metrics = self._loss(x, y)
        return loss, {"loss": loss.detach(), **{k: v.detach() for k, v in metrics.items()}}

    def _inputs(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Validated, normalised `(s, a)`: `[*, d_s+d_a]`."""
        check_state_action(state, action, self.state_dim, self.action_dim)
        return self.input_norm.normalize(torch.cat([state, action], -1))

    def _outputs(
        self, state: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Normalised `(Δs, r)` `[*, d_s+1]` -> `(next_state [*, d_s], reward [*], done [*])`."""
        y = self.target_norm.denormalize(y)
        next_state = state + y[..., : self.state_dim]
        done = self.terminated_fn(next_state).to(next_state.dtype)
        return next_state, y[..., self.state_dim], done

    def _check_noise(self, name: str, noise: object, lead: torch.Size, dim: int) -> None:
        check_shape(name, noise, ["...", dim])
        assert isinstance(noise, torch.Tensor)
        if noise.shape[:-1] != lead:
            raise ValueError(f"{name} must have shape {[*lead, dim]}, got {list(noise.shape)}")


def transition_targets(state: torch.Tensor, reward: torch.Tensor, next_state: torch.Tensor) -> torch.Tensor:
    """The learned models' targets `(Δs, r)`: `[B, d_s+1]`."""
    return torch.cat([next_state - state, reward.unsqueeze(-1)], -1)


def diag_gaussian_kl(
    mu_q: torch.Tensor, log_std_q: torch.Tensor, mu_p: torch.Tensor, log_std_p: torch.Tensor
) -> torch.Tensor:
    """`KL(N(μ_q, σ_q²) || N(μ_p, σ_p²))` between diagonal Gaussians, summed over the last dim.

    Source: the closed form `Σ_i [log σ_p/σ_q + (σ_q² + (μ_q - μ_p)²) / (2 σ_p²) - 1/2]`.

    Args:
      mu_q, log_std_q, mu_p, log_std_p: `[*, d_z]` (broadcastable).

    Returns:
      `[*]` KL in nats, no reduction over `*`.
    """
    log_ratio = log_std_q - log_std_p
    mahalanobis = ((mu_q - mu_p) / log_std_p.exp()).square()
    return 0.5 * ((2 * log_ratio).exp() + mahalanobis - 1 - 2 * log_ratio).sum(-1)


def ensemble_forward(net: EnsembleMLP, x: torch.Tensor) -> torch.Tensor:
    """A one-member `EnsembleMLP` on `[*, in]` inputs: `[*, out]`."""
    return net(x.unsqueeze(0)).squeeze(0)




def diag_gaussian_log_prob(
    z: torch.Tensor, mu: torch.Tensor, log_std: torch.Tensor
) -> torch.Tensor:
    """`log N(z; μ, diag σ²)` summed over the last dim: `[*]`."""
    sq = ((z - mu) / log_std.exp()).square()
    return -0.5 * (sq + 2 * log_std + math.log(2 * math.pi)).sum(-1)


