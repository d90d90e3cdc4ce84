"""What `notebooks/report.ipynb` calls: an experiment's records loaded into tidy frames, the
summaries over seeds, the figures and tables of the report."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from IPython.display import Markdown

from workbench import plots
from workbench.notebook_api import INVALID_CELL_FILE
from workbench.runs import RunRecord, load_metrics, load_statuses

__all__ = [
    "ExperimentData", "curve_summary", "fidelity_figures", "final_return_figures", "final_return_table",
    "final_summary", "learning_curve_figures", "load_experiment", "problem_runs",
    "problem_runs_or_none", "status_counts",
]

@dataclass(frozen=True)
class ExperimentData:
    """Every record of one experiment directory."""

    path: Path
    """The experiment directory."""
    metrics: pd.DataFrame
    """`workbench.runs.load_metrics` of it (every row of every run)."""
    statuses: pd.DataFrame
    """`workbench.runs.load_statuses` of it, with a `setting` column."""
    invalid: pd.DataFrame
    """Batch cells whose parameters failed validation: `name`, `status`, `message`,
    `parameters`."""


def _setting(frame: pd.DataFrame) -> pd.Series:
    """`env/noise/N=n` per row (N omitted off the toy)."""
    n = frame["n_locations"].map(lambda v: "" if pd.isna(v) else f"/N={int(v)}")
    return frame["env_id"].astype(str) + "/" + frame["noise"].astype(str) + n


def load_experiment(path: str | Path) -> ExperimentData:
    """Load every run record (and every invalid batch cell) under the experiment directory."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"experiment_dir {str(path)!r} is not a directory")
    metrics, statuses = load_metrics(path), load_statuses(path)
    for frame in (metrics, statuses):
        if len(frame):
            frame["setting"] = _setting(frame)
    invalid = []
    for cell in sorted(path.glob(f"*/{INVALID_CELL_FILE}")):
        state = RunRecord(cell.parent).read_status() or {"status": None, "message": ""}
        invalid.append({"name": cell.parent.name, "status": state["status"],
                        "message": state["message"], "parameters": cell.read_text().strip()})
    columns = ["name", "status", "message", "parameters"]
    return ExperimentData(path, metrics, statuses, pd.DataFrame(invalid, columns=columns))


def status_counts(data: ExperimentData) -> pd.DataFrame:
    """Runs per algorithm and setting (rows) and status (columns)."""
    if data.statuses.empty:
        return pd.DataFrame()
    statuses = data.statuses.assign(status=data.statuses["status"].fillna("not started"))
    return statuses.groupby(["algo", "setting", "status"]).size().unstack(fill_value=0)


def _done_eval(data: ExperimentData) -> pd.DataFrame:
    """Evaluation rows of the runs whose status is `done`."""
    if data.statuses.empty or data.metrics.empty:
        return pd.DataFrame(columns=[*data.metrics.columns, "setting"])
    done = set(data.statuses.loc[data.statuses["status"] == "done", "run_id"])
    rows = data.metrics[(data.metrics["kind"] == "eval") & data.metrics["run_id"].isin(done)]
    return rows.dropna(subset=["eval_return_mean"])


def curve_summary(data: ExperimentData, *, confidence: float = 0.95) -> pd.DataFrame:
    """Per setting, algorithm and step: mean, t-interval and n over seeds of `eval_return_mean`
    (done runs only)."""
    rows = _done_eval(data)
    return plots.mean_ci(rows, ["setting", "algo", "step"], "eval_return_mean",
                         confidence=confidence)


def final_summary(data: ExperimentData, *, confidence: float = 0.95) -> pd.DataFrame:
    """Per setting and algorithm: mean, t-interval and n over seeds of each done run's last
    `eval_return_mean`; with the setting's `env_id`, `noise`, `n_locations`."""
    rows = _done_eval(data).sort_values("step").groupby("run_id").tail(1)
    keys = ["setting", "env_id", "noise", "n_locations", "algo"]
    return plots.mean_ci(rows, keys, "eval_return_mean", confidence=confidence)


def learning_curve_figures(data: ExperimentData) -> list[go.Figure]:
    """One figure per setting: eval return vs env step, mean ± 95% CI over seeds per algorithm."""
    summary = curve_summary(data)
    return [plots.curves_with_ci(group, title=f"Learning curves: {setting}")
            for setting, group in summary.groupby("setting", sort=True)]


