"""One-step stochastic world models `(s, a, noise) -> (s', r, done)`, reparameterised in `(s, a)`.

Every model follows the `WorldModel` protocol: `noise = model.sample_noise(shape, generator=g)`,
then `next_state, reward, done = model.sample(state, action, noise)` is a differentiable function
of `state` and `action` with the noise held fixed (the pathwise gradients the Sobolev targets need,
paper-notes §2.4), and `model.fit(s, a, r, s')` takes one gradient step on a replay batch.

* `OracleWorldModel`: a differentiable simulator (e.g. `PointMassDynamics`) used as the model, to
  isolate the critic from model error.
* `CVAEWorldModel`: the paper's conditional VAE with a learned prior (paper-notes §2.7).
* `GaussianEnsembleWorldModel`: MAGE/PETS-style probabilistic ensemble (paper-notes §5.1).

Learned models work in normalised units: inputs `(s, a)` and targets `(Δs = s' - s, r)` are
standardised with `RunningNormalizer` buffers (saved in `state_dict`). GUESS (the paper gives no
normalisation): by default `fit` merges each batch it sees into the statistics (exact pooled mean
and variance of everything seen, so they settle as data accumulates); `update_normalizer` can
also be fed the whole replay, with `update_normalizer_in_fit=False` to keep the statistics fixed.
Checkpoints: `model.state_dict()` plus `model.optimizer.state_dict()` (the optimiser is exposed,
not folded into the module's state dict; the oracle has none, `optimizer is None`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from dvg_core.nets import EnsembleMLP
from dvg_core.normalization import RunningNormalizer
from dvg_core.validation import check_int_at_least, check_positive, check_shape

__all__ = [
    "CVAEWorldModel",
    "EnsembleNoise",
    "GaussianEnsembleWorldModel",
    "OracleWorldModel",
    "RunningNormalizer",
    "WorldModel",
    "diag_gaussian_kl",
    "never_terminates",
]

TerminatedFn = Callable[[torch.Tensor], torch.Tensor]


def never_terminates(next_state: torch.Tensor) -> torch.Tensor:
    """Default termination function: boolean zeros `[*]` for `next_state [*, d_s]`."""
    return torch.zeros(next_state.shape[:-1], dtype=torch.bool, device=next_state.device)


class WorldModel(Protocol):
    """The interface the agents rely on (see the module docstring).

    `sample(state [*, d_s], action [*, d_a], noise) -> (next_state [*, d_s], reward [*],
    done [*])`, `done` a float 0/1; `fit(state [B, d_s], action [B, d_a], reward [B],
    next_state [B, d_s]) -> dict` of detached scalar metrics after one gradient step.
    """

    state_dim: int
    action_dim: int

    def sample_noise(
        self, batch_shape: tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> Any: ...

    def sample(
        self, state: torch.Tensor, action: torch.Tensor, noise: Any
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...

    def fit(
        self,
        state: torch.Tensor,
        action: torch.Tensor,
        reward: torch.Tensor,
        next_state: torch.Tensor,
    ) -> dict[str, torch.Tensor]: ...


def _check_state_action(
    state: torch.Tensor, action: torch.Tensor, state_dim: int, action_dim: int
) -> torch.Size:
    """Check `state [*, d_s]`, `action [*, d_a]` with equal leading dims; return `*`."""
    check_shape("state", state, ["...", state_dim])
    check_shape("action", action, ["...", action_dim])
    if action.shape[:-1] != state.shape[:-1]:
        raise ValueError(f"action must have the leading dims of state {list(state.shape[:-1])}, "
                         f"got {list(action.shape)}")
    return state.shape[:-1]


def _check_transitions(
    state: torch.Tensor,
    action: torch.Tensor,
    reward: torch.Tensor,
    next_state: torch.Tensor,
    state_dim: int,
    action_dim: int,
) -> None:
    """Check a replay batch: `state [B, d_s]`, `action [B, d_a]`, `reward [B]`,
    `next_state [B, d_s]`."""
    check_shape("state", state, [None, state_dim])
    lead = _check_state_action(state, action, state_dim, action_dim)
    check_shape("reward", reward, [lead[0]])
    check_shape("next_state", next_state, [lead[0], state_dim])
    if lead[0] < 1:
        raise ValueError("the batch must hold at least one transition (B >= 1)")


class OracleWorldModel(nn.Module):
    """A differentiable simulator used as the world model (no parameters, no training).

    Args:
      dynamics: an object with `state_dim`, `action_dim`, `sample_noise(batch_shape, generator=,
        dtype=, device=)`, `step(state, action, noise) -> (next_state, reward)` and
        `terminated(next_state) -> bool [*]`, e.g. `dvg_core.envs.PointMassDynamics`.
      dtype: float dtype of the noise; `.double()` / `.to(device)` change dtype and device.

    Noise: the simulator's own noise object. `fit` validates its batch and returns `{}`;
    `optimizer` is None.
    """

    def __init__(self, dynamics: Any, *, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.dynamics = dynamics
        self.state_dim, self.action_dim = int(dynamics.state_dim), int(dynamics.action_dim)
        # Empty, non-persistent: only tracks the dtype and device that `.to()` gives the module.
        self.register_buffer("_anchor", torch.zeros(0, dtype=dtype), persistent=False)
        self.optimizer = None

    def sample_noise(
        self, batch_shape: tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> Any:
        """The simulator's noise for `batch_shape` transitions, on the model's device."""
        return self.dynamics.sample_noise(
            tuple(batch_shape), generator=generator, dtype=self._anchor.dtype,
            device=self._anchor.device,
        )

    def sample(
        self, state: torch.Tensor, action: torch.Tensor, noise: Any
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`dynamics.step` then `dynamics.terminated`: `([*, d_s], [*], [*] float 0/1)`."""
        _check_state_action(state, action, self.state_dim, self.action_dim)
        next_state, reward = self.dynamics.step(state, action, noise)
        done = self.dynamics.terminated(next_state).to(next_state.dtype)
        return next_state, reward, done

    def fit(
        self,
        state: torch.Tensor,
        action: torch.Tensor,
        reward: torch.Tensor,
        next_state: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """Nothing to learn: validate the batch and return `{}`."""
        _check_transitions(state, action, reward, next_state, self.state_dim, self.action_dim)
        return {}


def _soft_clamp(
    x: torch.Tensor, low: torch.Tensor | float, high: torch.Tensor | float
) -> torch.Tensor:
    """Smoothly bound `x` to `(low, high)` with softplus (PETS' max/min log-variance trick)."""
    x = high - F.softplus(high - x)
    return low + F.softplus(x - low)


def _check_hidden(hidden: Sequence[int]) -> tuple[int, ...]:
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise ValueError(f"hidden must be a sequence of layer widths, got {hidden!r}")
    return tuple(check_int_at_least(f"hidden[{i}]", h, 1) for i, h in enumerate(hidden))


def _check_order(low_name: str, low: float, high_name: str, high: float) -> None:
    if not float(low) < float(high):
        raise ValueError(f"{low_name} must be < {high_name} (= {high!r}), got {low!r}")


class _LearnedWorldModel(nn.Module):
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
        _check_transitions(state, action, reward, next_state, self.state_dim, self.action_dim)
        self.input_norm.update(torch.cat([state, action], -1))
        self.target_norm.update(_targets(state, reward, next_state))

    def fit(
        self,
        state: torch.Tensor,
        action: torch.Tensor,
        reward: torch.Tensor,
        next_state: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """One gradient step of the model's loss on a replay batch, with its own optimiser.

        Gradients the caller left on the model's parameters (e.g. from backpropagating a critic
        loss through `sample`) are cleared first.

        Args:
          state: `[B, d_s]`; action: `[B, d_a]`; reward: `[B]`; next_state: `[B, d_s]`.

        Returns:
          detached scalar metrics (`loss` and model-specific terms), batch means.
        """
        loss, metrics = self.fit_loss(state, action, reward, next_state)
        assert self.optimizer is not None
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
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
        _check_transitions(state, action, reward, next_state, self.state_dim, self.action_dim)
        if self.update_normalizer_in_fit:
            self.update_normalizer(state, action, reward, next_state)
        x = self.input_norm.normalize(torch.cat([state, action], -1))  # [B, d_s+d_a]
        y = self.target_norm.normalize(_targets(state, reward, next_state))  # [B, d_s+1]
        loss, metrics = self._loss(x, y)
        return loss, {"loss": loss.detach(), **{k: v.detach() for k, v in metrics.items()}}

    def _inputs(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Validated, normalised `(s, a)`: `[*, d_s+d_a]`."""
        _check_state_action(state, action, self.state_dim, self.action_dim)
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


def _targets(state: torch.Tensor, reward: torch.Tensor, next_state: torch.Tensor) -> torch.Tensor:
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


def _mlp(net: EnsembleMLP, x: torch.Tensor) -> torch.Tensor:
    """A one-member `EnsembleMLP` on `[*, in]` inputs: `[*, out]`."""
    return net(x.unsqueeze(0)).squeeze(0)


class CVAEWorldModel(_LearnedWorldModel):
    """Conditional VAE world model with a learned prior: `(s, a, noise) -> (s', r, done)`.

    Source: paper-notes §2.7 (cVAE with learned prior, encoder, decoder; Sohn et al. 2015).
    Encoder `q(z | s, a, Δs, r)` is a diagonal Gaussian, the prior `p(z | s, a)` a diagonal
    Gaussian (`prior_components = 1`, the default) or a mixture of K of them; the decoder maps
    `(s, a, z)` to normalised `(Δs, r)`. Training minimises the negative β-ELBO per transition,
    `‖y - dec(s, a, z)‖² / (2 σ_dec²) + β KL(q || p)`, `z ~ q` (reparameterised; the KL in closed
    form for K = 1, else the one-sample estimate `-H(q) - log p(z)`).

    GUESS (the paper gives no likelihood or sizes): the decoder is deterministic at generation,
    `z = μ_p(s, a) + σ_p(s, a) ⊙ ε`, output `dec(s, a, z)`; all randomness lives in z, so
    `latent_dim` must be at least the dimension of the noise to reproduce (e.g. d_s for
    independent per-coordinate dynamics noise). In training the decoder likelihood is Gaussian
    with a *fixed, small* std `decoder_std` (normalised units): the ELBO fits
    `Law[dec(z)] * N(0, σ_dec²)` to the data, so the generated law is the data law up to a blur
    of variance σ_dec² (1% of a unit-variance target at 0.1), whereas a large σ_dec lets the
    decoder explain the noise away and collapses z onto the conditional mean. With Adam only
    `β σ_dec²` matters (β = 0.25 at σ_dec = 0.1 trains exactly like β = 1 at σ_dec = 0.05).

    Discrete modes (the toy's reward location): the encoder puts each mode in its own narrow
    cluster of z; a single Gaussian prior covers the gaps between clusters, which decode to values
    *between* the modes (measured on the toy: ~19% of the rewards near a goal, against 0.1% in
    the simulator). `prior_components = K > 1` (GUESS, beyond the paper's description) lets the
    prior put one component on each cluster and removes most of this (~5%). The component is
    then picked by inverse CDF of a uniform `u` under the mixture weights `π(s, a)`: piecewise
    constant in `(s, a)`, so the pathwise gradient ignores how the weights move with `a`
    (as a simulator's own discrete noise does) and `s'` jumps where `u` crosses a boundary.

    Defaults: `latent_dim` 8, two SiLU layers of 256 (smooth `∂s'/∂a`), β = 1, Adam at 1e-3.

    Noise: `[*, noise_dim]`, `ε ~ N(0, I)` `[*, latent_dim]`, followed for K > 1 by `u ~ U[0, 1)`.
    """

    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        *,
        latent_dim: int = 8,
        prior_components: int = 1,
        hidden: Sequence[int] = (256, 256),
        activation: str = "silu",
        beta: float = 1.0,
        decoder_std: float = 0.1,
        lr: float = 1e-3,
        min_log_std: float = -7.0,
        max_log_std: float = 2.0,
        terminated_fn: TerminatedFn | None = None,
        update_normalizer_in_fit: bool = True,
    ) -> None:
        super().__init__(state_dim, action_dim, terminated_fn, update_normalizer_in_fit)
        self.latent_dim = check_int_at_least("latent_dim", latent_dim, 1)
        self.prior_components = check_int_at_least("prior_components", prior_components, 1)
        self.noise_dim = latent_dim + (prior_components > 1)
        hidden = _check_hidden(hidden)
        self.beta = check_positive("beta", beta)
        self.decoder_std = check_positive("decoder_std", decoder_std)
        _check_order("min_log_std", min_log_std, "max_log_std", max_log_std)
        self.min_log_std, self.max_log_std = float(min_log_std), float(max_log_std)
        d_in, d_out, k = state_dim + action_dim, state_dim + 1, prior_components
        self.prior = EnsembleMLP(1, d_in, 2 * k * latent_dim + (k > 1) * k, hidden, activation)
        self.encoder = EnsembleMLP(1, d_in + d_out, 2 * latent_dim, hidden, activation)
        self.decoder = EnsembleMLP(1, d_in + latent_dim, d_out, hidden, activation)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=check_positive("lr", lr))

    def sample_noise(
        self, batch_shape: tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """`[*batch_shape, noise_dim]`: `ε ~ N(0, I)` (and `u ~ U[0, 1)` last if K > 1)."""
        p, shape = self._param(), tuple(batch_shape)
        eps = torch.randn((*shape, self.latent_dim), generator=generator, dtype=p.dtype,
                          device=p.device)
        if self.prior_components == 1:
            return eps
        u = torch.rand((*shape, 1), generator=generator, dtype=p.dtype, device=p.device)
        return torch.cat([eps, u], -1)

    def sample(
        self, state: torch.Tensor, action: torch.Tensor, noise: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Generate: `z = μ_c + σ_c ⊙ ε` (`c` picked by `u`), decode. `([*, d_s], [*], [*])`."""
        x = self._inputs(state, action)
        self._check_noise("noise", noise, state.shape[:-1], self.noise_dim)
        logits, mu_p, log_std_p = self._prior(x)  # [*, K], [*, K, d_z] x2
        if logits is None:
            mu, log_std = mu_p.squeeze(-2), log_std_p.squeeze(-2)
        else:  # inverse CDF of u: piecewise constant in (s, a), no gradient through the choice
            cdf = logits.detach().softmax(-1).cumsum(-1)
            c = (noise[..., -1:] >= cdf).sum(-1).clamp_max(self.prior_components - 1)  # [*]
            index = c[..., None, None].expand(*c.shape, 1, self.latent_dim)
            mu = mu_p.gather(-2, index).squeeze(-2)
            log_std = log_std_p.gather(-2, index).squeeze(-2)
        z = mu + log_std.exp() * noise[..., : self.latent_dim]  # [*, d_z]
        return self._outputs(state, _mlp(self.decoder, torch.cat([x, z], -1)))

    def _prior(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
        """Prior mixture logits `[*, K]` (None if K = 1), means and log-stds `[*, K, d_z]`."""
        k, d_z = self.prior_components, self.latent_dim
        out = _mlp(self.prior, x)
        logits = out[..., 2 * k * d_z:] if k > 1 else None
        mu, raw = out[..., : 2 * k * d_z].unflatten(-1, (k, 2 * d_z)).chunk(2, dim=-1)
        return logits, mu, _soft_clamp(raw, self.min_log_std, self.max_log_std)

    def _loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Negative β-ELBO, batch mean; `x [B, d_s+d_a]`, `y [B, d_s+1]` normalised."""
        mu_q, raw = _mlp(self.encoder, torch.cat([x, y], -1)).chunk(2, dim=-1)
        log_std_q = _soft_clamp(raw, self.min_log_std, self.max_log_std)
        z = mu_q + log_std_q.exp() * torch.randn_like(mu_q)  # [B, d_z]
        y_hat = _mlp(self.decoder, torch.cat([x, z], -1))
        recon = 0.5 * ((y - y_hat) / self.decoder_std).square().sum(-1)  # [B], -log p + const
        logits, mu_p, log_std_p = self._prior(x)
        if logits is None:  # closed form
            kl = diag_gaussian_kl(mu_q, log_std_q, mu_p.squeeze(-2), log_std_p.squeeze(-2))
        else:  # -H(q) - log p(z), z ~ q: one-sample estimate (no closed form for a mixture)
            log_pz = _diag_gaussian_log_prob(z.unsqueeze(-2), mu_p, log_std_p)  # [B, K]
            log_pz = (logits.log_softmax(-1) + log_pz).logsumexp(-1)
            entropy_q = (log_std_q + 0.5 * math.log(2 * math.pi * math.e)).sum(-1)
            kl = -entropy_q - log_pz  # [B]
        loss = (recon + self.beta * kl).mean()
        return loss, {"recon": recon.mean(), "kl": kl.mean()}


def _diag_gaussian_log_prob(
    z: torch.Tensor, mu: torch.Tensor, log_std: torch.Tensor
) -> torch.Tensor:
    """`log N(z; μ, diag σ²)` summed over the last dim: `[*]`."""
    sq = ((z - mu) / log_std.exp()).square()
    return -0.5 * (sq + 2 * log_std + math.log(2 * math.pi)).sum(-1)


class EnsembleNoise(NamedTuple):
    """Noise of `GaussianEnsembleWorldModel` for leading shape `[*]`."""

    member: torch.Tensor
    """Index of the ensemble member used, integer `[*]` in `{0..E-1}`."""
    normal: torch.Tensor
    """Standard normal `[*, d_s+1]`, scaled by the member's predicted std."""


class GaussianEnsembleWorldModel(_LearnedWorldModel):
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
        _check_order("min_logvar", min_logvar, "max_logvar", max_logvar)
        self.logvar_bound_weight = check_positive("logvar_bound_weight", logvar_bound_weight)
        d_out = state_dim + 1
        self.net = EnsembleMLP(n_members, state_dim + action_dim, 2 * d_out,
                               _check_hidden(hidden), activation)
        self.min_logvar = nn.Parameter(torch.full((d_out,), float(min_logvar)))
        self.max_logvar = nn.Parameter(torch.full((d_out,), float(max_logvar)))
        self.optimizer = torch.optim.Adam(self.parameters(), lr=check_positive("lr", lr))

    def sample_noise(
        self, batch_shape: tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> EnsembleNoise:
        """A uniform member index and a standard normal per transition, on the model's device."""
        p = self._param()
        shape = tuple(batch_shape)
        member = torch.randint(self.n_members, shape, generator=generator, device=p.device)
        normal = torch.randn((*shape, self.state_dim + 1), generator=generator,
                             dtype=p.dtype, device=p.device)
        return EnsembleNoise(member, normal)

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
        return mean, _soft_clamp(raw, self.min_logvar, self.max_logvar)

    def _loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Gaussian NLL (up to a constant) summed over members, batch mean; normalised units."""
        mean, logvar = self._members(x)  # [E, B, d_s+1]
        nll = 0.5 * ((y - mean).square() * (-logvar).exp() + logvar).sum(-1)  # [E, B]
        bound = self.logvar_bound_weight * (self.max_logvar.sum() - self.min_logvar.sum())
        loss = nll.mean(-1).sum() + bound
        return loss, {"nll": nll.mean(), "mse": (y - mean).square().sum(-1).mean()}
