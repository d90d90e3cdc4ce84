"""The how-to pages' examples (docs/howto/examples/*.py), run for real: a new critic strategy
trains, a new environment passes gymnasium's `check_env` with a termination function that agrees
with it, a new world model fits and gives pathwise-differentiable samples of the right shapes."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from dvg_core.agents import AlgorithmConfig, Batch
from dvg_core.agents.strategy_base import Targets
from dvg_core.envs import PointMassDynamics, make_env, point_mass_spec
from dvg_core.models import Actor
from dvg_core.models.world_models import OracleWorldModel

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "howto" / "examples"
TOY = "dvg/PointMass-v1"


def load_example(name: str):
    """The example module `docs/howto/examples/<name>.py`, imported by path."""
    spec = importlib.util.spec_from_file_location(f"howto_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def toy_transitions(n_steps: int, seed: int = 0) -> Batch:
    """`n_steps` transitions of the toy under uniformly random actions, as one `Batch`."""
    env = make_env(TOY, seed=seed, noise="dynamics")
    rows, obs = [], env.reset(seed=seed)[0]
    for _ in range(n_steps):
        action = env.action_space.sample()
        next_obs, reward, terminated, truncated, _ = env.step(action)
        rows.append((obs, action, reward, next_obs, float(terminated)))
        obs = env.reset()[0] if terminated or truncated else next_obs
    columns = [torch.as_tensor(np.array(c), dtype=torch.float32) for c in zip(*rows)]
    return Batch(*columns)


# --- add an algorithm -------------------------------------------------------------------------

def test_the_new_strategy_trains_its_critic_on_a_fixed_batch():
    energy = load_example("energy_strategy")
    torch.manual_seed(0)
    config = AlgorithmConfig(hidden=(32, 32), n_samples=8, n_target_samples=8, gamma=0.9)
    strategy = energy.DSDPGEnergyStrategy(config, state_dim=2, action_dim=2)
    critic = strategy.build_critic()
    targets = Targets(Actor(2, 2, hidden=(32, 32)).requires_grad_(False),
                      copy.deepcopy(critic).requires_grad_(False),
                      OracleWorldModel(PointMassDynamics(point_mass_spec(TOY, dynamics_noise=0.05))))
    batch = toy_transitions(300)
    optimizer = torch.optim.Adam(critic.parameters(), lr=3e-3)

    def held_out_loss() -> float:  # the same critic and target noise before and after training
        return strategy.critic_loss(critic, targets, batch, torch.Generator().manual_seed(999))[0].mean().item()

    before, losses = held_out_loss(), []
    for step in range(120):
        generator = torch.Generator().manual_seed(step)
        loss, info = strategy.critic_loss(critic, targets, batch, generator)
        assert loss.shape == (300,) and info["critic_value"].shape == ()
        optimizer.zero_grad()
        loss.mean().backward()
        optimizer.step()
        losses.append(loss.mean().item())
    assert np.isfinite(losses).all()
    assert held_out_loss() < 0.6 * before, (before, losses[::10])
    value = strategy.actor_value(critic, batch.state[:5], batch.action[:5])
    assert value.shape == (5,) and torch.isfinite(value).all()


def test_the_registered_strategy_runs_in_the_shared_agent(monkeypatch):
    """Registered as the how-to says (its name among the algorithms, its class in `STRATEGIES`),
    the agent builds it by name and updates critic, actor and targets with it."""
    energy = load_example("energy_strategy")
    from dvg_core.agents import STRATEGIES
    from dvg_core.agents import config as algorithm_config
    from dvg_core.configs import EnvConfig, ModelConfig
    from dvg_core.training.build import build_agent

    name = energy.DSDPGEnergyStrategy.name
    monkeypatch.setattr(algorithm_config, "ALGORITHMS", (*algorithm_config.ALGORITHMS, name))
    monkeypatch.setitem(STRATEGIES, name, energy.DSDPGEnergyStrategy)
    torch.manual_seed(0)
    algorithm = AlgorithmConfig(name=name, hidden=(32, 32), n_samples=4, n_target_samples=4)
    env_config = EnvConfig(env_id=TOY)
    agent = build_agent(algorithm, ModelConfig(kind="oracle"), env_config,
                        make_env(TOY, seed=0), torch.device("cpu"))
    assert isinstance(agent.strategy, energy.DSDPGEnergyStrategy)
    batch = toy_transitions(64)
    actor_before = [p.clone() for p in agent.actor.parameters()]
    for _ in range(4):
        info = agent.update(batch)
    assert torch.isfinite(info["critic_loss"]) and torch.isfinite(info["actor_loss"])
    assert any(not torch.equal(a, b) for a, b in zip(actor_before, agent.actor.parameters()))


# --- add an environment -----------------------------------------------------------------------

@pytest.fixture
def line_walk():
    """The example env's module, its id registered with gymnasium for the test only."""
    module = load_example("line_walk_env")
    module.register()
    yield module
    gymnasium.registry.pop(module.LINE_WALK_ID, None)


