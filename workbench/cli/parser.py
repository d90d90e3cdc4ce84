"""The argument parser of `python -m workbench`, built from plain names only.

Nothing here imports torch (`dvg_core.names`, `workbench.config.names` and the torch-free
`workbench.experiments` hold the choices), so `--help` and a parse error
answer at once; the command handlers in `workbench.cli.main` import the heavy layers when they run.
"""

from __future__ import annotations

import argparse
import os

from workbench.cli.arg_types import int_list, names, seeds
from workbench.cli.measure_parsers import add_bench, add_fidelity, add_model_fidelity
from workbench.experiments.ablations import ABLATIONS
from dvg_core.names import ALGORITHMS, ENV_IDS, PAPER_ALGORITHMS
from workbench.config.names import ALIASES, PRESET_NAMES
from workbench.experiments.registry import EXPERIMENTS

__all__ = ["build_parser"]

_DEVICE_METAVAR = "{auto,cpu,cuda,cuda:N}"
_DEVICE_HELP = ("auto: cuda when torch sees a GPU, else cpu; cuda or cuda:N on a machine "
                "without that GPU is an error, not a fallback")


def _add_reproduce(sub: argparse._SubParsersAction) -> None:
    reproduce = sub.add_parser(
        "reproduce", help="run an experiment grid as papermill notebooks, then its report",
        description="Execute notebooks/train.ipynb once per grid cell into "
                    "<run-root>/<experiment>/<run-id>/output.ipynb (cells whose record is done "
                    "and verified complete, or diverged, are skipped, and so are cells another "
                    "process is training; failed or interrupted ones run again and resume), "
                    "then notebooks/report.ipynb into <run-root>/<experiment>/report.html. "
                    "`reproduce ablation NAME` runs one ablation of the toy the same way, into "
                    "<run-root>/ablation-NAME/, its report one series per value. "
                    "Exit code 1 if any cell failed.",
    )
    reproduce.add_argument("experiment", type=str,
                           help=f"experiment grid, one of {list(EXPERIMENTS)}; or `ablation "
                                "NAME`, one ablation of the toy; or `ablations --list`")
    reproduce.add_argument("name", type=str, nargs="?", default=None,
                           help=f"with `ablation`: which, one of {list(ABLATIONS)}")
    reproduce.add_argument("--list", dest="list_ablations", action="store_true",
                           help="with `ablations`: print every ablation (what changes, the "
                                "values, the algorithms) and exit")
    reproduce.add_argument("--preset", type=str, default=None,
                           help=f"starting config of every cell, one of {list(PRESET_NAMES)} "
                                "(default: the experiment's: toy-quick, mujoco-100k)")
    reproduce.add_argument("--seeds", type=seeds, default=None,
                           help="seeds: a list like 0,1,2, or a count like 3 (= 0,1,2); "
                                "one seed N alone: 'N,' (default: the experiment's, 3)")
    reproduce.add_argument("--algos", type=names, default=None,
                           help=f"comma-separated algorithms, of {list(ALGORITHMS)} (default: "
                                f"the paper's six, {','.join(PAPER_ALGORITHMS)}; an ablation's: "
                                "its own, see --list)")
    reproduce.add_argument("--n-locations", type=int_list, default=None,
                           help="toy: comma-separated numbers of reward locations (default: 1,3,5; "
                                "an ablation's: 3)")
    reproduce.add_argument("--tasks", type=names, default=None,
                           help="mujoco: comma-separated env ids (default: all six v5 tasks)")
    reproduce.add_argument("--noise", dest="noises", type=names, default=None,
                           help="mujoco: comma-separated noise settings (default: none,obs,dynamics)")
    reproduce.add_argument("--set", dest="overrides", action="append", default=[],
                           metavar="KEY=VALUE", help="override a field of every cell "
                                                     "(as in `train --set`)")
    reproduce.add_argument("--device", type=str, default="auto", metavar=_DEVICE_METAVAR,
                           help=f"device of every cell (default: auto); {_DEVICE_HELP}; with "
                                "several GPUs, auto and cuda spread the cells over them "
                                "round-robin")
    reproduce.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                           help="notebooks executed at once (default: the CPU count)")
    reproduce.add_argument("--dask", type=str, default=None, metavar="ADDRESS|local",
                           help="run on a Dask cluster: a scheduler address, or 'local' for a "
                                "LocalCluster of --workers processes")
    reproduce.add_argument("--run-root", type=str, default="runs",
                           help="directory of the experiment directories (default: runs)")
    reproduce.add_argument("--timeout", type=float, default=None,
                           help="seconds one notebook cell may run (default: the experiment's)")
    reproduce.add_argument("--vectorize-seeds", action=argparse.BooleanOptionalAction,
                           default=False,
                           help="train each setting's seeds together in one worker, "
                                "no per-run notebook: as one vmapped stack where that pays "
                                "(td3, mage, iqn), else one after another (see the README)")
    reproduce.add_argument("--compile", action=argparse.BooleanOptionalAction, default=False,
                           help="compile the toy cells of the algorithms whose compiled update "
                                "is measured faster there (adds loop.compile=true to them; "
                                "see docs/guide/speed.md, 'A compiled update')")
    reproduce.add_argument("--report", action=argparse.BooleanOptionalAction, default=True,
                           help="render report.html after the grid")
    reproduce.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                           help="show a progress bar")


