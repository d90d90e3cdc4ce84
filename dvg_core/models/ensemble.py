"""Ensemble-batched building blocks: a linear layer and an MLP with a leading member dim `E`
(mbrl-lib's layout: weight `[E, in, out]`, bias `[E, 1, out]`), the input concatenation the critics
share, and the state input that may pass through a shared observation normaliser.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from dvg_core.util.validation import check_choice, check_int_at_least

__all__ = ["ACTIVATIONS", "EnsembleLinear", "EnsembleMLP", "StateInput", "concat_inputs"]

ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU, "elu": nn.ELU, "tanh": nn.Tanh, "gelu": nn.GELU}
"""Activation names accepted by the networks. Critics default to a smooth one (`silu`), since
their input-gradients are trained (a ReLU critic has a piecewise-constant ∇ₐZ)."""


class EnsembleLinear(nn.Module):
    """E independent linear layers evaluated in one batched matmul.

    Args:
      n_members: E.
      in_features, out_features: layer sizes.

    Shapes: input `[E, N, in]`, output `[E, N, out]`.
    """

    def __init__(self, n_members: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_members, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(n_members, 1, out_features))
        bound = 1.0 / math.sqrt(in_features)  # nn.Linear's default init, per member
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleMLP(nn.Module):
    """An MLP whose every layer is an `EnsembleLinear`: `[E, *, in] -> [E, *, out]`."""

    def __init__(
        self,
        n_members: int,
        in_features: int,
        out_features: int,
        hidden: tuple[int, ...] = (256, 256),
        activation: str = "silu",
    ) -> None:
        super().__init__()
        check_int_at_least("n_members", n_members, 1)
        check_choice("activation", activation, list(ACTIVATIONS))
        sizes = (in_features, *hidden, out_features)
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(EnsembleLinear(n_members, n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
        self.layers = nn.Sequential(*layers)
        self.n_members = n_members

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim < 2 or x.shape[0] != self.n_members:
            raise ValueError(
                f"input must have shape [E={self.n_members}, *, in], got {list(x.shape)}"
            )
        lead = x.shape[:-1]
        flat = x.reshape(self.n_members, -1, x.shape[-1])  # [E, N, in]
        return self.layers(flat).reshape(*lead, -1)  # [E, *, out]


def concat_inputs(n_members: int, *parts: torch.Tensor, members: bool) -> torch.Tensor:
    """Broadcast the leading dims of `parts` and concatenate features: `[E, *, sum d]`."""
    lead = torch.broadcast_shapes(*(p.shape[:-1] for p in parts))
    if members and (len(lead) == 0 or lead[0] != n_members):
        raise ValueError(f"member inputs must have leading dim E={n_members}, got {list(lead)}")
    if not members:
        lead = (n_members, *lead)
    return torch.cat([p.expand(*lead, p.shape[-1]) for p in parts], dim=-1)



class StateInput(nn.Module):
    """A network whose state input may pass through a shared observation normaliser first.

    `obs_normalizer` (a `dvg_core.models.normalization.RunningNormalizer`, None by default) is attached
    by the agent and shared by actor, critics and their targets; it is affine and has no
    parameters, so action-gradients are unchanged and the nets see standardised states.
    """

    def __init__(self) -> None:
        super().__init__()
        self.obs_normalizer: nn.Module | None = None

    def normalize_state(self, state: torch.Tensor) -> torch.Tensor:
        """The state as the network sees it: `[*, d_s]`."""
        return state if self.obs_normalizer is None else self.obs_normalizer.normalize(state)


