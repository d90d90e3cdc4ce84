"""One markdown table of measured ablations: per ablation and value, the final return and the
return at the middle of training (IQM over seeds, 95% stratified bootstrap interval), the mean
IQM over all evaluations (how fast the value learns, where final returns saturate), and the
probability that a seed of the value beats a seed of the workbench's default value on its mean
over evaluations (95% bootstrap interval; `-` on the default's own row).

    .venv/bin/python scripts/ablation_table.py runs            # every runs/ablation-*/
    .venv/bin/python scripts/ablation_table.py runs --mid 1000

A seed counts once its curve reaches the last evaluation; the ablations are those of `reproduce ablations
--list`, run by `scripts/ablations.sh`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from workbench.report import report_notebook as report
from workbench.experiments.ablations import ABLATION_PREFIX, ABLATIONS
from workbench.report.seed_statistics import improvement_interval, iqm, iqm_interval


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
    last, ablation = int(evals["step"].max()), ABLATIONS[name]
    series_names = evals[data.series].astype(str)
    curves = {}
    for value in ablation.values:
        group = evals[(series_names == value) | series_names.str.endswith(f" · {value}")]
        for label, runs in group.groupby(data.series, sort=False):
            table = runs.pivot(index="seed", columns="step", values="eval_return_mean").dropna()
            if not table.empty and last in table.columns:
                curves[label] = table
    default = ablation.default_value()
    for label, table in curves.items():
        base = next((c for lab, c in curves.items()
                     if lab == default or lab == f"{label.split(' · ')[0]} · {default}"), None)
        if base is None or base is table:
            versus = "-"
        else:
            p, lo, hi = improvement_interval(table.mean(axis=1).to_numpy(),
                                             base.mean(axis=1).to_numpy())
            versus = f"{p:.2f} [{lo:.2f}, {hi:.2f}]"
        out.append(f"| {name} | {label} | {len(table)} | {_cell(table[last].to_numpy())} | "
                   f"{_cell(table[mid].to_numpy())} | {float(iqm(table.to_numpy()).mean()):.1f} | "
                   f"{versus} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_root", type=Path)
    parser.add_argument("--mid", type=int, default=1000, help="the middle step (default 1000)")
    args = parser.parse_args()
    print(f"| ablation | value | seeds | final return | return at step {args.mid} | "
          "mean over evaluations | P(> default) |")
    print("|---|---|---:|---|---|---:|---|")
    for name in ABLATIONS:
        directory = args.run_root / f"{ABLATION_PREFIX}{name}"
        if directory.is_dir():
            print("\n".join(rows(directory, args.mid)))


if __name__ == "__main__":
    main()
