"""The paper's conditional VAE world model with a learned prior (paper-notes §2.7)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from dvg_core.models.ensemble import EnsembleMLP
from dvg_core.util.validation import check_int_at_least, check_positive
from dvg_core.models.world_models.base import TerminatedFn
from dvg_core.models.world_models.learned import LearnedWorldModel, check_hidden, check_order, diag_gaussian_kl, diag_gaussian_log_prob, ensemble_forward, soft_clamp


class CVAEWorldModel(LearnedWorldModel):
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

    Mean path (`mean_path=True`, the default; GUESS, beyond the paper's description): a
    deterministic network `m(s, a)`, trained by its own regression loss
    `‖y - m(s, a)‖² / (2 σ_dec²)`, predicts the conditional mean of the normalised target, and
    the cVAE models the *residual* `y - sg(m(s, a))`; generation outputs `m(s, a) + dec(s, a, z)`.
    Without it the decoder learns new regions of the input space through the encoder's shortcut
    (the encoder sees `y`, so writing `y` into `z` cuts the reconstruction error at once while the
    `(s, a) -> y` map is still wrong, and at σ_dec = 0.1 a normalised error e costs `50 e²` nats
    against a few nats of KL), and then the prior has to predict that code from `(s, a)`: in
    Dyna training (a model fitted 1000 steps on the random warm-up, then 250 steps per 250 env
    steps) the KL jumped from 0.1 to 13.5 nats at the first fit with new data and stayed at
    7-15; the posterior reconstructed the reward to 0.005, prior samples missed it by 0.5-1 (a
    reward of 0.7 per step predicted at the toy's wall, where it is 0). The mean path keeps the
    `(s, a) -> E[y]` regression trained whatever the latent does, so the latent only has to carry
    the residual spread (zero for deterministic transitions), which prior samples reproduce.

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
        mean_path: bool = True,
    ) -> None:
        super().__init__(state_dim, action_dim, terminated_fn, update_normalizer_in_fit)
        self.latent_dim = check_int_at_least("latent_dim", latent_dim, 1)
        self.prior_components = check_int_at_least("prior_components", prior_components, 1)
        self.noise_dim = latent_dim + (prior_components > 1)
        hidden = check_hidden(hidden)
        self.beta = check_positive("beta", beta)
        self.decoder_std = check_positive("decoder_std", decoder_std)
        check_order("min_log_std", min_log_std, "max_log_std", max_log_std)
        self.min_log_std, self.max_log_std = float(min_log_std), float(max_log_std)
        d_in, d_out, k = state_dim + action_dim, state_dim + 1, prior_components
        self.prior = EnsembleMLP(1, d_in, self._n_prior_outputs, hidden, activation)
        self.encoder = EnsembleMLP(1, d_in + d_out, 2 * latent_dim, hidden, activation)
        self.decoder = EnsembleMLP(1, d_in + latent_dim, d_out, hidden, activation)
        self.mean_net = EnsembleMLP(1, d_in, d_out, hidden, activation) if mean_path else None
        self.pair_features_width = max(hidden)
        """The widest layer of the networks behind `pair_features` (the cost that computing
        them once per pair saves, `dvg_core.losses.backup.pair_features_once`)."""
        self.optimizer = torch.optim.Adam(self.parameters(), lr=check_positive("lr", lr))

    def sample_noise(
        self, batch_shape: tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """`[*batch_shape, noise_dim]`: `ε ~ N(0, I)` (and `u ~ U[0, 1)` last if K > 1)."""
        shape = tuple(batch_shape)
        eps = self._standard_normal(shape, self.latent_dim, generator)
        if self.prior_components == 1:
            return eps
        p = self._param()
        u = torch.rand((*shape, 1), generator=generator, dtype=p.dtype, device=p.device)
        return torch.cat([eps, u], -1)

    def pair_features(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """What generation computes from `(s, a)` alone, before any noise: the prior network's
        output and the mean path's, `[*, C]` (C = prior outputs + d_s + 1 with the mean path).

        Model draws of one pair share them: `dvg_core.losses.backup.model_backup` computes them
        once per pair (with their Jacobian where the targets differentiate) and passes them to
        `sample`, instead of once per draw (issue 17's "cVAE prior once per pair")."""
        return self._pair_features(self._inputs(state, action))

    def _pair_features(self, x: torch.Tensor) -> torch.Tensor:
        """`pair_features` of normalised `x [*, d_s+d_a]`."""
        prior = ensemble_forward(self.prior, x)
        if self.mean_net is None:
            return prior
        return torch.cat([prior, ensemble_forward(self.mean_net, x)], -1)

    def sample(
        self, state: torch.Tensor, action: torch.Tensor, noise: torch.Tensor,
        pair_features: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Generate: `z = μ_c + σ_c ⊙ ε` (`c` picked by `u`), decode. `([*, d_s], [*], [*])`.

        `pair_features`: `self.pair_features(state, action)` computed by the caller, `[*, C]`
        or broadcastable to it (one row per pair); None computes them here."""
        x = self._inputs(state, action)
        self._check_noise("noise", noise, state.shape[:-1], self.noise_dim)
        if pair_features is None:
            pair_features = self._pair_features(x)
        pair_features = pair_features.expand(*x.shape[:-1], pair_features.shape[-1])  # a view
        n_prior = self._n_prior_outputs
        prior_out = pair_features[..., :n_prior]
        logits, mu_p, log_std_p = self._split_prior(prior_out)  # [*, K], [*, K, d_z] x2
        if logits is None:
            mu, log_std = mu_p.squeeze(-2), log_std_p.squeeze(-2)
        else:  # inverse CDF of u: piecewise constant in (s, a), no gradient through the choice
            cdf = logits.detach().softmax(-1).cumsum(-1)
            c = (noise[..., -1:] >= cdf).sum(-1).clamp_max(self.prior_components - 1)  # [*]
            index = c[..., None, None].expand(*c.shape, 1, self.latent_dim)
            mu = mu_p.gather(-2, index).squeeze(-2)
            log_std = log_std_p.gather(-2, index).squeeze(-2)
        z = mu + log_std.exp() * noise[..., : self.latent_dim]  # [*, d_z]
        y = ensemble_forward(self.decoder, torch.cat([x, z], -1))
        if self.mean_net is not None:
            y = y + pair_features[..., n_prior:]
        return self._outputs(state, y)

    @property
    def _n_prior_outputs(self) -> int:
        k = self.prior_components
        return 2 * k * self.latent_dim + (k > 1) * k

    def _prior(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
        """Prior mixture logits `[*, K]` (None if K = 1), means and log-stds `[*, K, d_z]`."""
        return self._split_prior(ensemble_forward(self.prior, x))

    def _split_prior(
        self, out: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
        """The prior network's output `[*, n]` -> logits, means, log-stds (see `_prior`)."""
        k, d_z = self.prior_components, self.latent_dim
        logits = out[..., 2 * k * d_z:] if k > 1 else None
        mu, raw = out[..., : 2 * k * d_z].unflatten(-1, (k, 2 * d_z)).chunk(2, dim=-1)
        return logits, mu, soft_clamp(raw, self.min_log_std, self.max_log_std)

    def _loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Negative β-ELBO, batch mean, plus the mean path's regression loss (the ELBO then of
        the residual `y - sg(m(x))`); `x [B, d_s+d_a]`, `y [B, d_s+1]` normalised."""
        extra: dict[str, torch.Tensor] = {}
        mean_loss = x.new_zeros(())
        if self.mean_net is not None:
            m = ensemble_forward(self.mean_net, x)  # [B, d_s+1]
            mean_loss = 0.5 * ((y - m) / self.decoder_std).square().sum(-1).mean()
            extra["mean_fit"] = mean_loss
            y = y - m.detach()
        mu_q, raw = ensemble_forward(self.encoder, torch.cat([x, y], -1)).chunk(2, dim=-1)
        log_std_q = soft_clamp(raw, self.min_log_std, self.max_log_std)
        z = mu_q + log_std_q.exp() * torch.randn_like(mu_q)  # [B, d_z]
        y_hat = ensemble_forward(self.decoder, torch.cat([x, z], -1))
        recon = 0.5 * ((y - y_hat) / self.decoder_std).square().sum(-1)  # [B], -log p + const
        logits, mu_p, log_std_p = self._prior(x)
        if logits is None:  # closed form
            kl = diag_gaussian_kl(mu_q, log_std_q, mu_p.squeeze(-2), log_std_p.squeeze(-2))
        else:  # -H(q) - log p(z), z ~ q: one-sample estimate (no closed form for a mixture)
            log_pz = diag_gaussian_log_prob(z.unsqueeze(-2), mu_p, log_std_p)  # [B, K]
            log_pz = (logits.log_softmax(-1) + log_pz).logsumexp(-1)
            entropy_q = (log_std_q + 0.5 * math.log(2 * math.pi * math.e)).sum(-1)
            kl = -entropy_q - log_pz  # [B]
        loss = (recon + self.beta * kl).mean() + mean_loss
        return loss, {"recon": recon.mean(), "kl": kl.mean(), **extra}


