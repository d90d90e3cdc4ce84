"""Issue 17's target levers: the cVAE's per-pair features computed once per pair (exact: the
same targets and per-draw gradients as evaluating them on every draw) and the return-only
targets' shared model draws (every target critic reads the same draws)."""

from __future__ import annotations

import pytest
import torch

from dvg_core.agents import AlgorithmConfig
from dvg_core.util import autodiff
from dvg_core.losses.backup import pair_features_once
from dvg_core.losses.sobolev import return_targets, sobolev_targets
from dvg_core.models import Actor, GenerativeCritic, QuantileCritic
from dvg_core.models.world_models import CVAEWorldModel


class PerDrawModel(torch.nn.Module):
    """The same cVAE without `pair_features`: the features are recomputed on every draw."""

    def __init__(self, model: CVAEWorldModel) -> None:
        super().__init__()
        self.model = model
        self.state_dim, self.action_dim = model.state_dim, model.action_dim

    def sample_noise(self, shape, *, generator=None):
        return self.model.sample_noise(shape, generator=generator)

    def sample(self, state, action, noise):
        return self.model.sample(state, action, noise)


@pytest.fixture
def jacobian_always(monkeypatch):
    """The per-pair Jacobian at any size (these tests' networks are far below where it pays)."""
    monkeypatch.setattr(autodiff, "EAGER_JACOBIAN_MIN_WORK", 0)


def _setup(prior_components=1, mean_path=True, state_dim=3, action_dim=2):
    torch.manual_seed(0)
    model = CVAEWorldModel(state_dim, action_dim, hidden=(16, 16), latent_dim=3,
                           prior_components=prior_components, mean_path=mean_path).double()
    g = torch.Generator().manual_seed(1)
    data = [torch.randn(64, d, generator=g, dtype=torch.float64)
            for d in (state_dim, action_dim)]
    model.input_norm.update(torch.cat(data, -1))  # a non-trivial normalisation
    actor = Actor(state_dim, action_dim, hidden=(16, 16), activation="silu").double()
    critic = GenerativeCritic(state_dim, action_dim, xi_dim=3, n_members=2,
                              hidden=(16, 16)).double()
    state = torch.randn(5, state_dim, generator=g, dtype=torch.float64)
    action = torch.rand(5, action_dim, generator=g, dtype=torch.float64) * 1.6 - 0.8
    return model, actor, critic, state, action


@pytest.mark.parametrize("prior_components,mean_path", [(1, True), (1, False), (3, True)])
@pytest.mark.parametrize("lam_state", [None, 0.5])
def test_features_once_per_pair_give_the_per_draw_targets_and_gradients(
    prior_components, mean_path, lam_state, jacobian_always
):
    model, actor, critic, state, action = _setup(prior_components, mean_path)
    kwargs = dict(gamma=0.9, n_samples=4, lam=2.0, lam_state=lam_state)
    once = sobolev_targets(model, actor, critic, state, action,
                           generator=torch.Generator().manual_seed(3), **kwargs)
    per_draw = sobolev_targets(PerDrawModel(model), actor, critic, state, action,
                               generator=torch.Generator().manual_seed(3), **kwargs)
    assert once.shape == (5, 8, 1 + (3 if lam_state is not None else 0) + 2)
    torch.testing.assert_close(once, per_draw, rtol=1e-10, atol=1e-12)
    assert once[..., 1:].abs().max() > 1e-3  # the gradient part is not trivially zero


def test_features_once_per_pair_give_the_per_draw_return_targets():
    model, actor, critic, state, action = _setup()
    once = return_targets(model, actor, critic, state, action, gamma=0.9, n_samples=4,
                          generator=torch.Generator().manual_seed(3))
    per_draw = return_targets(PerDrawModel(model), actor, critic, state, action, gamma=0.9,
                              n_samples=4, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(once, per_draw, rtol=1e-12, atol=1e-12)


def test_the_tangent_plane_has_the_features_value_and_jacobian(jacobian_always):
    model, _, _, state, action = _setup()
    features = pair_features_once(model, state[:, None], action[:, None], "action", 35)
    draws = action[:, None].expand(5, 7, 2).clone().requires_grad_(True)  # [B, M, d_a]
    f = features(state[:, None].expand(5, 7, 3), draws)  # [B, M, C]
    torch.testing.assert_close(f, model.pair_features(state, action)[:, None].expand_as(f))
    k = 4  # one feature: its gradient in each draw's action is the Jacobian row at the pair
    (grad,) = torch.autograd.grad(f[..., k].sum(), draws)
    jac = torch.func.vmap(torch.func.jacrev(
        lambda a, s: model.pair_features(s[None], a[None])[0, k]))(action, state)  # [B, d_a]
    torch.testing.assert_close(grad, jac[:, None].expand_as(grad))


def test_shared_draws_give_every_target_critic_the_same_next_states():
    model, actor, _, state, action = _setup()
    critic = QuantileCritic(3, 2, hidden=16).double()
    # a critic whose samples are its members' value at the next state: two members see the
    # same next state iff their (member-free) part agrees; read it through the returns' pairs
    y = return_targets(model, actor, critic, state, action, gamma=0.0, n_samples=4,
                       shared_draws=True, generator=torch.Generator().manual_seed(0))
    assert y.shape == (5, 8)  # E·M' pooled, as without sharing
    rewards = y.reshape(5, 2, 4)  # γ = 0: the samples are the rewards, [B, E, M'] pooled order
    torch.testing.assert_close(rewards[:, 0], rewards[:, 1])  # the same draws for both critics
    own = return_targets(model, actor, critic, state, action, gamma=0.0, n_samples=4,
                         generator=torch.Generator().manual_seed(0)).reshape(5, 2, 4)
    assert not torch.allclose(own[:, 0], own[:, 1])  # without sharing: each critic its own


def test_shared_draws_are_refused_where_they_save_nothing():
    AlgorithmConfig(name="mmd", shared_target_draws=True)
    AlgorithmConfig(name="iqn", shared_target_draws=True)
    with pytest.raises(ValueError, match="shared_target_draws .*dsdpg_msmmd"):
        AlgorithmConfig(name="dsdpg_msmmd", shared_target_draws=True)


def test_an_eager_jacobian_is_taken_only_where_it_pays():
    model, _, _, state, action = _setup()  # width 16
    pair = (state[:, None], action[:, None])
    assert pair_features_once(model, *pair, "action", 40) is None  # far below: per draw
    assert pair_features_once(model, *pair, None, 40) is not None  # no gradient: always once
    rows = autodiff.EAGER_JACOBIAN_MIN_WORK // 16**2
    assert pair_features_once(model, *pair, "action", rows) is not None


def test_features_once_per_pair_do_less_arithmetic(jacobian_always):
    from torch.utils.flop_counter import FlopCounterMode

    model, actor, critic, state, action = _setup()

    def flops(world_model):
        with FlopCounterMode(display=False) as counter:
            sobolev_targets(world_model, actor, critic, state, action, gamma=0.9, n_samples=4,
                            lam=1.0, generator=torch.Generator().manual_seed(3))
        return counter.get_total_flops()

    assert flops(model) < 0.9 * flops(PerDrawModel(model))
