"""The argument parser of `python -m workbench`, built from plain names only.

Nothing here imports torch (`workbench.config.names` holds the choices), so `--help` and a parse error
answer at once; the command handlers in `workbench.cli.main` import the heavy layers when they run.
"""

from __future__ import annotations

import argparse
import os

from workbench.experiments.ablations import ABLATIONS
from workbench.config.names import ALGORITHMS, ALIASES, ENV_IDS, EXPERIMENTS, PAPER_ALGORITHMS, PRESETS

__all__ = ["build_parser"]

_DEVICE_METAVAR = "{auto,cpu,cuda,cuda:N}"
_DEVICE_HELP = ("auto: cuda when torch sees a GPU, else cpu; cuda or cuda:N on a machine "
                "without that GPU is an error, not a fallback")


def _int_list(text: str) -> tuple[int, ...]:
    """`1,3,5` -> (1, 3, 5)."""
    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        message = f"expected comma-separated integers, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def _seeds(text: str) -> tuple[int, ...]:
    """`0,1,2` -> those seeds; a lone count `3` -> (0, 1, 2); `5,` -> seed 5 alone."""
    values = _int_list(text)
    if "," not in text:
        if values[0] < 1:
            raise argparse.ArgumentTypeError(f"a seed count must be >= 1, got {text!r}")
        return tuple(range(values[0]))
    return values


def _float_list(text: str) -> tuple[float, ...]:
    """`0.5,0.9` -> (0.5, 0.9)."""
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def _names(text: str) -> tuple[str, ...]:
    """`td3,mage` -> ("td3", "mage")."""
    values = tuple(x.strip() for x in text.split(",") if x.strip())
    if not values:
        raise argparse.ArgumentTypeError("expected comma-separated names")
    return values


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
                           help=f"starting config of every cell, one of {list(PRESETS)} "
                                "(default: the experiment's: toy-quick, mujoco-100k)")
    reproduce.add_argument("--seeds", type=_seeds, default=None,
                           help="seeds: a list like 0,1,2, or a count like 3 (= 0,1,2); "
                                "one seed N alone: 'N,' (default: the experiment's, 3)")
    reproduce.add_argument("--algos", type=_names, default=None,
                           help=f"comma-separated algorithms, of {list(ALGORITHMS)} (default: "
                                f"the paper's six, {','.join(PAPER_ALGORITHMS)}; an ablation's: "
                                "its own, see --list)")
    reproduce.add_argument("--n-locations", type=_int_list, default=None,
                           help="toy: comma-separated numbers of reward locations (default: 1,3,5; "
                                "an ablation's: 3)")
    reproduce.add_argument("--tasks", type=_names, default=None,
                           help="mujoco: comma-separated env ids (default: all six v5 tasks)")
    reproduce.add_argument("--noise", dest="noises", type=_names, default=None,
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
                                "see docs/usage.md, 'A compiled update')")
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
                       help=f"starting config, one of {list(PRESETS)} (default: toy-quick)")
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


def _add_bench(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser(
        "bench", help="measure update, env and loop throughput (see workbench/bench/update_bench.py)",
        description="Time the full update of each algorithm (median of repeats after warm-up), "
                    "its ratio to td3 and its FLOPs against a matmul peak measured in the same "
                    "process; env steps/s; optionally whole toy-quick loops.",
    )
    bench.add_argument("--algos", type=_names, help="algorithms (default: the paper's six)")
    bench.add_argument("--problems", type=_names, help="mujoco (17/6) and/or toy (2/2)")
    bench.add_argument("--batch-size", type=int, help="replay batch (default 256)")
    bench.add_argument("--samples", dest="n_samples", type=int, help="M = M' (default 10)")
    bench.add_argument("--target-samples", dest="n_target_samples", type=int,
                       help="M' per target critic, if not M")
    bench.add_argument("--hidden", type=_int_list, help="hidden sizes (default 256,256)")
    bench.add_argument("--warmup", type=int, help="untimed updates first (default 10)")
    bench.add_argument("--block", type=int, help="updates per timed block (default 10)")
    bench.add_argument("--repeats", type=int, help="timed blocks; the median counts (default 5)")
    bench.add_argument("--env-steps", type=int, help="env steps timed per env (0: skip)")
    bench.add_argument("--loop-steps", type=int,
                       help="env steps of a whole toy-quick loop per algorithm (default 0: skip)")
    bench.add_argument("--seeds", type=int,
                       help="also time that many seeds stacked (vmapped update; with "
                            "--loop-steps, whole loops) against one by one")
    bench.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    bench.add_argument("--device", type=str, help="cpu or cuda (default cpu)")
    bench.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                       help="compile the agents' losses (as loop.compile=true)")
    bench.add_argument("--critic-noise", type=str, help="where the generative critics' noise enters: quantile (the "
                            "default), input or head")
    bench.add_argument("--shared-target-draws", action="store_true", default=None,
                       help="the shared-draws lever for mmd and iqn (both target critics read the "
                            "same model draws)")
    bench.add_argument("--json", type=str, default=None, metavar="PATH",
                       help="also write the result as JSON to PATH")


