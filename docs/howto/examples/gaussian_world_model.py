"""How-to example: a new world model, one heteroscedastic Gaussian MLP over `(Δs, r)`.

A learned model subclasses `LearnedWorldModel`, which gives it the input and target normalisers,
the validation, `done` from the task's termination function and the `fit` step; the model itself
says how it samples (`sample_noise`, `sample`, reparameterised) and what it fits (`_loss`).
`tests/test_howto_examples.py` fits it on the toy and checks its samples and pathwise gradients.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from dvg_core.models.ensemble import EnsembleMLP
from dvg_core.models.world_models.base import TerminatedFn
from dvg_core.models.world_models.learned import (
    LearnedWorldModel, check_hidden, ensemble_forward, soft_clamp,
)


class GaussianMLPWorldModel(LearnedWorldModel):
    """`(Δs, r) ~ N(μ(s, a), diag σ²(s, a))` in normalised units; noise `ε ~ N(0, I)` `[*, d_s+1]`,
    sample `μ + σ ⊙ ε` (differentiable in `s` and `a` with `ε` fixed)."""

    def __init__(
        self, state_dim: int, action_dim: int, *, hidden: Sequence[int] = (64, 64),
        lr: float = 1e-3, terminated_fn: TerminatedFn | None = None,
    ) -> None:
        super().__init__(state_dim, action_dim, terminated_fn, update_normalizer_in_fit=True)
        d_out = state_dim + 1
        self.net = EnsembleMLP(1, state_dim + action_dim, 2 * d_out, check_hidden(hidden), "silu")
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)

    def _mean_logvar(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, raw = ensemble_forward(self.net, x).chunk(2, dim=-1)  # [*, d_s+1] each
        return mean, soft_clamp(raw, -10.0, 0.5)

    def sample_noise(self, batch_shape, *, generator=None) -> torch.Tensor:
        return self._standard_normal(tuple(batch_shape), self.state_dim + 1, generator)

    def sample(self, state, action, noise):
        x = self._inputs(state, action)  # validated, normalised (s, a): [*, d_s+d_a]
        self._check_noise("noise", noise, state.shape[:-1], self.state_dim + 1)
        mean, logvar = self._mean_logvar(x)
        return self._outputs(state, mean + (0.5 * logvar).exp() * noise)  # (s', r, done)

    def _loss(self, x, y):
        mean, logvar = self._mean_logvar(x)  # [B, d_s+1]
        nll = 0.5 * ((y - mean).square() * (-logvar).exp() + logvar).sum(-1)  # [B]
        return nll.mean(), {"nll": nll.mean(), "mse": (y - mean).square().sum(-1).mean()}
