"""Networks: the ensemble layer equals a loop over members; actor bounds; critic call shapes."""

from __future__ import annotations

import pytest
import torch

from dvg_core.models import Actor, EnsembleLinear, EnsembleMLP, GenerativeCritic, QuantileCritic, TwinQ


def test_ensemble_linear_equals_one_linear_per_member():
    torch.manual_seed(0)
    layer = EnsembleLinear(3, 4, 5)
    x = torch.randn(3, 7, 4)
    out = layer(x)
    for e in range(3):
        torch.testing.assert_close(out[e], x[e] @ layer.weight[e] + layer.bias[e])


def test_ensemble_mlp_keeps_leading_dims_and_rejects_a_wrong_member_dim():
    mlp = EnsembleMLP(2, 3, 1, hidden=(8,))
    assert mlp(torch.randn(2, 4, 5, 3)).shape == (2, 4, 5, 1)
    with pytest.raises(ValueError, match="E=2"):
        mlp(torch.randn(3, 4, 3))


def test_actor_respects_asymmetric_bounds():
    torch.manual_seed(0)
    low, high = torch.tensor([-2.0, 0.0]), torch.tensor([1.0, 3.0])
    actor = Actor(3, 2, action_low=low, action_high=high)
    with torch.no_grad():
        actor.net.layers[-1].bias.fill_(100.0)  # saturate: the action sits on the upper bound
    a = actor(torch.randn(10, 3))
    torch.testing.assert_close(a, high.expand(10, 2))
    with pytest.raises(ValueError, match="action_high"):
        Actor(3, 2, action_low=high, action_high=low)


def test_members_are_independent_and_shared_inputs_broadcast():
    torch.manual_seed(0)
    critic = GenerativeCritic(3, 2, xi_dim=4, n_members=2, hidden=(8,))
    s, a, xi = torch.randn(5, 3), torch.randn(5, 2), torch.randn(5, 6, 4)
    z = critic(s[:, None], a[:, None], xi)  # [E, B, M]
    assert z.shape == (2, 5, 6)
    members = critic.forward_members(s[None, :, None].expand(2, 5, 6, 3),
                                     a[None, :, None].expand(2, 5, 6, 2), xi)
    torch.testing.assert_close(z, members)
    assert critic.sample_returns(s, a, members=False).shape == (2, 5)
    assert not torch.allclose(z[0], z[1])  # two differently initialised members


def test_twin_q_and_quantile_critic_shapes():
    torch.manual_seed(0)
    s, a = torch.randn(4, 3), torch.randn(4, 2)
    assert TwinQ(3, 2, hidden=(8,))(s, a).shape == (2, 4)
    quantile = QuantileCritic(3, 2, hidden=8, n_cos=5)
    assert quantile(s, a, torch.rand(4, 7)).shape == (2, 4, 7)
    assert quantile(s, a, torch.rand(7)).shape == (2, 4, 7)
    assert quantile.sample_returns(s, a, members=False).shape == (2, 4)
