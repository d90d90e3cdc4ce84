"""workbench.report.claim_verdict: the toy claim is undecided on overlapping returns, supported when DSDPG
clearly leads at large N only, contradicted when it trails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.report.claim_verdict import claim_verdict, compare


def _finals(lead_at: dict[int, float], *, seeds: int = 5) -> pd.DataFrame:
    """Final returns of td3, mage and dsdpg_msmmd, spread evenly over ±2 around 10, and
    dsdpg_msmmd's shifted up by `lead_at[N]` (0: the same scores as the baselines')."""
    spread = np.linspace(-2.0, 2.0, seeds)
    return pd.DataFrame([
        {"algo": algo, "n_locations": n, "seed": s,
         "score": 10.0 + (lead if algo == "dsdpg_msmmd" else 0.0) + spread[s]}
        for n, lead in lead_at.items() for algo in ("td3", "mage", "dsdpg_msmmd")
        for s in range(seeds)])


def test_compare_reads_an_interval_against_one_half():
    assert [compare(0.6, 0.9), compare(0.1, 0.4), compare(0.3, 0.8)] == [
        "leads", "trails", "undecided"]


def test_overlapping_returns_are_undecided():
    judged = claim_verdict(_finals({1: 0.0, 8: 0.0}))
    assert judged.verdicts == {"dsdpg_msmmd": "undecided"}
    assert "The toy claim is undecided" in judged.text
    assert set(judged.improvement["outcome"]) == {"undecided"}


def test_a_lead_at_large_n_only_supports_the_claim():
    judged = claim_verdict(_finals({1: 0.0, 3: 5.0, 8: 20.0}))
    assert judged.verdicts == {"dsdpg_msmmd": "supported"}
    assert "The toy claim is supported" in judged.text and "leads" in judged.text
    lead = judged.lead.set_index("n_locations")
    assert lead.loc[8, "outcome"] == "leads" and lead.loc[1, "outcome"] == "undecided"
    assert list(judged.iqm.columns) == ["n_locations", "algo", "iqm", "lo", "hi", "n"]
    assert len(judged.improvement) == 3 * 2  # every N x every baseline


def test_trailing_at_large_n_contradicts_the_claim():
    judged = claim_verdict(_finals({1: 0.0, 8: -20.0}))
    assert judged.verdicts == {"dsdpg_msmmd": "contradicted"}
    assert "trails" in judged.text


def test_without_a_variant_there_is_no_verdict_and_bad_frames_are_refused():
    only_baselines = _finals({1: 0.0}).query("algo != 'dsdpg_msmmd'")
    assert claim_verdict(only_baselines).text.startswith("No verdict")
    with pytest.raises(ValueError, match="missing \\['score'\\]"):
        claim_verdict(only_baselines.drop(columns="score"))
