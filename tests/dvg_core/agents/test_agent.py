"""The shared agent and the critic strategies: shapes, gradient isolation, targets, configs."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from dvg_core.agents.agent import Agent, actor_loss, soft_update
from dvg_core.agents import (
    ALGORITHMS, PAPER_ALGORITHMS, STRATEGIES, AlgorithmConfig, Batch, CriticStrategy,
)
from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.models.world_models import OracleWorldModel


def _agent(name: str, seed: int = 0) -> Agent:
    torch.manual_seed(seed)
    config = AlgorithmConfig(name=name, hidden=(16, 16), n_samples=4, n_target_samples=3,
                             xi_dim=3, gamma=0.9)
    model = OracleWorldModel(PointMassDynamics(PointMassSpec(n_locations=3, dynamics_noise=0.05)))
    return Agent(config, 2, 2, model)


def _batch(seed: int = 0, size: int = 8) -> Batch:
    g = torch.Generator().manual_seed(seed)
    state = torch.rand(size, 2, generator=g) * 2 - 1
    action = torch.rand(size, 2, generator=g) * 2 - 1
    return Batch(state, action, torch.rand(size, generator=g), state + 0.1 * action,
                 torch.zeros(size))


def _snapshot(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(b, p) for b, p in zip(before, module.parameters()))


def test_there_are_the_papers_six_algorithms_and_the_complete_one_each_a_strategy():
    assert set(STRATEGIES) == set(ALGORITHMS) and len(PAPER_ALGORITHMS) == 6
    assert ALGORITHMS == (*PAPER_ALGORITHMS, "dsdpg_complete")
    assert all(issubclass(cls, CriticStrategy) for cls in STRATEGIES.values())


@pytest.mark.parametrize("name", ALGORITHMS)
def test_critic_loss_is_per_state_finite_and_differentiable(name):
    agent = _agent(name)
    loss, info = agent.strategy.critic_loss(agent.critic, agent.targets, _batch(), None)
    assert loss.shape == (8,) and bool(torch.isfinite(loss).all())
    assert all(not v.requires_grad for v in info.values())
    grads = torch.autograd.grad(loss.mean(), list(agent.critic.parameters()), allow_unused=True)
    assert any(g is not None and bool(g.abs().sum() > 0) for g in grads)


def test_fresh_search_takes_the_loss_at_a_direction_found_on_a_second_critic_draw():
    """`slicing.fresh_search`: the max-sliced loss is the sliced MMD² of the critic's samples at
    the direction found on another, detached draw; it trains the critic like the default."""
    from dvg_core.agents import SlicingConfig
    from dvg_core.agents.strategies import make_strategy
    from dvg_core.losses.slicing import max_sliced_mmd2, sliced_mmd2

    config = AlgorithmConfig(name="dsdpg_msmmd", hidden=(16, 16), n_samples=4,
                             n_target_samples=3, gamma=0.9,
                             slicing=SlicingConfig(fresh_search=True))
    agent = _agent("dsdpg_msmmd")
    agent.strategy = make_strategy(config, 2, 2)
    assert agent.strategy.fresh_search and not make_strategy(agent.config, 2, 2).fresh_search
    loss, _ = agent.strategy.critic_loss(agent.critic, agent.targets, _batch(), None)
    assert loss.shape == (8,) and bool(torch.isfinite(loss).all())
    grads = torch.autograd.grad(loss.mean(), list(agent.critic.parameters()), allow_unused=True)
    assert any(g is not None and bool(g.abs().sum() > 0) for g in grads)

    g = torch.Generator().manual_seed(0)
    x, search_x, y = (torch.randn(5, 4, 3, generator=g), torch.randn(5, 4, 3, generator=g),
                      torch.randn(5, 6, 3, generator=g) + 0.5)
    strategy = make_strategy(config, 2, 2)
    value = strategy.distance(x, y, torch.Generator().manual_seed(1), search_x=search_x)
    _, theta = max_sliced_mmd2(search_x, y, strategy.kernel, direction=torch.eye(3)[0],
                               n_restarts=1, n_steps=5, step_size=0.5, unbiased=True,
                               generator=torch.Generator().manual_seed(1))
    expected = sliced_mmd2(x, y, strategy.kernel, directions=theta[:, None, :], unbiased=True)
    torch.testing.assert_close(value, expected)
    default = make_strategy(agent.config, 2, 2).distance(x, y, torch.Generator().manual_seed(1))
    assert not torch.allclose(value, default)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_critic_update_moves_only_the_critic(name):
    agent = _agent(name)
    actor, actor_target = _snapshot(agent.actor), _snapshot(agent.actor_target)
    critic, critic_target = _snapshot(agent.critic), _snapshot(agent.critic_target)
    agent.update_critic(_batch())
    assert _changed(critic, agent.critic)
    assert not _changed(actor, agent.actor) and not _changed(actor_target, agent.actor_target)
    assert not _changed(critic_target, agent.critic_target)
    assert all(p.grad is None for p in [*agent.actor.parameters(),
                                       *agent.actor_target.parameters(),
                                       *agent.critic_target.parameters()])


@pytest.mark.parametrize("name", ALGORITHMS)
def test_actor_update_moves_only_the_actor_and_ascends_the_value(name):
    agent = _agent(name)
    critic = _snapshot(agent.critic)
    batch = _batch(size=64)
    torch.manual_seed(1)
    before = agent.strategy.actor_value(agent.critic, batch.state, agent.actor(batch.state))
    for _ in range(20):
        agent.update_actor(batch)
    torch.manual_seed(1)
    after = agent.strategy.actor_value(agent.critic, batch.state, agent.actor(batch.state))
    assert not _changed(critic, agent.critic)
    assert all(p.grad is None for p in agent.critic.parameters())
    assert float(after.detach().mean()) > float(before.detach().mean())


def test_policy_delay_updates_actor_and_targets_every_second_step():
    agent = _agent("td3")
    actor, target = _snapshot(agent.actor), _snapshot(agent.critic_target)
    info = agent.update(_batch())
    assert "actor_loss" not in info and not _changed(actor, agent.actor)
    assert not _changed(target, agent.critic_target)
    info = agent.update(_batch())
    assert "actor_loss" in info and _changed(actor, agent.actor)
    assert _changed(target, agent.critic_target)


def test_soft_update_is_polyak_averaging():
    torch.manual_seed(0)
    online, target = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    expected = [t + 0.1 * (o - t) for t, o in zip(target.parameters(), online.parameters())]
    soft_update(target, online, 0.1)
    for e, t in zip(expected, target.parameters()):
        torch.testing.assert_close(t, e.detach())


def test_act_is_bounded_and_deterministic_without_noise():
    agent = _agent("td3")
    state = torch.randn(5, 2) * 10
    a1, a2 = agent.act(state), agent.act(state)
    torch.testing.assert_close(a1, a2)
    noisy = agent.act(state, noise_std=5.0, generator=torch.Generator().manual_seed(0))
    assert bool((noisy.abs() <= 1.0).all()) and not torch.equal(noisy, a1)


def test_checkpoint_state_round_trip_restores_everything():
    agent = _agent("dsdpg_msmmd")
    for i in range(4):
        agent.update(_batch(i))
    state = agent.checkpoint_state()
    clone = _agent("dsdpg_msmmd", seed=5)
    clone.load_checkpoint_state(state)
    batch = _batch(9)
    torch.manual_seed(3)
    a = agent.update(batch, torch.Generator().manual_seed(4))
    torch.manual_seed(3)
    b = clone.update(batch, torch.Generator().manual_seed(4))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


@pytest.mark.parametrize(
    "field, value",
    [("name", "sac"), ("gamma", 1.0), ("gamma", -0.1), ("lam", -1.0), ("n_samples", 1),
     ("n_target_samples", 0), ("truncate", 1.0), ("kernel", "laplace"), ("bandwidth", 0.0),
     ("xi_dim", 0), ("hidden", ()),
     ("hidden", (64, 0)), ("critic_lr", 0.0), ("actor_lr", -1.0), ("tau", 0.0), ("tau", 1.5),
     ("policy_delay", 0), ("exploration_noise", -0.1), ("target_policy_noise", -0.2),
     ("target_noise_clip", -1.0), ("huber_delta", 0.0), ("actor_saturation_penalty", -1e-3)],
)
def test_invalid_algorithm_config_fields_raise_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        AlgorithmConfig(**{field: value})


def test_td3_critic_loss_is_the_squared_clipped_double_q_error_of_each_twin():
    """TD3's loss, by hand: y = r + γ(1-d)·min_k Q̄_k(s', π̄(s') + clipped noise), Σ_k (Q_k - y)²."""
    agent = _agent("td3")
    batch = _batch(size=6)._replace(done=torch.tensor([0.0, 1.0, 0.0, 0.0, 1.0, 0.0]))
    generator = torch.Generator().manual_seed(5)
    loss, _ = agent.strategy.critic_loss(agent.critic, agent.targets, batch, generator)
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        a_next = agent.actor_target(batch.next_state)
        eps = (0.2 * torch.randn(a_next.shape, generator=generator)).clamp(-0.5, 0.5)
        a_next = (a_next + eps).clamp(-1, 1)
        q_next = agent.critic_target(batch.next_state, a_next).min(0).values
        y = batch.reward + 0.9 * (1 - batch.done) * q_next
        expected = ((agent.critic(batch.state, batch.action) - y) ** 2).sum(0)
    torch.testing.assert_close(loss.detach(), expected)


def test_actor_saturation_penalty_adds_c_times_the_mean_squared_preactivation():
    agent, batch = _agent("td3"), _batch()
    plain = actor_loss(agent, batch)
    agent.config = dataclasses.replace(agent.config, actor_saturation_penalty=0.01)
    raw = agent.actor.preactivation(batch.state)
    assert torch.equal(agent.actor.squash(raw), agent.actor(batch.state))
    torch.testing.assert_close(actor_loss(agent, batch), plain + 0.01 * raw.pow(2).mean())


def test_actor_saturation_penalty_pulls_a_saturated_actor_out_of_saturation():
    """With the tanh saturated the value's gradient vanishes; the penalty's does not."""
    agent, batch = _agent("td3"), _batch()
    with torch.no_grad():
        agent.actor.net.layers[-1].bias.fill_(8.0)  # tanh(8) = 1 - 2e-7: every action at the edge
    agent.config = dataclasses.replace(agent.config, actor_saturation_penalty=0.1)
    before = agent.actor.preactivation(batch.state).abs().mean()
    for _ in range(20):
        agent.update_actor(batch)
    assert agent.actor.preactivation(batch.state).abs().mean() < before - 0.01


def test_the_complete_strategy_slices_the_complete_vectors():
    agent = _agent("dsdpg_complete")
    assert agent.strategy.direction.shape == (1 + 2 + 2,)
    agent.update_critic(_batch())
    direction = agent.strategy.direction
    assert direction.shape == (5,) and bool(torch.isfinite(direction).all())
