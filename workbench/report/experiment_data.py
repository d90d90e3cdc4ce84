"""An experiment's records loaded for its report (`load_experiment` -> `ExperimentData`): every
metric row and status of its runs as tidy frames with a `setting` label, the batch cells whose
parameters were invalid, the ablation it is (if any), and the runs the report cannot show, with why
(`problem_runs`)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import Markdown

from workbench.experiments.ablations import Ablation, ablation_for
from workbench.records.run_record import INVALID_CELL_FILE, RunRecord, metrics_problem
from workbench.report import summaries
from workbench.report.record_frames import load_metrics, load_statuses

__all__ = [
    "ExperimentData", "load_experiment", "problem_runs", "problem_runs_or_none", "status_counts",
]


@dataclass(frozen=True)
class ExperimentData:
    """Every record of one experiment directory, and the summaries the report draws from them
    (computed once, on first use)."""

    path: Path
    """The experiment directory."""
    metrics: pd.DataFrame
    """`workbench.report.record_frames.load_metrics` of it (every row of every run)."""
    statuses: pd.DataFrame
    """`workbench.report.record_frames.load_statuses` of it, with a `setting` column."""
    invalid: pd.DataFrame
    """Batch cells whose parameters failed validation: `name`, `status`, `message`,
    `parameters`."""
    ablation: Ablation | None = None
    """The ablation whose grid this is (`workbench.experiments.ablations`), or None."""

    @property
    def series(self) -> str:
        """The column that names each curve and table row: `variant` (the ablation's value) in
        an ablation, else `algo`."""
        return "algo" if self.ablation is None else "variant"

    def title(self, text: str) -> str:
        """`text`, naming the setting that changed in an ablation."""
        return text if self.ablation is None else f"{text} (varied: {self.ablation.setting})"

    @functools.cached_property
    def evals(self) -> pd.DataFrame:
        """Evaluation rows of the runs whose status is `done` (an empty frame with the columns
        the summaries group by when there is none: no metrics, or none evaluated yet)."""
        if (self.statuses.empty or self.metrics.empty
                or not {"kind", "eval_return_mean"} <= set(self.metrics.columns)):
            columns = [*self.metrics.columns, *summaries.SETTING_COLUMNS, "algo", self.series,
                       "seed", "step", "eval_return_mean"]
            return pd.DataFrame(columns=list(dict.fromkeys(columns)))
        done = set(self.statuses.loc[self.statuses["status"] == "done", "run_id"])
        rows = self.metrics[(self.metrics["kind"] == "eval") & self.metrics["run_id"].isin(done)]
        return rows.dropna(subset=["eval_return_mean"])

    @functools.cached_property
    def left_out(self) -> pd.DataFrame:
        """The `done` runs that are in no figure or table, `run_id` and `reason`: an empty,
        missing or unreadable metrics.csv, or no evaluation row yet."""
        if self.statuses.empty:
            return pd.DataFrame(columns=["run_id", "reason"])
        done = self.statuses.loc[self.statuses["status"] == "done", "run_id"]
        scored = set(self.finals["run_id"])
        rows = [{"run_id": run, "reason": self._why_left_out(run)} for run in done
                if run not in scored]
        return pd.DataFrame(rows, columns=["run_id", "reason"])

    def _why_left_out(self, run: str) -> str:
        if self.path is not None:
            record = self.path if (self.path / "params.json").exists() else self.path / run
            problem = metrics_problem(record / "metrics.csv")
            if problem is not None:
                return f"left out of the figures: {problem}"
        return "left out of the figures: no evaluation row yet"

    @functools.cached_property
    def finals(self) -> pd.DataFrame:
        """`report_summaries.final_scores` of the done runs: one final return per run."""
        return summaries.final_scores(self.evals, series=self.series)

    @functools.cached_property
    def learning(self) -> pd.DataFrame:
        """`report_summaries.learning_scores` of the done runs: one mean evaluation return over
        training per run (how fast it learned)."""
        return summaries.learning_scores(self.evals, series=self.series)

    @functools.cached_property
    def learning_summary(self) -> pd.DataFrame:
        """`report_summaries.final_summary` of `learning`: IQM [95% CI] of the mean evaluation
        return over training per cell."""
        return summaries.final_summary(self.learning, series=self.series)

    @functools.cached_property
    def final_summary(self) -> pd.DataFrame:
        """`report_summaries.final_summary`: IQM [95% CI] of the final return per cell (setting
        and algorithm, or ablation value)."""
        return summaries.final_summary(self.finals, series=self.series)

    @functools.cached_property
    def references(self) -> pd.DataFrame:
        """`report_summaries.reference_table` of every run's setting; none in an ablation that
        varies the environment (its values' runs share a setting but not its references)."""
        if self.ablation is not None and any(k.startswith("env.") for k in self.ablation.keys):
            return summaries.reference_table(self.statuses.iloc[:0])
        return summaries.reference_table(self.statuses)


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
    experiments = set(statuses["experiment"]) if len(statuses) else set()
    ablation = ablation_for(experiments.pop()) if len(experiments) == 1 else None
    several = (ablation is not None and ablation.algos is not None
               and statuses["algo"].nunique() > 1)
    for frame in (metrics, statuses):
        if len(frame):
            frame["setting"] = _setting(frame)
        if len(frame) and several:  # one series per algorithm and value
            frame["variant"] = frame["algo"] + " · " + frame["variant"]
    invalid = []
    for cell in sorted(path.glob(f"*/{INVALID_CELL_FILE}")):
        state = RunRecord(cell.parent).read_status() or {"status": None, "message": ""}
        invalid.append({"name": cell.parent.name, "status": state["status"],
                        "message": state["message"], "parameters": cell.read_text().strip()})
    columns = ["name", "status", "message", "parameters"]
    return ExperimentData(path, metrics, statuses, pd.DataFrame(invalid, columns=columns),
                          ablation)


def status_counts(data: ExperimentData) -> pd.DataFrame:
    """Runs per algorithm (an ablation: value; rows) and setting (columns), each cell its counts
    by status, e.g. `5 done` or `3 done · 2 running`."""
    if data.statuses.empty:
        return pd.DataFrame()
    statuses = data.statuses.assign(status=data.statuses["status"].fillna("not started"))
    counts = statuses.groupby([data.series, "setting", "status"]).size()
    cells = counts.groupby(level=[0, 1]).apply(
        lambda group: " · ".join(f"{n} {status}" for (*_, status), n in group.items()))
    return cells.unstack("setting", fill_value="")


def problem_runs_or_none(data: ExperimentData) -> pd.DataFrame | Markdown:
    """`problem_runs(data)`, or one line saying there are none (not an empty table)."""
    problems = problem_runs(data)
    if len(problems):
        return problems
    return Markdown(f"None: every run ({len(data.statuses)}) ended `done` and is in the "
                    "figures, and no batch cell was invalid.")


def problem_runs(data: ExperimentData) -> pd.DataFrame:
    """Every run that is not in the figures, with why: the runs that did not end `done`
    (failed, diverged, still running, never started, an unreadable record) with their status
    messages, the `done` runs left out (`ExperimentData.left_out`: empty or unreadable metrics,
    no evaluation yet), and the batch cells with invalid parameters."""
    columns = ["run", "algo", "setting", "seed", "status", "message"]
    rows = []
    if not data.statuses.empty:
        reasons = dict(zip(data.left_out["run_id"], data.left_out["reason"]))
        bad = data.statuses[(data.statuses["status"] != "done")
                            | data.statuses["run_id"].isin(reasons)]
        rows += [{"run": r["run_id"], "algo": r["algo"], "setting": r["setting"],
                  "seed": r["seed"], "status": r["status"],
                  "message": reasons.get(r["run_id"], r["message"])}
                 for _, r in bad.iterrows()]
    for _, r in data.invalid.iterrows():
        params: Mapping[str, Any] = json.loads(r["parameters"] or "{}")
        rows.append({"run": r["name"], "algo": params.get("algo"), "setting": "invalid parameters",
                     "seed": params.get("seed"), "status": r["status"], "message": r["message"]})
    return pd.DataFrame(rows, columns=columns)
