"""Sobolev joint samples and targets: finite differences, gradcheck, stop-gradient, shapes."""

from __future__ import annotations

import pytest
import torch

from dvg_core.models import TwinQ
from dvg_core.losses.sobolev import (
    joint_samples,
    mage_targets,
    return_targets,
    sobolev_targets,
    truncate_top,
)
from tests.dvg_core.losses.sobolev_setup import CriticWithParameters, make_critic, oracle_setup


def test_joint_sample_gradients_equal_finite_differences_of_z():
    critic = make_critic()
    g = torch.Generator().manual_seed(0)
    state = torch.randn(3, 2, generator=g, dtype=torch.float64)
    action = torch.randn(3, 2, generator=g, dtype=torch.float64)
    xi = torch.randn(3, 5, 3, generator=g, dtype=torch.float64)
    x = joint_samples(critic, state, action, xi, lam=4.0)
    assert x.shape == (2, 3, 5, 3)
    eps = 1e-6
    for i in range(2):
        delta = torch.zeros(2, dtype=torch.float64)
        delta[i] = eps
        fd = (critic(state[:, None], (action + delta)[:, None], xi)
              - critic(state[:, None], (action - delta)[:, None], xi)) / (2 * eps)
        torch.testing.assert_close(x[..., 1 + i], 2.0 * fd, rtol=1e-6, atol=1e-8)  # √λ = 2
    torch.testing.assert_close(x[..., 0], critic(state[:, None], action[:, None], xi))


def test_joint_samples_gradcheck_through_the_create_graph_path():
    critic = make_critic(hidden=(4,))
    g = torch.Generator().manual_seed(1)
    state = torch.randn(2, 2, generator=g, dtype=torch.float64)
    action = torch.randn(2, 2, generator=g, dtype=torch.float64)
    xi = torch.randn(2, 3, 3, generator=g, dtype=torch.float64)
    names = [name for name, _ in critic.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in critic.parameters())

    def f(*values):
        bound = CriticWithParameters(critic, dict(zip(names, values)))
        return joint_samples(bound, state, action, xi, lam=0.5)

    assert torch.autograd.gradcheck(f, params)


