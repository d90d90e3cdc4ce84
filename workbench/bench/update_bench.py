"""Throughput benchmark: `python -m workbench bench`.

For each algorithm, the full agent update (critic step; every 2nd step the actor step and target
updates; the world-model sampling the targets need) at a fixed configuration, in one process:

* updates/s: median over `repeats` timed blocks of `block` updates, after `warmup` updates;
* ratio to `td3` measured in the same process;
* FLOPs per update, counted by `torch.utils.flop_counter.FlopCounterMode` (matmuls and
  convolutions, forward and backward, averaged over two updates so the actor step counts half);
* achieved FLOP/s as a fraction of a dense float32 matmul peak measured in the same process.

Also the environments' steps/s (toy gymnasium env, the toy's batched torch step, a MuJoCo task)
and, with `--loop-steps`, whole `toy-quick` training loops per algorithm; with `--seeds S` as
well, S seeds of that loop trained seed-vectorised against one by one.

Default problem sizes: batch 256, M = M' = 10, 256-256 networks, a MuJoCo-size problem
(state 17, action 6, cVAE world model), the toy (state 2, action 2, oracle model) and the toy
with a learned model (`toy-cvae`, `toy-flow`, `toy-flow-coupling`).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

import dvg_core.envs  # noqa: F401  (registers the toy)
from dvg_core.agents import (
    ALGORITHMS, PAPER_ALGORITHMS, SHARED_DRAW_ALGORITHMS, Agent, AlgorithmConfig, Batch,
    make_learner,
)
from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.models.world_models import CVAEWorldModel, FlowWorldModel, OracleWorldModel
from dvg_core.util.validation import check_choice, check_int_at_least

from workbench.bench.bench_results import BenchResult, UpdateResult, jsonable
from workbench.bench.loop_bench import env_throughput, loop_throughput, seed_loop_seconds
__all__ = ["BenchConfig", "PROBLEMS", "bench_config_from_args", "matmul_peak", "run_benchmark", "time_updates"]

PROBLEMS = {"mujoco": (17, 6), "toy": (2, 2), "toy-cvae": (2, 2), "toy-flow": (2, 2),
            "toy-flow-coupling": (2, 2)}
"""Problem name -> (state dim, action dim). `toy` runs on the oracle model, `mujoco` and
`toy-cvae` on the cVAE world model, `toy-flow` and `toy-flow-coupling` on the flow in its two
layouts (`model.flow_layout`): the toy's sizes with each learned model."""
_FLOW_LAYOUTS = {"toy-flow": "two_pass", "toy-flow-coupling": "coupling"}