def _add_train(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser(
        "train", help="train one run into its record runs/<experiment>/<run-id>/",
        description="Train one run. Options apply in this order: --preset, the named options, "
                    "then every --set (later wins). Exit codes: 0 done; 1 failed or diverged "
                    "(status.json says which, and why); 2 a bad option or an unusable run "
                    "root (nothing written); 3 another process is training the record "
                    "(skipped, nothing written).",
    )
    train.add_argument("--preset", default="toy-quick", type=str,
                       help=f"starting config, one of {list(PRESET_NAMES)} (default: toy-quick)")
    train.add_argument("--algo", type=str, help=f"algorithm, one of {list(ALGORITHMS)}")
    train.add_argument("--env", type=str, help=f"env id, one of {list(ENV_IDS)}")
    train.add_argument("--seed", type=int, help="seed (integer >= 0)")
    train.add_argument("--device", type=str, metavar=_DEVICE_METAVAR,
                       help=f"device (default: the preset's, auto); {_DEVICE_HELP}")
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE",
                       help="override a field, e.g. algorithm.lam=0.5, loop.total_steps=2000, "
                            f"env.kwargs.n_locations=5; aliases: {sorted(ALIASES)}; every key: "
                            "python -m workbench config --list")
    train.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                       help="continue from the record's checkpoint; a done run is not retrained")
    train.add_argument("--restart", dest="resume", action="store_false",
                       help="discard the record's progress (checkpoint, metrics) and train it "
                            "afresh: the remedy for a record whose files cannot be read; "
                            "same as --no-resume")
    train.add_argument("--run-root", type=str, help="directory of the records (default: runs)")
    train.add_argument("--experiment", type=str, help="experiment directory name")
    train.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                       help="show a progress bar")


def _add_report(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser(
        "report", help="render the HTML report of an experiment, a run root or one record",
        description="Execute notebooks/report.ipynb on PATH and write report.html there "
                    "(plotly.js embedded: it opens offline). PATH is one run record "
                    "(a directory holding params.json), an experiment directory (records "
                    "one level down), or a run root (experiment directories two levels down: "
                    "one report per experiment).",
    )
    report.add_argument("path", type=str, help="a record, an experiment directory or a run root")
    report.add_argument("--open", dest="open_browser", action="store_true",
                        help="open the report in a web browser, if this machine has one")
    report.add_argument("--timeout", type=float, default=600.0,
                        help="seconds one notebook cell may run (default: 600)")


def _add_config(sub: argparse._SubParsersAction) -> None:
    config = sub.add_parser(
        "config", help="print a preset's config, or list every --set key",
        description="Print the config that `train --preset NAME --set ...` would run, as JSON; "
                    "with --list, every --set key with its type, its value in the preset "
                    "and its doc line, then the aliases.",
    )
    config.add_argument("--preset", default="toy-quick", type=str,
                        help=f"starting config, one of {list(PRESET_NAMES)} (default: toy-quick)")
    config.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a field (as in `train --set`)")
    config.add_argument("--list", dest="list_keys", action="store_true",
                        help="list every --set key: type, value in the preset, doc line")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m workbench`."""
    parser = argparse.ArgumentParser(
        prog="python -m workbench",
        description="The DVG workbench: train runs into records, reproduce experiment grids, "
                    "render reports, list config keys, benchmark, measure critic and world-model "
                    "fidelity.",
        epilog="Details of a command: python -m workbench COMMAND --help. "
               "Docs: docs/README.md.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_reproduce(sub)
    _add_report(sub)
    _add_config(sub)
    add_bench(sub)
    add_fidelity(sub)
    add_model_fidelity(sub)
    return parser


