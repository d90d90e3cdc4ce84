"""Tests for dvg_core.losses.kernels: kernel values, gradients, the factory and pairwise distances."""

from __future__ import annotations

import math

import pytest
import torch

from dvg_core.losses import kernels
from dvg_core.losses.kernels import (
    KERNEL_NAMES,
    check_sample_sets,
    gaussian_mixture,
    inverse_multiquadric,
    make_kernel,
    multiquadric,
    pairwise_sq_dists,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_multiquadric_hand_values_have_minus_sign():
    d2 = torch.tensor([0.0, 1.0, 4.0], dtype=torch.float64)
    expected = -torch.tensor([1.0, math.sqrt(5.0), math.sqrt(17.0)], dtype=torch.float64)
    torch.testing.assert_close(multiquadric(d2, h=2.0), expected)


def test_multiquadric_equals_h_times_c_form():
    # k_h = h * (-sqrt(c^2 + d2)) with c = 1 / h (paper-notes §7.1).
    d2 = torch.rand(50, generator=_gen(), dtype=torch.float64) * 3
    h = 100.0
    torch.testing.assert_close(multiquadric(d2, h=h), h * -torch.sqrt((1 / h) ** 2 + d2))


def test_inverse_multiquadric_and_gaussian_mixture_hand_values():
    d2 = torch.tensor([0.0, 3.0], dtype=torch.float64)
    want = torch.tensor([1.0, 0.5], dtype=torch.float64)
    torch.testing.assert_close(inverse_multiquadric(d2, h=1.0), want)
    mix = gaussian_mixture(d2, bandwidths=[1.0, 2.0])
    expected = 0.5 * (torch.exp(-d2 / 2) + torch.exp(-d2 / 8))  # mean over bandwidths
    torch.testing.assert_close(mix, expected)
    single = gaussian_mixture(d2, bandwidths=[1.5])
    torch.testing.assert_close(single, torch.exp(-d2 / (2 * 1.5**2)))


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_kernels_are_elementwise_and_keep_shape(name):
    kernel = make_kernel(name, **({"bandwidths": [0.5, 1.0]} if name == "rbf" else {"h": 3.0}))
    d2 = torch.rand(2, 3, 4, 5, generator=_gen())
    out = kernel(d2)
    assert out.shape == d2.shape
    torch.testing.assert_close(out[1, 2], kernel(d2[1, 2]))


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_closed_form_derivative_in_d2_equals_autograd(name):
    kernel = make_kernel(name, **({"bandwidths": [0.5, 1.0, 3.0]} if name == "rbf"
                                  else {"h": 7.0}))
    d2 = torch.cat([torch.zeros(1, dtype=torch.float64),
                    torch.rand(200, generator=_gen(), dtype=torch.float64) * 4])
    leaf = d2.clone().requires_grad_(True)
    (autograd,) = torch.autograd.grad(kernel(leaf).sum(), leaf)
    value, derivative = kernel.value_and_derivative(d2)
    torch.testing.assert_close(value, kernel(d2))
    torch.testing.assert_close(derivative, autograd)


def test_multiquadric_gradient_is_finite_and_bounded_by_h():
    h = 7.0
    x = torch.randn(4, 6, 3, generator=_gen(1), dtype=torch.float64) * 0.3
    y = torch.cat([x[:, :2], torch.randn(4, 5, 3, generator=_gen(2), dtype=torch.float64) * 3], 1)
    x.requires_grad_(True)
    k = multiquadric(pairwise_sq_dists(x, y.detach()), h=h)  # [B, M, M']
    # Per-pair gradient d k(x_i, y_j) / d x_i = -h^2 (x - y) / sqrt(1 + h^2 d2), norm <= h.
    (grad_sum,) = torch.autograd.grad(k[:, 0, :].sum(), x, retain_graph=True)
    assert torch.isfinite(grad_sum).all()
    pair_grads = []
    for j in range(y.shape[1]):
        (g,) = torch.autograd.grad(k[:, 0, j].sum(), x, retain_graph=True)
        pair_grads.append(g[:, 0].norm(dim=-1))
    norms = torch.stack(pair_grads, -1)  # [B, M']
    assert (norms <= h + 1e-9).all()
    assert torch.all(norms[:, 0] == 0)  # y_0 = x_0: coincident, gradient exactly 0
    assert norms[:, 2:].max() > 0.99 * h  # far pairs approach the bound h


def test_multiquadric_derivative_in_d2_is_finite_at_zero():
    d2 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(multiquadric(d2, h=100.0).sum(), d2)
    torch.testing.assert_close(g, torch.full_like(g, -(100.0**2) / 2))


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_make_kernel_matches_the_direct_function(name):
    d2 = torch.rand(10, generator=_gen())
    if name == "rbf":
        got = make_kernel(name, bandwidths=[0.3, 2.0])(d2)
        want = gaussian_mixture(d2, bandwidths=[0.3, 2.0])
    else:
        fn = getattr(kernels, name)
        got, want = make_kernel(name, h=4.0)(d2), fn(d2, h=4.0)
    torch.testing.assert_close(got, want)


def test_make_kernel_accepts_a_single_bandwidth():
    d2 = torch.rand(10, generator=_gen())
    torch.testing.assert_close(make_kernel("rbf", bandwidths=2.0)(d2), torch.exp(-d2 / 8))


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("gauss", {"h": 1.0}),
        ("multiquadric", {}),
        ("multiquadric", {"h": 0.0}),
        ("multiquadric", {"h": -1.0}),
        ("multiquadric", {"h": math.nan}),
        ("multiquadric", {"h": True}),
        ("multiquadric", {"h": 1.0, "c": 1.0}),
        ("inverse_multiquadric", {"bandwidths": [1.0]}),
        ("rbf", {"bandwidths": []}),
        ("rbf", {"bandwidths": [1.0, 0.0]}),
        ("rbf", {"bandwidths": "1"}),
        ("rbf", {"h": 1.0}),
    ],
)
def test_make_kernel_rejects_bad_name_and_params(name, params):
    with pytest.raises(ValueError):
        make_kernel(name, **params)


