"""The replay: one run's (S = 1: wrap-around, per-seed round trip) and S seeds' in lockstep."""

from __future__ import annotations

import torch

import pytest

from dvg_core.agents import SeedReplay


def test_replay_buffer_wraps_around_and_round_trips():
    buffer = SeedReplay(1, 2, 1, capacity=3, device=torch.device("cpu"))
    for i in range(5):
        buffer.add([[i, i]], [[i]], [float(i)], [[i + 1, i + 1]], [i == 4])
    assert len(buffer) == 3
    assert sorted(buffer.reward[:, 0].tolist()) == [2.0, 3.0, 4.0]
    batch = buffer.sample(16, torch.Generator().manual_seed(0))
    torch.testing.assert_close(batch.next_state[..., 0], batch.state[..., 0] + 1)
    clone = SeedReplay(1, 2, 1, capacity=3, device=torch.device("cpu"))
    clone.load_seed_state_dicts([buffer.seed_state_dict(0)])
    torch.testing.assert_close(clone.sample(16, torch.Generator().manual_seed(0)).reward,
                               buffer.sample(16, torch.Generator().manual_seed(0)).reward)
    assert clone.position == buffer.position


def test_seed_replay_round_trips_each_seed_and_names_a_wrong_count():
    replay = SeedReplay(2, 1, 1, capacity=4, device=torch.device("cpu"))
    for t in range(6):
        replay.add([[t], [10 + t]], [[0.0], [1.0]], [t, -t], [[t + 1], [11 + t]], [0, 1])
    clone = SeedReplay(2, 1, 1, capacity=4, device=torch.device("cpu"))
    clone.load_seed_state_dicts([replay.seed_state_dict(k) for k in range(2)])
    for name in ("state", "action", "reward", "next_state", "done"):
        assert torch.equal(getattr(clone, name), getattr(replay, name)), name
    assert (clone.size, clone.position) == (4, 2)
    with pytest.raises(ValueError, match="one state per seed"):
        clone.load_seed_state_dicts([replay.seed_state_dict(0)])


def test_seed_replay_samples_each_seed_from_its_own_transitions():
    replay = SeedReplay(3, 2, 2, capacity=5, device=torch.device("cpu"))
    for t in range(7):  # wraps around
        seed = torch.arange(3.0)
        replay.add(seed[:, None].expand(3, 2) + 10 * t, torch.zeros(3, 2), seed,
                   torch.zeros(3, 2), torch.zeros(3))
    batch = replay.sample(64, torch.Generator().manual_seed(0))
    assert batch.state.shape == (3, 64, 2) and batch.reward.shape == (3, 64)
    assert torch.equal(batch.reward, torch.arange(3.0)[:, None].expand(3, 64))
    assert torch.equal(batch.state[..., 0] % 10, batch.reward)
    assert set((batch.state[..., 0] // 10).unique().tolist()) == {2.0, 3.0, 4.0, 5.0, 6.0}
