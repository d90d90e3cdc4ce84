"""The learner contract (dvg_core.agents.learner): both learners satisfy the `Learner` Protocol,
the update schedule, target updates and model fit are one code path, the agent's model fit is
the world model's own `fit`, and each learner restores its seeds' states."""

from __future__ import annotations

import copy

import pytest
import torch

from dvg_core.agents import Agent, Batch, Learner, SeedStack, SingleSeed, UpdateSchedule
from dvg_core.agents import make_learner
from dvg_core.training.build import build_agent, build_envs
from tests.dvg_core.tiny_run import tiny_configs


def _agent(name: str = "dsdpg_mmd", seed: int = 0) -> Agent:
    algorithm, model, env, _ = tiny_configs(name)
    torch.manual_seed(seed)
    train_env, _ = build_envs(env, seed)
    return build_agent(algorithm, model, env, train_env, torch.device("cpu"))


def _batch(seed: int, n_seeds: int, size: int = 16) -> Batch:
    g = torch.Generator().manual_seed(seed)
    state = torch.rand(n_seeds, size, 2, generator=g) * 2 - 1
    action = torch.rand(n_seeds, size, 2, generator=g) * 2 - 1
    return Batch(state, action, torch.randn(n_seeds, size, generator=g),
                 state + 0.1 * torch.randn(n_seeds, size, 2, generator=g),
                 torch.zeros(n_seeds, size))


def test_both_learners_satisfy_the_protocol_and_make_learner_picks_by_seed_count():
    one, two = make_learner([_agent()]), make_learner([_agent(seed=0), _agent(seed=1)])
    assert isinstance(one, SingleSeed) and isinstance(two, SeedStack)
    assert isinstance(one, Learner) and isinstance(two, Learner)
    assert (one.n_seeds, two.n_seeds) == (1, 2) and one.fits_model and two.fits_model


@pytest.mark.parametrize("method", ["update", "update_targets", "fit_model", "fits_model"])
def test_the_schedule_target_updates_and_model_fit_are_written_once(method):
    for learner in (Agent, SeedStack):
        assert getattr(learner, method) is getattr(UpdateSchedule, method), learner
        assert method not in learner.__dict__  # not overridden: the one code path runs


def test_the_agents_model_fit_is_the_world_models_own_fit_bit_for_bit():
    agent = _agent()
    model = copy.deepcopy(agent.world_model)
    model.optimizer = type(model.optimizer)(model.parameters(), **model.optimizer.defaults)
    for i in range(5):
        batch = Batch(*(t[0] for t in _batch(i, 1)))
        torch.manual_seed(i)  # the cVAE draws from the global RNG
        ours = agent.fit_model(batch)
        torch.manual_seed(i)
        theirs = model.fit(batch.state, batch.action, batch.reward, batch.next_state)
        assert torch.equal(ours["loss"], theirs["loss"])
    for (name, p), q in zip(agent.world_model.named_parameters(), model.parameters()):
        assert torch.equal(p, q), name


@pytest.mark.parametrize("n_seeds", [1, 2])
def test_a_learner_restores_its_seeds_states(n_seeds):
    trained = make_learner([_agent(seed=s) for s in range(n_seeds)])
    generator = torch.Generator().manual_seed(0)
    for i in range(4):  # two actor steps
        trained.fit_model(_batch(i, n_seeds))
        trained.update(_batch(10 + i, n_seeds), generator)
    states = [trained.seed_state_dict(k) for k in range(n_seeds)]
    fresh = make_learner([_agent(seed=10 + s) for s in range(n_seeds)])
    fresh.load_seed_state_dicts(states)
    assert fresh.n_critic_updates == trained.n_critic_updates == 4
    for k in range(n_seeds):
        ours, theirs = fresh.agent(k).state_dict(), trained.agent(k).state_dict()
        assert all(torch.equal(ours[n], theirs[n]) for n in theirs)
    a = trained.update(_batch(20, n_seeds), torch.Generator().manual_seed(1))
    b = fresh.update(_batch(20, n_seeds), torch.Generator().manual_seed(1))
    assert torch.equal(a["critic_loss"], b["critic_loss"])  # optimisers and strategy restored