FIDELITY_CURVES = {
    "fidelity_gradient_error": ("mean-gradient error", "relative mean-gradient error (log)"),
    "fidelity_spread_ratio": ("return spread", "return-spread ratio, critic / truth (1 is exact)"),
    "fidelity_mean_error": ("mean error", "relative mean error (log)"),
    "fidelity_mean_bias": ("mean bias", "mean bias, critic - truth (return units, 0 is exact)"),
}
"""The in-loop fidelity metrics the report draws (`dvg_core.training.FidelityMonitor`)."""


def fidelity_figures(data: ExperimentData) -> list[go.Figure]:
    """Per setting and metric of `FIDELITY_CURVES`: the critic's fidelity at its own policy's
    states against env step, the mean over the done runs' seeds (no band: with the few seeds of a
    report a t-interval says little; relative errors on a log axis), none without rows."""
    if data.metrics.empty or "kind" not in data.metrics:
        return []
    done = set(data.statuses.loc[data.statuses["status"] == "done", "run_id"])
    rows = data.metrics[(data.metrics["kind"] == "fidelity") & data.metrics["run_id"].isin(done)]
    figures = []
    for column, (name, y_title) in FIDELITY_CURVES.items():
        if column not in rows or rows[column].isna().all():
            continue
        summary = plots.mean_ci(rows.dropna(subset=[column]), ["setting", "algo", "step"], column)
        summary[["lo", "hi"]] = float("nan")  # the seeds' mean only: a t-band of 2 seeds is ±12 s.d.
        for setting, group in summary.groupby("setting", sort=True):
            figure = plots.curves_with_ci(group, title=f"Critic {name} while training: {setting}",
                                          y_title=f"{y_title}, mean over seeds")
            if "(log)" in y_title:
                figure.update_yaxes(type="log")
            figures.append(figure)
    return figures


def final_return_figures(data: ExperimentData) -> list[go.Figure]:
    """One figure per env and noise: final eval return vs N, every algorithm (the toy figure)."""
    summary = final_summary(data).dropna(subset=["n_locations"])
    return [plots.final_return_vs_n(group, title=f"Final return against N: {env} ({noise} noise)")
            for (env, noise), group in summary.groupby(["env_id", "noise"], sort=True)]


def final_return_table(data: ExperimentData) -> pd.DataFrame:
    """Algorithms x settings: `mean ± CI (n=...)` of the final eval return."""
    summary = final_summary(data)
    if summary.empty:
        return pd.DataFrame()
    cells = summary.apply(lambda r: f"{r['mean']:.2f}" + ("" if pd.isna(r["ci"]) else
                                                          f" ± {r['ci']:.2f}")
                          + f" (n={int(r['n'])})", axis=1)
    return summary.assign(cell=cells).pivot(index="algo", columns="setting", values="cell")


def problem_runs_or_none(data: ExperimentData) -> pd.DataFrame | Markdown:
    """`problem_runs(data)`, or one line saying there are none (not an empty table)."""
    problems = problem_runs(data)
    if len(problems):
        return problems
    return Markdown(f"None: every run ({len(data.statuses)}) ended `done`, and no batch cell "
                    "was invalid.")


def problem_runs(data: ExperimentData) -> pd.DataFrame:
    """Runs that did not end `done` (failed, diverged, still running or never started) and the
    batch cells with invalid parameters, with their status messages."""
    columns = ["run", "algo", "setting", "seed", "status", "message"]
    rows = []
    if not data.statuses.empty:
        bad = data.statuses[data.statuses["status"] != "done"]
        rows += [{"run": r["run_id"], "algo": r["algo"], "setting": r["setting"],
                  "seed": r["seed"], "status": r["status"], "message": r["message"]}
                 for _, r in bad.iterrows()]
    for _, r in data.invalid.iterrows():
        params: Mapping[str, Any] = json.loads(r["parameters"] or "{}")
        rows.append({"run": r["name"], "algo": params.get("algo"), "setting": "invalid parameters",
                     "seed": params.get("seed"), "status": r["status"], "message": r["message"]})
    return pd.DataFrame(rows, columns=columns)
