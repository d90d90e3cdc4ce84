"""A conditional normalising-flow world model: the ablation of the paper's cVAE (issue 20)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import zuko

from dvg_core.models.ensemble import ACTIVATIONS
from dvg_core.models.world_models.base import TerminatedFn
from dvg_core.models.world_models.learned import LearnedWorldModel, check_hidden
from dvg_core.util.validation import (
    check_choice, check_int_at_least, check_nonnegative, check_positive,
)


class FlowWorldModel(LearnedWorldModel):
    """Conditional neural spline flow over normalised `(Δs, r)` given `(s, a)`.

    Source: Durkan et al. 2019, "Neural Spline Flows" (https://arxiv.org/abs/1906.04032), as
    `zuko.flows.NSF` in its coupling form (`passes=2`): each of `transforms` layers is a
    monotonic rational-quadratic spline of one half of the features whose knots an MLP computes
    from the other half and the context `(s, a)`; the layers alternate the halves. Coupling
    (rather than a fully autoregressive MAF) makes both directions cost one network evaluation
    per layer (two for the inverse), whatever `d_s`. Trained by maximum likelihood.

    Sampling is reparameterised: `y = T⁻¹(ε; s, a)` with base noise `ε ~ N(0, I)` drawn first,
    so `(s', r)` is a differentiable function of `(s, a)` with `ε` held fixed (the splines are C¹
    in their input and their knots, the hyper-networks smooth with SiLU).

    GUESS (the paper only names the ablation): noise regularisation (Rothfuss et al. 2019,
    https://arxiv.org/abs/1907.08982): during training the normalised targets get Gaussian
    noise of std `target_noise`, so a deterministic coordinate (noise-free MuJoCo) does not drive
    the likelihood to a degenerate spike; the generated law is the data law blurred by a
    variance `target_noise²` (1e-4 of a unit-variance target at 0.01). Sizes: 3 layers, 8 bins,
    SiLU hyper-networks of `hidden`, Adam at 1e-3. Splines act on `[-5, 5]` (identity outside),
    which standardised targets fill.

    Noise: `ε ~ N(0, I)` `[*, d_s+1]`.
    """

    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        *,
        transforms: int = 3,
        bins: int = 8,
        hidden: Sequence[int] = (256, 256),
        activation: str = "silu",
        target_noise: float = 0.01,
        lr: float = 1e-3,
        terminated_fn: TerminatedFn | None = None,
        update_normalizer_in_fit: bool = True,
    ) -> None:
        super().__init__(state_dim, action_dim, terminated_fn, update_normalizer_in_fit)
        check_choice("activation", activation, list(ACTIVATIONS))
        self.target_noise = check_nonnegative("target_noise", target_noise)
        self.flow = zuko.flows.NSF(
            state_dim + 1, state_dim + action_dim,
            transforms=check_int_at_least("transforms", transforms, 1),
            bins=check_int_at_least("bins", bins, 2), passes=2,
            hidden_features=check_hidden(hidden), activation=ACTIVATIONS[activation],
        )
        self.optimizer = torch.optim.Adam(self.parameters(), lr=check_positive("lr", lr))

    def sample_noise(
        self, batch_shape: tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Base noise `ε ~ N(0, I)`: `[*batch_shape, d_s+1]`, on the model's device."""
        return self._standard_normal(tuple(batch_shape), self.state_dim + 1, generator)

    def sample(
        self, state: torch.Tensor, action: torch.Tensor, noise: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Push `ε` through the inverse flow conditioned on `(s, a)`.

        Args:
          state: `[*, d_s]`; action: `[*, d_a]`; noise: `[*, d_s+1]` from `sample_noise`.

        Returns:
          `(next_state [*, d_s], reward [*], done [*] float 0/1)`, differentiable in state and
          action.
        """
        x = self._inputs(state, action)  # [*, d_s+d_a]
        self._check_noise("noise", noise, state.shape[:-1], self.state_dim + 1)
        y = self.flow(x).transform.inv(noise)  # [*, d_s+1], normalised (Δs, r)
        return self._outputs(state, y)

    def _loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Negative log-likelihood (nats, normalised units) of noise-regularised `y`, batch
        mean; `x [B, d_s+d_a]`, `y [B, d_s+1]`."""
        y = y + self.target_noise * torch.randn_like(y)
        nll = -self.flow(x).log_prob(y)  # [B]
        return nll.mean(), {"nll": nll.mean()}