def test_deterministic_critic_gives_one_joint_point_per_member():
    torch.manual_seed(0)
    q = TwinQ(2, 2, hidden=(8,)).double()
    state, action = torch.randn(3, 2, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    x = joint_samples(q, state, action, lam=1.0)
    assert x.shape == (2, 3, 1, 3)
    torch.testing.assert_close(x[:, :, 0, 0], q(state, action))


def test_sobolev_target_gradients_equal_finite_differences_with_noise_fixed():
    model, actor, critic, state, action = oracle_setup()
    kwargs = dict(gamma=0.9, n_samples=6, lam=1.0, truncate=0.0)
    y = sobolev_targets(model, actor, critic, state, action,
                        generator=torch.Generator().manual_seed(7), **kwargs)
    assert y.shape == (4, 12, 3) and not y.requires_grad
    eps = 1e-6
    for i in range(2):
        delta = torch.zeros(2, dtype=torch.float64)
        delta[i] = eps
        plus = sobolev_targets(model, actor, critic, state, action + delta,
                               generator=torch.Generator().manual_seed(7), **kwargs)
        minus = sobolev_targets(model, actor, critic, state, action - delta,
                                generator=torch.Generator().manual_seed(7), **kwargs)
        fd = (plus[..., 0] - minus[..., 0]) / (2 * eps)
        torch.testing.assert_close(y[..., 1 + i], fd, rtol=1e-5, atol=1e-7)


def test_targets_leave_no_gradient_on_target_networks():
    model, actor, critic, state, action = oracle_setup()
    y = sobolev_targets(model, actor, critic, state, action, gamma=0.9, n_samples=4, lam=1.0,
                        truncate=0.25)
    ret = return_targets(model, actor, critic, state, action, gamma=0.9, n_samples=4)
    assert not y.requires_grad and not ret.requires_grad
    assert all(p.grad is None for p in [*actor.parameters(), *critic.parameters()])


def test_return_targets_are_the_return_part_of_sobolev_targets():
    model, actor, critic, state, action = oracle_setup()
    y = sobolev_targets(model, actor, critic, state, action, gamma=0.8, n_samples=5, lam=1.0,
                        truncate=0.2, generator=torch.Generator().manual_seed(3))
    ret = return_targets(model, actor, critic, state, action, gamma=0.8, n_samples=5,
                         truncate=0.2, generator=torch.Generator().manual_seed(3))
    assert ret.shape == (4, 8)
    torch.testing.assert_close(ret, y[..., 0])


def test_gamma_zero_targets_are_the_reward_and_its_gradient():
    model, actor, critic, state, action = oracle_setup(n_locations=1, noise=0.0)
    spec = model.dynamics.spec
    y = sobolev_targets(model, actor, critic, state, action, gamma=0.0, n_samples=3, lam=1.0)
    next_state = state + spec.dt * action
    goal = spec.locations(dtype=torch.float64)[0]
    reward = torch.exp(-((next_state - goal) ** 2).sum(-1) / (2 * spec.width**2))
    torch.testing.assert_close(y[..., 0], reward[:, None].expand(4, 6))
    grad = spec.dt * reward[:, None] * (goal - next_state) / spec.width**2
    torch.testing.assert_close(y[..., 1:], grad[:, None].expand(4, 6, 2))


def test_mage_target_is_min_of_twins_and_its_gradient_matches_finite_differences():
    model, actor, _, state, action = oracle_setup(noise=0.0, n_locations=1)
    torch.manual_seed(4)
    q = TwinQ(2, 2, hidden=(16,), activation="silu").double()
    y, grad = mage_targets(model, actor, q, state, action, gamma=0.9)
    next_state = state + model.dynamics.spec.dt * action
    _, reward = model.dynamics.step(state, action, model.sample_noise((4,)))
    expected = reward + 0.9 * q(next_state, actor(next_state)).min(0).values
    torch.testing.assert_close(y, expected)
    eps = 1e-6
    for i in range(2):
        delta = torch.zeros(2, dtype=torch.float64)
        delta[i] = eps
        fd = (mage_targets(model, actor, q, state, action + delta, gamma=0.9)[0]
              - mage_targets(model, actor, q, state, action - delta, gamma=0.9)[0]) / (2 * eps)
        torch.testing.assert_close(grad[:, i], fd, rtol=1e-5, atol=1e-7)


def test_truncate_top_drops_the_largest_returns():
    y = torch.tensor([[[3.0, 0.3], [1.0, 0.1], [4.0, 0.4], [2.0, 0.2]]])
    kept = truncate_top(y, 0.25)
    torch.testing.assert_close(kept, torch.tensor([[[1.0, 0.1], [2.0, 0.2], [3.0, 0.3]]]))
    assert truncate_top(y, 0.0) is y
    with pytest.raises(ValueError, match="fraction"):
        truncate_top(y, 1.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(gamma=1.0), "gamma"), (dict(gamma=-0.5), "gamma"), (dict(lam=-1.0), "lam"),
     (dict(n_samples=0), "n_samples"), (dict(truncate=1.2), "fraction")],
)
def test_bad_target_arguments_raise(kwargs, match):
    model, actor, critic, state, action = oracle_setup()
    args = dict(gamma=0.9, n_samples=4, lam=1.0) | kwargs
    with pytest.raises(ValueError, match=match):
        sobolev_targets(model, actor, critic, state, action, **args)


def test_bad_joint_sample_arguments_raise():
    critic = make_critic()
    state, action = torch.zeros(3, 2, dtype=torch.float64), torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="M"):
        joint_samples(critic, state, action, torch.zeros(3, 1, 3, dtype=torch.float64), lam=1.0)
    with pytest.raises(ValueError, match="lam"):
        joint_samples(critic, state, action, torch.zeros(3, 4, 3, dtype=torch.float64), lam=-1.0)
    with pytest.raises(ValueError, match="action"):
        joint_samples(critic, state, torch.zeros(3, 3), torch.zeros(3, 4, 3), lam=1.0)
    with pytest.raises(ValueError, match="xi"):
        joint_samples(critic, state, action, torch.zeros(2, 4, 3, dtype=torch.float64), lam=1.0)
