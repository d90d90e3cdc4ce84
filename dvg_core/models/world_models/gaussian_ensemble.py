"""MAGE/PETS-style probabilistic ensemble world model (paper-notes §5.1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from dvg_core.models.ensemble import EnsembleMLP
from dvg_core.util.validation import check_int_at_least, check_positive
from dvg_core.models.world_models.base import TerminatedFn
from dvg_core.models.world_models.learned import LearnedWorldModel, check_hidden, check_order, soft_clamp


class EnsembleNoise(NamedTuple):
    """Noise of `GaussianEnsembleWorldModel` for leading shape `[*]`."""

    member: torch.Tensor
    """Index of the ensemble member used, integer `[*]` in `{0..E-1}`."""
    normal: torch.Tensor
    """Standard normal `[*, d_s+1]`, scaled by the member's predicted std."""


class GaussianEnsembleWorldModel(LearnedWorldModel):
    """Probabilistic ensemble of Gaussian MLPs over normalised `(Δs, r)` (PETS / MAGE style).

    Source: Chua et al. 2018 (PETS, https://arxiv.org/abs/1805.12114) and MAGE's model
    (paper-notes §5.1). All E members live in one `EnsembleMLP`; each outputs a mean and a
    log-variance, soft-bounded by learned `max_logvar`/`min_logvar` (PETS), trained by Gaussian
    NLL plus `logvar_bound_weight · (Σ max_logvar - Σ min_logvar)`. GUESS: every member trains on
    the same batch (no bootstrap; diversity comes from the initialisation), the per-member mean
    NLLs are summed so each member gets the step it would get alone.

    Sampling: one member per transition, `y = mean_k + exp(logvar_k / 2) ⊙ normal`,
    reparameterised. All members are evaluated batched and the chosen one gathered (E× the cost
    of one member; fine for small E). A Gaussian per member cannot represent a multimodal reward.

    Noise: `EnsembleNoise(member [*], normal [*, d_s+1])`.
    """

    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        *,
        n_members: int = 5,
        hidden: Sequence[int] = (200, 200, 200),
        activation: str = "silu",
        lr: float = 1e-3,
        min_logvar: float = -10.0,
        max_logvar: float = 0.5,
        logvar_bound_weight: float = 0.01,
        terminated_fn: TerminatedFn | None = None,
        update_normalizer_in_fit: bool = True,
    ) -> None:
        super().__init__(state_dim, action_dim, terminated_fn, update_normalizer_in_fit)
        self.n_members = check_int_at_least("n_members", n_members, 1)
        check_order("min_logvar", min_logvar, "max_logvar", max_logvar)
        self.logvar_bound_weight = check_positive("logvar_bound_weight", logvar_bound_weight)
        d_out = state_dim + 1
        self.net = EnsembleMLP(n_members, state_dim + action_dim, 2 * d_out,
                               check_hidden(hidden), activation)
        self.min_logvar = nn.Parameter(torch.full((d_out,), float(min_logvar)))
        self.max_logvar = nn.Parameter(torch.full((d_out,), float(max_logvar)))
        self.optimizer = torch.optim.Adam(self.parameters(), lr=check_positive("lr", lr))

    def sample_noise(
        self, batch_shape: tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> EnsembleNoise:
        """A uniform member index and a standard normal per transition, on the model's device."""
        shape = tuple(batch_shape)
        member = torch.randint(self.n_members, shape, generator=generator,
                               device=self._param().device)
        return EnsembleNoise(member, self._standard_normal(shape, self.state_dim + 1, generator))

    def sample(
        self, state: torch.Tensor, action: torch.Tensor, noise: EnsembleNoise
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Chosen member's `mean + std ⊙ normal`. `([*, d_s], [*], [*] float 0/1)`."""
        x = self._inputs(state, action)
        lead, d_out = state.shape[:-1], self.state_dim + 1
        if not (isinstance(noise, tuple) and len(noise) == 2):
            raise ValueError(f"noise must be an EnsembleNoise(member, normal), got {type(noise)}")
        noise = EnsembleNoise(*noise)
        self._check_noise("noise.normal", noise.normal, lead, d_out)
        if noise.member.shape != lead or noise.member.dtype.is_floating_point:
            raise ValueError(f"noise.member must be an integer tensor of shape {list(lead)}, "
                             f"got {noise.member.dtype} {list(noise.member.shape)}")
        mean, logvar = self._members(x)  # [E, *, d_s+1]
        index = noise.member.unsqueeze(0).unsqueeze(-1).expand(1, *lead, d_out)
        mean, logvar = mean.gather(0, index).squeeze(0), logvar.gather(0, index).squeeze(0)
        return self._outputs(state, mean + (0.5 * logvar).exp() * noise.normal)

    def _members(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Every member's mean and bounded log-variance, `[E, *, d_s+1]` each, for `x [*, in]`."""
        mean, raw = self.net(x.expand(self.n_members, *x.shape)).chunk(2, dim=-1)
        return mean, soft_clamp(raw, self.min_logvar, self.max_logvar)

    def _loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Gaussian NLL (up to a constant) summed over members, batch mean; normalised units."""
        mean, logvar = self._members(x)  # [E, B, d_s+1]
        nll = 0.5 * ((y - mean).square() * (-logvar).exp() + logvar).sum(-1)  # [E, B]
        bound = self.logvar_bound_weight * (self.max_logvar.sum() - self.min_logvar.sum())
        loss = nll.mean(-1).sum() + bound
        return loss, {"nll": nll.mean(), "mse": (y - mean).square().sum(-1).mean()}