def _add_fidelity(sub: argparse._SubParsersAction) -> None:
    fidelity = sub.add_parser(
        "fidelity", help="measure each critic's law against the Monte-Carlo truth (toy)",
        description="Policy evaluation of a fixed actor on dvg/PointMass-v0 with the oracle model: "
                    "each critic is trained by its own loss and measured at fixed probe pairs "
                    "against Monte-Carlo (G, grad_a G): mean bias, relative mean and "
                    "mean-gradient errors, return-spread ratio, joint energy and MMD^2. Prints a "
                    "markdown table and the acceptance criteria; rows go to --json as they "
                    "finish, and a re-run resumes (docs/fidelity.md).",
    )
    fidelity.add_argument("--n-locations", type=_int_list, default=(1, 3, 5),
                          help="comma-separated reward-location counts N (default: 1,3,5)")
    fidelity.add_argument("--gamma", type=_float_list, default=(0.5, 0.9),
                          help="comma-separated discounts (default: 0.5,0.9)")
    fidelity.add_argument("--noise", type=_float_list, default=(0.0, 0.05),
                          help="comma-separated dynamics-noise scales (default: 0,0.05)")
    fidelity.add_argument("--algos", type=_names, default=PAPER_ALGORITHMS,
                          help=f"comma-separated algorithms, of {list(ALGORITHMS)} (default: "
                               f"the paper's six, {','.join(PAPER_ALGORITHMS)})")
    fidelity.add_argument("--variants", type=_names, default=("default",),
                          help="algorithm settings, of default, paper, lean-targets, head-noise "
                               "(default: default)")
    fidelity.add_argument("--updates", type=int, default=4000,
                          help="critic updates per row (default: 4000)")
    fidelity.add_argument("--checkpoints", type=int, default=4,
                          help="measurements per row, evenly spaced (default: 4)")
    fidelity.add_argument("--seeds", type=_seeds, default=(0, 1, 2),
                          help="critic seeds, a list or a count (default: 3)")
    fidelity.add_argument("--no-references", dest="references", action="store_false",
                          help="skip the exact-targets and regression reference rows")
    fidelity.add_argument("--exact-updates", type=int, default=2000,
                          help="updates of the exact-targets reference row (default: 2000)")
    fidelity.add_argument("--probes", type=int, default=64,
                          help="probe pairs per setting (default: 64)")
    fidelity.add_argument("--truth-samples", type=int, default=256,
                          help="Monte-Carlo samples per probe (default: 256)")
    fidelity.add_argument("--regression-pairs", type=int, default=8192,
                          help="pairs of the regression reference's data set (default: 8192)")
    fidelity.add_argument("--json", type=str, default="runs/fidelity/fidelity.json",
                          help="rows are written here (and resumed from <json>.d/)")
    fidelity.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                          help="settings run at once, one process each (default: the CPU count)")
    fidelity.add_argument("--no-progress", dest="progress", action="store_false",
                          help="no progress bar")



def _add_model_fidelity(sub: argparse._SubParsersAction) -> None:
    mf = sub.add_parser(
        "model-fidelity", help="measure each world model against the toy's differentiable step",
        description="Fit each world model by its own fit on the toy (uniform pairs, and the "
                    "replay of a reference Dyna run probed at its policy's states) and measure "
                    "it against the simulator at fixed probe pairs: the law of (s', r), the "
                    "joint law with the pathwise derivatives ds'/da and dr/da, the errors of "
                    "the mean derivatives, the reward mass between the truth's modes, and the "
                    "Sobolev targets (y, grad_a y) through the model against those through the "
                    "simulator. Prints a markdown table; rows go to --json (a re-run resumes "
                    "and adds missing rows), TensorBoard scalars to <json>.tb "
                    "(docs/world-models.md).",
    )
    mf.add_argument("--models", type=_names, default=None,
                    help="comma-separated models, of cvae, cvae-mix, ensemble, flow, oracle "
                         "(default: all)")
    mf.add_argument("--n-locations", type=_int_list, default=(1, 3, 5),
                    help="comma-separated reward-location counts N (default: 1,3,5)")
    mf.add_argument("--noise", type=_float_list, default=(0.0, 0.05),
                    help="comma-separated dynamics-noise scales (default: 0,0.05)")
    mf.add_argument("--data", type=_names, default=("uniform", "replay"),
                    help="comma-separated data sets, of uniform, replay (default: both)")
    mf.add_argument("--fit-steps", type=int, default=2000,
                    help="fit batches of 256 per model (default: 2000)")
    mf.add_argument("--seeds", type=_seeds, default=(0,),
                    help="seeds, a list or a count (default: 1)")
    mf.add_argument("--reference-steps", type=int, default=2000,
                    help="env steps of the reference Dyna run (default: 2000, toy-quick's)")
    mf.add_argument("--probes", type=int, default=64, help="probe pairs (default: 64)")
    mf.add_argument("--draws", type=int, default=256,
                    help="draws per probe of each model and the simulator (default: 256)")
    mf.add_argument("--json", type=str, default="runs/model-fidelity/model-fidelity.json",
                    help="rows are written here, and resumed from it")
    mf.add_argument("--no-progress", dest="progress", action="store_false",
                    help="no progress lines")


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
                        help=f"starting config, one of {list(PRESETS)} (default: toy-quick)")
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
               "Docs: docs/usage.md.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_reproduce(sub)
    _add_report(sub)
    _add_config(sub)
    _add_bench(sub)
    _add_fidelity(sub)
    _add_model_fidelity(sub)
    return parser


