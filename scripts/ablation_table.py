"""One markdown table of measured ablations: per ablation and value, the final return and the
return at the middle of training (IQM over seeds, 95% stratified bootstrap interval), and the
mean IQM over all evaluations (how fast the value learns, where final returns saturate).

    .venv/bin/python scripts/ablation_table.py runs            # every runs/ablation-*/
    .venv/bin/python scripts/ablation_table.py runs --mid 1000

A seed counts once its curve reaches the last evaluation; the ablations are those of `reproduce ablations
--list`, run by `scripts/ablations.sh`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from workbench import report_api as report
from workbench.ablations import ABLATION_PREFIX, ABLATIONS
from workbench.statistics import iqm, iqm_interval


def _cell(scores: np.ndarray) -> str:
    point, lo, hi = iqm_interval(scores)
    return f"{point:.1f} [{lo:.1f}, {hi:.1f}]"


def rows(experiment_dir: Path, mid: int) -> list[str]:
    """The table rows of one ablation's experiment directory."""
    data = report.load_experiment(experiment_dir)
    name = experiment_dir.name.removeprefix(ABLATION_PREFIX)
    evals, out = data.evals, []
    if evals.empty:
        return out
    last = int(evals["step"].max())
    for value in ABLATIONS[name].values:
        series_names = evals[data.series].astype(str)
        group = evals[(series_names == value) | series_names.str.endswith(f" · {value}")]
        for label, runs in group.groupby(data.series, sort=False):
            curves = runs.pivot(index="seed", columns="step", values="eval_return_mean").dropna()
            if curves.empty or last not in curves.columns:
                continue
            out.append(f"| {name} | {label} | {len(curves)} | {_cell(curves[last].to_numpy())} | "
                       f"{_cell(curves[mid].to_numpy())} | "
                       f"{float(iqm(curves.to_numpy()).mean()):.1f} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_root", type=Path)
    parser.add_argument("--mid", type=int, default=1000, help="the middle step (default 1000)")
    args = parser.parse_args()
    print(f"| ablation | value | seeds | final return | return at step {args.mid} | "
          "mean over evaluations |")
    print("|---|---|---:|---|---|---:|")
    for name in ABLATIONS:
        directory = args.run_root / f"{ABLATION_PREFIX}{name}"
        if directory.is_dir():
            print("\n".join(rows(directory, args.mid)))


if __name__ == "__main__":
    main()
