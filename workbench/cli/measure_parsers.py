"""The sub-parsers of the measurements: `bench`, `fidelity` and `model-fidelity`, built from plain
names only (no torch), as `workbench.cli.parser` builds the others."""

from __future__ import annotations

import argparse
import os

from workbench.cli.arg_types import float_list, int_list, names, seeds
from dvg_core.names import ALGORITHMS, PAPER_ALGORITHMS

__all__ = ["add_bench", "add_fidelity", "add_model_fidelity"]


def add_bench(sub: argparse._SubParsersAction) -> None:
    """The `bench` sub-parser."""
    bench = sub.add_parser(
        "bench", help="measure update, env and loop throughput (see workbench/bench/update_bench.py)",
        description="Time the full update of each algorithm (median of repeats after warm-up), "
                    "its ratio to td3 and its FLOPs against a matmul peak measured in the same "
                    "process; env steps/s; optionally whole toy-quick loops.",
    )
    bench.add_argument("--algos", type=names, help="algorithms (default: the paper's six)")
    bench.add_argument("--problems", type=names,
                       help="mujoco (17/6), toy (2/2, oracle model), toy-cvae, toy-flow, "
                            "toy-flow-coupling (2/2, that learned model)")
    bench.add_argument("--batch-size", type=int, help="replay batch (default 256)")
    bench.add_argument("--samples", dest="n_samples", type=int, help="M = M' (default 10)")
    bench.add_argument("--target-samples", dest="n_target_samples", type=int,
                       help="M' per target critic, if not M")
    bench.add_argument("--hidden", type=int_list, help="hidden sizes (default 256,256)")
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


def add_fidelity(sub: argparse._SubParsersAction) -> None:
    """The `fidelity` sub-parser."""
    fidelity = sub.add_parser(
        "fidelity", help="measure each critic's law against the Monte-Carlo truth (toy)",
        description="Policy evaluation of a fixed actor on dvg/PointMass-v0 with the oracle model: "
                    "each critic is trained by its own loss and measured at fixed probe pairs "
                    "against Monte-Carlo (G, grad_a G): mean bias, relative mean and "
                    "mean-gradient errors, return-spread ratio, joint energy and MMD^2. Prints a "
                    "markdown table and the acceptance criteria; rows go to --json as they "
                    "finish, and a re-run resumes (docs/concepts/fidelity.md).",
    )
    fidelity.add_argument("--n-locations", type=int_list, default=(1, 3, 5),
                          help="comma-separated reward-location counts N (default: 1,3,5)")
    fidelity.add_argument("--gamma", type=float_list, default=(0.5, 0.9),
                          help="comma-separated discounts (default: 0.5,0.9)")
    fidelity.add_argument("--noise", type=float_list, default=(0.0, 0.05),
                          help="comma-separated dynamics-noise scales (default: 0,0.05)")
    fidelity.add_argument("--algos", type=names, default=PAPER_ALGORITHMS,
                          help=f"comma-separated algorithms, of {list(ALGORITHMS)} (default: "
                               f"the paper's six, {','.join(PAPER_ALGORITHMS)})")
    fidelity.add_argument("--variants", type=names, default=("default",),
                          help="algorithm settings, of default, paper, lean-targets, head-noise "
                               "(default: default)")
    fidelity.add_argument("--updates", type=int, default=4000,
                          help="critic updates per row (default: 4000)")
    fidelity.add_argument("--checkpoints", type=int, default=4,
                          help="measurements per row, evenly spaced (default: 4)")
    fidelity.add_argument("--seeds", type=seeds, default=(0, 1, 2),
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



def add_model_fidelity(sub: argparse._SubParsersAction) -> None:
    """The `model-fidelity` sub-parser."""
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
                    "(docs/concepts/world-models.md).",
    )
    mf.add_argument("--models", type=names, default=None,
                    help="comma-separated models, of cvae, cvae-mix, ensemble, flow, flow-coupling, "
                         "oracle "
                         "(default: all)")
    mf.add_argument("--n-locations", type=int_list, default=(1, 3, 5),
                    help="comma-separated reward-location counts N (default: 1,3,5)")
    mf.add_argument("--noise", type=float_list, default=(0.0, 0.05),
                    help="comma-separated dynamics-noise scales (default: 0,0.05)")
    mf.add_argument("--data", type=names, default=("uniform", "replay"),
                    help="comma-separated data sets, of uniform, replay (default: both)")
    mf.add_argument("--fit-steps", type=int, default=2000,
                    help="fit batches of 256 per model (default: 2000)")
    mf.add_argument("--seeds", type=seeds, default=(0,),
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
