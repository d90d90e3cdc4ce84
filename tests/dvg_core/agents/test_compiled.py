"""dvg_core.agents.compiled: the compiled update draws eager's random numbers and agrees with it."""

from __future__ import annotations

import pytest
import torch
from torch._dynamo.utils import counters

from dvg_core.agents import AlgorithmConfig, Batch
from dvg_core.agents.agent import Agent
from dvg_core.agents.compiled import draw_from
from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.models.world_models import CVAEWorldModel, OracleWorldModel


def test_draw_from_gives_the_generator_stream_and_leaves_the_global_one_alone():
    def draws(generator):
        return torch.cat([torch.randn(3, generator=generator), torch.rand(2, generator=generator)])

    eager_generator = torch.Generator().manual_seed(7)
    expected = torch.cat([draws(eager_generator), draws(eager_generator)])
    generator = torch.Generator().manual_seed(7)
    torch.manual_seed(123)
    global_next = torch.rand(4)
    torch.manual_seed(123)
    got = torch.cat([draw_from(generator, draws), draw_from(generator, draws)])
    torch.testing.assert_close(got, expected, rtol=0, atol=0)  # the same numbers, in order
    torch.testing.assert_close(torch.rand(4), global_next, rtol=0, atol=0)  # global untouched
    torch.testing.assert_close(generator.get_state(), eager_generator.get_state())


def _agent(name: str, compile: bool) -> Agent:
    torch.manual_seed(0)
    config = AlgorithmConfig(name=name, hidden=(32, 32), n_samples=4, n_target_samples=3,
                             gamma=0.9)
    model = OracleWorldModel(PointMassDynamics(PointMassSpec(n_locations=3, dynamics_noise=0.05)))
    return Agent(config, 2, 2, model, compile=compile)


def _batches(n: int, size: int = 16) -> list[Batch]:
    g = torch.Generator().manual_seed(1)
    out = []
    for _ in range(n):
        state = torch.rand(size, 2, generator=g) * 2 - 1
        action = torch.rand(size, 2, generator=g) * 2 - 1
        out.append(Batch(state, action, torch.rand(size, generator=g), state + 0.1 * action,
                         torch.zeros(size)))
    return out


def _train(agent: Agent, batches: list[Batch], n_updates: int):
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(2)  # the actor's own draws (generative critics) come from the global RNG
    losses = [agent.update(batches[i % len(batches)], generator)["critic_loss"]
              for i in range(n_updates)]
    return torch.stack(losses), [p.detach().clone() for p in agent.parameters()]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["td3", "dsdpg_msmmd"])
def test_compiled_update_agrees_with_eager_over_100_updates_without_recompiling(name):
    """100 seeded updates (toy, 32-32, batch 16): the same losses and parameters as eager
    within float32 rounding grown over 100 Adam steps (atol 1e-5, rtol 1e-4; measured after
    100: td3 6e-8 in the loss, 3e-8 in the parameters; dsdpg_msmmd 4e-7, 5e-7), from two graphs (critic loss, actor loss) that never break or recompile."""
    batches = _batches(4)
    eager_losses, eager_params = _train(_agent(name, compile=False), batches, 100)
    torch._dynamo.reset()
    counters.clear()
    losses, params = _train(_agent(name, compile=True), batches, 100)
    torch.testing.assert_close(losses, eager_losses, atol=1e-5, rtol=1e-4)
    for p, p_eager in zip(params, eager_params):
        torch.testing.assert_close(p, p_eager, atol=1e-5, rtol=1e-4)
    assert counters["stats"]["unique_graphs"] == 2
    assert not counters["graph_break"]
    assert not counters["recompiles"]


@pytest.mark.slow
def test_compiled_update_with_the_cvae_agrees_with_eager():
    """With a learned model the compiled targets compute the cVAE's per-pair features once per
    pair and read them through their tangent plane (`pair_features_once`), where eager at these
    sizes evaluates them on every draw: two code paths, the same updates (20, dsdpg_msmmd)."""
    def agent(compile):
        torch.manual_seed(0)
        config = AlgorithmConfig(name="dsdpg_msmmd", hidden=(32, 32), n_samples=4,
                                 n_target_samples=3, gamma=0.9)
        model = CVAEWorldModel(2, 2, hidden=(32, 32), latent_dim=3)
        return Agent(config, 2, 2, model, compile=compile)

    batches = _batches(4)
    eager_losses, eager_params = _train(agent(False), batches, 20)
    torch._dynamo.reset()
    counters.clear()
    losses, params = _train(agent(True), batches, 20)
    torch.testing.assert_close(losses, eager_losses, atol=1e-5, rtol=1e-4)
    for p, p_eager in zip(params, eager_params):
        torch.testing.assert_close(p, p_eager, atol=1e-5, rtol=1e-4)
    assert not counters["graph_break"] and not counters["recompiles"]


@pytest.mark.slow
def test_a_second_agent_compiled_in_the_same_process_trains_its_own_parameters():
    """A seed group of compiled runs trains its seeds one after another in one process
    (`workbench.grid.grid_cells.execute_seed_group`): the second agent reuses the first one's graphs
    (no recompile), with its own parameters, and matches its eager twin."""
    batches = _batches(4)
    torch._dynamo.reset()
    _train(_agent("dsdpg_msmmd", compile=True), batches, 3)
    counters.clear()
    second = _agent("dsdpg_msmmd", compile=True)  # initialised as the first was before training
    twin = _agent("dsdpg_msmmd", compile=False)
    losses, params = _train(second, batches, 10)
    eager_losses, eager_params = _train(twin, batches, 10)
    assert not counters["recompiles"]
    torch.testing.assert_close(losses, eager_losses, atol=1e-5, rtol=1e-4)
    for p, p_eager in zip(params, eager_params, strict=True):
        torch.testing.assert_close(p, p_eager, atol=1e-5, rtol=1e-4)


def test_compile_with_a_seed_vectorised_group_is_refused_naming_loop_compile(tmp_path):
    from dvg_core.configs import EnvConfig, LoopConfig, ModelConfig
    from dvg_core.training.build import build_trainer

    with pytest.raises(ValueError, match=r"loop\.compile"):
        build_trainer(AlgorithmConfig(name="td3"), ModelConfig(), EnvConfig(),
                      LoopConfig(compile=True), seeds=[0, 1], device=torch.device("cpu"),
                      run_dirs=[tmp_path / "a", tmp_path / "b"], logs=[print, print])


def test_compile_of_an_unverified_algorithm_is_refused_naming_loop_compile():
    with pytest.raises(ValueError, match=r"loop\.compile.*dsdpg_complete"):
        _agent("dsdpg_complete", compile=True)
