"""The complete Sobolev vectors `(Z, √λₛ∇ₛZ, √λ∇ₐZ)` (`dsdpg_complete`): finite differences of
the online samples and of the targets through the oracle model and the target actor, gradcheck of
the create-graph path, and the agents' vectors as their special case."""

from __future__ import annotations

import pytest
import torch

from dvg_core.agents import AlgorithmConfig
from dvg_core.analysis.ground_truth import sobolev_return_samples
from dvg_core.losses.sobolev import joint_samples, sobolev_targets
from tests.dvg_core.losses.sobolev_setup import CriticWithParameters, make_critic, oracle_setup

AGENT_COORDS = [0, 3, 4]
"""Return and action coordinates of a complete toy vector `[1 + 2 + 2]`."""


def _inputs(seed: int, batch: int = 3, n_samples: int = 5):
    g = torch.Generator().manual_seed(seed)
    state = torch.randn(batch, 2, generator=g, dtype=torch.float64)
    action = torch.randn(batch, 2, generator=g, dtype=torch.float64)
    xi = torch.randn(batch, n_samples, 3, generator=g, dtype=torch.float64)
    return state, action, xi


def test_complete_joint_samples_are_shaped_and_their_state_gradient_is_finite_differences():
    critic = make_critic()
    state, action, xi = _inputs(0)
    x = joint_samples(critic, state, action, xi, lam=4.0, lam_state=9.0)
    assert x.shape == (2, 3, 5, 1 + 2 + 2)  # [E, B, M, 1 + d_s + d_a]
    eps = 1e-6
    for i in range(2):
        delta = torch.zeros(2, dtype=torch.float64)
        delta[i] = eps
        fd = (critic(state[:, None] + delta, action[:, None], xi)
              - critic(state[:, None] - delta, action[:, None], xi)) / (2 * eps)
        torch.testing.assert_close(x[..., 1 + i], 3.0 * fd, rtol=1e-6, atol=1e-8)  # √λₛ = 3


def test_the_agents_joint_samples_are_the_complete_ones_without_the_state_part():
    critic = make_critic()
    state, action, xi = _inputs(1)
    x = joint_samples(critic, state, action, xi, lam=4.0, lam_state=0.5)
    torch.testing.assert_close(x[..., AGENT_COORDS], joint_samples(critic, state, action, xi,
                                                                   lam=4.0))


def test_complete_joint_samples_gradcheck_through_the_create_graph_path():
    critic = make_critic(hidden=(4,))
    state, action, xi = _inputs(2, batch=2, n_samples=3)
    names = [name for name, _ in critic.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in critic.parameters())

    def f(*values):
        bound = CriticWithParameters(critic, dict(zip(names, values)))
        return joint_samples(bound, state, action, xi, lam=0.5, lam_state=2.0)

    assert torch.autograd.gradcheck(f, params)


def _targets(model, actor, critic, state, action, **kwargs):
    return sobolev_targets(model, actor, critic, state, action, gamma=0.9, n_samples=6,
                           generator=torch.Generator().manual_seed(7), **kwargs)


def test_complete_targets_state_and_action_gradients_equal_finite_differences():
    model, actor, critic, state, action = oracle_setup()
    y = _targets(model, actor, critic, state, action, lam=1.0, lam_state=1.0)
    assert y.shape == (4, 12, 1 + 2 + 2) and not y.requires_grad  # [B, E·M', 1 + d_s + d_a]
    eps = 1e-6
    for i in range(4):  # state coordinates, then action ones
        delta = torch.zeros(4, dtype=torch.float64)
        delta[i] = eps
        plus = _targets(model, actor, critic, state + delta[:2], action + delta[2:], lam=1.0)
        minus = _targets(model, actor, critic, state - delta[:2], action - delta[2:], lam=1.0)
        fd = (plus[..., 0] - minus[..., 0]) / (2 * eps)
        torch.testing.assert_close(y[..., 1 + i], fd, rtol=1e-5, atol=1e-7)


def test_complete_targets_weigh_the_state_part_and_keep_the_agents_targets():
    model, actor, critic, state, action = oracle_setup(seed=1)
    y = _targets(model, actor, critic, state, action, lam=4.0, lam_state=0.25)
    agents = _targets(model, actor, critic, state, action, lam=4.0)
    torch.testing.assert_close(y[..., AGENT_COORDS], agents)
    unit = _targets(model, actor, critic, state, action, lam=4.0, lam_state=1.0)
    torch.testing.assert_close(y[..., 1:3], 0.5 * unit[..., 1:3])


def test_the_truths_state_gradient_leaves_its_return_and_action_gradient_unchanged():
    model, actor, _, state, action = oracle_setup()
    kwargs = dict(gamma=0.5, n_samples=4, n_steps=3)
    plain = sobolev_return_samples(model.dynamics, actor, state, action,
                                   generator=torch.Generator().manual_seed(0), **kwargs)
    complete = sobolev_return_samples(model.dynamics, actor, state, action, wrt_state=True,
                                      generator=torch.Generator().manual_seed(0), **kwargs)
    assert complete.shape == (4, 4, 5)
    torch.testing.assert_close(complete[..., AGENT_COORDS], plain, rtol=0, atol=0)


@pytest.mark.parametrize("call", ["samples", "targets", "config"])
def test_a_negative_state_weight_is_refused(call):
    model, actor, critic, state, action = oracle_setup()
    with pytest.raises(ValueError, match="lam_state"):
        if call == "samples":
            joint_samples(critic, state, action, _inputs(0, batch=4)[2], lam=1.0, lam_state=-1.0)
        elif call == "targets":
            _targets(model, actor, critic, state, action, lam=1.0, lam_state=-1.0)
        else:
            AlgorithmConfig(name="dsdpg_complete", lam_state=-1.0)


def test_the_state_weight_defaults_to_lambda():
    assert AlgorithmConfig(name="dsdpg_complete", lam=0.3).state_lam == 0.3
    assert AlgorithmConfig(name="dsdpg_complete", lam=0.3, lam_state=2.0).state_lam == 2.0
