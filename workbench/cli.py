"""The workbench's command line: `python -m workbench COMMAND ...`."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _not_yet(name: str) -> int:
    print(
        f"workbench {name}: not yet available (the batch runner lands with the papermill "
        "batch issue).",
        file=sys.stderr,
    )
    return 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m workbench`."""
    parser = argparse.ArgumentParser(prog="python -m workbench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    reproduce = sub.add_parser("reproduce", help="run an experiment grid and its report")
    reproduce.add_argument("experiment", help="experiment name, e.g. 'toy'")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "reproduce":
        return _not_yet("reproduce")
    return 2
