"""The trainer saves and restores itself: `state_dict` round-trips to an equal state, a restored
trainer trains on exactly as the original, checkpoints are its per-seed states, and the declared
checkpoint hooks see every save with the seeds it wrote."""

from __future__ import annotations

import copy
import dataclasses

import torch

from dvg_core.training import CHECKPOINT_NAME
from tests.dvg_core.tiny_run import tiny_configs


def _equal(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


def test_a_trainer_state_round_trips_and_the_restored_trainer_trains_on_alike(tiny_trainer):
    loop = dataclasses.replace(tiny_configs()[3], total_steps=140)
    first, _ = tiny_trainer("mmd", seeds=(0, 1), loop=loop)
    first.run()
    state = first.state_dict()
    assert [s["counters"]["step"] for s in state["seeds"]] == [140, 140]
    longer = dataclasses.replace(loop, total_steps=180)
    restored, rows = tiny_trainer("mmd", seeds=(0, 1), loop=longer)
    restored.load_state_dict(copy.deepcopy(state))  # a loaded optimiser shares its tensors
    assert _equal(restored.state_dict(), state)
    restored.run()
    again, rows_again = tiny_trainer("mmd", seeds=(0, 1), loop=longer)
    again.load_state_dict(copy.deepcopy(state))  # the global RNG too: it runs as `restored`
    again.run()
    assert rows[0] and all(r["step"] > 140 for r in rows[0])
    drop = ("updates_per_s", "env_steps_per_s")
    strip = [[{k: v for k, v in r.items() if k not in drop} for r in seed] for seed in rows]
    assert strip == [[{k: v for k, v in r.items() if k not in drop} for r in seed]
                     for seed in rows_again]
    assert _equal(restored.state_dict(), again.state_dict())


def test_checkpoint_hooks_see_each_save_and_the_files_hold_the_seed_states(tiny_trainer):
    loop = dataclasses.replace(tiny_configs()[3], total_steps=200)
    trainer, _ = tiny_trainer("td3", seeds=(0, 1), loop=loop)
    calls = []
    trainer.checkpoint_hooks.append(lambda step, written: calls.append((step, written)))
    trainer.run()
    assert calls == [(100, [0, 1]), (200, [0, 1])]
    for k, run_dir in enumerate(trainer.run_dirs):
        saved = torch.load(run_dir / CHECKPOINT_NAME, weights_only=True)
        assert _equal(saved, trainer.seed_state_dict(k))
        assert saved["seed_group"] == {"seeds": [0, 1], "index": k}
    fresh, _ = tiny_trainer("td3", seeds=(0, 1), loop=loop)
    assert fresh.load_checkpoints() and _equal(fresh.state_dict(), trainer.state_dict())
