"""Write docs/results/toy-oracle-reference.json: the model-based learners' returns with the toy's
own simulator as their world model, IQM over seeds per algorithm and N (final return, and mean
evaluation return over training), the reference the report reads a learned-model grid against
(`workbench.report.report_notebook.world_model_table`).

    .venv/bin/python -m workbench reproduce toy --algos mage,iqn,mmd,dsdpg_mmd,dsdpg_msmmd \\
        --n-locations 1,3,5,8 --seeds 5 --vectorize-seeds --compile --set model=oracle \\
        --run-root runs-oracle --no-report
    .venv/bin/python scripts/oracle_reference.py runs-oracle/toy
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench.report.report_notebook import load_experiment

OUT = Path(__file__).resolve().parents[1] / "docs" / "results" / "toy-oracle-reference.json"


def main(experiment_dirs: list[str]) -> None:
    rows = []
    for directory in experiment_dirs:
        data = load_experiment(directory)
        oracle = data.metrics.drop_duplicates("run_id")
        if set(oracle["model"]) != {"oracle"}:
            raise SystemExit(f"{directory}: every run must use model.kind=oracle, found "
                             f"{sorted(set(oracle['model']))}")
        learning = data.learning_summary.set_index(["setting", "algo"])["iqm"]
        for _, row in data.final_summary.iterrows():
            rows.append({"algo": row["algo"], "n_locations": int(row["n_locations"]),
                         "final": round(float(row["iqm"]), 3),
                         "learning": round(float(learning[(row["setting"], row["algo"])]), 3),
                         "seeds": int(row["n"])})
    rows.sort(key=lambda r: (r["algo"], r["n_locations"]))
    OUT.write_text(json.dumps({"source": __doc__.split("\n\n")[1].strip(), "rows": rows},
                              indent=1) + "\n")
    print(f"{len(rows)} rows -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
