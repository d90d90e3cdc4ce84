"""The IQM over seeds of the evaluation return at every evaluation step, per N and algorithm (per
value in an ablation), as markdown tables: how fast each learner gets there, beside the final
returns the report judges.

    .venv/bin/python scripts/toy_claim_curves.py runs/claim-oracle-2000/toy
    .venv/bin/python scripts/toy_claim_curves.py runs/ablation-lambda

Only `done` runs count; a cell with fewer seeds than the most seen is left blank.
"""

from __future__ import annotations

import argparse

import numpy as np

from workbench.report import report_notebook as report
from workbench.report.seed_statistics import iqm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment_dir")
    args = parser.parse_args()
    data = report.load_experiment(args.experiment_dir)
    evals, series = data.evals, data.series
    seeds = evals.groupby([series, "setting", "step"])["seed"].nunique().max()
    for setting, group in evals.groupby("setting", sort=True):
        table = group.groupby([series, "step"])["eval_return_mean"].apply(
            lambda x: iqm(np.asarray(x)) if len(x) == seeds else np.nan).unstack("step")
        steps = list(table.columns)
        print(f"\n{setting}: IQM of the eval return over {seeds} seeds\n")
        print(f"| {series} | " + " | ".join(str(s) for s in steps) + " |")
        print("|---|" + "---:|" * len(steps))
        for algo, row in table.iterrows():
            print(f"| {algo} | " + " | ".join("" if np.isnan(v) else f"{v:.1f}" for v in row)
                  + " |")


if __name__ == "__main__":
    main()
