"""Whole-loop and environment throughput for `workbench.bench.update_bench`: env steps/s of the toy (gymnasium
and the batched torch step) and of a MuJoCo task, whole `toy-quick` training loops, and S seeds
trained at once against one by one."""

from __future__ import annotations

import time

import gymnasium
import torch

import dvg_core.envs  # noqa: F401  (registers the toy)
from dvg_core.envs import PointMassDynamics, PointMassSpec


__all__ = ["env_throughput", "loop_throughput", "seed_loop_seconds"]


def env_throughput(n_steps: int) -> dict[str, float]:
    """Steps/s of the toy gymnasium env, the toy's batched torch step (1024 envs), and
    HalfCheetah-v5, each with random actions."""
    out: dict[str, float] = {}
    for env_id in ("dvg/PointMass-v0", "HalfCheetah-v5"):
        env = gymnasium.make(env_id)
        env.reset(seed=0)
        env.action_space.seed(0)
        actions = [env.action_space.sample() for _ in range(n_steps)]
        start = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        out[env_id] = n_steps / (time.perf_counter() - start)
    dynamics = PointMassDynamics(PointMassSpec(n_locations=3, dynamics_noise=0.1))
    n_envs, g = 1024, torch.Generator().manual_seed(0)
    state = torch.zeros(n_envs, 2)
    repeats = max(1, n_steps // 100)
    start = time.perf_counter()
    for _ in range(repeats):
        noise = dynamics.sample_noise((n_envs,), generator=g)
        state, _ = dynamics.step(state, torch.rand(n_envs, 2, generator=g) * 2 - 1, noise)
    out["dvg/PointMass-v0 (torch, 1024 envs)"] = n_envs * repeats / (time.perf_counter() - start)
    return out


def _loop_config(name: str, n_steps: int, device: str, root: str, seed: int = 0):
    from workbench.config.presets import preset

    warmup = min(500, n_steps // 2)
    return preset("toy-quick", [f"algo={name}", f"steps={n_steps}", f"run_root={root}",
                                f"loop.warmup_steps={warmup}", f"device={device}",
                                f"seed={seed}"])


def loop_throughput(name: str, n_steps: int, device: str) -> float:
    """Env steps/s of a whole `toy-quick` run of `n_steps` (warm-up included), records in a temp
    dir."""
    import tempfile

    from workbench.train.training_run import train

    with tempfile.TemporaryDirectory() as root:
        config = _loop_config(name, n_steps, device, root)
        start = time.perf_counter()
        train(config, progress=False)
        elapsed = time.perf_counter() - start
    return n_steps / elapsed


def seed_loop_seconds(name: str, n_steps: int, n_seeds: int, device: str) -> dict[str, float]:
    """Wall seconds of `n_seeds` whole `toy-quick` runs: seed-vectorised and one by one."""
    import tempfile

    from workbench.train.training_run import train, train_seeds

    out = {}
    with tempfile.TemporaryDirectory() as root:
        configs = [_loop_config(name, n_steps, device, f"{root}/v", s) for s in range(n_seeds)]
        start = time.perf_counter()
        train_seeds(configs, progress=False)
        out["vectorised"] = time.perf_counter() - start
        start = time.perf_counter()
        for s in range(n_seeds):
            train(_loop_config(name, n_steps, device, f"{root}/o", s), progress=False)
        out["one_by_one"] = time.perf_counter() - start
    return out
