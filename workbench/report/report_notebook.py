"""What `notebooks/report.ipynb` calls: an experiment's records loaded into tidy frames
(`workbench.report.experiment_data`, whose names are re-exported here for the notebook), and the
figures and tables of the report. Its statistics are rliable's (`workbench.report.summaries`,
`workbench.report.seed_statistics`): IQMs over seeds with 95% stratified bootstrap intervals, and
probabilities of improvement (`workbench.report.claim_verdict`).

An ablation's experiment (`workbench.experiments.ablations`) is reported per value of its varied setting
instead of per algorithm (`ExperimentData.series`), its titles name that setting, and it gets no
verdict: the toy claim compares DSDPG with the baselines, not one setting's values."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from IPython.display import Markdown

from workbench.report import plots
from workbench.report import claim_verdict as verdict
from workbench.report import summaries
from workbench.report.experiment_data import (
    ExperimentData, load_experiment, problem_runs, problem_runs_or_none, status_counts,
)
from workbench.report.references import REFERENCE_LABELS

__all__ = [
    "ExperimentData", "claim_text", "claim_verdicts", "fidelity_figures", "final_return_figures",
    "load_oracle_reference", "world_model_table",
    "final_return_table", "improvement_figures", "improvement_table", "learning_curve_figures",
    "load_experiment", "problem_runs", "problem_runs_or_none", "status_counts",
]

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
critic's, and a learned world model's against the simulator (`model_*`; docs/concepts/world-models.md)."""


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
