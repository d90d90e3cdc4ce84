"""The report's world-model section: which model each algorithm's runs used, and a learned-model
grid's IQMs beside the committed oracle-model reference, with their ratio."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.workbench.train.test_training_run import tiny
from workbench.report import report_notebook as report
from workbench.train.training_run import train


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    root = tmp_path_factory.mktemp("wm")
    for algo in ("td3", "iqn"):
        train(tiny(root, f"algo={algo}", "model=cvae", "experiment=wm",
                   "loop.fidelity_probes=0"), progress=False)
    return report.load_experiment(root / "wm")


def test_the_table_reads_a_learned_grid_against_the_oracle_reference(experiment):
    reference = pd.DataFrame([{"algo": "iqn", "n_locations": 3, "final": 2.0,
                               "learning": 4.0, "seeds": 10}])
    table = report.world_model_table(experiment, reference)
    row = table.set_index("algorithm").loc["iqn"]
    assert row["world model"] == "cvae" and row["oracle model: final"] == 2.0
    final = experiment.final_summary.set_index("algo").loc["iqn", "iqm"]
    assert row["final / oracle"] == pytest.approx(round(final / 2.0, 2), abs=0.006)
    assert "td3" not in set(table["algorithm"])  # model-free: not a learned-model row


def test_model_free_is_every_strategy_without_a_world_model():
    from dvg_core.agents import STRATEGIES

    assert set(report.MODEL_FREE) == {n for n, s in STRATEGIES.items() if not s.uses_world_model}


def test_an_oracle_grid_says_so(experiment, tmp_path):
    metrics = experiment.metrics.assign(model="oracle")
    oracle = report.ExperimentData(experiment.path, metrics, experiment.statuses,
                                   experiment.invalid)
    assert "simulator" in report.world_model_table(oracle).data


def test_the_committed_reference_covers_every_model_based_learner_and_n():
    reference = report.load_oracle_reference()
    assert {(a, n) for a in ("mage", "iqn", "mmd", "dsdpg_mmd", "dsdpg_msmmd")
            for n in (1, 3, 5, 8)} <= set(zip(reference["algo"], reference["n_locations"]))
    assert (reference["final"] > 0).all() and (reference["learning"] > 0).all()
    assert json.loads(report.ORACLE_REFERENCE.read_text())["source"]


def test_the_report_names_the_flow_with_its_layout():
    from workbench.report.record_frames import model_name

    assert model_name({"kind": "flow", "flow_layout": "coupling"}) == "flow (coupling)"
    assert model_name({"kind": "flow"}) == "flow (two_pass)"  # a record from before the field
    assert model_name({"kind": "cvae", "flow_layout": "coupling"}) == "cvae"
