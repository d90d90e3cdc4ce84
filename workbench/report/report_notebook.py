"""What `notebooks/report.ipynb` calls: an experiment's records loaded into tidy frames, and the
figures and tables of the report. Its statistics are rliable's (`workbench.report.summaries`,
`workbench.report.seed_statistics`): IQMs over seeds with 95% stratified bootstrap intervals, and
probabilities of improvement (`workbench.report.claim_verdict`).

An ablation's experiment (`workbench.experiments.ablations`) is reported per value of its varied setting
instead of per algorithm (`ExperimentData.series`), its titles name that setting, and it gets no
verdict: the toy claim compares DSDPG with the baselines, not one setting's values."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from IPython.display import Markdown

from workbench.report import plots
from workbench.report import claim_verdict as verdict
from workbench.report import summaries
from workbench.experiments.ablations import Ablation, ablation_for
from workbench.records.run_record import INVALID_CELL_FILE
from workbench.report.references import REFERENCE_LABELS
from workbench.records.run_record import RunRecord, metrics_problem
from workbench.report.record_frames import load_metrics, load_statuses

__all__ = [
    "ExperimentData", "claim_text", "claim_verdicts", "fidelity_figures", "final_return_figures",
    "load_oracle_reference", "world_model_table",
    "final_return_table", "improvement_figures", "improvement_table", "learning_curve_figures",
    "load_experiment", "problem_runs", "problem_runs_or_none", "status_counts",
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


def learning_curve_figures(data: ExperimentData) -> list[go.Figure]:
    """One figure per setting: eval return against env step, the IQM over seeds with its 95%
    stratified bootstrap band per algorithm (an ablation: per value), each seed's curve as a
    thin line, and on the toy the reference policies' returns as dotted lines."""
    summary = summaries.curve_summary(data.evals, series=data.series)
    references = data.references
    seeds = data.evals.rename(columns={"eval_return_mean": "value"})
    figures = []
    for setting, group in summary.groupby("setting", sort=True):
        figure = plots.curves_with_ci(
            group, title=data.title(f"Learning curves: {setting}"),
            seeds=seeds[seeds["setting"] == setting], series=data.series,
            y_title="eval return (IQM over seeds, 95% CI; thin lines: each seed)")
        lines = references[references["setting"] == setting]
        figures.append(plots.add_reference_lines(figure, dict(zip(lines["policy"],
                                                                  lines["mean"]))))
    return figures


FIDELITY_CURVES = {
    "fidelity_gradient_error": ("Critic", "mean-gradient error",
                                "relative mean-gradient error (log)"),
    "fidelity_spread_ratio": ("Critic", "return spread",
                              "return-spread ratio, critic / truth (1 is exact)"),
    "fidelity_mean_error": ("Critic", "mean error", "relative mean error (log)"),
    "fidelity_mean_bias": ("Critic", "mean bias",
                           "mean bias, critic - truth (return units, 0 is exact)"),
    "model_target_mean_error": ("World model", "target mean error",
                                "relative error of E y through the model (log)"),
    "model_target_gradient_error": ("World model", "target gradient error",
                                    "relative error of E ∇ₐy through the model (log)"),
    "model_state_gradient_error": ("World model", "∂s'/∂a error",
                                   "relative error of E ∂s'/∂a (log)"),
    "model_reward_gradient_error": ("World model", "∂r/∂a error",
                                    "relative error of E ∂r/∂a (log)"),
}
"""The in-loop fidelity metrics the report draws (`dvg_core.training.FidelityMonitor`): the
critic's, and a learned world model's against the simulator (`model_*`; docs/world-models.md)."""


def fidelity_figures(data: ExperimentData) -> list[go.Figure]:
    """Per setting and metric of `FIDELITY_CURVES`: the critic's (and a learned world model's)
    fidelity at its own policy's states against env step, the mean over the done runs' seeds per algorithm (an ablation: per
    value; no band: a diagnostic read
    beside the returns; relative errors on a log axis), none without rows."""
    if data.metrics.empty or "kind" not in data.metrics:
        return []
    done = set(data.statuses.loc[data.statuses["status"] == "done", "run_id"])
    rows = data.metrics[(data.metrics["kind"] == "fidelity") & data.metrics["run_id"].isin(done)]
    figures = []
    for column, (subject, name, y_title) in FIDELITY_CURVES.items():
        if column not in rows or rows[column].isna().all():
            continue
        summary = (rows.dropna(subset=[column]).groupby(["setting", data.series, "step"])[column]
                   .agg(value="mean", n="count").reset_index().assign(lo=math.nan, hi=math.nan))
        for setting, group in summary.groupby("setting", sort=True):
            figure = plots.curves_with_ci(
                group, title=data.title(f"{subject} {name} while training: {setting}"),
                y_title=f"{y_title}, mean over seeds", series=data.series)
            if "(log)" in y_title:
                figure.update_yaxes(type="log")
            figures.append(figure)
    return figures


