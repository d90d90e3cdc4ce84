"""The statistics of an experiment report, as tidy frames: IQM learning curves and final returns
with their stratified bootstrap intervals (`workbench.report.seed_statistics`), and the toy's reference
returns (`workbench.report.references`). Functions of the frames `workbench.report.report_notebook` loads; each
groups by algorithm, or by another `series` column (an ablation's `variant`)."""

from __future__ import annotations

import warnings

import pandas as pd

from workbench.report import seed_statistics as statistics
from workbench.report.references import REFERENCE_LABELS, setting_references

__all__ = ["SETTING_COLUMNS", "curve_summary", "final_scores", "final_summary",
           "learning_scores", "reference_table"]

SETTING_COLUMNS = ["setting", "env_id", "noise", "noise_scale", "env_kwargs", "n_locations"]
"""The columns (of `workbench.report.record_frames.load_metrics` plus the report's `setting` label) that say
which environment a run trained on."""


def curve_summary(evals: pd.DataFrame, *, series: str = "algo", seed: int = 0) -> pd.DataFrame:
    """Per setting and algorithm (or value of `series`), the IQM learning curve over seeds with
    its 95% stratified bootstrap band (`statistics.iqm_curve`), at the steps that every seed
    evaluated.

    Args:
      evals: evaluation rows: `setting`, `series`, `run_id`, `step`, `eval_return_mean`.
      series: the column whose values are the curves (`algo`; an ablation's `variant`).
      seed: seeds the bootstrap.

    Returns:
      rows `setting`, `series`, `step`, `value` (the IQM), `lo`, `hi`, `n` (seeds).
    """
    columns = ["setting", series, "step", "value", "lo", "hi", "n"]
    frames = []
    for (setting, name), rows in evals.groupby(["setting", series], sort=True):
        curves = rows.pivot_table(index="run_id", columns="step", values="eval_return_mean")
        curves = curves.dropna(axis="columns")  # [S, P]: the steps that every seed has
        if curves.empty:
            continue
        interval = statistics.iqm_curve(curves.to_numpy(), seed=seed)
        frames.append(pd.DataFrame({
            "setting": setting, series: name, "step": curves.columns.to_numpy(),
            "value": interval.point, "lo": interval.lo, "hi": interval.hi, "n": len(curves)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def final_scores(evals: pd.DataFrame, *, series: str = "algo") -> pd.DataFrame:
    """One row per run: `SETTING_COLUMNS`, `algo` (and `series` if another column), `seed`,
    `run_id` and `score`, the run's last `eval_return_mean` (evaluation rows as in
    `curve_summary`, with the setting columns)."""
    return _run_scores(evals, series, last=True)


def learning_scores(evals: pd.DataFrame, *, series: str = "algo") -> pd.DataFrame:
    """As `final_scores`, but each run's `score` is the mean of its `eval_return_mean` over all
    its evaluations: the area under its learning curve per evaluation, which is higher the
    sooner a run gets to its return (a sample-efficiency score; Agarwal et al. 2021 aggregate
    such scores the same way)."""
    return _run_scores(evals, series, last=False)


def _run_scores(evals: pd.DataFrame, series: str, *, last: bool) -> pd.DataFrame:
    names = list(dict.fromkeys(["algo", series]))
    columns = [*SETTING_COLUMNS, *names, "seed", "run_id", "score"]
    if evals.empty:
        return pd.DataFrame(columns=columns)
    ordered = evals.sort_values("step")
    rows = ordered.groupby("run_id").tail(1)[columns[:-1]].set_index("run_id")
    runs = ordered.groupby("run_id")["eval_return_mean"]
    rows["score"] = runs.last() if last else runs.mean()
    return rows.reset_index()[columns].reset_index(drop=True)


def final_summary(scores: pd.DataFrame, *, series: str = "algo", seed: int = 0) -> pd.DataFrame:
    """Per setting and algorithm (or value of `series`), the IQM of the final returns over seeds
    with its 95% stratified bootstrap interval (`statistics.iqm_interval`; NaN bounds for one
    seed).

    Args:
      scores: `final_scores` rows.
      series: the column whose values are compared (`algo`; an ablation's `variant`).
      seed: seeds the bootstrap.

    Returns:
      rows `setting`, `env_id`, `noise`, `n_locations`, `series`, `iqm`, `lo`, `hi`, `n`.
    """
    keys = ["setting", "env_id", "noise", "n_locations", series]
    rows = []
    for key, group in scores.groupby(keys, sort=True, dropna=False):
        interval = statistics.iqm_interval(group["score"].to_numpy(), seed=seed)
        rows.append({**dict(zip(keys, key, strict=True)), "iqm": interval.point,
                     "lo": interval.lo, "hi": interval.hi, "n": len(group)})
    return pd.DataFrame(rows, columns=[*keys, "iqm", "lo", "hi", "n"])


def reference_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The toy's reference returns for every toy setting among `runs`.

    A setting whose runs differ in env kwargs other than N gets none, with a warning: its
    reference returns would be ambiguous.

    Args:
      runs: one row per run with `SETTING_COLUMNS` (`workbench.report.record_frames.load_statuses` rows).

    Returns:
      rows `setting`, `env_id`, `noise`, `n_locations`, `policy` (its report label), `mean`,
      `se` (standard error), none off the toy.
    """
    columns = ["setting", "env_id", "noise", "n_locations", "policy", "mean", "se"]
    rows = []
    for setting, group in (runs.groupby("setting", sort=True) if len(runs) else []):
        specs = group[SETTING_COLUMNS].drop_duplicates()
        if len(specs) > 1:
            warnings.warn(f"no reference returns for {setting}: its runs differ in env kwargs "
                          f"({sorted(specs['env_kwargs'])})", stacklevel=2)
            continue
        spec = specs.iloc[0]
        found = setting_references(spec["env_id"], spec["noise"], spec["noise_scale"],
                                   spec["env_kwargs"])
        rows += [{"setting": setting, "env_id": spec["env_id"], "noise": spec["noise"],
                  "n_locations": spec["n_locations"], "policy": REFERENCE_LABELS[policy],
                  "mean": mean, "se": se} for policy, (mean, se) in found.items()]
    return pd.DataFrame(rows, columns=columns)
