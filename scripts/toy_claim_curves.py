"""The IQM over seeds of the evaluation return at every evaluation step, per N and algorithm, as
markdown tables: how fast each learner gets there, beside the final returns the report judges.

    .venv/bin/python scripts/toy_claim_curves.py runs/claim-oracle-2000/toy

Only `done` runs count; a cell with fewer seeds than the most seen is left blank.
"""

from __future__ import annotations

import argparse

import numpy as np

from workbench import report_api as report
from workbench.statistics import iqm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment_dir")
    args = parser.parse_args()
    evals = report.load_experiment(args.experiment_dir).evals
    seeds = evals.groupby(["algo", "setting", "step"])["seed"].nunique().max()
    for setting, group in evals.groupby("setting", sort=True):
        table = group.groupby(["algo", "step"])["eval_return_mean"].apply(
            lambda x: iqm(np.asarray(x)) if len(x) == seeds else np.nan).unstack("step")
        steps = list(table.columns)
        print(f"\n{setting}: IQM of the eval return over {seeds} seeds\n")
        print("| algo | " + " | ".join(str(s) for s in steps) + " |")
        print("|---|" + "---:|" * len(steps))
        for algo, row in table.iterrows():
            print(f"| {algo} | " + " | ".join("" if np.isnan(v) else f"{v:.1f}" for v in row)
                  + " |")


if __name__ == "__main__":
    main()
