"""The three critic families (twin Q, noise-driven generative, quantile).

Every critic is an *ensemble* with a leading member dim `E` (twin critics: E = 2), built from one
`EnsembleLinear` per layer, so all members cost one batched matmul (mbrl-lib's layout:
weight `[E, in, out]`, bias `[E, 1, out]`).

Critic call convention: inputs shared by all members have shape `[*, d]` and give outputs
`[E, *]`; `forward_members` takes inputs that already carry the member dim, `[E, *, d]`, which is
what per-member input-gradients (`joint_samples`) need.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from dvg_core.models.ensemble import EnsembleLinear, EnsembleMLP, StateInput, concat_inputs
from dvg_core.util.validation import check_int_at_least

__all__ = ["GenerativeCritic", "NoiseDrivenCritic", "QuantileCritic", "TwinQ", "sample_returns"]


def sample_returns(
    critic: nn.Module, state: torch.Tensor, action: torch.Tensor, *, members: bool,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """`critic.forward_members` at fresh noise `critic.sample_xi(...)`: `[E, *]`."""
    lead = torch.broadcast_shapes(state.shape[:-1], action.shape[:-1])
    if not members:
        lead = (critic.n_members, *lead)
    xi = critic.sample_xi(tuple(lead), generator=generator)
    return critic.forward_members(state, action, xi)



class NoiseDrivenCritic(StateInput):
    """Base of the critics whose return samples are driven by Gaussian noise `ξ ~ N(0, I)`:
    `sample_xi` and `sample_returns` (subclasses define `forward_members` and `xi_dim`)."""

    xi_dim: int

    def sample_xi(
        self, batch_shape: tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Draw critic noise `ξ ~ N(0, I)`, shape `[*batch_shape, d_ξ]`, on the critic's device."""
        device = next(self.parameters()).device
        return torch.randn((*batch_shape, self.xi_dim), generator=generator, device=device)

    def sample_returns(
        self,
        state: torch.Tensor,
        action: torch.Tensor,
        *,
        members: bool,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """One return sample per member and input row, with fresh noise `ξ`: `[E, *]`.

        `members=True` means the inputs carry the member dim (`[E, *, ·]`).
        """
        return sample_returns(self, state, action, members=members, generator=generator)


class GenerativeCritic(NoiseDrivenCritic):
    """`Z_φ(s, a, ξ)`: E generative return models, one scalar return sample per noise `ξ`.

    Source: DSDPG's reparameterised critic (paper-notes §2.3). GUESS: ξ enters by concatenation
    with (s, a) (the paper does not say how), `xi_dim` defaults to 8 and activations are smooth
    (SiLU), since the Sobolev loss trains ∇ₐZ.

    Shapes: `forward(state [*, d_s], action [*, d_a], xi [*, d_ξ]) -> z [E, *]` (leading dims
    broadcast); `forward_members` takes `[E, *, ·]` inputs.
    """

    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        *,
        xi_dim: int = 8,
        n_members: int = 2,
        hidden: tuple[int, ...] = (256, 256),
        activation: str = "silu",
    ) -> None:
        super().__init__()
        check_int_at_least("xi_dim", xi_dim, 1)
        self.net = EnsembleMLP(n_members, state_dim + action_dim + xi_dim, 1, hidden, activation)
        self.state_dim, self.action_dim, self.xi_dim = state_dim, action_dim, xi_dim
        self.n_members = n_members

    def forward(self, state: torch.Tensor, action: torch.Tensor, xi: torch.Tensor) -> torch.Tensor:
        x = concat_inputs(self.n_members, self.normalize_state(state), action, xi, members=False)
        return self.net(x).squeeze(-1)

    def forward_members(
        self, state: torch.Tensor, action: torch.Tensor, xi: torch.Tensor
    ) -> torch.Tensor:
        x = concat_inputs(self.n_members, self.normalize_state(state), action, xi, members=True)
        return self.net(x).squeeze(-1)


