"""A conditional normalising-flow world model: the ablation of the paper's cVAE (issue 20)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import torch
import zuko
from zuko.transforms import MonotonicRQSTransform

from dvg_core.models.ensemble import ACTIVATIONS
from dvg_core.models.world_models.base import TerminatedFn
from dvg_core.models.world_models.learned import LearnedWorldModel, check_hidden
from dvg_core.names import FLOW_LAYOUTS
from dvg_core.util.validation import (
    check_choice, check_int_at_least, check_nonnegative, check_positive,
)


class FlowWorldModel(LearnedWorldModel):
    """Conditional neural spline flow over normalised `(Δs, r)` given `(s, a)`.

    Source: Durkan et al. 2019, "Neural Spline Flows" (https://arxiv.org/abs/1906.04032). Each
    of `transforms` layers is a monotonic rational-quadratic spline per feature whose knots an
    MLP computes from the context `(s, a)` and other features. Two layouts, both from zuko, both
    trained by maximum likelihood:
    - `two_pass` (issue 20's flow): `zuko.flows.NSF(passes=2)`, a masked autoregressive layer in
      two blocks. Every feature is transformed in every layer: the first half's knots depend on
      the context only, the second half's on the context and the first half. The inverse (the
      sampling direction) takes two network evaluations per layer, and two spline inverses of
      all features.
    - `coupling` (Dinh et al. 2017, https://arxiv.org/abs/1605.08803, with the spline as the
      coupling function), as `zuko.flows.coupling.GeneralCouplingTransform`. One part of the
      features passes unchanged and conditions the spline of the other; the parts alternate
      from layer to layer (features 0, 2, 4, ... transformed in even layers, 1, 3, ... in odd
      ones), so with two or more layers every feature is transformed. Each direction costs one
      network evaluation per layer and splines only the transformed part: sampling with its
      backward pass costs about 0.4 of `two_pass` at toy sizes. It is less expressive for the
      same layers: in the Dyna loop at N = 3 its learners ended at half their oracle-model
      returns, where `two_pass` kept them at 0.84-0.96 (docs/lab/world-models.md).

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
        layout: str = "two_pass",
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
        self.layout = check_choice("layout", layout, list(FLOW_LAYOUTS))
        check_int_at_least("transforms", transforms, 1)
        check_int_at_least("bins", bins, 2)
        features, context = state_dim + 1, state_dim + action_dim
        if layout == "two_pass":
            self.flow = zuko.flows.NSF(
                features, context, transforms=transforms, bins=bins, passes=2,
                hidden_features=check_hidden(hidden), activation=ACTIVATIONS[activation],
            )
        else:
            self.flow = _coupling_spline_flow(features, context, transforms, bins,
                                              check_hidden(hidden), ACTIVATIONS[activation])
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
        y = self._inverse(x, noise)  # [*, d_s+1], normalised (Δs, r)
        return self._outputs(state, y)

    def _inverse(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """`T⁻¹(ε; x)`, the layers inverted last to first: what `self.flow(x).transform.inv`
        computes, written out so that `torch.compile` traces it in one graph (zuko's
        `ComposedTransform` stops dynamo at its constructor's `assert transforms`)."""
        y = noise
        for layer in reversed(self.flow.transform.transforms):
            y = layer(x).inv(y)
        return y

    def _loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Negative log-likelihood (nats, normalised units) of noise-regularised `y`, batch
        mean; `x [B, d_s+d_a]`, `y [B, d_s+1]`."""
        y = y + self.target_noise * torch.randn_like(y)
        nll = -self.flow(x).log_prob(y)  # [B]
        return nll.mean(), {"nll": nll.mean()}


class _SplineCoupling(zuko.flows.LazyTransform):
    """One spline coupling layer: the features where `mask` is True pass unchanged and, with
    the context, give the knots of a monotonic rational-quadratic spline of the others (as
    `zuko.flows.coupling.GeneralCouplingTransform` with `MonotonicRQSTransform`).

    Written here rather than taken from zuko for one reason: zuko keeps the mask in a buffer and
    writes the two parts back in place, and neither works under `torch.func.vmap` when a
    `SeedStack` stacks the seeds' modules (`nonzero` of a batched mask). The mask is structure,
    not state: a tuple of bools here, and the parts are merged by a gather.
    """

    def __init__(self, features: int, context: int, mask: Sequence[bool], bins: int,
                 hidden: tuple[int, ...], activation: type[torch.nn.Module]) -> None:
        super().__init__()
        self.mask = tuple(bool(m) for m in mask)
        n_a = sum(self.mask)
        if len(self.mask) != features or not 0 < n_a < features:
            raise ValueError(f"mask must have {features} entries, some but not all True, "
                             f"got {self.mask}")
        self.shapes = [(bins,), (bins,), (bins - 1,)]  # widths, heights, inner derivatives
        self.total = 3 * bins - 1
        self.hyper = zuko.nn.MLP(n_a + context, (features - n_a) * self.total,
                                 hidden_features=hidden, activation=activation)

    def meta(self, c: torch.Tensor, x_a: torch.Tensor) -> zuko.transforms.Transform:
        """The spline of the transformed part given the context `c [*, context]` and the
        passing part `x_a [*, n_a]`."""
        phi = self.hyper(torch.cat(zuko.utils.broadcast(x_a, c, ignore=1), dim=-1))
        phi = zuko.utils.unpack(phi.unflatten(-1, (-1, self.total)), self.shapes)
        return zuko.transforms.DependentTransform(MonotonicRQSTransform(*phi), 1)

    def forward(self, c: torch.Tensor) -> zuko.transforms.Transform:
        mask = torch.tensor(self.mask, device=c.device)
        return _GatherCoupling(partial(self.meta, c), mask)


class _GatherCoupling(zuko.transforms.CouplingTransform):
    """`zuko.transforms.CouplingTransform` whose parts are merged by one gather of their
    concatenation (no in-place writes, so it runs under `vmap`)."""

    def __init__(self, meta: Callable[[torch.Tensor], zuko.transforms.Transform],
                 mask: torch.Tensor) -> None:
        super().__init__(meta, mask)
        self.order = torch.argsort(torch.cat([self.idx_a, self.idx_b]))

    def merge(self, x_a: torch.Tensor, x_b: torch.Tensor, shape: torch.Size) -> torch.Tensor:
        return torch.cat([x_a, x_b], dim=-1)[..., self.order]


def _coupling_spline_flow(
    features: int, context: int, transforms: int, bins: int, hidden: tuple[int, ...],
    activation: type[torch.nn.Module],
) -> zuko.flows.Flow:
    """`transforms` spline coupling layers over `features` given `context`, with alternating
    masks (True: the features that pass unchanged and condition the others), on a
    standard-normal base."""
    if features < 2:
        raise ValueError(f"layout 'coupling' needs at least 2 features (d_s + 1), got {features}")
    layers = [_SplineCoupling(features, context, [(j + i) % 2 == 1 for j in range(features)],
                              bins, hidden, activation)
              for i in range(transforms)]
    base = zuko.flows.UnconditionalDistribution(
        zuko.distributions.DiagNormal, torch.zeros(features), torch.ones(features), buffer=True)
    return zuko.flows.Flow(layers, base)
