"""Warm starts of the explorer (`workbench.explorer.warm_start`, `explore(..., start=...)`,
`workbench.explorer.exploration.warm_start`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from dvg_core.envs import PointMassDynamics
from workbench.explorer.exploration import (
    Exploration,
    ExploreSettings,
    _agent,
    explore,
    summary,
    warm_start,
)

TINY = ExploreSettings(algorithm="dsdpg_msmmd", device="cpu", n_updates=20, warm_updates=7,
                       batch_size=16, hidden=(16, 16), n_samples=4, n_truth=32,
                       n_probe_samples=8, grid=3)


@pytest.fixture(scope="module")
def first() -> Exploration:
    return explore(TINY)


def test_a_warm_start_begins_from_the_previous_critic(first):
    # λ enters neither the truth nor the probe draws, so the warm start's MMD before training
    # is exactly the previous exploration's MMD after training.
    warm = explore(dataclasses.replace(TINY, lam=2.0), start=first.critic)
    assert warm.warm and not first.warm
    assert warm.start_mmd == first.mmd
    assert warm.losses.shape == (7,)  # warm_updates, not n_updates
    assert summary(warm).startswith("dsdpg_msmmd: 7 critic updates")
    assert summary(warm).endswith(f"(warm start {first.mmd:.4f})")


def test_loading_a_critic_state_restores_critic_target_optimiser_and_strategy(first):
    settings = dataclasses.replace(TINY, gamma=0.7)
    agent = _agent(settings, PointMassDynamics(settings.spec()), torch.device("cpu"),
                   first.critic)
    for name, saved in (("critic", first.critic.critic),
                        ("critic_target", first.critic.critic_target)):
        for key, value in getattr(agent, name).state_dict().items():
            assert torch.equal(value, saved[key]), (name, key)
    moments = agent.critic_optimizer.state_dict()["state"]
    for index, saved in first.critic.optimizer["state"].items():
        assert torch.equal(moments[index]["exp_avg"], saved["exp_avg"])
        assert int(moments[index]["step"]) == 20
    assert torch.equal(agent.strategy.direction, first.critic.strategy["direction"])


def test_training_from_a_start_leaves_it_unchanged_and_repeats_exactly(first):
    before = {k: v.clone() for k, v in first.critic.critic.items()}
    steps = {i: s["exp_avg"].clone() for i, s in first.critic.optimizer["state"].items()}
    settings = dataclasses.replace(TINY, gamma=0.7)
    one, two = explore(settings, start=first.critic), explore(settings, start=first.critic)
    for name in ("samples", "truth", "value", "grad", "losses"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name
    assert all(torch.equal(first.critic.critic[k], v) for k, v in before.items())
    assert all(torch.equal(first.critic.optimizer["state"][i]["exp_avg"], v)
               for i, v in steps.items())


@pytest.mark.parametrize("change", [{"algorithm": "dsdpg_mmd"}, {"hidden": (8, 8)},
                                    {"seed": 1}])
def test_a_change_of_architecture_or_seed_cannot_start_from_the_previous_critic(first, change):
    settings = dataclasses.replace(TINY, **change)
    assert warm_start(first, settings) is None
    with pytest.raises(ValueError, match="start was trained with"):
        explore(settings, start=first.critic)


@pytest.mark.parametrize("change", [{"lam": 3.0}, {"gamma": 0.8}, {"n_locations": 4},
                                    {"noise": 0.1}, {"n_samples": 6}, {"bandwidth": 10.0},
                                    {"probe": (0.7, 0.4)}, {"probe": (0.3, 0.8)},
                                    {"n_updates": 40}])
def test_a_move_that_keeps_the_critic_and_its_window_warm_starts(first, change):
    assert warm_start(first, dataclasses.replace(TINY, **change)) is first.critic
    assert warm_start(None, TINY) is None


@pytest.mark.parametrize("probe", [(0.25, 0.3), (0.8, 0.85), (-0.5, -1.0)])
def test_a_probe_moved_out_of_the_training_window_cold_starts(first, probe):
    assert TINY.probe == (0.8, 0.3) and TINY.window == 0.5
    assert warm_start(first, dataclasses.replace(TINY, probe=probe)) is None
