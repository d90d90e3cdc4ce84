"""`HeadNoiseCritic`: the closed-form (Z, ∇ₐZ) path equals autograd, to first and second order."""

from __future__ import annotations

import pytest
import torch

from dvg_core.agents import AlgorithmConfig, make_strategy
from dvg_core.models.head_noise_critic import HeadNoiseCritic
from dvg_core.models.normalization import RunningNormalizer
from dvg_core.losses.sobolev import joint_samples


def _autograd_joint(critic, state, action, xi):
    """The generic path: a per-sample backward pass through `forward_members`."""
    e, (b, m) = critic.n_members, xi.shape[-3:-1]
    action_m = action[:, None].expand(e, b, m, -1).clone().requires_grad_(True)
    z = critic.forward_members(state[:, None].expand(e, b, m, -1), action_m, xi)
    (grad,) = torch.autograd.grad(z.sum(), action_m, create_graph=True)
    return z, grad


@pytest.mark.parametrize("hidden", [(16,), (16, 12), (8, 8, 8)])
@pytest.mark.parametrize("activation", ["silu", "tanh", "elu"])
def test_value_and_action_grad_equal_autograd(hidden, activation):
    torch.manual_seed(0)
    critic = HeadNoiseCritic(5, 3, xi_dim=4, hidden=hidden, activation=activation).double()
    state, action = torch.randn(6, 5).double(), torch.randn(6, 3).double()
    xi = torch.randn(6, 7, 4).double()
    z, grad = critic.value_and_action_grad(state, action, xi)
    z_ref, grad_ref = _autograd_joint(critic, state, action, xi)
    torch.testing.assert_close(z, z_ref)
    torch.testing.assert_close(grad, grad_ref)


def test_the_training_gradient_through_the_action_gradient_equals_autograd():
    """A loss on ∇ₐZ gives the same parameter gradients either way (second order)."""
    torch.manual_seed(1)
    critic = HeadNoiseCritic(4, 2, xi_dim=3, hidden=(10, 10)).double()
    state, action = torch.randn(5, 4).double(), torch.randn(5, 2).double()
    xi = torch.randn(2, 5, 6, 3).double()
    params = list(critic.parameters())

    def loss(z, grad):
        return (z.sin() * grad.pow(2).sum(-1)).sum() + grad[..., 0].exp().sum()

    fast = torch.autograd.grad(loss(*critic.value_and_action_grad(state, action, xi)), params)
    slow = torch.autograd.grad(loss(*_autograd_joint(critic, state, action, xi)), params)
    for a, b in zip(fast, slow):
        torch.testing.assert_close(a, b)


def test_forward_broadcasts_like_the_generative_critic_and_runs_the_trunk_per_pair():
    torch.manual_seed(2)
    critic = HeadNoiseCritic(3, 2, xi_dim=2, hidden=(8, 8))
    state, action, xi = torch.randn(4, 3), torch.randn(4, 2), torch.randn(4, 5, 2)
    z = critic(state[:, None], action[:, None], xi)  # [E, 4, 5]
    z_rows = critic(state[:, None].expand(4, 5, 3), action[:, None].expand(4, 5, 2), xi)
    assert z.shape == (2, 4, 5)
    torch.testing.assert_close(z, z_rows)
    z_members = critic.forward_members(state[:, None].expand(2, 4, 5, 3),
                                       action[:, None].expand(2, 4, 5, 2), xi.expand(2, 4, 5, 2))
    torch.testing.assert_close(z, z_members)
    xi_pair = torch.randn(4, 1, 2).expand(4, 5, 2)
    assert torch.allclose(critic(state[:, None], action[:, None], xi_pair)[..., :1].expand(2, 4, 5),
                          critic(state[:, None], action[:, None], xi_pair))


def test_joint_samples_takes_the_fast_path_with_the_observation_normaliser():
    torch.manual_seed(3)
    critic = HeadNoiseCritic(3, 2, xi_dim=2, hidden=(8, 8)).double()
    critic.obs_normalizer = RunningNormalizer(3).double()
    critic.obs_normalizer.update(torch.randn(50, 3).double() * 3 + 1)
    state, action, xi = torch.randn(4, 3).double(), torch.randn(4, 2).double(), torch.randn(4, 6, 2).double()
    fast = joint_samples(critic, state, action, xi, lam=0.25)
    z, grad = _autograd_joint(critic, state, action, xi)
    torch.testing.assert_close(fast, torch.cat([z.unsqueeze(-1), 0.5 * grad], -1))


def test_the_config_chooses_the_critic_and_rejects_unknown_choices():
    strategy = make_strategy(AlgorithmConfig(critic_noise="head", hidden=(8, 8)), 3, 2)
    assert isinstance(strategy.build_critic(), HeadNoiseCritic)
    with pytest.raises(ValueError, match="critic_noise"):
        AlgorithmConfig(critic_noise="middle")
    with pytest.raises(ValueError, match="activation"):
        HeadNoiseCritic(3, 2, activation="relu")
