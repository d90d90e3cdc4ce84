"""The workbench's command line: `python -m workbench COMMAND ...`."""

from __future__ import annotations

import argparse
import sys
import traceback

from dvg_core.algorithms import ALGORITHMS
from dvg_core.configs import ENV_IDS
from workbench.config import ALIASES, PRESETS, preset
from workbench.training import TrainingRun

__all__ = ["build_parser", "main"]


def _not_yet(name: str) -> int:
    print(
        f"workbench {name}: not yet available (the batch runner lands with the papermill "
        "batch issue).",
        file=sys.stderr,
    )
    return 2


def _add_train(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser(
        "train", help="train one run into its record runs/<experiment>/<run-id>/",
        description="Train one run. Options apply in this order: --preset, the named options, "
                    "then every --set (later wins).",
    )
    train.add_argument("--preset", default="toy-quick", type=str,
                       help=f"starting config, one of {list(PRESETS)} (default: toy-quick)")
    train.add_argument("--algo", type=str, help=f"algorithm, one of {list(ALGORITHMS)}")
    train.add_argument("--env", type=str, help=f"env id, one of {list(ENV_IDS)}")
    train.add_argument("--seed", type=int, help="seed (integer >= 0)")
    train.add_argument("--device", type=str, help="auto, cpu, cuda or cuda:N")
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE",
                       help="override a field, e.g. algorithm.lam=0.5, loop.total_steps=2000, "
                            f"env.kwargs.n_locations=5; aliases: {sorted(ALIASES)}")
    train.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                       help="continue from the record's checkpoint; a done run is not retrained")
    train.add_argument("--run-root", type=str, help="directory of the records (default: runs)")
    train.add_argument("--experiment", type=str, help="experiment directory name")
    train.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                       help="show a progress bar")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m workbench`."""
    parser = argparse.ArgumentParser(prog="python -m workbench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    reproduce = sub.add_parser("reproduce", help="run an experiment grid and its report")
    reproduce.add_argument("experiment", help="experiment name, e.g. 'toy'")
    _add_train(sub)
    return parser


def _overrides(args: argparse.Namespace) -> list[str]:
    named = {"algorithm.name": args.algo, "env.env_id": args.env, "seed": args.seed,
             "device": args.device, "run_root": args.run_root, "experiment": args.experiment}
    return [f"{k}={v}" for k, v in named.items() if v is not None] + args.overrides


def _train(args: argparse.Namespace) -> int:
    try:
        config = preset(args.preset, _overrides(args))
        run = TrainingRun(config, resume=args.resume, progress=args.progress)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        record = run.execute()
    except (Exception, KeyboardInterrupt):
        traceback.print_exc()
        print(f"record: {run.record.path}\nstatus: failed", file=sys.stderr)
        return 1
    state = record.read_status() or {"status": "?", "message": ""}
    print(f"record: {record.path}\nstatus: {state['status']} ({state['message']})")
    return 0 if state["status"] == "done" else 1


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "reproduce":
        return _not_yet("reproduce")
    if args.command == "train":
        return _train(args)
    return 2