def final_return_figures(data: ExperimentData) -> list[go.Figure]:
    """One figure per env and noise of the toy: the final return's IQM and 95% CI against N,
    every algorithm (an ablation: value), and the reference policies (the paper's toy
    figure)."""
    summary, references = data.final_summary.dropna(subset=["n_locations"]), data.references
    return [plots.final_return_vs_n(
                group, title=data.title(f"Final return against N: {env} (noise: {noise})"),
                references=references[(references["env_id"] == env)
                                      & (references["noise"] == noise)], series=data.series)
            for (env, noise), group in summary.groupby(["env_id", "noise"], sort=True)]


def _interval_text(point: float, lo: float, hi: float) -> str:
    """`6.10 [5.90, 6.30]`, or the point alone without an interval (one seed)."""
    return f"{point:.2f}" if pd.isna(lo) else f"{point:.2f} [{lo:.2f}, {hi:.2f}]"


def final_return_table(data: ExperimentData) -> pd.DataFrame:
    """Algorithms (an ablation: values, the index named by the varied setting; then the toy's
    reference policies) x settings: the final eval return as `IQM [95% CI] (n=seeds)`; the
    references as `mean ± standard error`."""
    summary = data.final_summary
    if summary.empty:
        return pd.DataFrame()
    cells = summary.apply(lambda r: f"{_interval_text(r['iqm'], r['lo'], r['hi'])} "
                                    f"(n={int(r['n'])})", axis=1)
    table = summary.assign(cell=cells).pivot(index=data.series, columns="setting",
                                             values="cell")
    table = table.loc[plots.ordered(table.index)]
    references = data.references
    if len(references):
        refs = references.assign(
            cell=references.apply(lambda r: f"{r['mean']:.2f} ± {r['se']:.2f}", axis=1),
            row=references["policy"] + " (reference)")
        order = [f"{label} (reference)" for label in REFERENCE_LABELS.values()]
        table = pd.concat([table, refs.pivot(index="row", columns="setting", values="cell")
                           .reindex([o for o in order if o in set(refs["row"])])])
    table.columns.name = "final return: IQM [95% CI] (n)"
    table.index.name = None if data.ablation is None else data.ablation.setting
    return table.fillna("")


ORACLE_REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "results" / "toy-oracle-reference.json"
"""Committed returns of the model-based learners with the toy's own simulator as their model
(`toy-quick`, IQM over seeds per algorithm and N, final and mean over evaluations), the
reference a learned-model grid is read against (`world_model_table`)."""


def load_oracle_reference(path: str | Path = ORACLE_REFERENCE) -> pd.DataFrame:
    """`ORACLE_REFERENCE` as rows `algo`, `n_locations`, `final`, `learning`, `seeds` (empty
    if the file is missing)."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=["algo", "n_locations", "final", "learning", "seeds"])
    return pd.DataFrame(json.loads(path.read_text())["rows"])


MODEL_FREE = ("td3",)
"""The algorithms that use no world model (a test checks it against each strategy's
`uses_world_model`); the report names their model `none`."""


def world_model_table(data: ExperimentData, reference: pd.DataFrame | None = None
                      ) -> pd.DataFrame | Markdown:
    """Which world model the runs used, and, for toy runs with a learned model, their returns
    beside the same learner's with the simulator as its model (`load_oracle_reference`): IQM of
    the final return and of the mean evaluation return over training, each with its ratio to
    the oracle model's."""
    if data.metrics.empty or "model" not in data.metrics:
        return Markdown("No runs with metrics yet.")
    kinds = data.metrics.drop_duplicates("run_id").groupby("algo")["model"].agg(
        lambda m: ", ".join(sorted(set(m.dropna()))))
    kinds[kinds.index.isin(MODEL_FREE)] = "none"
    learned = data.final_summary.merge(
        data.learning_summary[["setting", data.series, "iqm"]].rename(columns={"iqm": "learning"}),
        on=["setting", data.series], how="left")
    if data.series != "algo" or learned.empty:
        return kinds.rename("world model").to_frame()
    learned = learned.assign(model=learned["algo"].map(kinds))
    learned = learned[~learned["model"].isin(["oracle", "none"])].dropna(subset=["n_locations"])
    if learned.empty:
        return Markdown("Every model-based run used the toy's own simulator as its world model "
                        "(`oracle`).")
    reference = load_oracle_reference() if reference is None else reference
    table = learned.merge(reference.rename(columns={"final": "oracle_final",
                                                    "learning": "oracle_learning",
                                                    "seeds": "oracle_seeds"}),
                          on=["algo", "n_locations"], how="left")
    table = table.assign(
        final_ratio=table["iqm"] / table["oracle_final"],
        learning_ratio=table["learning"] / table["oracle_learning"])
    columns = {"setting": "setting", "algo": "algorithm", "model": "world model",
               "iqm": "final (IQM)", "oracle_final": "oracle model: final",
               "final_ratio": "final / oracle", "learning": "mean over evaluations (IQM)",
               "oracle_learning": "oracle model: mean over evaluations",
               "learning_ratio": "mean over evaluations / oracle", "n": "seeds"}
    table = table[list(columns)].rename(columns=columns)
    return table.round(2).reset_index(drop=True)


