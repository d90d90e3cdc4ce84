"""Issue 9: the speed of a lever, timed A/B in one process (robust to a loaded or noisy machine).

One agent of `workbench.bench.update_bench` (the benchmark's problem sizes), blocks of full `dsdpg_msmmd`
updates alternating between lever off (A) and on (B); the median block time of each. Levers:

* `closed-form-ascent`: max-slicing's θ-gradient from the kernel's closed-form derivative (the
  default) against the autograd pass it replaced (a plain callable kernel takes that path);
* `target-samples-5`: M' = 5 model draws per target critic against the default 10.

Also `max_sliced_mmd2` alone, closed form against autograd, at the benchmark's sizes.

Usage, from the repo root:
  .venv/bin/python scripts/lever_speed.py
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import torch

from dvg_core.losses.kernels import make_kernel
from dvg_core.losses.slicing import max_sliced_mmd2
from workbench.bench.update_bench import BenchConfig, _agent, _batches

CPU = torch.device("cpu")


def ab_update(problem: str, batch_size: int, hidden: tuple[int, ...], lever: str,
              repeats: int = 12, block: int = 4) -> tuple[float, float]:
    """Median ms per full update with the lever off and on."""
    config = BenchConfig(algorithms=("dsdpg_msmmd",), problems=(problem,),
                         batch_size=batch_size, hidden=hidden)
    torch.manual_seed(0)
    agent = _agent(config, "dsdpg_msmmd", problem, CPU)
    batches = _batches(problem, batch_size, block, CPU)
    generator = torch.Generator().manual_seed(0)
    strategy = agent.strategy
    if lever == "closed-form-ascent":
        closed = strategy.kernel
        settings = [("kernel", lambda d2: closed(d2)), ("kernel", closed)]
    else:
        base = strategy.config
        settings = [("config", base), ("config", dataclasses.replace(base, n_target_samples=5))]
    for i in range(6):
        agent.update(batches[i % block], generator)
    times: list[list[float]] = [[], []]
    for _ in range(repeats):
        for k, (attribute, value) in enumerate(settings):
            setattr(strategy, attribute, value)
            start = time.perf_counter()
            for batch in batches:
                agent.update(batch, generator)
            times[k].append((time.perf_counter() - start) / block * 1e3)
    return statistics.median(times[0]), statistics.median(times[1])


def ab_max_slicing(rows: int, dim: int, n_steps: int, n_restarts: int,
                   repeats: int = 15) -> tuple[float, float]:
    """Median ms of `max_sliced_mmd2` (value and backward), autograd ascent against closed form."""
    kernel = make_kernel("multiquadric", h=100.0)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(rows, 10, dim, generator=generator, requires_grad=True)
    y = torch.randn(rows, 18, dim, generator=generator)
    start_direction = torch.nn.functional.normalize(torch.randn(dim, generator=generator), dim=0)

    def run(k):
        value, _ = max_sliced_mmd2(x, y, k, direction=start_direction, n_restarts=n_restarts,
                                   n_steps=n_steps, generator=generator)
        value.sum().backward()

    variants = [lambda d2: kernel(d2), kernel]
    for k in variants * 3:
        run(k)
    times: list[list[float]] = [[], []]
    for _ in range(repeats):
        for i, k in enumerate(variants):
            start = time.perf_counter()
            run(k)
            times[i].append((time.perf_counter() - start) * 1e3)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    torch.set_num_threads(1)
    print("| measured | A (off) ms | B (on) ms | speed-up |\n|---|---:|---:|---:|")
    for rows, dim, steps, restarts, label in [(512, 7, 5, 1, "bench mujoco"),
                                              (128, 3, 2, 0, "toy-quick")]:
        a, b = ab_max_slicing(rows, dim, steps, restarts)
        print(f"| closed-form ascent: max_sliced_mmd2 alone, {label} ({rows} rows, D = {dim}, "
              f"{steps} steps, {restarts} restarts) | {a:.1f} | {b:.1f} | {a / b:.2f}× |",
              flush=True)
    for lever, problem, batch, hidden, label in [
        ("closed-form-ascent", "mujoco", 256, (256, 256), "bench default (mujoco)"),
        ("closed-form-ascent", "toy", 64, (64, 64), "toy 2/2, 64-64, batch 64"),
        ("target-samples-5", "mujoco", 256, (256, 256), "bench default (mujoco)"),
    ]:
        a, b = ab_update(problem, batch, hidden, lever)
        print(f"| {lever}: full dsdpg_msmmd update, {label} | {a:.1f} | {b:.1f} | "
              f"{a / b:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
