"""Tests for dvg_core.losses.distances and dvg_core.losses.slicing: known answers, limits, invariants, gradients and batching."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch

from dvg_core.losses import distances, slicing
from dvg_core.losses.distances import energy_distance, mmd2, quantile_huber, wasserstein_1d
from dvg_core.losses.slicing import (
    axial_mean_direction,
    max_sliced_mmd2,
    random_directions,
    sliced_mmd2,
)
from dvg_core.losses.kernels import make_kernel

F64 = torch.float64
KERNELS = {
    "multiquadric": make_kernel("multiquadric", h=10.0),
    "inverse_multiquadric": make_kernel("inverse_multiquadric", h=2.0),
    "rbf": make_kernel("rbf", bandwidths=[0.5, 1.0, 2.0]),
}
MQ100 = make_kernel("multiquadric", h=100.0)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=_gen(seed), dtype=F64)


def _naive_mmd2(x: torch.Tensor, y: torch.Tensor, kernel, unbiased: bool) -> float:
    """One row, written with loops straight from the definition."""
    def k(a, b):
        return float(kernel(((a - b) ** 2).sum()))
    m, n = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if not (unbiased and i == j))
    kyy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if not (unbiased and i == j))
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n))
    if unbiased:
        return kxx / (m * (m - 1)) + kyy / (n * (n - 1)) - 2 * kxy / (m * n)
    return kxx / m**2 + kyy / n**2 - 2 * kxy / (m * n)


def _folded_normal_mean(m: float, v: float) -> float:
    s = math.sqrt(v)
    tail = scipy.stats.norm.cdf(-m / s)
    return s * math.sqrt(2 / math.pi) * math.exp(-m * m / (2 * v)) + m * (1 - 2 * tail)


# ----------------------------------------------------------------------------------------- MMD²


@pytest.mark.parametrize("name", list(KERNELS))
def test_mmd2_of_a_set_with_itself_is_exactly_zero(name):
    x = _randn(4, 9, 3)
    assert torch.all(mmd2(x, x, KERNELS[name]) == 0)


@pytest.mark.parametrize("name", list(KERNELS))
def test_mmd2_v_statistic_is_nonnegative_on_random_sets(name):
    x = _randn(200, 6, 2, seed=1)
    y = _randn(200, 8, 2, seed=2) * 0.9
    value = mmd2(x, y, KERNELS[name])
    assert value.shape == (200,)
    assert torch.all(value >= 0)


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("name", list(KERNELS))
def test_mmd2_matches_the_loop_definition(name, unbiased):
    x, y = _randn(2, 4, 3, seed=3), _randn(2, 5, 3, seed=4)
    got = mmd2(x, y, KERNELS[name], unbiased=unbiased)
    want = [_naive_mmd2(x[b], y[b], KERNELS[name], unbiased) for b in range(2)]
    torch.testing.assert_close(got, torch.tensor(want, dtype=F64))


def test_mmd2_hand_value_single_points():
    x, y = torch.zeros(1, 1, 1), torch.ones(1, 1, 1)
    got = mmd2(x, y, make_kernel("rbf", bandwidths=[1.0]))
    torch.testing.assert_close(got, torch.tensor([2 - 2 * math.exp(-0.5)]))


def _rbf_mmd2_closed_form(mu1, cov1, mu2, cov2, s):
    d = len(mu1)
    eye = np.eye(d)
    dmu = mu1 - mu2
    cross = np.linalg.det(eye + (cov1 + cov2) / s**2) ** -0.5 * math.exp(
        -0.5 * dmu @ np.linalg.solve(cov1 + cov2 + s**2 * eye, dmu))
    return (np.linalg.det(eye + 2 * cov1 / s**2) ** -0.5
            + np.linalg.det(eye + 2 * cov2 / s**2) ** -0.5 - 2 * cross)


@pytest.mark.parametrize("dim", [2, 3])
def test_unbiased_rbf_mmd2_between_gaussians_matches_closed_form(dim):
    rng = np.random.default_rng(dim)
    a1, a2 = rng.normal(size=(dim, dim)), rng.normal(size=(dim, dim))
    cov1, cov2 = 0.5 * a1 @ a1.T + 0.2 * np.eye(dim), 0.3 * a2 @ a2.T + 0.5 * np.eye(dim)
    mu1, mu2 = np.zeros(dim), np.linspace(0.4, -0.6, dim)
    s = 1.5
    want = _rbf_mmd2_closed_form(mu1, cov1, mu2, cov2, s)
    blocks, per_block = 20, 200  # 4000 samples per law, split into blocks for the standard error
    g = _gen(dim)
    z1, z2 = (torch.randn(blocks, per_block, dim, generator=g, dtype=F64) for _ in range(2))
    x = z1 @ torch.linalg.cholesky(torch.as_tensor(cov1)).T + torch.as_tensor(mu1)
    y = z2 @ torch.linalg.cholesky(torch.as_tensor(cov2)).T + torch.as_tensor(mu2)
    per_row = mmd2(x, y, make_kernel("rbf", bandwidths=[s]), unbiased=True)  # [blocks]
    estimate, stderr = per_row.mean().item(), per_row.std().item() / math.sqrt(blocks)
    assert stderr < 0.1 * want  # the test has power
    assert abs(estimate - want) < 3 * stderr


def test_multiquadric_mmd2_detects_mean_shift_and_variance_change():
    base = _randn(8, 256, 2, seed=5)
    same = _randn(8, 256, 2, seed=6)
    shifted = same + torch.tensor([0.5, 0.0], dtype=F64)
    wider = same * torch.tensor([2.0, 1.0], dtype=F64)
    null = mmd2(base, same, MQ100)  # V-statistic: positive bias ~ 1/M under the null
    for other in (shifted, wider):
        alternative = mmd2(base, other, MQ100)
        assert alternative.mean() > 5 * null.mean()
        assert alternative.min() > null.max()


def test_multiquadric_large_h_limit_is_energy_distance():
    # paper-notes §7.1: N(0.3, 1) vs N(-0.9, 2²), 1.5k samples: MMD²_h / h = 0.659, 0.777, 0.781
    # for h = 1, 10, 100 against an energy distance of 0.781 (ratios 0.844, 0.995, 1.000).
    g = _gen(0)
    x = 0.3 + torch.randn(1, 1500, 1, generator=g, dtype=F64)
    y = -0.9 + 2 * torch.randn(1, 1500, 1, generator=g, dtype=F64)
    energy = energy_distance(x, y)
    closed = 2 * _folded_normal_mean(1.2, 5.0) - 2 / math.sqrt(math.pi) - 4 / math.sqrt(math.pi)
    assert abs(energy.item() - closed) < 0.1
    ratio = {h: (mmd2(x, y, make_kernel("multiquadric", h=h)) / h / energy).item()
             for h in (1, 10, 100)}
    assert 0.80 < ratio[1] < 0.88
    assert 0.99 < ratio[10] < 0.999
    assert abs(ratio[100] - 1) < 1e-3


def test_multiquadric_small_h_limit_is_squared_mean_difference():
    x = _randn(3, 50, 3, seed=7)
    y = 0.5 + 2 * _randn(3, 40, 3, seed=8)
    h = 1e-3
    got = mmd2(x, y, make_kernel("multiquadric", h=h)) / h**2
    want = (x.mean(1) - y.mean(1)).square().sum(-1)
    torch.testing.assert_close(got, want, rtol=1e-3, atol=0)  # O(h² d2) correction


def test_mmd2_gradcheck_multiquadric_float64():
    x = _randn(2, 3, 2, seed=9).requires_grad_(True)
    y = _randn(2, 4, 2, seed=10).requires_grad_(True)
    kernel = make_kernel("multiquadric", h=3.0)
    assert torch.autograd.gradcheck(lambda a, b: mmd2(a, b, kernel), (x, y))
    assert torch.autograd.gradcheck(lambda a, b: mmd2(a, b, kernel, unbiased=True), (x, y))


# ----------------------------------------------------------------------------------- sliced


def test_random_directions_are_unit_vectors():
    d = random_directions(4, 5, 6, generator=_gen(), dtype=F64)
    assert d.shape == (4, 5, 6)
    torch.testing.assert_close(d.norm(dim=-1), torch.ones(4, 5, dtype=F64))


def _projected(x, y, theta, kernel):
    """MMD² of the projections on one direction per row, `theta [B, D]`."""
    return sliced_mmd2(x, y, kernel, directions=theta[:, None, :])


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("name", list(KERNELS))
def test_closed_form_direction_gradient_equals_autograd(name, unbiased):
    # The ascent's θ-gradient (dvg_core.losses.slicing) in closed form against autograd of the value.
    x, y = _randn(16, 7, 4, seed=50), 0.3 + 1.4 * _randn(16, 9, 4, seed=51)
    theta = random_directions(16, 3, 4, generator=_gen(5), dtype=F64)
    kernel = KERNELS[name]
    value, grad = slicing._projected_mmd2_and_grad(x, y, theta, kernel, unbiased)
    leaf = theta.clone().requires_grad_(True)
    want = slicing._projected_mmd2(x, y, leaf, kernel, unbiased)
    (want_grad,) = torch.autograd.grad(want.sum(), leaf)
    torch.testing.assert_close(value, want.detach())
    torch.testing.assert_close(grad, want_grad)


def test_axial_mean_direction_ignores_signs():
    base = torch.nn.functional.normalize(torch.tensor([1.0, 2.0, -0.5], dtype=F64), dim=0)
    rows = torch.nn.functional.normalize(base + 0.05 * _randn(10, 3, seed=29), dim=-1)
    signs = torch.tensor([1, -1] * 5, dtype=F64)[:, None]
    mean = axial_mean_direction(rows * signs)
    assert abs(float(mean @ base)) > 0.99
    torch.testing.assert_close(mean.norm(), torch.tensor(1.0, dtype=F64))


# --------------------------------------------------------------------------- energy, W, quantile


def test_energy_distance_matches_scipy_in_1d():
    x, y = _randn(3, 40, 1, seed=30), 0.4 + 1.7 * _randn(3, 25, 1, seed=31)
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
    closed = 2 * _folded_normal_mean(1.5, 0.25 + 2.25) - 2 * (0.5 + 1.5) / math.sqrt(math.pi)
    want = torch.tensor([closed], dtype=F64)
    torch.testing.assert_close(energy_distance(x, y), want, rtol=2e-3, atol=0)
    assert torch.all(energy_distance(x, x) == 0)


def test_energy_distance_gradient_at_coincident_points_is_finite():
    x = torch.tensor([[[0.0, 1.0], [0.0, 1.0], [2.0, 0.0]]], dtype=F64, requires_grad=True)
    y = torch.tensor([[[0.0, 1.0], [1.0, 1.0]]], dtype=F64)
    (g,) = torch.autograd.grad(energy_distance(x, y).sum(), x)
    assert torch.isfinite(g).all()
    xs, ys = _randn(2, 3, 2, seed=34).requires_grad_(True), _randn(2, 4, 2, seed=43)
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
    w1_closed = _folded_normal_mean(1.5, 1.0)  # E|Δμ + (σ1 - σ2) Z|
    w1 = torch.tensor([w1_closed], dtype=F64)
    torch.testing.assert_close(wasserstein_1d(x, y), w1, rtol=2e-3, atol=0)
    a, b = _randn(3, 50, seed=35), 0.3 + _randn(3, 50, seed=36)
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
    pred, targets = _randn(4, 6, seed=37), _randn(4, 9, seed=38)
    taus = torch.rand(4, 6, generator=_gen(9), dtype=F64)
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
    targets = torch.randn(1, 3000, generator=_gen(10))
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


# ------------------------------------------------------------------------------- batching


def test_batched_equals_loop_over_rows():
    x, y = _randn(5, 8, 3, seed=39), 0.2 + _randn(5, 6, 3, seed=40)
    theta = random_directions(5, 1, 3, generator=_gen(11), dtype=F64)[:, 0]
    dirs = random_directions(5, 4, 3, generator=_gen(12), dtype=F64)
    ms_value, ms_theta = max_sliced_mmd2(x, y, MQ100, direction=theta, n_steps=4)
    pred, tgt = _randn(5, 4, seed=41), _randn(5, 7, seed=42)
    taus = torch.rand(5, 4, generator=_gen(13), dtype=F64)
    for b in range(5):
        row = slice(b, b + 1)
        torch.testing.assert_close(mmd2(x, y, MQ100)[row], mmd2(x[row], y[row], MQ100))
        torch.testing.assert_close(mmd2(x, y, MQ100, unbiased=True)[row],
                                   mmd2(x[row], y[row], MQ100, unbiased=True))
        torch.testing.assert_close(sliced_mmd2(x, y, MQ100, directions=dirs)[row],
                                   sliced_mmd2(x[row], y[row], MQ100, directions=dirs[row]))
        v, t = max_sliced_mmd2(x[row], y[row], MQ100, direction=theta[row], n_steps=4)
        torch.testing.assert_close(ms_value[row], v)
        torch.testing.assert_close(ms_theta[row], t)
        torch.testing.assert_close(energy_distance(x, y)[row], energy_distance(x[row], y[row]))
        torch.testing.assert_close(wasserstein_1d(x[..., 0], x[..., 1], p=2)[row],
                                   wasserstein_1d(x[row, :, 0], x[row, :, 1], p=2))
        torch.testing.assert_close(quantile_huber(pred, taus, tgt)[row],
                                   quantile_huber(pred[row], taus[row], tgt[row]))


# ----------------------------------------------------------------------------- bad input


_Z = torch.zeros(2, 3, 4)


@pytest.mark.parametrize(
    "call",
    [
        lambda: mmd2(torch.zeros(2, 3, 4), torch.zeros(2, 3, 5), MQ100),
        lambda: mmd2(torch.zeros(3, 4), torch.zeros(3, 4), MQ100),
        lambda: mmd2(torch.zeros(2, 0, 4), torch.zeros(2, 3, 4), MQ100),
        lambda: mmd2(torch.zeros(2, 1, 4), torch.zeros(2, 3, 4), MQ100, unbiased=True),
        lambda: mmd2(_Z, _Z, "multiquadric"),
        lambda: energy_distance(torch.zeros(2, 3, 4), torch.zeros(1, 3, 4)),
        lambda: sliced_mmd2(_Z, _Z, MQ100),
        lambda: sliced_mmd2(_Z, _Z, MQ100, n_directions=2,
                            directions=torch.eye(4)),
        lambda: sliced_mmd2(_Z, _Z, MQ100, n_directions=0),
        lambda: sliced_mmd2(_Z, _Z, MQ100, directions=torch.eye(3)),
        lambda: sliced_mmd2(_Z, _Z, MQ100, directions=torch.ones(3, 1, 4)),
        lambda: max_sliced_mmd2(_Z, _Z, MQ100, n_steps=-1),
        lambda: max_sliced_mmd2(_Z, _Z, MQ100, step_size=0.0),
        lambda: max_sliced_mmd2(_Z, _Z, MQ100, n_restarts=-1),
        lambda: max_sliced_mmd2(_Z, _Z, MQ100,
                                direction=torch.ones(1, 2, 4)),
        lambda: max_sliced_mmd2(_Z, _Z, MQ100, direction=torch.ones(3)),
        lambda: max_sliced_mmd2(_Z, _Z, MQ100, direction=torch.ones(3, 4)),
        lambda: max_sliced_mmd2(_Z, _Z, MQ100, candidates=torch.ones(2, 3)),
        lambda: wasserstein_1d(torch.zeros(2, 3), torch.zeros(2, 4)),
        lambda: wasserstein_1d(torch.zeros(2, 3, 1), torch.zeros(2, 3, 1)),
        lambda: wasserstein_1d(torch.zeros(2, 3), torch.zeros(2, 3), p=0.5),
        lambda: quantile_huber(torch.zeros(2, 3), torch.zeros(4), torch.zeros(2, 5)),
        lambda: quantile_huber(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3, 5)),
        lambda: quantile_huber(torch.zeros(2, 3), torch.zeros(3), torch.zeros(2, 5), kappa=-1.0),
        lambda: quantile_huber(torch.zeros(2, 3), torch.zeros(3), torch.zeros(2)),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_public_symbols_have_docstrings():
    for module in (distances, slicing):
        for name in module.__all__:
            doc = getattr(module, name).__doc__
            assert doc and doc.strip(), name
