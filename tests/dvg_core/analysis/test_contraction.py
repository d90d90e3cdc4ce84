"""The contraction core (dvg_core.analysis.contraction, _linear, _toy): hand-computed L, L against
autograd and finite differences, the measured factor against ‖L‖ and γκ, plain MMD's failure, the
toy's Jacobians and bounds (its tables and figures: tests/workbench/test_contraction_figures.py)."""

from __future__ import annotations

import math

import pytest
import torch

from dvg_core.analysis.contraction import ratio_stats, slice_distances, sup_ratio
from dvg_core.analysis.contraction_linear import (
    closed_loop_jacobian,
    double_integrator,
    kappa_bound,
    linear_contraction,
    linear_sobolev_backup,
    push_forward,
    reward_part,
    shifted_pair,
    sobolev_matrix,
)
from dvg_core.analysis.contraction_toy import (
    GainPolicy,
    jacobian_bounds,
    random_critics,
    toy_contraction,
    toy_jacobians,
)
from dvg_core.envs.point_mass import PointMassDynamics, PointMassSpec
from dvg_core.losses.kernels import make_kernel
from dvg_core.models.world_models import OracleWorldModel

F64 = torch.float64


def _random_system(seed: int, d_s: int = 3, d_a: int = 2):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(d_s, d_s, generator=g, dtype=F64) / d_s**0.5,
            torch.randn(d_s, d_a, generator=g, dtype=F64) / d_s**0.5,
            torch.randn(d_a, d_s, generator=g, dtype=F64))