def test_direct_kernels_reject_bad_params():
    d2 = torch.zeros(2)
    with pytest.raises(ValueError, match="h"):
        multiquadric(d2, h=0.0)
    with pytest.raises(ValueError, match="h"):
        inverse_multiquadric(d2, h=-2.0)
    with pytest.raises(ValueError, match="bandwidths"):
        gaussian_mixture(d2, bandwidths=[])


def test_pairwise_sq_dists_matches_cdist_and_is_exact_on_the_diagonal():
    x = torch.randn(3, 5, 4, generator=_gen(), dtype=torch.float64)
    y = torch.randn(3, 7, 4, generator=_gen(1), dtype=torch.float64)
    d2 = pairwise_sq_dists(x, y)
    assert d2.shape == (3, 5, 7)
    torch.testing.assert_close(d2, torch.cdist(x, y) ** 2)
    dxx = pairwise_sq_dists(x, x)
    assert torch.all(dxx.diagonal(dim1=-2, dim2=-1) == 0)
    assert torch.all(dxx >= 0)
    torch.testing.assert_close(dxx, dxx.transpose(-1, -2), rtol=0, atol=0)


def test_pairwise_sq_dists_gradient_is_two_times_difference():
    x = torch.randn(2, 3, 2, generator=_gen(), dtype=torch.float64, requires_grad=True)
    y = torch.randn(2, 4, 2, generator=_gen(1), dtype=torch.float64)
    (g,) = torch.autograd.grad(pairwise_sq_dists(x, y).sum(), x)
    torch.testing.assert_close(g, 2 * (x[:, :, None] - y[:, None]).sum(2))
    torch.autograd.gradcheck(lambda a: pairwise_sq_dists(a, a), (x,))


@pytest.mark.parametrize(
    ("x_shape", "y_shape", "match"),
    [
        ((2, 3, 4), (2, 3, 5), "feature dim"),
        ((2, 3, 4), (3, 3, 4), "batch size"),
        ((3, 4), (2, 3, 4), "x must have shape"),
        ((2, 3, 4), (2, 3, 4, 1), "y must have shape"),
        ((2, 0, 4), (2, 3, 4), "M, D >= 1"),
        ((2, 3, 4), (2, 0, 4), "M, D >= 1"),
    ],
)
def test_sample_sets_with_bad_shapes_are_rejected(x_shape, y_shape, match):
    with pytest.raises(ValueError, match=match):
        pairwise_sq_dists(torch.zeros(x_shape), torch.zeros(y_shape))


def test_sample_sets_must_be_float_tensors():
    with pytest.raises(ValueError, match="floating"):
        check_sample_sets(torch.zeros(1, 2, 3, dtype=torch.long), torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match="torch.Tensor"):
        check_sample_sets([[[0.0]]], torch.zeros(1, 1, 1))


def test_public_symbols_have_docstrings():
    for name in kernels.__all__:
        obj = getattr(kernels, name)
        if callable(obj):
            assert obj.__doc__ and obj.__doc__.strip(), name
