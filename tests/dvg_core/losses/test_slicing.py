"""Sliced and max-sliced MMD²: axes, seeded random directions, the max-slicing ascent and its gradients."""

from __future__ import annotations

import pytest
import torch

from dvg_core.losses.distances import mmd2
from dvg_core.losses.slicing import (
    max_sliced_mmd2,
    random_directions,
    sliced_mmd2,
)
from dvg_core.losses.kernels import make_kernel
from tests.dvg_core.losses.samples import F64, KERNELS, MQ100, gen, randn


def _projected(x, y, theta, kernel):
    """MMD² of the projections on one direction per row, `theta [B, D]`."""
    return sliced_mmd2(x, y, kernel, directions=theta[:, None, :])


def test_sliced_mmd2_on_axes_is_mean_of_per_coordinate_mmd2():
    x, y = randn(3, 7, 4, seed=11), randn(3, 5, 4, seed=12)
    kernel = KERNELS["multiquadric"]
    got = sliced_mmd2(x, y, kernel, directions=torch.eye(4, dtype=F64) * 3.0)  # normalised inside
    want = torch.stack([mmd2(x[..., d:d + 1], y[..., d:d + 1], kernel) for d in range(4)]).mean(0)
    torch.testing.assert_close(got, want)


def test_sliced_mmd2_random_directions_are_seeded_and_nonnegative():
    x, y = randn(5, 7, 3, seed=13), randn(5, 6, 3, seed=14)
    a = sliced_mmd2(x, y, MQ100, n_directions=8, generator=gen(1))
    b = sliced_mmd2(x, y, MQ100, n_directions=8, generator=gen(1))
    assert a.shape == (5,)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert torch.all(a >= 0)


def test_max_sliced_beats_random_fixed_directions():
    x = randn(8, 20, 4, seed=15)
    y = 0.3 + randn(8, 20, 4, seed=16) * torch.tensor([1.0, 1.5, 0.7, 1.0], dtype=F64)
    value, theta = max_sliced_mmd2(x, y, MQ100, n_steps=10, n_restarts=8, generator=gen(1))
    assert value.shape == (8,) and theta.shape == (8, 4)
    torch.testing.assert_close(theta.norm(dim=-1), torch.ones(8, dtype=F64))
    fixed = random_directions(8, 32, 4, generator=gen(2), dtype=F64)
    for k in range(fixed.shape[1]):
        assert torch.all(value >= _projected(x, y, fixed[:, k], MQ100) - 1e-9)


def test_max_sliced_never_goes_below_any_of_its_starts():
    x, y = randn(32, 10, 5, seed=17), randn(32, 10, 5, seed=18) * 1.2
    start = random_directions(32, 1, 5, generator=gen(3), dtype=F64)[:, 0]
    axes = torch.eye(5, dtype=F64)
    floors = [_projected(x, y, start, MQ100)] + [_projected(x, y, axes[d].expand(32, 5), MQ100)
                                                 for d in range(5)]
    for n_steps in (0, 1, 3):
        value, _ = max_sliced_mmd2(x, y, MQ100, direction=start, n_steps=n_steps, candidates=axes)
        for floor in floors:
            assert torch.all(value >= floor - 1e-9)


def test_max_sliced_ascent_improves_on_a_single_start():
    x, y = randn(64, 10, 5, seed=44), 0.2 + randn(64, 10, 5, seed=45) * 1.3
    start = random_directions(64, 1, 5, generator=gen(14), dtype=F64)[:, 0]
    at_start = _projected(x, y, start, MQ100)
    value, theta = max_sliced_mmd2(x, y, MQ100, direction=start, n_steps=5)
    assert torch.all(value >= at_start)
    assert (value > 1.05 * at_start).float().mean() > 0.5
    torch.testing.assert_close(value, _projected(x, y, theta, MQ100))


def test_max_sliced_with_a_plain_callable_kernel_takes_the_autograd_path_to_the_same_result():
    x, y = randn(32, 10, 3, seed=52), 0.2 + randn(32, 10, 3, seed=53) * 1.3
    start = random_directions(32, 1, 3, generator=gen(6), dtype=F64)[:, 0]
    def plain(d2):
        return MQ100(d2)
    value, theta = max_sliced_mmd2(x, y, MQ100, direction=start, n_steps=4)
    plain_value, plain_theta = max_sliced_mmd2(x, y, plain, direction=start, n_steps=4)
    torch.testing.assert_close(value, plain_value)
    torch.testing.assert_close(theta, plain_theta)


@pytest.mark.parametrize("kind", ["variance", "mean"])
def test_max_sliced_recovers_the_axis_where_laws_differ(kind):
    x = randn(3, 150, 3, seed=19)
    y = randn(3, 150, 3, seed=20)
    if kind == "variance":
        y[..., 1] *= 3.0
    else:
        y[..., 1] += 1.5
    _, theta = max_sliced_mmd2(x, y, MQ100, n_steps=10, generator=gen(4))
    assert torch.all(theta[:, 1].abs() > 0.95)


def test_max_sliced_finds_the_shift_of_a_shifted_point_cloud():
    cloud = 0.1 * randn(8, 15, 5, seed=21)
    shift = randn(8, 1, 5, seed=22)
    _, theta = max_sliced_mmd2(cloud + shift, cloud, MQ100, n_steps=10, generator=gen(5))
    cos = (theta * shift[:, 0]).sum(-1) / shift[:, 0].norm(dim=-1)
    assert torch.all(cos.abs() > 0.95)


def test_max_sliced_gradient_flows_to_x_only_and_equals_fixed_direction_gradient():
    w = torch.tensor(1.3, dtype=F64, requires_grad=True)
    base = randn(6, 10, 3, seed=23)
    with torch.no_grad():
        y = 0.5 * randn(6, 12, 3, seed=24) + 0.2
    value, theta = max_sliced_mmd2(w * base, y, MQ100, n_steps=5, generator=gen(6))
    assert w.grad is None  # the ascent leaked nothing into the caller's graph
    assert not theta.requires_grad and theta.grad_fn is None
    assert value.requires_grad
    (grad_w,) = torch.autograd.grad(value.sum(), w)
    (want,) = torch.autograd.grad(_projected(w * base, y, theta, MQ100).sum(), w)
    torch.testing.assert_close(grad_w, want, rtol=1e-12, atol=0)


def test_max_sliced_works_under_no_grad_and_warm_starts_from_its_output():
    x, y = randn(5, 10, 3, seed=25), randn(5, 10, 3, seed=26) * 1.5
    value, theta = max_sliced_mmd2(x, y, MQ100, n_steps=5, generator=gen(7))
    with torch.no_grad():
        value_ng, theta_ng = max_sliced_mmd2(x, y, MQ100, n_steps=5, generator=gen(7))
    assert not value_ng.requires_grad
    torch.testing.assert_close(theta_ng, theta)
    torch.testing.assert_close(value_ng, value)
    warm, _ = max_sliced_mmd2(x, y, MQ100, direction=theta, n_steps=3)
    assert torch.all(warm >= value - 1e-9)


def test_max_sliced_gradcheck_at_fixed_direction():
    x = randn(2, 4, 3, seed=27).requires_grad_(True)
    y = randn(2, 3, 3, seed=28)
    theta = random_directions(2, 1, 3, generator=gen(8), dtype=F64)[:, 0]
    kernel = make_kernel("multiquadric", h=2.0)
    assert torch.autograd.gradcheck(
        lambda a: max_sliced_mmd2(a, y, kernel, direction=theta, n_steps=0)[0], (x,))
