"""Seed-vectorised training (dvg_core.agents.seed_stack, the trainer's S > 1 path): a stack of one
seed updates exactly as the agent itself, every seed of a stack learns only from its own data and
equals its separate run where the update is deterministic, and the loop driving a stack of one
seed logs what it logs driving the plain agent (the records of seed groups:
tests/workbench/train/test_seed_groups.py)."""

from __future__ import annotations

import copy

import pytest
import torch

from dvg_core.agents import ALGORITHMS, AlgorithmConfig, Batch, SlicingConfig
from dvg_core.training import trainer as trainer_module
from dvg_core.training.build import build_agent, build_envs
from dvg_core.configs import EnvConfig, ModelConfig
from dvg_core.training.trainer import TIMING_METRICS
from dvg_core.agents import SeedStack

ENV = EnvConfig(kwargs={"n_locations": 3, "horizon": 20})
MODEL = ModelConfig(kind="cvae", hidden=(16, 16))


def _algorithm(name: str, **kwargs) -> AlgorithmConfig:
    return AlgorithmConfig(name=name, hidden=(16, 16), n_samples=4, n_target_samples=4,
                           slicing=SlicingConfig(steps=2), **kwargs)


def _agent(algorithm: AlgorithmConfig, seed: int, model: ModelConfig = MODEL):
    torch.manual_seed(seed)
    env, _ = build_envs(ENV, seed)
    return build_agent(algorithm, model, ENV, env, torch.device("cpu"))


def _batch(seed: int, size: int = 32) -> Batch:
    g = torch.Generator().manual_seed(seed)
    state = torch.rand(size, 2, generator=g) * 2 - 1
    action = torch.rand(size, 2, generator=g) * 2 - 1
    return Batch(state, action, torch.randn(size, generator=g),
                 state + 0.1 * torch.randn(size, 2, generator=g), torch.zeros(size))


def _stacked(batches: list[Batch]) -> Batch:
    return Batch(*(torch.stack(fields) for fields in zip(*batches)))


def _train(target, batches, generator, fit: bool) -> None:
    """Model fits, then critic/actor updates (3: the actor and targets move once)."""
    for i in range(3):
        if fit:
            target(batches[i % len(batches)], generator, fit=True)
        target(batches[i % len(batches)], generator, fit=False)


def _agent_and_stack_steps(agent, stack: SeedStack):
    """`(agent_step, stack_step)` for `_train`: a model fit or an update of the agent, and the
    same of a stack of one seed."""
    def agent_step(batch, generator, fit):
        if fit:
            if agent.world_model is not None:
                agent.world_model.fit(batch.state, batch.action, batch.reward, batch.next_state)
        else:
            agent.update(batch, generator)

    def stack_step(batch, generator, fit):
        one = _stacked([batch])
        stack.fit_model(one) if fit else stack.update(one, generator)

    return agent_step, stack_step


def _seed_params(stack: SeedStack, k: int) -> dict[str, torch.Tensor]:
    return {name: t[k] for name, t in stack.params.items()}


@pytest.mark.parametrize("name", ALGORITHMS)
def test_a_stack_of_one_seed_updates_exactly_as_the_agent_itself(name):
    # One seed: vmap draws the same random numbers in the same order, so only float rounding
    # of batched kernels could differ.
    agent = _agent(_algorithm(name), 0)
    stack = SeedStack([copy.deepcopy(agent)])
    batches = [_batch(i) for i in range(3)]
    agent_step, stack_step = _agent_and_stack_steps(agent, stack)

    torch.manual_seed(5)  # the cVAE's fit draws from the global RNG
    _train(agent_step, batches, torch.Generator().manual_seed(7), fit=True)
    torch.manual_seed(5)
    _train(stack_step, batches, torch.Generator().manual_seed(7), fit=True)
    ours = _seed_params(stack, 0)
    theirs = dict(agent.named_parameters())
    assert set(ours) == set(theirs)
    moved = [n for n in ours if not torch.equal(theirs[n], dict(_agent(_algorithm(name), 0)
                                                                .named_parameters())[n])]
    assert any(n.startswith("critic.") for n in moved) and any(n.startswith("actor.")
                                                               for n in moved)
    for n in ours:
        torch.testing.assert_close(ours[n], theirs[n], rtol=1e-4, atol=1e-5, msg=n)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_each_seed_of_a_stack_learns_only_from_its_own_data(name):
    agents = [_agent(_algorithm(name), s) for s in (0, 1)]

    def run(first_batches):
        stack = SeedStack([copy.deepcopy(a) for a in agents])
        generator = torch.Generator().manual_seed(3)
        torch.manual_seed(5)  # the cVAE's fit draws from the global RNG
        for i in range(3):
            batch = _stacked([first_batches[i], _batch(10 + i)])
            stack.fit_model(batch)
            stack.update(batch, generator)
        return stack

    a = run([_batch(i) for i in range(3)])
    b = run([_batch(20 + i) for i in range(3)])  # seed 0 sees other data
    assert any(not torch.equal(x, y) for x, y in zip(_seed_params(a, 0).values(),
                                                      _seed_params(b, 0).values()))
    for n, x in _seed_params(a, 1).items():
        torch.testing.assert_close(x, _seed_params(b, 1)[n], rtol=0, atol=1e-6, msg=n)


