"""The paper's toy claim, judged from final returns: DSDPG matches the baselines at small N and
leads at large N, the lead growing with N (paper-notes §4.1; issue 16).

Every judgement is read off a 95% stratified bootstrap interval (`workbench.report.seed_statistics`), and
says "undecided" whenever the interval does not settle it:

* a DSDPG variant **leads** a baseline at one N when the lower bound of its probability of
  improvement P(variant > baseline) is above ½, **trails** it when the upper bound is below ½;
  otherwise the two are **undecided** (not distinguishable with these seeds, which is all that
  "matches" can honestly mean);
* the **lead** of a variant at one N is its probability of improvement over that N's best
  baseline (the highest IQM); it **grows** with N when the interval at the largest N lies wholly
  above the one at the smallest N, **shrinks** in the reverse case, and is undecided otherwise;
* the claim is **supported** for a variant that leads at the largest N with a growing lead and
  does not trail at the smallest N; **contradicted** when it trails at the largest N or its lead
  shrinks; undecided otherwise.

A probability of improvement says how often, not by how much: it saturates at 1 once the seeds
separate, so "grows" means the lead appears or firms up with N; the IQM table gives its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from workbench.report import seed_statistics as statistics

__all__ = ["BASELINES", "DSDPG_VARIANTS", "ClaimVerdict", "claim_verdict", "compare"]

DSDPG_VARIANTS = ("dsdpg_mmd", "dsdpg_msmmd")
"""The two DSDPG critics the claim is about."""
BASELINES = ("td3", "mage", "iqn", "mmd")
"""The baselines DSDPG is compared with."""


@dataclass(frozen=True)
class ClaimVerdict:
    """The claim's evidence for one environment and noise setting, and its verdict."""

    IQM_COLUMNS = ("n_locations", "algo", "iqm", "lo", "hi", "n")

    iqm: pd.DataFrame
    """Per N and algorithm: `IQM_COLUMNS` (`n` is the number of seeds)."""
    improvement: pd.DataFrame
    """Per N, variant and baseline: `n_locations`, `variant`, `baseline`, `p`, `lo`, `hi`,
    `outcome` (`leads`, `trails` or `undecided`)."""
    lead: pd.DataFrame
    """Per variant and N: the `improvement` row of that N's best baseline."""
    verdicts: dict[str, str]
    """Per variant: `supported`, `contradicted` or `undecided`."""
    text: str
    """One paragraph saying all of this in words."""


def compare(lo: float, hi: float) -> str:
    """`leads` / `trails` / `undecided` for a probability-of-improvement interval `[lo, hi]`."""
    if lo > 0.5:
        return "leads"
    if hi < 0.5:
        return "trails"
    return "undecided"


def _check(finals: pd.DataFrame) -> None:
    missing = sorted({"algo", "n_locations", "score"} - set(finals.columns))
    if missing:
        raise ValueError(f"finals must have the columns algo, n_locations, score; "
                         f"missing {missing}")


def _iqm_table(finals: pd.DataFrame, seed: int) -> pd.DataFrame:
    rows = []
    for (n, algo), group in finals.groupby(["n_locations", "algo"], sort=True):
        interval = statistics.iqm_interval(group["score"].to_numpy(), seed=seed)
        rows.append({"n_locations": n, "algo": algo, "iqm": interval.point, "lo": interval.lo,
                     "hi": interval.hi, "n": len(group)})
    return pd.DataFrame(rows, columns=list(ClaimVerdict.IQM_COLUMNS))


def _improvement_table(finals: pd.DataFrame, variants: Sequence[str],
                       baselines: Sequence[str], seed: int) -> pd.DataFrame:
    rows = []
    for n, at_n in finals.groupby("n_locations", sort=True):
        scores = {a: g["score"].to_numpy() for a, g in at_n.groupby("algo")}
        for variant in (v for v in variants if v in scores):
            for baseline in (b for b in baselines if b in scores):
                p, lo, hi = statistics.improvement_interval(scores[variant], scores[baseline],
                                                            seed=seed)
                rows.append({"n_locations": n, "variant": variant, "baseline": baseline,
                             "p": p, "lo": lo, "hi": hi, "outcome": compare(lo, hi)})
    return pd.DataFrame(rows, columns=["n_locations", "variant", "baseline", "p", "lo", "hi",
                                       "outcome"])