MEASURES = {"final": "the final return",
            "learning": "the mean evaluation return over training (how fast each learns)"}
"""What `claim_verdicts` judges: each run's final return (the claim as the paper states it), or
its mean evaluation return over training (`ExperimentData.learning`)."""


def claim_verdicts(data: ExperimentData, measure: str = "final"
                   ) -> dict[str, verdict.ClaimVerdict]:
    """`verdict.claim_verdict` of every toy env and noise (key `env (noise: noise)`) of the
    experiment's runs, judged on `measure` (a key of `MEASURES`).

    An ablation gets one entry without comparisons whose text says why there is no verdict: the
    claim compares DSDPG with the baselines, and an ablation's series are one setting's values.
    """
    if data.ablation is not None:
        empty = pd.DataFrame()
        text = (f"No verdict: ablation {data.ablation.name} compares the values of "
                f"{data.ablation.setting}, not DSDPG with the baselines; the toy claim is judged "
                "in the toy experiment's report (`reproduce toy`).")
        return {f"ablation {data.ablation.name}": verdict.ClaimVerdict(empty, empty, empty, {},
                                                                        text)}
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {list(MEASURES)}, got {measure!r}")
    if measure == "final":
        scores, summary, named = data.finals, data.final_summary, None
    else:
        scores, summary, named = data.learning, data.learning_summary, MEASURES[measure]
    scores = scores.dropna(subset=["n_locations"])
    return {f"{env} (noise: {noise})": verdict.claim_verdict(
                group, iqm=summary[(summary["env_id"] == env) & (summary["noise"] == noise)],
                measure=named)
            for (env, noise), group in scores.groupby(["env_id", "noise"], sort=True)}


def improvement_figures(verdicts: Mapping[str, verdict.ClaimVerdict]) -> list[go.Figure]:
    """Per `claim_verdicts` entry with comparisons: each DSDPG variant's probability of
    improvement over each baseline against N, with 95% CIs."""
    return [plots.improvement_figure(v.improvement, title=f"Probability of improvement: {key}")
            for key, v in verdicts.items() if len(v.improvement)]


def improvement_table(verdicts: Mapping[str, verdict.ClaimVerdict]) -> pd.DataFrame:
    """(setting, variant, baseline) x N: `P(variant > baseline) [95% CI]`, and the outcome."""
    frames = [v.improvement.assign(setting=key) for key, v in verdicts.items()
              if len(v.improvement)]
    if not frames:
        return pd.DataFrame()
    rows = pd.concat(frames, ignore_index=True)
    rows["cell"] = rows.apply(lambda r: f"{_interval_text(r['p'], r['lo'], r['hi'])} "
                                        f"{r['outcome']}", axis=1)
    rows["N"] = rows["n_locations"].map(lambda n: f"N={int(n)}")
    return rows.pivot(index=["setting", "variant", "baseline"], columns="N", values="cell")


def claim_text(verdicts: Mapping[str, verdict.ClaimVerdict]) -> Markdown:
    """The verdict paragraph of each `claim_verdicts` entry."""
    if not verdicts:
        return Markdown("No verdict: the experiment has no finished toy run.")
    return Markdown("\n\n".join(f"*{key}*: {v.text}" for key, v in verdicts.items()))


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
