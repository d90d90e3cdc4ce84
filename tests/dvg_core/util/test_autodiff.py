"""dvg_core.util.autodiff: the same value and gradient in eager code and under vmap, closed forms."""

from __future__ import annotations

import pytest
import torch
from torch.func import vmap

from dvg_core.agents import AlgorithmConfig
from dvg_core.agents.strategies import make_strategy
from dvg_core.util.autodiff import forward_grad_of_sum, inside_functorch, value_and_grad_of_sum


def test_gradient_of_a_sum_is_every_per_sample_gradient_in_both_paths():
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0], [2.0, 0.0]])
    w = torch.tensor(1.5)

    def fn(v):
        return w * v.pow(3).sum(-1)  # [N]; ∂/∂v = 3 w v²

    y, grad = value_and_grad_of_sum(fn, x)
    torch.testing.assert_close(y, 1.5 * x.pow(3).sum(-1))
    torch.testing.assert_close(grad, 4.5 * x.pow(2))
    assert not y.requires_grad and not grad.requires_grad
    y_v, grad_v = vmap(lambda row: value_and_grad_of_sum(fn, row))(x)
    torch.testing.assert_close(y_v, y)
    torch.testing.assert_close(grad_v, grad)


def test_create_graph_keeps_the_gradient_trainable_in_both_paths():
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]])
    w = torch.tensor(2.0, requires_grad=True)

    def fn(v):
        return w * v.pow(2).sum(-1)  # gradient 2 w v, so ∂(Σ gradient)/∂w = Σ 2v

    _, grad = value_and_grad_of_sum(fn, x, create_graph=True)
    (dw,) = torch.autograd.grad(grad.sum(), w)
    torch.testing.assert_close(dw, 2 * x.sum())
    _, grad_v = vmap(lambda row: value_and_grad_of_sum(fn, row, create_graph=True))(x)
    (dw_v,) = torch.autograd.grad(grad_v.sum(), w)
    torch.testing.assert_close(dw_v, dw)


def test_inside_functorch_tells_eager_code_from_a_transform():
    assert not inside_functorch()
    flags = vmap(lambda v: v * 0 + float(inside_functorch()))(torch.ones(3))
    assert flags.tolist() == [1.0, 1.0, 1.0]


def test_forward_mode_gradient_matches_the_create_graph_path_hand_computed():
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]])
    w = torch.tensor(2.0, requires_grad=True)

    def fn(v):
        return w * v.pow(2).sum(-1)  # gradient 2 w v, so ∂(Σ gradient)/∂w = Σ 2v

    y, grad = forward_grad_of_sum(fn, x)
    torch.testing.assert_close(y, 2.0 * x.pow(2).sum(-1))
    torch.testing.assert_close(grad, 4.0 * x)
    (dw,) = torch.autograd.grad(grad.sum(), w)
    torch.testing.assert_close(dw, 2 * x.sum())


@pytest.mark.parametrize("critic_noise", ["quantile", "input"])
def test_forward_mode_joint_samples_and_loss_gradients_match_autograd(critic_noise):
    """The compiled path's ∇ₐZ (forward mode) against the eager one (`create_graph` autograd):
    the same samples, and the same parameter gradients of a loss on them (float64)."""
    torch.manual_seed(0)
    config = AlgorithmConfig(name="dsdpg_msmmd", hidden=(16, 16), critic_noise=critic_noise)
    critic = make_strategy(config, 2, 2).build_critic().double()
    state, action = torch.randn(5, 2, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    xi = critic.sample_xi((5, 4)).double()
    state_m = state[:, None].expand(critic.n_members, 5, 4, 2)  # [E, B, M, d_s]
    action_m = action[:, None].expand(critic.n_members, 5, 4, 2)  # [E, B, M, d_a]

    def fn(a):
        return critic.forward_members(state_m, a, xi)  # [E, B, M]

    results = [value_and_grad_of_sum(fn, action_m, create_graph=True),
               forward_grad_of_sum(fn, action_m)]
    grads = []
    for z, grad_a_z in results:
        loss = (z.sin() + grad_a_z.pow(2).sum(-1)).mean()  # trains both parts
        grads.append(torch.autograd.grad(loss, list(critic.parameters()), allow_unused=True))
    torch.testing.assert_close(results[1][0], results[0][0])
    torch.testing.assert_close(results[1][1], results[0][1])
    assert results[0][1].abs().max() > 1e-3  # a gradient that is not trivially zero
    for g_eager, g_forward in zip(*grads):
        if g_eager is None:
            assert g_forward is None
            continue
        torch.testing.assert_close(g_forward, g_eager)
