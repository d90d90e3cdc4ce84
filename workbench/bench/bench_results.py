"""What a benchmark run measured (`BenchResult`, one `UpdateResult` per algorithm and problem), as
Markdown tables (`format_report`) and JSON (`to_json`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["BenchResult", "UpdateResult", "format_report", "jsonable", "to_json"]


@dataclass
class UpdateResult:
    """One algorithm on one problem."""

    algorithm: str
    problem: str
    updates_per_s: float
    ms_per_update: float
    gflop_per_update: float
    ratio_to_td3: float = float("nan")
    peak_fraction: float = float("nan")
    compiled: bool = False
    """Whether the update ran with its losses compiled (`BenchConfig.compile`)."""
    stacked_ms_per_update: float = float("nan")
    """With `seeds` S: ms of one update of S stacked seeds (`dvg_core.agents.seed_stack.SeedStack`)."""


@dataclass
class BenchResult:
    """Everything one benchmark run measured."""

    device: str
    threads: int
    torch_version: str
    matmul_peak_gflops: float
    updates: list[UpdateResult] = field(default_factory=list)
    env_steps_per_s: dict[str, float] = field(default_factory=dict)
    loop_env_steps_per_s: dict[str, float] = field(default_factory=dict)
    seed_loops: dict[str, dict[str, float]] = field(default_factory=dict)
    """Algorithm -> wall seconds of `seeds` toy-quick loops: `vectorised`, `one_by_one`."""
    config: dict[str, Any] = field(default_factory=dict)


def jsonable(value: Any) -> Any:
    """Tuples as lists, in nested dicts too (a config as JSON)."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def format_report(result: BenchResult) -> str:
    """The result as Markdown tables."""
    lines = [f"device: {result.device}, torch {result.torch_version}, {result.threads} threads, "
             f"matmul peak {result.matmul_peak_gflops:.1f} GFLOP/s", "",
             "| problem | algorithm | compiled | ms/update | updates/s | × td3 | GFLOP/update "
             "| % of peak |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in result.updates:
        lines.append(f"| {r.problem} | {r.algorithm} | {'yes' if r.compiled else 'no'} | "
                     f"{r.ms_per_update:.2f} | "
                     f"{r.updates_per_s:.0f} | {r.ratio_to_td3:.1f} | {r.gflop_per_update:.3f} | "
                     f"{100 * r.peak_fraction:.0f} |")
    n_seeds = result.config.get("seeds")
    if n_seeds:
        lines += ["", f"| problem | algorithm | {n_seeds} seeds stacked: ms/update | ms per seed "
                  f"| single ms | speed-up |", "|---|---|---:|---:|---:|---:|"]
        lines += [f"| {r.problem} | {r.algorithm} | {r.stacked_ms_per_update:.2f} | "
                  f"{r.stacked_ms_per_update / n_seeds:.2f} | {r.ms_per_update:.2f} | "
                  f"{n_seeds * r.ms_per_update / r.stacked_ms_per_update:.2f}× |"
                  for r in result.updates if not r.compiled]
    if result.env_steps_per_s:
        lines += ["", "| environment | steps/s |", "|---|---:|"]
        lines += [f"| {k} | {v:,.0f} |" for k, v in result.env_steps_per_s.items()]
    if result.loop_env_steps_per_s:
        lines += ["", "| toy-quick loop | env steps/s |", "|---|---:|"]
        lines += [f"| {k} | {v:.1f} |" for k, v in result.loop_env_steps_per_s.items()]
    if result.seed_loops:
        lines += ["", f"| toy-quick loop, {n_seeds} seeds | vectorised s | one by one s | "
                  "speed-up |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {k} | {v['vectorised']:.1f} | {v['one_by_one']:.1f} | "
                  f"{v['one_by_one'] / v['vectorised']:.2f}× |"
                  for k, v in result.seed_loops.items()]
    return "\n".join(lines)


def to_json(result: BenchResult) -> str:
    """The result as JSON."""
    return json.dumps(asdict(result), indent=2)
