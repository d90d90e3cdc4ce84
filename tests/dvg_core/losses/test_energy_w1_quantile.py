"""Tests for dvg_core.losses.distances' energy distance, 1-D Wasserstein and quantile Huber:
known answers, closed forms, invariants and gradients."""

from __future__ import annotations

import math

import numpy as np
import scipy.stats
import torch

from dvg_core.losses.distances import energy_distance, quantile_huber, wasserstein_1d
from tests.dvg_core.losses.samples import F64, folded_normal_mean, gen, randn


# --------------------------------------------------------------------------- energy, W, quantile


def test_energy_distance_matches_scipy_in_1d():
    x, y = randn(3, 40, 1, seed=30), 0.4 + 1.7 * randn(3, 25, 1, seed=31)
    got = energy_distance(x, y)
    want = [scipy.stats.energy_distance(x[b, :, 0], y[b, :, 0]) ** 2 for b in range(3)]  # D -> D²
    torch.testing.assert_close(got, torch.tensor(want, dtype=F64))


def _normal_quantile_grid(mean: float, std: float, n: int) -> torch.Tensor:
    """Deterministic 'samples' of N(mean, std²): its quantiles at levels (i + 1/2) / n, `[n]`."""
    levels = (np.arange(n) + 0.5) / n
    return mean + std * torch.as_tensor(scipy.stats.norm.ppf(levels), dtype=F64)


def test_energy_distance_matches_gaussian_closed_form():
    x = _normal_quantile_grid(1.0, 0.5, 1500)[None, :, None]
    y = _normal_quantile_grid(-0.5, 1.5, 1500)[None, :, None]
    closed = 2 * folded_normal_mean(1.5, 0.25 + 2.25) - 2 * (0.5 + 1.5) / math.sqrt(math.pi)
    want = torch.tensor([closed], dtype=F64)
    torch.testing.assert_close(energy_distance(x, y), want, rtol=2e-3, atol=0)
    assert torch.all(energy_distance(x, x) == 0)


def test_energy_distance_gradient_at_coincident_points_is_finite():
    x = torch.tensor([[[0.0, 1.0], [0.0, 1.0], [2.0, 0.0]]], dtype=F64, requires_grad=True)
    y = torch.tensor([[[0.0, 1.0], [1.0, 1.0]]], dtype=F64)
    (g,) = torch.autograd.grad(energy_distance(x, y).sum(), x)
    assert torch.isfinite(g).all()
    xs, ys = randn(2, 3, 2, seed=34).requires_grad_(True), randn(2, 4, 2, seed=43)
    assert torch.autograd.gradcheck(lambda a: energy_distance(a, ys), (xs,))


def test_wasserstein_1d_hand_example():
    x = torch.tensor([[5.0, 0.0, 2.0]])
    y = torch.tensor([[1.0, 1.0, 1.0]])
    # sorted: (0, 2, 5) vs (1, 1, 1): gaps 1, 1, 4.
    torch.testing.assert_close(wasserstein_1d(x, y), torch.tensor([2.0]))
    torch.testing.assert_close(wasserstein_1d(x, y, p=2), torch.tensor([6.0]))
    torch.testing.assert_close(wasserstein_1d(x, y, p=3), torch.tensor([22.0]))


def test_wasserstein_1d_matches_scipy_and_gaussian_closed_forms():
    x, y = _normal_quantile_grid(1.0, 1.0, 4000)[None], _normal_quantile_grid(-0.5, 2.0, 4000)[None]
    w2_squared = torch.tensor([1.5**2 + 1.0**2], dtype=F64)  # Δμ² + (σ1 - σ2)²
    torch.testing.assert_close(wasserstein_1d(x, y, p=2), w2_squared, rtol=2e-3, atol=0)
    w1_closed = folded_normal_mean(1.5, 1.0)  # E|Δμ + (σ1 - σ2) Z|
    w1 = torch.tensor([w1_closed], dtype=F64)
    torch.testing.assert_close(wasserstein_1d(x, y), w1, rtol=2e-3, atol=0)
    a, b = randn(3, 50, seed=35), 0.3 + randn(3, 50, seed=36)
    want = [scipy.stats.wasserstein_distance(a[i], b[i]) for i in range(3)]
    torch.testing.assert_close(wasserstein_1d(a, b), torch.tensor(want, dtype=F64))


def test_quantile_huber_hand_values():
    pred = torch.tensor([[0.0, 1.0]])
    taus = torch.tensor([0.25, 0.75])
    targets = torch.tensor([[0.5, 3.0]])
    # u = y - q: for q=0: (0.5, 3) weights 0.25; for q=1: (-0.5, 2) weights 0.25, 0.75.
    for kappa, want in ((1.0, 0.90625), (2.0, 0.640625), (0.0, 1.25)):
        got = quantile_huber(pred, taus, targets, kappa=kappa)
        torch.testing.assert_close(got, torch.tensor([want]))


def test_quantile_huber_is_symmetric_under_reflection_and_translation_invariant():
    pred, targets = randn(4, 6, seed=37), randn(4, 9, seed=38)
    taus = torch.rand(4, 6, generator=gen(9), dtype=F64)
    loss = quantile_huber(pred, taus, targets)
    # ρ_τ(u) = ρ_{1-τ}(-u)
    torch.testing.assert_close(quantile_huber(-pred, 1 - taus, -targets), loss)
    torch.testing.assert_close(quantile_huber(pred + 3.0, taus, targets + 3.0), loss)
    assert torch.all(loss > 0)


def test_quantile_huber_is_zero_only_when_targets_equal_predictions():
    value, taus = torch.full((2, 3), 0.7), torch.tensor([0.1, 0.5, 0.9])
    assert torch.all(quantile_huber(value, taus, torch.full((2, 5), 0.7)) == 0)
    assert torch.all(quantile_huber(value, taus, torch.full((2, 5), 0.8)) > 0)


def test_quantile_huber_minimiser_recovers_normal_quantiles():
    torch.manual_seed(0)
    n = 9
    taus = (torch.arange(n) + 0.5) / n
    targets = torch.randn(1, 3000, generator=gen(10))
    q = torch.zeros(1, n, requires_grad=True)
    opt = torch.optim.Adam([q], lr=0.05)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=100, gamma=0.3)
    for _ in range(400):
        opt.zero_grad()
        quantile_huber(q, taus, targets, kappa=0.01).sum().backward()
        opt.step()
        sched.step()
    truth = torch.as_tensor(scipy.stats.norm.ppf(taus.numpy()), dtype=torch.float32)
    torch.testing.assert_close(q.detach()[0], torch.quantile(targets[0], taus), rtol=0, atol=0.02)
    torch.testing.assert_close(q.detach()[0], truth, rtol=0, atol=0.06)
