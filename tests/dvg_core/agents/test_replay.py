"""The replay buffers: one run's (wrap-around, round trip) and S seeds' in lockstep."""

from __future__ import annotations

import torch

from dvg_core.agents import SeedReplay
from dvg_core.agents.replay import ReplayBuffer


def test_replay_buffer_wraps_around_and_round_trips():
    buffer = ReplayBuffer(2, 1, capacity=3, device=torch.device("cpu"))
    for i in range(5):
        buffer.add([i, i], [i], float(i), [i + 1, i + 1], i == 4)
    assert len(buffer) == 3
    assert sorted(buffer.reward.tolist()) == [2.0, 3.0, 4.0]
    batch = buffer.sample(16, torch.Generator().manual_seed(0))
    torch.testing.assert_close(batch.next_state[:, 0], batch.state[:, 0] + 1)
    clone = ReplayBuffer(2, 1, capacity=3, device=torch.device("cpu"))
    clone.load_state_dict(buffer.state_dict())
    torch.testing.assert_close(clone.sample(16, torch.Generator().manual_seed(0)).reward,
                               buffer.sample(16, torch.Generator().manual_seed(0)).reward)


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
