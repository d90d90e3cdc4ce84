"""workbench.report.record_frames: an experiment's records as tidy frames, the runs' parameters
joined onto every row, unreadable files left out with a warning."""

from __future__ import annotations

import pytest

from workbench.config.experiment_config import run_id
from workbench.config.overrides import apply_overrides
from workbench.records.run_record import MetricsWriter, RunRecord, create_or_open, record_path
from workbench.report.record_frames import load_metrics, load_statuses

ROW = {"step": 20, "kind": "episode", "episode_return": 0.1 + 0.2, "episode_length": 20}


def test_load_metrics_and_statuses_join_params_across_runs(config):
    configs = [config, apply_overrides(config, ["seed=1", "lam=0.5", "n_locations=5"])]
    for k, c in enumerate(configs):
        record = create_or_open(c)
        writer = MetricsWriter(record.metrics_path)
        writer.write({"step": 10, "kind": "eval", "eval_return_mean": float(k)})
        writer.write({"step": 20, "kind": "train", "critic_loss": 1.0})
        record.set_status("running", "started", 0)
    record.set_status("failed", "boom", 12)
    experiment_dir = record.path.parent

    frame = load_metrics(experiment_dir)
    assert len(frame) == 4
    assert list(frame.columns[:3]) == ["run_id", "experiment", "algo"]
    by_run = frame.groupby("run_id").first()
    second = by_run.loc[run_id(configs[1])]
    assert (second["seed"], second["lam"], second["n_locations"]) == (1, 0.5, 5)
    assert (second["algo"], second["env_id"], second["noise"]) == (
        "dsdpg_msmmd", "dvg/PointMass-v1", "none")
    assert by_run.loc[run_id(configs[0]), "gamma"] == configs[0].algorithm.gamma
    assert len(load_metrics([record.path])) == 2
    assert len(load_metrics(RunRecord(record.path))) == 2

    statuses = load_statuses(experiment_dir).set_index("run_id")
    assert statuses.loc[record.run_id, "status"] == "failed"
    assert statuses.loc[record.run_id, "message"] == "boom"
    assert statuses.loc[record.run_id, "step"] == 12
    assert statuses.loc[run_id(configs[0]), "status"] == "running"
    assert not statuses["checkpoint"].any()


def test_loaders_of_an_empty_experiment_are_empty(tmp_path):
    assert load_metrics(tmp_path).empty
    assert load_statuses(tmp_path).empty


def test_load_metrics_leaves_out_an_unreadable_file_with_a_warning(config):
    configs = [config, apply_overrides(config, ["seed=1"])]
    for c in configs:
        MetricsWriter(create_or_open(c).metrics_path).write(ROW)
    torn = RunRecord(record_path(configs[1])).metrics_path
    torn.write_bytes(b"\x00\xff garbage")
    with pytest.warns(UserWarning, match="metrics.csv is unreadable"):
        frame = load_metrics(record_path(config).parent)
    assert list(frame["run_id"]) == [run_id(config)]