@dataclass(frozen=True)
class BenchConfig:
    """What the benchmark measures, and how long."""

    algorithms: tuple[str, ...] = PAPER_ALGORITHMS
    """Algorithms timed (default: the paper's six; any of `ALGORITHMS`)."""
    problems: tuple[str, ...] = ("mujoco", "toy")
    batch_size: int = 256
    n_samples: int = 10
    n_target_samples: int | None = None
    """M', model draws per pair and target critic (None: M)."""
    hidden: tuple[int, ...] = (256, 256)
    warmup: int = 10
    block: int = 10
    repeats: int = 5
    env_steps: int = 2000
    loop_steps: int = 0
    """Env steps of a whole `toy-quick` loop per algorithm (0: skip)."""
    seeds: int = 0
    """Also time the update of a `SeedStack` of this many seeds against as many single updates,
    and with `loop_steps` the `toy-quick` loop of this many seeds, seed-vectorised
    (`workbench.train.training_run.train_seeds`) and one by one (0: skip)."""
    threads: int | None = None
    device: str = "cpu"
    compile: bool = False
    """Also time every algorithm with its losses compiled (`Agent(compile=True)`, as
    `loop.compile`), right after its eager row, in the same process: rows with `compiled` true,
    whose `ratio_to_td3` is to compiled td3. FLOPs are counted on an eager agent; the
    seed-stacked timings (`seeds`) are eager."""
    critic_noise: str = AlgorithmConfig.critic_noise
    """Where the noise enters the generative critics (`quantile`, `input` or `head`, see
    `AlgorithmConfig`; default: the algorithms' default)."""
    shared_target_draws: bool = False
    """The `shared-draws` lever (`AlgorithmConfig.shared_target_draws`) for the algorithms that
    take it (`SHARED_DRAW_ALGORITHMS`: mmd, iqn); the others run as they are."""

    def __post_init__(self) -> None:
        for name in self.algorithms:
            check_choice("algorithms", name, ALGORITHMS)
        for name in self.problems:
            check_choice("problems", name, list(PROBLEMS))
        for name in ("batch_size", "n_samples", "warmup", "block", "repeats"):
            check_int_at_least(name, getattr(self, name), 1 if name != "warmup" else 0)
        check_int_at_least("env_steps", self.env_steps, 0)
        check_int_at_least("loop_steps", self.loop_steps, 0)
        check_int_at_least("seeds", self.seeds, 0)
        if self.n_target_samples is not None:
            check_int_at_least("n_target_samples", self.n_target_samples, 1)
        if self.threads is not None:
            check_int_at_least("threads", self.threads, 1)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device: torch.device, *, size: int = 1024, repeats: int = 10) -> float:
    """Dense float32 matmul throughput in FLOP/s: best of `repeats` `size`² products."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    best = float("inf")
    for _ in range(repeats + 2):
        _sync(device)
        start = time.perf_counter()
        torch.mm(a, b)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def _agent(config: BenchConfig, name: str, problem: str, device: torch.device, *,
           compile: bool = False) -> Agent:
    state_dim, action_dim = PROBLEMS[problem]
    algorithm = AlgorithmConfig(name=name, hidden=config.hidden, n_samples=config.n_samples,
                                n_target_samples=config.n_target_samples or config.n_samples,
                                critic_noise=config.critic_noise,
                                shared_target_draws=(config.shared_target_draws
                                                     and name in SHARED_DRAW_ALGORITHMS))
    if problem == "toy":
        model = OracleWorldModel(PointMassDynamics(PointMassSpec(n_locations=3)))
    elif problem in _FLOW_LAYOUTS:
        model = FlowWorldModel(state_dim, action_dim, layout=_FLOW_LAYOUTS[problem],
                               hidden=config.hidden)
    else:
        model = CVAEWorldModel(state_dim, action_dim, hidden=config.hidden)
    return Agent(algorithm, state_dim, action_dim, model, compile=compile).to(device)


def _batches(problem: str, batch_size: int, n: int, device: torch.device) -> list[Batch]:
    state_dim, action_dim = PROBLEMS[problem]
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        state = torch.rand(batch_size, state_dim, generator=g) * 2 - 1
        action = torch.rand(batch_size, action_dim, generator=g) * 2 - 1
        batch = Batch(state, action, torch.randn(batch_size, generator=g),
                      state + 0.05 * torch.randn(batch_size, state_dim, generator=g),
                      torch.zeros(batch_size))
        out.append(Batch(*(t.to(device) for t in batch)))
    return out


def _flops_per_update(config: BenchConfig, name: str, problem: str, device: torch.device,
                      batches: list[Batch]) -> float:
    """FLOPs of one update of a fresh eager agent, averaged over two (the actor step counts
    half); a compiled agent's matmuls run inside inductor's code, where the counter sees none."""
    torch.manual_seed(0)
    learner = make_learner([_agent(config, name, problem, device)])
    generator = torch.Generator(device=device).manual_seed(0)
    with FlopCounterMode(display=False) as counter:
        for i in range(2):
            learner.update(batches[i], generator)
    return counter.get_total_flops() / 2


def _time_learner(config: BenchConfig, name: str, problem: str, device: torch.device,
                  n_seeds: int, *, compiled: bool = False) -> tuple[float, float]:
    """Seconds per update (median of `repeats` blocks) and FLOPs per update of `n_seeds` agents
    behind the trainer's own learner (`make_learner`: the plain agent for one seed, `compiled` or
    not, the vmapped stack for more), on fixed batches `[S, B, ·]`."""
    agents = []
    for seed in range(n_seeds):
        torch.manual_seed(seed)
        agents.append(_agent(config, name, problem, device,
                             compile=compiled and n_seeds == 1))
    learner = make_learner(agents)
    batches = [Batch(*(torch.stack([f] * n_seeds) for f in batch))
               for batch in _batches(problem, config.batch_size, 4, device)]
    generator = torch.Generator(device=device).manual_seed(0)
    for i in range(max(config.warmup, 2 * compiled)):  # compiled: both losses, twice
        learner.update(batches[i % 4], generator)
    flops = _flops_per_update(config, name, problem, device, batches) if n_seeds == 1 else 0.0
    times = []
    for _ in range(config.repeats):
        _sync(device)
        start = time.perf_counter()
        for i in range(config.block):
            learner.update(batches[i % 4], generator)
        _sync(device)
        times.append((time.perf_counter() - start) / config.block)
    return statistics.median(times), flops


def time_updates(config: BenchConfig, name: str, problem: str, device: torch.device, *,
                 compiled: bool = False) -> UpdateResult:
    """Updates/s and FLOPs per update of one algorithm on one problem (one seed), its losses
    `compiled` or eager, and with `config.seeds` (eager rows) the ms of one update of that many
    stacked seeds."""
    seconds, flops = _time_learner(config, name, problem, device, 1, compiled=compiled)
    row = UpdateResult(name, problem, 1.0 / seconds, 1e3 * seconds, flops / 1e9,
                       compiled=compiled)
    if config.seeds and not compiled:
        row.stacked_ms_per_update = 1e3 * _time_learner(config, name, problem, device,
                                                        config.seeds)[0]
    return row


def run_benchmark(config: BenchConfig, *, progress: bool = True) -> BenchResult:
    """Measure everything `config` asks for; see the module docstring."""
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    device = torch.device(config.device)
    result = BenchResult(device=_device_name(device), threads=torch.get_num_threads(),
                         torch_version=torch.__version__,
                         matmul_peak_gflops=matmul_peak(device) / 1e9,
                         config=jsonable(asdict(config)))
    for problem in config.problems:
        rows = []
        for name in config.algorithms:
            for compiled in (False, True) if config.compile else (False,):
                row = time_updates(config, name, problem, device, compiled=compiled)
                rows.append(row)
                if progress:
                    print(f"  {problem:6s} {name:12s} {'compiled' if compiled else 'eager':8s} "
                          f"{row.ms_per_update:8.2f} ms/update", flush=True)
        td3 = {r.compiled: r for r in rows if r.algorithm == "td3"}
        for row in rows:
            if row.compiled in td3:
                row.ratio_to_td3 = row.ms_per_update / td3[row.compiled].ms_per_update
            row.peak_fraction = row.gflop_per_update * row.updates_per_s / result.matmul_peak_gflops
        result.updates += rows
    if config.env_steps:
        result.env_steps_per_s = env_throughput(config.env_steps)
    for name in config.algorithms if config.loop_steps else ():
        result.loop_env_steps_per_s[name] = loop_throughput(name, config.loop_steps, config.device)
        if progress:
            print(f"  loop   {name:12s} {result.loop_env_steps_per_s[name]:8.1f} env steps/s",
                  flush=True)
    for name in config.algorithms if config.loop_steps and config.seeds else ():
        row = seed_loop_seconds(name, config.loop_steps, config.seeds, config.device)
        result.seed_loops[name] = row
        if progress:
            print(f"  seeds  {name:12s} {row['vectorised']:8.1f} s vectorised, "
                  f"{row['one_by_one']:8.1f} s one by one", flush=True)
    return result


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    return f"cpu ({platform.processor() or platform.machine()})"


def bench_config_from_args(**kwargs: Any) -> BenchConfig:
    """`BenchConfig` from CLI values (None means the default)."""
    return replace(BenchConfig(), **{k: v for k, v in kwargs.items() if v is not None})
