"""The fidelity metrics against closed forms, the Monte-Carlo fixed point, and one evaluated row."""

from __future__ import annotations

import math

import pytest
import torch

from dvg_core.agents import AlgorithmConfig
from dvg_core.analysis.fidelity import (
    FIDELITY_METRICS,
    STATE_GRADIENT_METRIC,
    FidelitySetting,
    MonteCarloCritic,
    fidelity_metrics,
)
from dvg_core.analysis.fidelity_runs import evaluate_critic, make_probe, sample_pairs
from dvg_core.analysis.ground_truth import sobolev_return_samples
from dvg_core.models import Actor
from dvg_core.losses.sobolev import sobolev_targets
from dvg_core.models.world_models import OracleWorldModel


def _gaussian_quantiles(n: int) -> torch.Tensor:
    """n evenly spaced standard-normal quantiles: a near-exact 'sample' of N(0, 1)."""
    u = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return math.sqrt(2.0) * torch.erfinv(2 * u - 1)


def _expected_abs(delta: float, s: float) -> float:
    """E|N(delta, s²)| in closed form."""
    phi = 0.5 * (1 + math.erf(-delta / (s * math.sqrt(2))))
    return s * math.sqrt(2 / math.pi) * math.exp(-delta**2 / (2 * s * s)) + delta * (1 - 2 * phi)


def _two_gaussian_sets(mu, sigma, nu, tau, n=1500):
    """Critic ~ N(mu_b, sigma²), truth ~ N(nu_b, tau²) per probe b; gradient part zero."""
    q = _gaussian_quantiles(n)
    critic = torch.stack([m + sigma * q for m in mu])  # [B, n]
    truth = torch.stack([m + tau * q for m in nu])
    zeros = torch.zeros_like(critic)[..., None]
    return torch.cat([critic[..., None], zeros], -1), torch.cat([truth[..., None], zeros], -1)


def test_metrics_match_closed_forms_for_two_gaussians():
    mu, nu = [0.3, 1.3], [0.0, 2.0]  # critic means off by +0.3 and -0.7
    sigma, tau = 0.5, 1.0
    samples, truth = _two_gaussian_sets(mu, sigma, nu, tau)
    metrics = fidelity_metrics(samples, truth)
    assert set(metrics) == set(FIDELITY_METRICS)
    assert metrics["mean_bias"] == pytest.approx((0.3 - 0.7) / 2, abs=1e-6)
    true_mean_std = torch.tensor(nu).std().item()  # std over probes of the true means
    assert metrics["mean_error"] == pytest.approx((0.3 + 0.7) / 2 / true_mean_std, abs=1e-5)
    assert metrics["gradient_error"] == 0.0
    assert metrics["spread_ratio"] == pytest.approx(sigma / tau, rel=2e-3)
    # Energy distance in units of the truth's pooled std, per probe, then averaged.
    scale = truth[..., 0].std().item()
    expected = []
    for m, n_ in zip(mu, nu):
        s_xy = math.hypot(sigma, tau) / scale
        e_xy = _expected_abs((m - n_) / scale, s_xy)
        expected.append(2 * e_xy - 2 * sigma / scale / math.sqrt(math.pi)
                        - 2 * tau / scale / math.sqrt(math.pi))
    assert metrics["energy"] == pytest.approx(sum(expected) / 2, rel=0.02, abs=1e-3)


def test_metrics_are_zero_for_the_truth_itself_and_spread_is_undefined_at_a_point_mass():
    samples, truth = _two_gaussian_sets([0.0, 1.0], 1.0, [0.0, 1.0], 1.0, n=300)
    metrics = fidelity_metrics(samples, truth)
    assert metrics["mean_error"] == 0.0 and metrics["spread_ratio"] == pytest.approx(1.0)
    assert metrics["energy"] == pytest.approx(0.0, abs=1e-9)
    assert metrics["mmd2"] == pytest.approx(0.0, abs=1e-9)
    point = truth[:, :1].expand(-1, 50, -1)
    assert math.isnan(fidelity_metrics(point, point)["spread_ratio"])
    assert math.isnan(fidelity_metrics(samples, truth, distributional=False)["spread_ratio"])


def test_metrics_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="share B and D"):
        fidelity_metrics(torch.zeros(4, 8, 3), torch.zeros(4, 8, 2))