def _lead_table(iqm: pd.DataFrame, improvement: pd.DataFrame) -> pd.DataFrame:
    """The improvement rows over each N's best baseline (highest IQM among the compared)."""
    compared = iqm[iqm["algo"].isin(improvement["baseline"])]
    best = compared.loc[compared.groupby("n_locations")["iqm"].idxmax(), ["n_locations", "algo"]]
    lead = improvement.merge(best.rename(columns={"algo": "baseline"}),
                             on=["n_locations", "baseline"])
    return lead.sort_values(["variant", "n_locations"]).reset_index(drop=True)


def _growth(lead: pd.DataFrame) -> str:
    """`grows`, `shrinks` or `undecided` from the lead at the smallest and the largest N."""
    if len(lead) < 2 or lead[["lo", "hi"]].isna().any().any():
        return "undecided"
    small, large = lead.iloc[0], lead.iloc[-1]
    if large["lo"] > small["hi"]:
        return "grows"
    if large["hi"] < small["lo"]:
        return "shrinks"
    return "undecided"


def _judge(lead: pd.DataFrame) -> tuple[str, str]:
    """(verdict, sentence) of one variant's lead rows, sorted by N."""
    small, large, growth = lead.iloc[0], lead.iloc[-1], _growth(lead)
    if large["outcome"] == "trails" or growth == "shrinks":
        verdict = "contradicted"
    elif large["outcome"] == "leads" and growth == "grows" and small["outcome"] != "trails":
        verdict = "supported"
    else:
        verdict = "undecided"
    at = [f"N = {int(r['n_locations'])} over {r['baseline']}: P = {r['p']:.2f} "
          f"[{r['lo']:.2f}, {r['hi']:.2f}], {r['outcome']}" for _, r in lead.iterrows()]
    sentence = (f"{small['variant']} against the best baseline at each N ({'; '.join(at)}); "
                f"the lead {growth if growth != 'undecided' else 'may or may not grow'} "
                f"from N = {int(small['n_locations'])} to N = {int(large['n_locations'])}: "
                f"{verdict}.")
    return verdict, sentence


def _overall(verdicts: dict[str, str]) -> str:
    values = set(verdicts.values())
    if len(values) == 1:
        return values.pop()
    return "mixed" if {"supported", "contradicted"} <= values else "undecided"


def claim_verdict(finals: pd.DataFrame, *, variants: Sequence[str] = DSDPG_VARIANTS,
                  baselines: Sequence[str] = BASELINES, seed: int = 0,
                  iqm: pd.DataFrame | None = None, measure: str | None = None) -> ClaimVerdict:
    """Judge the toy claim from one environment and noise setting's final returns.

    Args:
      finals: one row per run: `algo`, `n_locations` (N), `score` (its final eval return).
      variants: the DSDPG algorithms judged.
      baselines: the algorithms they are compared with.
      seed: seeds every bootstrap interval.
      iqm: the IQM rows of the same runs (`n_locations`, `algo`, `iqm`, `lo`, `hi`, `n`) when
        the caller has them already (the report does), else computed here.
      measure: what `score` is, in words, when it is not the final return (the text then says
        the claim is judged on it).

    Returns:
      the `ClaimVerdict`; without a variant and a baseline at some N, empty tables and a text
      saying so.
    """
    _check(finals)
    finals = finals.dropna(subset=["n_locations", "score"])
    iqm = _iqm_table(finals, seed) if iqm is None else iqm[list(ClaimVerdict.IQM_COLUMNS)]
    improvement = _improvement_table(finals, variants, baselines, seed)
    if improvement.empty:
        text = (f"No verdict: the claim needs a DSDPG variant ({', '.join(variants)}) and a "
                f"baseline ({', '.join(baselines)}) at the same N, each with a final return.")
        return ClaimVerdict(iqm, improvement, improvement, {}, text)
    lead = _lead_table(iqm, improvement)
    judged = {v: _judge(rows) for v, rows in lead.groupby("variant", sort=True)}
    verdicts = {v: verdict for v, (verdict, _) in judged.items()}
    low, high = iqm["n"].min(), iqm["n"].max()
    seeds = f"{low}" if low == high else f"{low}–{high}"
    judged_on = "" if measure is None else f", judged on {measure},"
    text = (f"**The toy claim{judged_on} is {_overall(verdicts)}** (DSDPG matches the baselines "
            f"at small N and leads at large N, the lead growing with N; {seeds} seeds "
            "per cell, 95% stratified bootstrap intervals; 'undecided' where an interval "
            "contains ½ or two intervals overlap). "
            + " ".join(sentence for _, sentence in judged.values()))
    if lead["lo"].isna().any():
        text += " One-seed cells have no interval and decide nothing."
    return ClaimVerdict(iqm, improvement, lead, verdicts, text)
