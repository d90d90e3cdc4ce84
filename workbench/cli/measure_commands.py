"""The command handlers of the measurements: `bench` (throughput), `fidelity` (each critic against
the Monte-Carlo truth) and `model-fidelity` (each world model against the toy's step). Each imports
its room when it runs, so the command line starts without torch; each returns the exit code (2: a
bad option, nothing run)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["bench", "fidelity", "model_fidelity"]


def fidelity(args: argparse.Namespace) -> int:
    """`python -m workbench fidelity`: the critic-fidelity grid, its table and criteria; 3 when
    series stay incomplete (another run writes them)."""
    from workbench.fidelity.critic_grid import incomplete_series, run_fidelity
    from workbench.fidelity.critic_options import FidelityOptions
    from workbench.fidelity.critic_tables import (
        criteria, format_criteria, format_criteria_summary, format_table,
    )

    try:
        if args.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {args.workers}")
        options = FidelityOptions(
            n_locations=args.n_locations, gammas=args.gamma, noises=args.noise,
            algos=args.algos, variants=args.variants, seeds=args.seeds, updates=args.updates,
            n_checkpoints=args.checkpoints, references=args.references,
            exact_updates=args.exact_updates, n_probes=args.probes,
            n_truth=args.truth_samples, n_regression=args.regression_pairs,
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from workbench.records.tensorboard_events import write_fidelity_events

    rows = run_fidelity(options, args.json, workers=args.workers, progress=args.progress)
    board = write_fidelity_events(rows, f"{args.json}.tb")
    results = criteria(rows)
    print(format_table(rows))
    print()
    print(format_criteria(results))
    print()
    print(format_criteria_summary(results))
    print(f"\nrows: {args.json}\ntensorboard: tensorboard --logdir {board}")
    missing = incomplete_series(options, args.json)
    if missing:  # a part file another run holds: its series are in neither table nor JSON
        print(f"incomplete: {len(missing)} series have rows missing (another run writes them, "
              f"or was stopped); re-run to complete them: {'; '.join(missing[:3])}"
              + ("; ..." if len(missing) > 3 else ""), file=sys.stderr)
        return 3
    return 0


def model_fidelity(args: argparse.Namespace) -> int:
    """`python -m workbench model-fidelity`: the world-model grid and its table."""
    from workbench.fidelity.world_model_grid import (
        MODEL_VARIANTS, ModelFidelityOptions, run_model_fidelity,
    )
    from workbench.fidelity.world_model_tables import (
        format_model_table, write_model_fidelity_events,
    )

    try:
        options = ModelFidelityOptions(
            models=args.models or tuple(MODEL_VARIANTS), n_locations=args.n_locations,
            noises=args.noise, data=args.data, fit_steps=args.fit_steps, seeds=args.seeds,
            n_probes=args.probes, n_draws=args.draws, reference_steps=args.reference_steps)
        rows = run_model_fidelity(options, args.json, progress=args.progress)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    board = write_model_fidelity_events(rows, f"{args.json}.tb")
    print(format_model_table(rows))
    print(f"\nrows: {args.json}\ntensorboard: tensorboard --logdir {board}")
    return 0


def bench(args: argparse.Namespace) -> int:
    """`python -m workbench bench`: the throughput benchmark, printed (and written as JSON)."""
    from workbench.bench.bench_results import format_report, to_json
    from workbench.bench.update_bench import bench_config_from_args, run_benchmark

    names = ("algos", "problems", "batch_size", "n_samples", "n_target_samples", "hidden",
             "warmup", "block",
             "repeats", "env_steps", "loop_steps", "seeds", "threads", "device", "compile",
             "critic_noise", "shared_target_draws")
    values = {name: getattr(args, name) for name in names}
    values["algorithms"] = values.pop("algos")
    try:
        config = bench_config_from_args(**values)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    result = run_benchmark(config)
    print(format_report(result))
    if args.json:
        with open(args.json, "w") as f:
            f.write(to_json(result))
    return 0
