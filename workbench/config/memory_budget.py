"""The memory a run will need, estimated and checked before any work: a config whose networks,
batches or replay cannot fit this machine is refused naming the keys the user set, instead of
ending in the allocator's traceback (or in swap) minutes later.

The estimate is deliberately rough (within a small factor) and errs high; it only has to tell a
run that fits from one that needs ten times the machine:

* networks: the actor and the twin critics (and their targets), float32, with Adam's two moments
  and a gradient: 5 copies of every weight;
* activations: every hidden layer of a critic for every sample of every pair of a batch
  (`batch_size × n_samples × width`, twice: a forward-mode ∇ₐZ and the backward pass) and of the
  model's members;
* replay: `replay_capacity` transitions of float32 `(s, a, r, s', done)`;
* the world model: its members' networks as above.

The machine's available memory is `MemAvailable` of /proc/meminfo (the physical memory where that
is missing); on a GPU the free memory torch reports for it (its total memory before this process
has used CUDA).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from workbench.config.experiment_config import ExperimentConfig

__all__ = ["BUDGET_KEYS", "available_bytes", "check_budget", "estimate_bytes", "run_device"]

BUDGET_KEYS = ("algorithm.hidden", "algorithm.n_samples", "algorithm.n_target_samples",
               "loop.batch_size", "loop.replay_capacity", "model.hidden", "model.n_members",
               "model.batch_size", "model.kind", "env.env_id")
"""The keys the estimate depends on, named when a config is refused."""

_DIMS = {"Ant-v5": (105, 8), "Hopper-v5": (11, 3), "HalfCheetah-v5": (17, 6),
         "Walker2d-v5": (17, 6), "Humanoid-v5": (348, 17), "InvertedDoublePendulum-v5": (9, 1)}
"""Observation and action sizes of the MuJoCo tasks (the toy's are 2 and 2)."""
_UNKNOWN_DIMS = (400, 20)
"""An upper bound for a task not listed."""
_FLOAT = 4
_COPIES = 5  # weights, target, two Adam moments, gradient


def _mlp_weights(sizes: Iterable[int]) -> int:
    sizes = list(sizes)
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


def estimate_bytes(config: ExperimentConfig) -> dict[str, int]:
    """The estimated peak memory of one run of `config`, by part: `networks`, `activations`,
    `replay`, `model` (bytes; see the module)."""
    from dvg_core.envs import POINT_MASS_IDS

    a, m, loop = config.algorithm, config.model, config.loop
    obs, act = (2, 2) if config.env.env_id in POINT_MASS_IDS else _DIMS.get(config.env.env_id,
                                                                          _UNKNOWN_DIMS)
    hidden = list(a.hidden)
    actor = _mlp_weights([obs, *hidden, act])
    critics = 2 * _mlp_weights([obs + act + a.xi_dim, *hidden, 1 + act])
    samples = max(a.n_samples, a.n_target_samples, 1)
    activations = 2 * 2 * loop.batch_size * samples * sum(hidden) * _FLOAT * 2
    members = m.n_members if m.kind != "oracle" else 0
    model = members * _mlp_weights([obs + act + m.latent_dim, *m.hidden, 2 * (obs + 1)])
    model_activations = 2 * members * m.batch_size * sum(m.hidden) * _FLOAT
    return {
        "networks": _COPIES * (actor + critics) * _FLOAT,
        "activations": activations + model_activations,
        "replay": loop.replay_capacity * (2 * obs + act + 2) * _FLOAT,
        "model": _COPIES * model * _FLOAT,
    }


def available_bytes(device: torch.device | None = None) -> int:
    """Memory free for a run: on `cuda` the GPU's free memory (its total before this process
    has touched CUDA: a config check does not create a CUDA context), else `MemAvailable`."""
    if device is not None and device.type == "cuda":
        if not torch.cuda.is_initialized():
            return int(torch.cuda.get_device_properties(device).total_memory)
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def run_device(name: str) -> torch.device | None:
    """The GPU a run of device `name` (`auto`, `cpu`, `cuda`, `cuda:N`) will train on here, or
    None for the CPU (also for a GPU this machine lacks: the run's own check names that)."""
    if name == "cpu" or not torch.cuda.is_available():
        return None
    device = torch.device("cuda" if name == "auto" else name)
    if device.index is not None and device.index >= torch.cuda.device_count():
        return None
    return device


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_budget(config: ExperimentConfig, *, set_keys: Mapping[str, Any] | None = None,
                 available: int | None = None, device: torch.device | None = None) -> None:
    """`ValueError` if `config` needs more memory than is available, naming the estimate's
    parts, the memory free, and the keys of `set_keys` (the user's `key: value`s) it depends
    on (all `BUDGET_KEYS` when the user set none of them).

    Args:
      config: the run.
      set_keys: the keys the user set, with their values.
      available: bytes free (None: `available_bytes(device)`).
      device: where the run will train (None or cpu: this machine's memory).
    """
    parts = estimate_bytes(config)
    total = sum(parts.values())
    free = available_bytes(device) if available is None else available
    if total <= free:
        return
    named = {k: v for k, v in (set_keys or {}).items() if k in BUDGET_KEYS}
    keys = (", ".join(f"{k}={v}" for k, v in named.items()) if named
            else "the preset's " + ", ".join(BUDGET_KEYS))
    where = "the GPU" if device is not None and device.type == "cuda" else "this machine"
    raise ValueError(
        f"{keys}: this run would need about {_gib(total)} of memory ("
        + ", ".join(f"{name} {_gib(n)}" for name, n in parts.items() if n)
        + f"), more than the {_gib(free)} available on {where}; make it smaller")