def _smooth_critic(d_s: int, d_a: int, seed: int):
    """A fixed sample path Z(s, a): a random tanh net plus a quadratic, rows independent."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(d_s + d_a, 16, generator=g, dtype=F64)
    v, q = torch.randn(16, generator=g, dtype=F64), torch.randn(d_s + d_a, generator=g, dtype=F64)

    def critic(s, a):
        u = torch.cat([s, a], dim=-1)
        return torch.tanh(u @ w) @ v + 0.5 * (u * q * u).sum(-1)

    return critic


# ----------------------------------------------------------------- the linear system, exact
def test_sobolev_matrix_of_a_scalar_system_is_the_hand_computed_one():
    a, b, k, gamma = 0.9, 0.5, -2.0, 0.8
    matrix = sobolev_matrix(torch.tensor([[a]], dtype=F64), torch.tensor([[b]], dtype=F64),
                            torch.tensor([[k]], dtype=F64), gamma=gamma)
    # G = r + γZ(s', ks'), s' = a s + b a_t: ∇ₛG = ∇ₛr + γ a (Z_s + k Z_a), ∇ₐG = ∇ₐr + γ b (...)
    expected = gamma * torch.tensor([[1, 0, 0], [0, a, k * a], [0, b, k * b]], dtype=F64)
    torch.testing.assert_close(matrix, expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_autograd_backup_is_the_affine_push_forward_b_plus_l_x(seed):
    a_mat, b_mat, k_mat = _random_system(seed)
    g = torch.Generator().manual_seed(10 + seed)
    state, action = torch.randn(7, 3, generator=g, dtype=F64), torch.randn(7, 2, generator=g,
                                                                             dtype=F64)
    eps = torch.randn(7, 3, generator=g, dtype=F64)
    q_s, q_a = torch.randn(3, generator=g, dtype=F64), torch.randn(2, generator=g, dtype=F64)
    x_g, x_next = linear_sobolev_backup(
        _smooth_critic(3, 2, seed), state, action, eps, a_mat, b_mat, k_mat, gamma=0.7,
        sigma=0.3, reward_state=q_s, reward_action=q_a, curvature=0.4)
    offset = reward_part(state, action, reward_state=q_s, reward_action=q_a, curvature=0.4)
    matrix = sobolev_matrix(a_mat, b_mat, k_mat, gamma=0.7)
    torch.testing.assert_close(x_g, offset + x_next @ matrix.T, rtol=1e-12, atol=1e-12)
    assert not x_g.requires_grad and not x_next.requires_grad


def test_autograd_backup_gradients_match_central_finite_differences():
    a_mat, b_mat, k_mat = _random_system(3)
    critic = _smooth_critic(3, 2, 3)
    g = torch.Generator().manual_seed(4)
    state, action = torch.randn(1, 3, generator=g, dtype=F64), torch.randn(1, 2, generator=g,
                                                                             dtype=F64)
    eps, q_s, q_a = torch.randn(1, 3, dtype=F64, generator=g), torch.ones(3, dtype=F64), \
        -torch.ones(2, dtype=F64)
    kwargs = dict(gamma=0.9, sigma=0.2, reward_state=q_s, reward_action=q_a, curvature=0.3)

    def value(s, a):
        return linear_sobolev_backup(critic, s, a, eps, a_mat, b_mat, k_mat, **kwargs)[0][0, 0]

    x_g, _ = linear_sobolev_backup(critic, state, action, eps, a_mat, b_mat, k_mat, **kwargs)
    step, numeric = 1e-6, []
    for which, point in (("s", state), ("a", action)):
        for i in range(point.shape[1]):
            delta = torch.zeros_like(point)
            delta[0, i] = step
            plus = value(state + delta, action) if which == "s" else value(state, action + delta)
            minus = value(state - delta, action) if which == "s" else value(state, action - delta)
            numeric.append((plus - minus) / (2 * step))
    torch.testing.assert_close(x_g[0, 1:], torch.stack(numeric), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("seed", [0, 5])
def test_norm_of_l_is_gamma_times_the_closed_loop_norm_and_at_most_gamma_kappa(seed):
    a_mat, b_mat, k_mat = _random_system(seed)
    gamma = 0.6
    norm_l = torch.linalg.matrix_norm(sobolev_matrix(a_mat, b_mat, k_mat, gamma=gamma), ord=2)
    closed = torch.linalg.matrix_norm(closed_loop_jacobian(a_mat, b_mat, k_mat), ord=2)
    assert norm_l.item() == pytest.approx(gamma * max(1.0, closed.item()), rel=1e-12)
    assert norm_l.item() <= gamma * kappa_bound(a_mat, b_mat, k_mat) + 1e-12


def test_l_kills_the_gradient_directions_the_policy_does_not_follow():
    a_mat, b_mat, k_mat = _random_system(1)
    w = torch.tensor([0.3, -1.2], dtype=F64)
    null = torch.cat([torch.zeros(1, dtype=F64), -k_mat.T @ w, w])  # (0, -Kᵀw, w)
    torch.testing.assert_close(sobolev_matrix(a_mat, b_mat, k_mat, gamma=0.9) @ null,
                               torch.zeros(6, dtype=F64), rtol=0, atol=1e-12)


def test_push_forward_of_an_exact_shift_is_the_shift_mapped_by_l():
    a_mat, b_mat, k_mat = double_integrator(dt=0.5, gain=1.0)
    matrix = sobolev_matrix(a_mat, b_mat, k_mat, gamma=0.5)
    v = torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=F64)
    x1, x2 = shifted_pair(2, 5, v, shift=3.0, generator=torch.Generator().manual_seed(0))
    offset = torch.randn(2, 5, 4, dtype=F64)
    shift = push_forward(x2, matrix, offset) - push_forward(x1, matrix, offset)
    torch.testing.assert_close(shift, (3.0 * matrix @ v).expand(2, 5, 4))


@pytest.fixture(scope="module")
def linear_estimates():
    return linear_contraction([0.3, 0.5, 0.7, 0.9], dt=0.5, gain=1.0, n_rows=8, n_samples=48,
                              shift=4.0)


def test_measured_factor_equals_norm_l_within_sampling_error(linear_estimates):
    """Tolerance: 3 standard errors over the replicates plus a 1% finite-sample bias (the sup
    over directions fits the inputs' sampling noise; see the next test)."""
    for e in linear_estimates:
        assert abs(e.msmmd2 - e.norm_l) <= 3 * e.msmmd2_se + 0.01 * e.norm_l, e
        assert abs(e.w1 - e.norm_l) <= 3 * e.w1_se + 0.01 * e.norm_l, e


def test_the_finite_sample_gap_to_norm_l_shrinks_with_more_samples():
    gaps = [abs(linear_contraction([0.5], dt=0.5, gain=1.0, n_samples=m, shift=2.0)[0].msmmd2
                / linear_contraction([0.5], dt=0.5, gain=1.0, n_samples=m)[0].norm_l - 1)
            for m in (12, 48)]
    assert gaps[1] < 0.6 * gaps[0]


def test_measured_factor_is_at_most_gamma_kappa_and_decreases_as_gamma_does(linear_estimates):
    for e in linear_estimates:
        assert e.msmmd2 <= e.gamma_kappa and e.w1 <= e.gamma_kappa
        assert e.norm_l < e.gamma_kappa  # proportional feedback: the bound is not tight
    factors = [e.msmmd2 for e in linear_estimates]  # γ ascending
    assert all(lo < hi for lo, hi in zip(factors, factors[1:]))
    assert factors[-1] / factors[0] == pytest.approx(0.9 / 0.3, rel=0.02)  # L is linear in γ


def test_plain_mmd_fails_to_contract_where_max_sliced_mmd_contracts():
    e = linear_contraction([0.5], dt=0.5, gain=1.0, spread=5.0, n_samples=32)[0]
    assert e.gamma_kappa < 1 and e.msmmd2 < 1
    assert e.mmd2 - 3 * e.mmd2_se > 1.0  # the spread L kills no longer dilutes the difference
    assert e.mmd2 > 1.5 * e.norm_l and e.mmd2 > 1.5 * e.msmmd2


def test_common_reward_noise_keeps_the_shift_exact_and_the_factor_below_norm_l():
    e = linear_contraction([0.5], dt=0.5, gain=1.0, reward_noise=1.0, n_samples=32)[0]
    assert e.msmmd2 <= e.norm_l * 1.005


def test_slice_distances_of_a_shift_along_an_axis():
    x = torch.randn(3, 40, 4, dtype=F64, generator=torch.Generator().manual_seed(0))
    shift = torch.tensor([0.0, 0.0, 5.0, 0.0], dtype=F64)
    d = slice_distances(x, x + shift, make_kernel("multiquadric", h=100.0),
                        candidates=torch.eye(4, dtype=F64))
    # W₁ of a projected exact shift is |⟨θ*, shift⟩|; θ* is the shift's axis up to sampling
    torch.testing.assert_close(d.w1, 5.0 * d.direction[:, 2].abs())
    assert bool((d.direction[:, 2].abs() > 0.98).all())
    assert bool((d.mmd2 <= d.msmmd2 + 1e-9).all())  # the joint norm only dilutes a shift


def test_ratio_and_sup_ratio_are_the_documented_reductions():
    mean, se = ratio_stats(torch.tensor([1.0, 2.0]), torch.tensor([0.5, 2.0]))
    assert mean == pytest.approx(0.75) and se == pytest.approx(0.25)
    assert math.isnan(ratio_stats(torch.tensor([2.0]), torch.tensor([1.0]))[1])
    assert sup_ratio(torch.tensor([1.0, 4.0]), torch.tensor([3.0, 1.0, 2.0])) == 0.75


@pytest.mark.parametrize(("call", "named"), [
    (lambda: sobolev_matrix(*double_integrator(dt=0.1, gain=1.0), gamma=1.5), "gamma"),
    (lambda: double_integrator(dt=0.0, gain=1.0), "dt"),
    (lambda: double_integrator(dt=0.1, gain=-1.0), "gain"),
    (lambda: sobolev_matrix(torch.eye(2), torch.ones(3, 1), torch.ones(1, 2), gamma=0.5),
     "b_mat"),
    (lambda: shifted_pair(2, 4, torch.ones(3), shift=1.0, spread=1.0), "spread_direction"),
    (lambda: linear_contraction([0.0], dt=0.1, gain=1.0), "gammas"),
    (lambda: toy_contraction([1.0], dt=0.1, gain=1.0), "gammas"),
    (lambda: toy_contraction([0.5], dt=0.1, gain=1.0, n_probes=0), "n_probes"),
    (lambda: GainPolicy(-1.0), "gain"),
])
def test_bad_arguments_raise_value_errors_naming_them(call, named):
    with pytest.raises(ValueError, match=named):
        call()


# ----------------------------------------------------------------- the toy
def _toy(dt: float, gain: float):
    model = OracleWorldModel(PointMassDynamics(PointMassSpec(dt=dt)))
    return model, GainPolicy(gain)


def test_toy_jacobians_are_the_point_mass_ones_inside_the_box():
    model, policy = _toy(dt=0.3, gain=2.0)
    g = torch.Generator().manual_seed(0)
    state, action = torch.rand(6, 2, generator=g) - 0.5, 2 * torch.rand(6, 2, generator=g) - 1
    env_jac, policy_jac, next_state = toy_jacobians(model, policy, state, action,
                                                    model.sample_noise((6,), generator=g))
    torch.testing.assert_close(env_jac, torch.cat([torch.eye(2), 0.3 * torch.eye(2)], 1)
                               .expand(6, 2, 4))
    torch.testing.assert_close(next_state, state + 0.3 * action)
    slope = 1 - torch.tanh(-2.0 * next_state).square()  # π = tanh(-2 s), elementwise
    torch.testing.assert_close(policy_jac, torch.diag_embed(-2.0 * slope))
    kappa, closed, action_rows = jacobian_bounds(env_jac, policy_jac)
    lift = torch.linalg.matrix_norm(torch.cat([torch.eye(2).expand(6, 2, 2), policy_jac], 1), 2)
    torch.testing.assert_close(kappa, (math.sqrt(1 + 0.3**2) * lift).clamp_min(1.0))
    torch.testing.assert_close(closed, kappa)  # J_env = [I, dt I]: the product bound is tight
    torch.testing.assert_close(action_rows, (0.3 * lift).clamp_min(1.0))


def test_random_critics_are_seeded_and_leave_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    first, second = random_critics(seed=7)
    assert torch.rand(1) == expected
    again, _ = random_critics(seed=7)
    assert torch.equal(first.net.layers[0].weight, again.net.layers[0].weight)
    assert not torch.equal(first.net.layers[0].weight, second.net.layers[0].weight)
    _, copy = random_critics(seed=7, perturb=0.0)
    assert torch.equal(first.net.layers[0].weight, copy.net.layers[0].weight)


@pytest.fixture(scope="module")
def toy_estimates():
    return toy_contraction([0.2, 0.4, 0.8], gain=2.0, dt=0.5, lam=100.0, n_probes=16,
                           n_samples=12)


def test_toy_factor_is_bounded_by_the_jacobian_predictions(toy_estimates):
    """With the complete next-state vectors as denominator, the theory bounds the factor by the
    kept rows' ‖L_a‖ <= ‖L‖ <= γκ (up to the sampling error of 12 samples per law)."""
    for e in toy_estimates:
        assert e.norm_l_action <= e.norm_l + 1e-6 and e.norm_l <= e.gamma_kappa + 1e-6
        assert e.msmmd2_complete <= 1.1 * e.norm_l_action, e
        assert e.msmmd2_complete_operator <= 1.1 * e.norm_l, e  # the complete operator's bound
        assert e.msmmd2 <= e.gamma_kappa, e


def test_toy_factor_decreases_as_gamma_does(toy_estimates):
    for name in ("msmmd2", "msmmd2_complete", "msmmd2_complete_operator", "w1", "mmd2"):
        factors = [getattr(e, name) for e in toy_estimates]
        assert all(lo < hi for lo, hi in zip(factors, factors[1:])), (name, factors)
