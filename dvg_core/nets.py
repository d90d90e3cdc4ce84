"""Networks: an ensemble-batched MLP, the deterministic actor and the three critic families.

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

from dvg_core.validation import check_choice, check_int_at_least, check_shape

__all__ = [
    "ACTIVATIONS",
    "Actor",
    "EnsembleLinear",
    "EnsembleMLP",
    "GenerativeCritic",
    "NoiseDrivenCritic",
    "QuantileCritic",
    "StateInput",
    "TwinQ",
]

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


def _concat_inputs(n_members: int, *parts: torch.Tensor, members: bool) -> torch.Tensor:
    """Broadcast the leading dims of `parts` and concatenate features: `[E, *, sum d]`."""
    lead = torch.broadcast_shapes(*(p.shape[:-1] for p in parts))
    if members and (len(lead) == 0 or lead[0] != n_members):
        raise ValueError(f"member inputs must have leading dim E={n_members}, got {list(lead)}")
    if not members:
        lead = (n_members, *lead)
    return torch.cat([p.expand(*lead, p.shape[-1]) for p in parts], dim=-1)


def _sample_returns(
    critic: nn.Module, state: torch.Tensor, action: torch.Tensor, *, members: bool,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """`critic.forward_members` at fresh noise `critic.sample_xi(...)`: `[E, *]`."""
    lead = torch.broadcast_shapes(state.shape[:-1], action.shape[:-1])
    if not members:
        lead = (critic.n_members, *lead)
    xi = critic.sample_xi(tuple(lead), generator=generator)
    return critic.forward_members(state, action, xi)


class StateInput(nn.Module):
    """A network whose state input may pass through a shared observation normaliser first.

    `obs_normalizer` (a `dvg_core.normalization.RunningNormalizer`, None by default) is attached
    by the agent and shared by actor, critics and their targets; it is affine and has no
    parameters, so action-gradients are unchanged and the nets see standardised states.
    """

    def __init__(self) -> None:
        super().__init__()
        self.obs_normalizer: nn.Module | None = None

    def normalize_state(self, state: torch.Tensor) -> torch.Tensor:
        """The state as the network sees it: `[*, d_s]`."""
        return state if self.obs_normalizer is None else self.obs_normalizer.normalize(state)


class Actor(StateInput):
    """Deterministic policy `π(s)`, tanh-bounded to the box `[action_low, action_high]`.

    Args:
      state_dim, action_dim: sizes.
      action_low, action_high: bounds `[d_a]` (default the unit box).
      hidden, activation: MLP shape (TD3's default: two ReLU layers of 256).

    Shapes: `state [*, d_s] -> action [*, d_a]`.
    """

    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        *,
        action_low: torch.Tensor | None = None,
        action_high: torch.Tensor | None = None,
        hidden: tuple[int, ...] = (256, 256),
        activation: str = "relu",
    ) -> None:
        super().__init__()
        low = -torch.ones(action_dim) if action_low is None else torch.as_tensor(action_low)
        high = torch.ones(action_dim) if action_high is None else torch.as_tensor(action_high)
        check_shape("action_low", low, [action_dim])
        check_shape("action_high", high, [action_dim])
        if not bool((high > low).all()):
            raise ValueError("action_high must exceed action_low in every dimension")
        self.register_buffer("center", ((high + low) / 2).float())
        self.register_buffer("half_range", ((high - low) / 2).float())
        self.net = EnsembleMLP(1, state_dim, action_dim, hidden, activation)
        self.state_dim = state_dim

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        check_shape("state", state, ["...", self.state_dim])
        raw = self.net(self.normalize_state(state).unsqueeze(0)).squeeze(0)
        return self.center + self.half_range * torch.tanh(raw)


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
        return _sample_returns(self, state, action, members=members, generator=generator)


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
        x = _concat_inputs(self.n_members, self.normalize_state(state), action, xi, members=False)
        return self.net(x).squeeze(-1)

    def forward_members(
        self, state: torch.Tensor, action: torch.Tensor, xi: torch.Tensor
    ) -> torch.Tensor:
        x = _concat_inputs(self.n_members, self.normalize_state(state), action, xi, members=True)
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
        x = _concat_inputs(self.n_members, self.normalize_state(state), action, members=False)
        return self.net(x).squeeze(-1)

    def forward_members(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        x = _concat_inputs(self.n_members, self.normalize_state(state), action, members=True)
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
        x = _concat_inputs(self.n_members, self.normalize_state(state), action, members=False)
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
        x = _concat_inputs(self.n_members, self.normalize_state(state), action, members=True)
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
        return _sample_returns(self, state, action, members=members, generator=generator)

    def _quantiles(self, x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        psi = torch.relu(self.trunk(x))  # [E, *, H]
        cos = torch.cos(tau.unsqueeze(-1) * self.frequencies)  # [(E), *, N, n_cos]
        lead = torch.broadcast_shapes(psi.shape[:-1], cos.shape[:-2])
        cos = cos.expand(*lead, *cos.shape[-2:])  # [E, *, N, n_cos]
        flat = cos.reshape(self.n_members, -1, cos.shape[-1])
        phi = torch.relu(self.tau_embed(flat)).reshape(*cos.shape[:-1], -1)  # [E, *, N, H]
        return self.head(psi.unsqueeze(-2) * phi).squeeze(-1)  # [E, *, N]