class TwinQ(StateInput):
    """E deterministic critics `Q_k(s, a)` (TD3's twin critics for E = 2).

    Shapes: `forward(state [*, d_s], action [*, d_a]) -> q [E, *]`; `forward_members` takes
    `[E, *, ·]` inputs.
    """

    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        *,
        n_members: int = 2,
        hidden: tuple[int, ...] = (256, 256),
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.net = EnsembleMLP(n_members, state_dim + action_dim, 1, hidden, activation)
        self.state_dim, self.action_dim, self.n_members = state_dim, action_dim, n_members

    def forward(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        x = concat_inputs(self.n_members, self.normalize_state(state), action, members=False)
        return self.net(x).squeeze(-1)

    def forward_members(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        x = concat_inputs(self.n_members, self.normalize_state(state), action, members=True)
        return self.net(x).squeeze(-1)

    def sample_returns(
        self,
        state: torch.Tensor,
        action: torch.Tensor,
        *,
        members: bool,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Each member's value (a point mass, so a "sample" is the value itself): `[E, *]`."""
        return self.forward_members(state, action) if members else self(state, action)


class QuantileCritic(StateInput):
    """IQN critic `Z_τ(s, a)`: the τ-quantile of the return, with IQN's cosine embedding of τ.

    Source: Dabney et al. 2018 (https://arxiv.org/abs/1806.06923), eq. 4: `φ_j(τ) =
    ReLU(Σ_{i<n_cos} cos(π i τ) w_ij + b_j)`, merged with the (s, a) embedding by a Hadamard
    product, then a head.

    Shapes: `forward(state [*, d_s], action [*, d_a], tau [*, N]) -> [E, *, N]`.
    """

    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        *,
        n_members: int = 2,
        hidden: int = 256,
        n_cos: int = 64,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        check_int_at_least("n_cos", n_cos, 1)
        self.trunk = EnsembleMLP(n_members, state_dim + action_dim, hidden, (hidden,), activation)
        self.tau_embed = EnsembleLinear(n_members, n_cos, hidden)
        self.head = EnsembleMLP(n_members, hidden, 1, (hidden,), activation)
        self.register_buffer("frequencies", math.pi * torch.arange(n_cos, dtype=torch.float32))
        self.n_members = n_members
        self.state_dim, self.action_dim, self.xi_dim = state_dim, action_dim, 1

    def forward(self, state: torch.Tensor, action: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        x = concat_inputs(self.n_members, self.normalize_state(state), action, members=False)
        return self._quantiles(x, tau)

    def sample_xi(
        self, batch_shape: tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Quantile levels `τ ~ U(0, 1)`, `[*batch_shape, 1]`: IQN read as a generative critic
        whose noise is τ (the inverse-CDF sample `Z_τ` is a return sample)."""
        device = self.frequencies.device
        return torch.rand((*batch_shape, 1), generator=generator, device=device)

    def forward_members(
        self, state: torch.Tensor, action: torch.Tensor, xi: torch.Tensor
    ) -> torch.Tensor:
        """One quantile per row, inputs carrying the member dim: `xi = τ [E, *, 1] -> [E, *]`."""
        lead = torch.broadcast_shapes(state.shape[:-1], action.shape[:-1], xi.shape[:-1])
        state, action = state.expand(*lead, state.shape[-1]), action.expand(*lead, action.shape[-1])
        x = concat_inputs(self.n_members, self.normalize_state(state), action, members=True)
        return self._quantiles(x, xi).squeeze(-1)

    def sample_returns(
        self,
        state: torch.Tensor,
        action: torch.Tensor,
        *,
        members: bool,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """One return sample per member and row, by inverse transform: `Z_τ` at `τ ~ U(0, 1)`."""
        return sample_returns(self, state, action, members=members, generator=generator)

    def _quantiles(self, x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        psi = torch.relu(self.trunk(x))  # [E, *, H]
        cos = torch.cos(tau.unsqueeze(-1) * self.frequencies)  # [(E), *, N, n_cos]
        lead = torch.broadcast_shapes(psi.shape[:-1], cos.shape[:-2])
        cos = cos.expand(*lead, *cos.shape[-2:])  # [E, *, N, n_cos]
        flat = cos.reshape(self.n_members, -1, cos.shape[-1])
        phi = torch.relu(self.tau_embed(flat)).reshape(*cos.shape[:-1], -1)  # [E, *, N, H]
        return self.head(psi.unsqueeze(-2) * phi).squeeze(-1)  # [E, *, N]
