"""Monte-Carlo ground truth of (G, ∇ₐG): finite differences, degenerate and structural cases."""

from __future__ import annotations

import math

import pytest
import torch

from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.analysis.ground_truth import discounted_horizon, rollout_return, sobolev_return_samples


def _linear_tanh_policy(seed: int = 0):
    weight = torch.randn(2, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return lambda s: torch.tanh(s @ weight.to(s.dtype) + 0.3)


def _probes(batch: int, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    state = (torch.rand(batch, 2, generator=g, dtype=torch.float64) * 2 - 1) * 1.2
    action = torch.rand(batch, 2, generator=g, dtype=torch.float64) * 1.6 - 0.8
    return state, action


def test_per_sample_gradient_matches_central_finite_differences():
    dyn = PointMassDynamics(PointMassSpec(n_locations=3, dynamics_noise=0.1))
    policy = _linear_tanh_policy()
    state, action = _probes(4)
    k, steps, gamma = 8, 25, 0.9
    g = torch.Generator().manual_seed(5)
    noise = dyn.sample_noise((steps, 4, k), generator=g, dtype=torch.float64)
    state_k = state[:, None].expand(4, k, 2)
    action_k = action[:, None].expand(4, k, 2).clone().requires_grad_(True)
    ret = rollout_return(dyn, policy, state_k, action_k, noise, gamma=gamma, n_steps=steps)
    (grad,) = torch.autograd.grad(ret.sum(), action_k)
    eps = 1e-6
    for i in range(2):
        delta = torch.zeros(2, dtype=torch.float64)
        delta[i] = eps
        plus = rollout_return(dyn, policy, state_k, action_k.detach() + delta, noise,
                              gamma=gamma, n_steps=steps)
        minus = rollout_return(dyn, policy, state_k, action_k.detach() - delta, noise,
                               gamma=gamma, n_steps=steps)
        fd = (plus - minus) / (2 * eps)
        rel = (fd - grad[..., i]).abs().max() / grad[..., i].abs().max()
        assert rel < 1e-3, f"relative error {rel:.2e} in dimension {i}"


def test_sobolev_samples_shape_and_return_part_match_a_plain_rollout():
    dyn = PointMassDynamics(PointMassSpec(n_locations=3, dynamics_noise=0.05))
    policy = _linear_tanh_policy()
    state, action = _probes(3)
    x = sobolev_return_samples(dyn, policy, state, action, gamma=0.8, n_samples=16,
                               generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, 16, 3) and not x.requires_grad
    steps = discounted_horizon(0.8)
    noise = dyn.sample_noise((steps, 3, 16), generator=torch.Generator().manual_seed(0),
                             dtype=torch.float64)
    ret = rollout_return(dyn, policy, state[:, None].expand(3, 16, 2),
                         action[:, None].expand(3, 16, 2), noise, gamma=0.8, n_steps=steps)
    torch.testing.assert_close(x[..., 0], ret)


def test_deterministic_rewards_give_identical_samples():
    dyn = PointMassDynamics(PointMassSpec(n_locations=1, dynamics_noise=0.0))
    state, action = _probes(5)
    x = sobolev_return_samples(dyn, _linear_tanh_policy(), state, action, gamma=0.9,
                               n_samples=32, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(x, x[:, :1].expand_as(x), rtol=0, atol=1e-12)
    assert float(x[..., 1:].abs().max()) > 1e-3  # the gradient itself is not trivial


def test_one_step_reward_gradients_point_exactly_at_the_n_locations():
    spec = PointMassSpec(n_locations=3, dynamics_noise=0.0)
    dyn = PointMassDynamics(spec)
    state = torch.tensor([[0.2, -0.1], [-0.5, 0.4]], dtype=torch.float64)
    action = torch.tensor([[0.3, 0.6], [-0.2, 0.1]], dtype=torch.float64)
    x = sobolev_return_samples(dyn, _linear_tanh_policy(), state, action, gamma=0.0,
                               n_samples=200, generator=torch.Generator().manual_seed(3))
    next_state = state + spec.dt * action
    toward = spec.locations(dtype=torch.float64)[None] - next_state[:, None]  # [B, N, 2]
    toward = toward / toward.norm(dim=-1, keepdim=True)
    direction = x[..., 1:] / x[..., 1:].norm(dim=-1, keepdim=True)  # [B, K, 2]
    cosine = torch.einsum("bkd,bnd->bkn", direction, toward)
    # Every sample points exactly at one location, and every location is hit.
    assert torch.allclose(cosine.max(-1).values, torch.ones(2, 200, dtype=torch.float64))
    hits = (cosine > 1 - 1e-9).sum(1)  # [B, N]
    assert bool((hits > 0).all()) and bool((hits.sum(-1) == 200).all())
    # And its size is the bump's derivative: dt · r · |g - s'| / w².
    goal = spec.locations(dtype=torch.float64)[cosine.argmax(-1)]  # [B, K, 2]
    expected = spec.dt * x[..., 0:1] * (goal - next_state[:, None]) / spec.width**2
    torch.testing.assert_close(x[..., 1:], expected)


def test_discounted_horizon():
    assert discounted_horizon(0.0) == 1
    assert discounted_horizon(0.9, tol=1e-4) == math.ceil(math.log(1e-4) / math.log(0.9))
    assert 0.9 ** discounted_horizon(0.9) < 1e-4 <= 0.9 ** (discounted_horizon(0.9) - 1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(gamma=1.0), "gamma"),
        (dict(gamma=-0.1), "gamma"),
        (dict(n_samples=0), "n_samples"),
        (dict(n_steps=0), "n_steps"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    dyn = PointMassDynamics(PointMassSpec())
    state, action = _probes(2)
    args = dict(gamma=0.9, n_samples=4) | kwargs
    with pytest.raises(ValueError, match=match):
        sobolev_return_samples(dyn, _linear_tanh_policy(), state, action, **args)


def test_shape_mismatch_raises():
    dyn = PointMassDynamics(PointMassSpec())
    state, action = _probes(2)
    with pytest.raises(ValueError, match="action"):
        sobolev_return_samples(dyn, _linear_tanh_policy(), state, action[:1], gamma=0.9,
                               n_samples=4)
