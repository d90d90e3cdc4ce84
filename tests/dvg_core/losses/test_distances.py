"""Tests for dvg_core.losses.distances (MMD²) and dvg_core.losses.slicing: known answers, limits,
invariants, gradients and batching (energy, W₁ and quantile Huber: test_energy_w1_quantile.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
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
from tests.dvg_core.losses.samples import F64, KERNELS, MQ100, folded_normal_mean, gen, randn


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


# ----------------------------------------------------------------------------------------- MMD²


@pytest.mark.parametrize("name", list(KERNELS))
def test_mmd2_of_a_set_with_itself_is_exactly_zero(name):
    x = randn(4, 9, 3)
    assert torch.all(mmd2(x, x, KERNELS[name]) == 0)


@pytest.mark.parametrize("name", list(KERNELS))
def test_mmd2_v_statistic_is_nonnegative_on_random_sets(name):
    x = randn(200, 6, 2, seed=1)
    y = randn(200, 8, 2, seed=2) * 0.9
    value = mmd2(x, y, KERNELS[name])
    assert value.shape == (200,)
    assert torch.all(value >= 0)


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("name", list(KERNELS))
def test_mmd2_matches_the_loop_definition(name, unbiased):
    x, y = randn(2, 4, 3, seed=3), randn(2, 5, 3, seed=4)
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
    g = gen(dim)
    z1, z2 = (torch.randn(blocks, per_block, dim, generator=g, dtype=F64) for _ in range(2))
    x = z1 @ torch.linalg.cholesky(torch.as_tensor(cov1)).T + torch.as_tensor(mu1)
    y = z2 @ torch.linalg.cholesky(torch.as_tensor(cov2)).T + torch.as_tensor(mu2)
    per_row = mmd2(x, y, make_kernel("rbf", bandwidths=[s]), unbiased=True)  # [blocks]
    estimate, stderr = per_row.mean().item(), per_row.std().item() / math.sqrt(blocks)
    assert stderr < 0.1 * want  # the test has power
    assert abs(estimate - want) < 3 * stderr


def test_multiquadric_mmd2_detects_mean_shift_and_variance_change():
    base = randn(8, 256, 2, seed=5)
    same = randn(8, 256, 2, seed=6)
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
    g = gen(0)
    x = 0.3 + torch.randn(1, 1500, 1, generator=g, dtype=F64)
    y = -0.9 + 2 * torch.randn(1, 1500, 1, generator=g, dtype=F64)
    energy = energy_distance(x, y)
    closed = 2 * folded_normal_mean(1.2, 5.0) - 2 / math.sqrt(math.pi) - 4 / math.sqrt(math.pi)
    assert abs(energy.item() - closed) < 0.1
    ratio = {h: (mmd2(x, y, make_kernel("multiquadric", h=h)) / h / energy).item()
             for h in (1, 10, 100)}
    assert 0.80 < ratio[1] < 0.88
    assert 0.99 < ratio[10] < 0.999
    assert abs(ratio[100] - 1) < 1e-3


def test_multiquadric_small_h_limit_is_squared_mean_difference():
    x = randn(3, 50, 3, seed=7)
    y = 0.5 + 2 * randn(3, 40, 3, seed=8)
    h = 1e-3
    got = mmd2(x, y, make_kernel("multiquadric", h=h)) / h**2
    want = (x.mean(1) - y.mean(1)).square().sum(-1)
    torch.testing.assert_close(got, want, rtol=1e-3, atol=0)  # O(h² d2) correction


def test_mmd2_gradcheck_multiquadric_float64():
    x = randn(2, 3, 2, seed=9).requires_grad_(True)
    y = randn(2, 4, 2, seed=10).requires_grad_(True)
    kernel = make_kernel("multiquadric", h=3.0)
    assert torch.autograd.gradcheck(lambda a, b: mmd2(a, b, kernel), (x, y))
    assert torch.autograd.gradcheck(lambda a, b: mmd2(a, b, kernel, unbiased=True), (x, y))


# ----------------------------------------------------------------------------------- sliced


def test_random_directions_are_unit_vectors():
    d = random_directions(4, 5, 6, generator=gen(), dtype=F64)
    assert d.shape == (4, 5, 6)
    torch.testing.assert_close(d.norm(dim=-1), torch.ones(4, 5, dtype=F64))


def _projected(x, y, theta, kernel):
    """MMD² of the projections on one direction per row, `theta [B, D]`."""
    return sliced_mmd2(x, y, kernel, directions=theta[:, None, :])


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("name", list(KERNELS))
def test_closed_form_direction_gradient_equals_autograd(name, unbiased):
    # The ascent's θ-gradient (dvg_core.losses.slicing) in closed form against autograd of the value.
    x, y = randn(16, 7, 4, seed=50), 0.3 + 1.4 * randn(16, 9, 4, seed=51)
    theta = random_directions(16, 3, 4, generator=gen(5), dtype=F64)
    kernel = KERNELS[name]
    value, grad = slicing._projected_mmd2_and_grad(x, y, theta, kernel, unbiased)
    leaf = theta.clone().requires_grad_(True)
    want = slicing._projected_mmd2(x, y, leaf, kernel, unbiased)
    (want_grad,) = torch.autograd.grad(want.sum(), leaf)
    torch.testing.assert_close(value, want.detach())
    torch.testing.assert_close(grad, want_grad)


def test_axial_mean_direction_ignores_signs():
    base = torch.nn.functional.normalize(torch.tensor([1.0, 2.0, -0.5], dtype=F64), dim=0)
    rows = torch.nn.functional.normalize(base + 0.05 * randn(10, 3, seed=29), dim=-1)
    signs = torch.tensor([1, -1] * 5, dtype=F64)[:, None]
    mean = axial_mean_direction(rows * signs)
    assert abs(float(mean @ base)) > 0.99
    torch.testing.assert_close(mean.norm(), torch.tensor(1.0, dtype=F64))


# ------------------------------------------------------------------------------- batching


def test_batched_equals_loop_over_rows():
    x, y = randn(5, 8, 3, seed=39), 0.2 + randn(5, 6, 3, seed=40)
    theta = random_directions(5, 1, 3, generator=gen(11), dtype=F64)[:, 0]
    dirs = random_directions(5, 4, 3, generator=gen(12), dtype=F64)
    ms_value, ms_theta = max_sliced_mmd2(x, y, MQ100, direction=theta, n_steps=4)
    pred, tgt = randn(5, 4, seed=41), randn(5, 7, seed=42)
    taus = torch.rand(5, 4, generator=gen(13), dtype=F64)
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
