"""dvg_core.util.autodiff: the same value and gradient in eager code and under vmap, closed forms."""

from __future__ import annotations

import torch
from torch.func import vmap

from dvg_core.util.autodiff import inside_functorch, value_and_grad_of_sum


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