def test_the_new_env_passes_check_env_and_its_termination_function_agrees_with_it(line_walk):
    env = gymnasium.make(line_walk.LINE_WALK_ID, dynamics_noise=0.05)
    check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    n_terminated = 0
    for step in range(400):  # a push to the right every other episode, so some terminate
        action = np.ones(1, np.float32) if n_terminated % 2 == 0 else env.action_space.sample()
        obs, reward, terminated, truncated, _ = env.step(action)
        assert terminated == bool(line_walk.line_walk_terminated(torch.as_tensor(obs)))
        n_terminated += terminated
        if terminated or truncated:
            obs, _ = env.reset()
    assert n_terminated >= 2
    batch = torch.tensor([[[2.5, 0.0], [0.0, 9.0]], [[-2.01, 1.0], [1.99, -1.0]]])
    assert line_walk.line_walk_terminated(batch).tolist() == [[True, False], [True, False]]
    with pytest.raises(ValueError, match="next_obs"):
        line_walk.line_walk_terminated(torch.zeros(3, 4))


def test_a_learned_model_takes_done_from_the_new_envs_termination_function():
    line_walk = load_example("line_walk_env")
    model = load_example("gaussian_world_model").GaussianMLPWorldModel(
        2, 1, terminated_fn=line_walk.line_walk_terminated)
    state = torch.tensor([[1.95, 3.0], [0.0, 0.0]])
    next_state, _, done = model.sample(state, torch.zeros(2, 1), model.sample_noise((2,)))
    assert done.tolist() == line_walk.line_walk_terminated(next_state).float().tolist()


# --- add a world model ------------------------------------------------------------------------

def test_the_new_world_model_fits_the_toy_and_gives_pathwise_samples():
    wm = load_example("gaussian_world_model")
    torch.manual_seed(0)
    data = toy_transitions(400)
    model = wm.GaussianMLPWorldModel(2, 2, hidden=(64, 64), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(300):
        rows = torch.randint(400, (64,), generator=generator)
        metrics = model.fit(data.state[rows], data.action[rows], data.reward[rows],
                            data.next_state[rows])
        losses.append(metrics["loss"].item())
    assert np.isfinite(losses).all()
    assert np.mean(losses[-20:]) < np.mean(losses[:20]) - 1.0, losses[::30]

    state = data.state[:8, None].expand(8, 5, 2)  # [B, M, d_s]
    action = data.action[:8, None].expand(8, 5, 2).clone().requires_grad_(True)  # [B, M, d_a]
    next_state, reward, done = model.sample(state, action, model.sample_noise((8, 5)))
    assert next_state.shape == (8, 5, 2) and reward.shape == (8, 5) and done.shape == (8, 5)
    grad_reward, = torch.autograd.grad(reward.sum(), action)  # ∇ₐr̂ per draw, noise fixed
    assert grad_reward.shape == (8, 5, 2) and torch.isfinite(grad_reward).all()
    assert grad_reward.abs().sum() > 0
    mean_error = (next_state.mean(1) - data.next_state[:8]).norm(dim=-1).mean()
    assert mean_error < 0.2, mean_error  # the toy's step moves a state by at most about 0.1 + noise