def test_sobolev_targets_through_monte_carlo_critic_have_the_truth_law():
    """The fixed-point check: with the target critic replaced by Monte-Carlo rollouts, the
    Sobolev backup's samples are samples of (G, ∇ₐG) itself (return and gradient parts)."""
    setting = FidelitySetting(n_locations=3, gamma=0.7, noise=0.05)
    dynamics = setting.dynamics()
    torch.manual_seed(0)
    actor = Actor(2, 2, hidden=(32, 32)).requires_grad_(False)
    generator = torch.Generator().manual_seed(1)
    state, action = sample_pairs(8, generator)
    k = 1024
    truth = sobolev_return_samples(dynamics, actor, state, action, gamma=setting.gamma,
                                   n_samples=k, generator=generator)
    critic = MonteCarloCritic(dynamics, actor, gamma=setting.gamma, n_members=2)
    targets = sobolev_targets(OracleWorldModel(dynamics), actor, critic, state, action,
                              gamma=setting.gamma, n_samples=k // 2, lam=1.0,
                              generator=generator)  # [B, 2·k/2, 3]
    assert targets.shape == truth.shape
    standard_error = (truth.var(1) / k + targets.var(1) / k).sqrt()  # [B, 3]
    gap = (targets.mean(1) - truth.mean(1)).abs()
    assert bool((gap <= 4.5 * standard_error + 1e-6).all()), (gap / standard_error).max()
    spread = targets.std(1).mean(0) / truth.std(1).mean(0)  # [3]: return and gradient parts
    assert spread.tolist() == pytest.approx([1.0, 1.0, 1.0], abs=0.05)
    metrics = fidelity_metrics(targets, truth)
    floor = fidelity_metrics(
        sobolev_return_samples(dynamics, actor, state, action, gamma=setting.gamma,
                               n_samples=k, generator=generator), truth)
    assert metrics["energy"] <= 2.0 * floor["energy"] + 1e-3


@pytest.fixture(scope="module")
def small_probe():
    return make_probe(FidelitySetting(n_locations=3, gamma=0.5, noise=0.0), n_probes=16,
                      n_truth=64, n_regression=256, regression_samples=8)


@pytest.mark.parametrize("kind", ["critic", "exact_targets", "regression"])
def test_evaluate_critic_returns_one_row_per_checkpoint(small_probe, kind):
    config = AlgorithmConfig(name="dsdpg_mmd", gamma=0.5, hidden=(16, 16), n_samples=4,
                             n_target_samples=4)
    rows = evaluate_critic(config, small_probe, kind=kind, checkpoints=(3, 6), batch_size=8,
                           n_eval_samples=8)
    assert [r["updates"] for r in rows] == [3, 6]
    assert all(set(FIDELITY_METRICS) <= set(r) and r["seconds"] >= 0 for r in rows)
    assert all(math.isfinite(r["mean_error"]) and math.isfinite(r[STATE_GRADIENT_METRIC])
               for r in rows)


def test_evaluate_critic_rejects_a_gamma_other_than_the_settings(small_probe):
    with pytest.raises(ValueError, match="gamma"):
        evaluate_critic(AlgorithmConfig(gamma=0.9), small_probe)
    with pytest.raises(ValueError, match="checkpoints"):
        evaluate_critic(AlgorithmConfig(gamma=0.5), small_probe, checkpoints=(5, 5))


def test_regression_reference_learns_the_mean(small_probe):
    """Fitting the Monte-Carlo means brings the mean error well under the untrained critic's."""
    config = AlgorithmConfig(name="dsdpg_msmmd", gamma=0.5, hidden=(32, 32), critic_lr=3e-3)
    rows = evaluate_critic(config, small_probe, kind="regression", checkpoints=(1, 300),
                           batch_size=64, n_eval_samples=8)
    assert rows[-1]["mean_error"] < 0.8 * rows[0]["mean_error"]


@pytest.mark.slow
def test_default_dsdpg_msmmd_meets_the_mean_and_spread_criteria():
    """Regression guard of the defaults (docs/lab/fidelity.md). Measured here (seeded, CPU):
    N = 3, γ = 0.5, noise 0.05, 2000 updates: td3 mean error 0.448; dsdpg_msmmd mean error 0.275
    (bound 1.2 × 0.448 = 0.538, margin 0.26) and spread ratio 0.955 (bound [0.7, 1.3], margin
    0.26)."""
    probe = make_probe(FidelitySetting(n_locations=3, gamma=0.5, noise=0.05), n_probes=32,
                       n_truth=128, n_regression=2, regression_samples=2)
    td3, dsdpg = (evaluate_critic(AlgorithmConfig(name=name, gamma=0.5, hidden=(64, 64)), probe,
                                  checkpoints=(2000,))[-1]
                  for name in ("td3", "dsdpg_msmmd"))
    print(f"td3 mean error {td3['mean_error']:.3f}; dsdpg_msmmd mean error "
          f"{dsdpg['mean_error']:.3f}, spread ratio {dsdpg['spread_ratio']:.3f}")
    assert dsdpg["mean_error"] <= 1.2 * td3["mean_error"]
    assert 0.7 <= dsdpg["spread_ratio"] <= 1.3


def test_the_state_gradient_error_is_the_relative_error_of_the_mean_state_gradient():
    truth_grad_s = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [4.0, 3.0]]])  # [2, 2, 2]
    grad_s = truth_grad_s.mean(dim=1, keepdim=True) + torch.tensor([[[1.0, 0.0]], [[-1.0, 2.0]]])
    samples, truth = _two_gaussian_sets([0.0, 1.0], 1.0, [0.0, 1.0], 1.0, n=8)
    metrics = fidelity_metrics(samples, truth, grad_s=grad_s, truth_grad_s=truth_grad_s)
    # true means (1, 2) and (4, 4): stds over probes 3/√2 and √2; mean absolute errors 1 and 1
    expected = (1.0 / (3 / math.sqrt(2)) + 1.0 / math.sqrt(2)) / 2
    assert metrics[STATE_GRADIENT_METRIC] == pytest.approx(expected)
    assert STATE_GRADIENT_METRIC not in fidelity_metrics(samples, truth)