def test_three_stacked_seeds_equal_three_separate_agents_where_the_update_is_deterministic():
    # td3 without target smoothing: the update is a deterministic function of the batch, so the
    # stack must equal three separate agents (their own Adam each) seed by seed.
    algorithm = _algorithm("td3", target_policy_noise=0.0)
    agents = [_agent(algorithm, s) for s in range(3)]
    stack = SeedStack([copy.deepcopy(a) for a in agents])
    for i in range(4):
        batches = [_batch(10 * s + i) for s in range(3)]
        for agent, batch in zip(agents, batches):
            agent.update(batch)
        stack.update(_stacked(batches))
    for k, agent in enumerate(agents):
        for n, p in agent.named_parameters():
            torch.testing.assert_close(stack.params[n][k], p, rtol=1e-5, atol=1e-6, msg=n)


def test_the_loop_driving_a_stack_of_one_seed_logs_what_it_logs_driving_the_agent(
        tiny_trainer, monkeypatch):
    plain, (rows_a,) = tiny_trainer("dsdpg_msmmd", normalize_obs=True)
    assert type(plain.learner).__name__ == "SingleSeed"
    plain.run()
    monkeypatch.setattr(trainer_module, "make_learner", SeedStack)
    stacked, (rows_b,) = tiny_trainer("dsdpg_msmmd", normalize_obs=True)
    assert isinstance(stacked.learner, SeedStack)
    stacked.run()
    assert [(r["step"], r["kind"]) for r in rows_a] == [(r["step"], r["kind"]) for r in rows_b]
    for a, b in zip(rows_a, rows_b):
        for key in set(a) - set(TIMING_METRICS) - {"step", "kind"}:
            assert b[key] == pytest.approx(a[key], rel=1e-3, abs=1e-4), (a["step"], key)


@pytest.mark.parametrize("layout", ["two_pass", "coupling"])
def test_a_stack_of_one_seed_fits_and_samples_a_flow_model_as_the_agent_itself(layout):
    # The flow's splines (searchsorted, masked coupling writes) under vmap: one seed of a stack
    # fits its model and trains through its samples exactly as the agent does.
    model = ModelConfig(kind="flow", flow_layout=layout, hidden=(16, 16))
    agent = _agent(_algorithm("iqn"), 0, model)
    stack = SeedStack([copy.deepcopy(agent)])
    batches = [_batch(i) for i in range(3)]
    agent_step, stack_step = _agent_and_stack_steps(agent, stack)

    torch.manual_seed(5)  # the flow's noise regularisation draws from the global RNG
    _train(agent_step, batches, torch.Generator().manual_seed(7), fit=True)
    torch.manual_seed(5)
    _train(stack_step, batches, torch.Generator().manual_seed(7), fit=True)
    ours, theirs = _seed_params(stack, 0), dict(agent.named_parameters())
    assert any(n.startswith("world_model.") for n in ours)
    for n in ours:
        torch.testing.assert_close(ours[n], theirs[n], rtol=1e-4, atol=1e-5, msg=n)
