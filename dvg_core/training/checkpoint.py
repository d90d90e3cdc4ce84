"""The checkpoint files: one per seed, written atomically, read back for a group; and the envs'
numpy generators, which the checkpoint carries.

What a seed's `checkpoint.pt` holds is `Trainer.seed_state_dict`: everything its run needs to
resume exactly (on CPU): its agent (`Learner.seed_state_dict`, `Agent.checkpoint_state()`'s
format: networks, targets, optimisers, strategy state, update count; for a seed of a stack, its
slice), its replay, the torch RNGs, the trainer's update generator, its warm-up action
generator, its envs' numpy generators, the loop's counters and metric sums, and the seeds of the
group it was trained in. Each object saves and restores its own part; this module only writes
and reads the files. A record of one seed of a group is an ordinary record.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch

__all__ = ["CHECKPOINT_NAME", "env_rng_state", "load_rng_states", "read_checkpoints", "rng_state",
           "set_env_rng_state", "write_checkpoint"]

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


def rng_state(generator: torch.Generator, env_generator: torch.Generator,
              env: gymnasium.Env) -> dict[str, Any]:
    """A seed's random state: torch's global RNGs, the update `generator`, its warm-up
    `env_generator` and its `env`'s numpy generators."""
    return {"torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "generator": generator.get_state(), "env_generator": env_generator.get_state(),
            "env_rng": env_rng_state(env)}


def load_rng_states(states: Sequence[dict[str, Any]], generator: torch.Generator,
                    env_generators: Sequence[torch.Generator],
                    envs: Sequence[gymnasium.Env]) -> None:
    """Restore the seeds' `rng_state`s (the shared RNGs from the first)."""
    first = states[0]
    torch.set_rng_state(first["torch_rng"].cpu())
    if first["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(first["cuda_rng"])
    generator.set_state(first["generator"].cpu())
    for state, env_generator, env in zip(states, env_generators, envs, strict=True):
        env_generator.set_state(state["env_generator"].cpu())
        set_env_rng_state(env, state["env_rng"])


_LOW_SPACE = 1 << 20
"""Free bytes below which a failed checkpoint write is taken for a full disk."""


def write_checkpoint(state: dict[str, Any], path: Path) -> None:
    """`torch.save` to `<path>.tmp` (its folder created), then `os.replace`; the last good
    checkpoint stays if it fails. torch's writer reports a full disk as `RuntimeError: [enforce fail at
    inline_container.cc] unexpected pos`: when the disk is (nearly) full then, it is raised as
    the `OSError` ENOSPC it is, naming the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
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


def read_checkpoints(paths: Sequence[Path], seeds: Sequence[int],
                     device: torch.device) -> list[dict[str, Any]] | None:
    """The checkpoints at `paths` (one per seed of the group `seeds`, in order), loaded onto
    `device`, if they fit; else None.

    One seed resumes from any checkpoint of its record. A group resumes only when every seed
    has one, written by this same group at the same step (else it starts afresh)."""
    if not all(Path(p).exists() for p in paths):
        return None
    states = [torch.load(p, map_location=device, weights_only=True) for p in paths]
    if len(states) > 1:
        groups = [s.get("seed_group", {}).get("seeds") for s in states]
        if any(g != list(seeds) for g in groups):
            return None
        if len({s["counters"]["step"] for s in states}) != 1:
            return None
    return states
