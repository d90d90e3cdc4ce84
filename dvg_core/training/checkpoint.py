"""The checkpoint: one format, one file per seed, written atomically.

A seed's `checkpoint.pt` holds everything its run needs to resume exactly (on CPU): its agent
(`Agent.checkpoint_state()`: networks, targets, optimisers, strategy state, update count; for a
seed of a stack, its slice), its replay, the torch RNGs, the trainer's update generator, its
warm-up action generator, its envs' numpy generators, the loop's counters and metric sums, and
the seeds of the group it was trained in. A record of one seed of a group is an ordinary record.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch

__all__ = ["CHECKPOINT_NAME", "env_rng_state", "read_checkpoints", "set_env_rng_state",
           "write_checkpoints"]

CHECKPOINT_NAME = "checkpoint.pt"


def _rng_holders(env: gymnasium.Env) -> list[tuple[Any, str]]:
    """Every `np.random.Generator` along a wrapper chain, as (object, attribute name)."""
    holders, current = [], env
    while True:
        for name in ("noise_rng", "_np_random"):
            if isinstance(current.__dict__.get(name), np.random.Generator):
                holders.append((current, name))
        if not hasattr(current, "env"):
            return holders
        current = current.env


def env_rng_state(env: gymnasium.Env) -> list[dict[str, Any]]:
    """The bit-generator states of every numpy generator of `env` and its wrappers."""
    return [getattr(obj, name).bit_generator.state for obj, name in _rng_holders(env)]


def set_env_rng_state(env: gymnasium.Env, states: list[dict[str, Any]]) -> None:
    """Restore `env_rng_state(env)`."""
    for (obj, name), state in zip(_rng_holders(env), states, strict=True):
        getattr(obj, name).bit_generator.state = state


def write_checkpoints(trainer: Any) -> None:
    """Each live seed's checkpoint of a `dvg_core.training.Trainer` (a diverged seed keeps its
    last good one)."""
    replay = trainer.replay.state_dict()
    every = trainer.loop.checkpoint_every
    following = (trainer.step // every + 1) * every
    for k in range(trainer.n_seeds):
        if trainer.diverged[k] is not None:
            continue
        state = {
            "agent": trainer.learner.seed_checkpoint_state(k, trainer.agents[k]),
            "replay": {key: (v[:, k] if isinstance(v, torch.Tensor) else v)
                       for key, v in replay.items()},
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "generator": trainer.generator.get_state(),
            "env_generator": trainer.env_generators[k].get_state(),
            "env_rng": env_rng_state(trainer.envs[k]),
            "counters": {"step": trainer.step, "episodes": trainer.episodes[k],
                         "n_summed": trainer.n_summed, "fit_count": trainer.fit_count,
                         "metric_counts": dict(trainer.counts), "next_checkpoint": following},
            "sums": {key: v[k].clone() for key, v in trainer.sums.items()},
            "seed_group": {"seeds": trainer.seeds, "index": k},
        }
        path = trainer.run_dirs[k] / CHECKPOINT_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        _save_atomic(state, path)
    trainer.next_checkpoint = following


_LOW_SPACE = 1 << 20
"""Free bytes below which a failed checkpoint write is taken for a full disk."""


def _save_atomic(state: dict[str, Any], path: Path) -> None:
    """`torch.save` to `<path>.tmp`, then `os.replace`; the last good checkpoint stays if it
    fails. torch's writer reports a full disk as `RuntimeError: [enforce fail at
    inline_container.cc] unexpected pos`: when the disk is (nearly) full then, it is raised as
    the `OSError` ENOSPC it is, naming the file."""
    tmp = path.with_suffix(".tmp")
    try:
        torch.save(state, tmp)
    except RuntimeError as err:
        full = shutil.disk_usage(path.parent).free < _LOW_SPACE
        tmp.unlink(missing_ok=True)
        if full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp)) from err
        raise
    os.replace(tmp, path)


def read_checkpoints(trainer: Any) -> bool:
    """Resume every seed of a `dvg_core.training.Trainer` from its checkpoint; returns whether
    they were loaded.

    One seed resumes from any checkpoint of its record. A group resumes only when every seed
    has one, written by this same group at the same step (else it starts afresh)."""
    paths = [d / CHECKPOINT_NAME for d in trainer.run_dirs]
    if not all(p.exists() for p in paths):
        return False
    states = [torch.load(p, map_location=trainer.device, weights_only=True) for p in paths]
    if trainer.n_seeds > 1:
        groups = [s.get("seed_group", {}).get("seeds") for s in states]
        if any(g != trainer.seeds for g in groups):
            return False
        if len({s["counters"]["step"] for s in states}) != 1:
            return False
    trainer.learner.load_seed_checkpoint_states([s["agent"] for s in states], trainer.agents)
    trainer.replay.load_state_dict({
        key: (torch.stack([s["replay"][key] for s in states], 1)
              if isinstance(states[0]["replay"][key], torch.Tensor)
              else states[0]["replay"][key]) for key in states[0]["replay"]})
    first = states[0]
    torch.set_rng_state(first["torch_rng"].cpu())
    if first["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(first["cuda_rng"])
    trainer.generator.set_state(first["generator"].cpu())
    for k, state in enumerate(states):
        trainer.env_generators[k].set_state(state["env_generator"].cpu())
        set_env_rng_state(trainer.envs[k], state["env_rng"])
        trainer.episodes[k] = state["counters"]["episodes"]
    counters = first["counters"]
    trainer.step, trainer.next_checkpoint = counters["step"], counters["next_checkpoint"]
    trainer.n_summed, trainer.fit_count = counters["n_summed"], counters["fit_count"]
    trainer.counts = dict(counters["metric_counts"])
    trainer.sums = {key: torch.stack([s["sums"][key] for s in states]) for key in first["sums"]}
    trainer.observations = [None] * trainer.n_seeds
    return True
