"""workbench.records.run_record: record layout, atomic writes, status transitions, the metrics
writer and reader (the `config` fixture: tests/workbench/conftest.py)."""

from __future__ import annotations

import json
import os
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from workbench.records import file_writes as record_files
from workbench.records.checks import RecordError, file_mode, metrics_last_step
from workbench.config.experiment_config import run_id
from workbench.config.overrides import apply_overrides
from workbench.records.run_record import (
    MetricsWriter,
    atomic_write_text,
    create_or_open,
    read_metrics,
    record_path,
)
from workbench.report.record_frames import load_statuses


def test_atomic_write_replaces_content_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "f.json"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_atomic_write_keeps_old_content_when_the_replace_fails(tmp_path, monkeypatch):
    path = tmp_path / "f.json"
    atomic_write_text(path, "old")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(record_files.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_create_or_open_writes_params_at_the_run_id_path(config):
    record = create_or_open(config)
    assert record.path == record_path(config)
    assert record.path.parent.parent.name == "runs"
    assert record.path.parent.name == "exp" and record.run_id == run_id(config)
    params = json.loads(record.params_path.read_text())
    assert params["run_id"] == run_id(config)
    datetime.fromisoformat(params["created"])
    assert record.config() == config
    assert record.status is None


def test_create_or_open_reuses_a_record_of_the_same_run(config):
    first = create_or_open(config)
    before = first.params_path.read_text()
    again = create_or_open(apply_overrides(config, ["device=cpu"]))  # same run, other hardware
    assert again.path == first.path
    assert again.params_path.read_text() == before


def test_create_or_open_refuses_a_directory_holding_other_parameters(config):
    record = create_or_open(config)
    other = apply_overrides(config, ["lam=0.5"])
    params = json.loads(record.params_path.read_text())
    params["config"] = other.to_dict()  # as if another run had been stored here
    record.params_path.write_text(json.dumps(params))
    with pytest.raises(ValueError, match="other parameters"):
        create_or_open(config)
    assert json.loads(record.params_path.read_text())["config"] == other.to_dict()


def test_unreadable_params_are_a_value_error(config):
    record = create_or_open(config)
    record.params_path.write_text("{not json")
    with pytest.raises(ValueError, match="not a readable run record"):
        create_or_open(config)


def test_set_status_writes_every_field_atomically(config):
    record = create_or_open(config)
    state = record.set_status("running", "started", 0)
    assert record.read_status() == state
    assert set(state) == {"status", "message", "step", "checkpoint_step", "updated"}
    assert state["checkpoint_step"] is None
    datetime.fromisoformat(state["updated"])
    record.set_status("done", "trained", 300)
    assert record.read_status()["step"] == 300 and record.status == "done"
    assert sorted(p.name for p in record.path.iterdir()) == ["params.json", "status.json"]


ALLOWED = [(None, "running"), ("running", "done"), ("running", "failed"),
           ("running", "diverged"), ("running", "running"), ("failed", "running"),
           ("diverged", "running")]
REFUSED = [(None, "done"), (None, "failed"), ("done", "running"), ("done", "failed"),
           ("failed", "done"), ("diverged", "done"), ("failed", "diverged")]


def _record_in(config, status):
    record = create_or_open(config)
    if status is not None:
        record.set_status(status, force=True)
    return record


@pytest.mark.parametrize(("current", "new"), ALLOWED)
def test_allowed_status_transitions(config, current, new):
    record = _record_in(config, current)
    record.set_status(new, "ok", 5)
    assert record.status == new


@pytest.mark.parametrize(("current", "new"), REFUSED)
def test_refused_status_transitions_leave_the_status(config, current, new):
    record = _record_in(config, current)
    with pytest.raises(ValueError, match="refused"):
        record.set_status(new)
    assert record.status == current


def test_done_is_final_unless_forced_and_unknown_status_refused(config):
    record = _record_in(config, "done")
    with pytest.raises(ValueError, match="force"):
        record.set_status("running")
    record.set_status("running", force=True)
    assert record.status == "running"
    with pytest.raises(ValueError, match="status must be one of"):
        record.set_status("paused")


ROWS = [
    {"step": 20, "kind": "episode", "episode_return": 0.1 + 0.2, "episode_length": 20},
    {"step": 40, "kind": "train", "episodes": 2, "critic_loss": 1 / 3},
    {"step": 40, "kind": "eval", "eval_return_mean": -1e-300, "eval_return_std": 0.0},
    {"step": 60, "kind": "train", "episodes": 3, "critic_loss": np.float64(2 / 3),
     "model_loss": 1e20},
]


def test_metrics_round_trip_with_columns_appearing_late(tmp_path):
    writer = MetricsWriter(tmp_path / "metrics.csv")
    for row in ROWS:
        writer.write(row)
    frame = read_metrics(tmp_path / "metrics.csv")
    assert list(frame.columns[:2]) == ["step", "kind"]
    assert len(frame) == len(ROWS)
    for i, row in enumerate(ROWS):
        for key in frame.columns:
            if key in row:
                assert frame.loc[i, key] == row[key], (i, key)  # exact, floats included
            else:
                assert pd.isna(frame.loc[i, key]), (i, key)


def test_metrics_writer_continues_an_existing_file(tmp_path):
    path = tmp_path / "metrics.csv"
    MetricsWriter(path).write(ROWS[0])
    writer = MetricsWriter(path)
    assert writer.columns == ["step", "kind", "episode_return", "episode_length"]
    writer.write(ROWS[1])
    frame = read_metrics(path)
    assert list(frame["step"]) == [20, 40] and frame.loc[1, "critic_loss"] == pytest.approx(1 / 3)


def test_metrics_row_needs_step_and_kind(tmp_path):
    with pytest.raises(ValueError, match="'step' and 'kind'"):
        MetricsWriter(tmp_path / "m.csv").write({"step": 1, "loss": 2.0})


def test_truncate_after_drops_later_rows_only(tmp_path):
    writer = MetricsWriter(tmp_path / "metrics.csv")
    for row in ROWS:
        writer.write(row)
    writer.truncate_after(40)
    frame = read_metrics(tmp_path / "metrics.csv")
    assert list(frame["step"]) == [20, 40, 40]
    assert "model_loss" in frame.columns  # the header keeps every column seen
    writer.write({"step": 60, "kind": "eval", "eval_return_mean": 2.0})
    assert list(read_metrics(tmp_path / "metrics.csv")["step"]) == [20, 40, 40, 60]
    writer.clear()
    assert not (tmp_path / "metrics.csv").exists()


def test_no_temp_files_survive_metrics_rewrites(tmp_path):
    writer = MetricsWriter(tmp_path / "metrics.csv")
    for row in ROWS:
        writer.write(row)
    writer.truncate_after(20)
    assert os.listdir(tmp_path) == ["metrics.csv"]


def test_atomic_writes_are_created_with_the_umask_mode_not_0600(tmp_path):
    atomic_write_text(tmp_path / "f.json", "{}")
    assert (tmp_path / "f.json").stat().st_mode & 0o777 == file_mode()


def test_a_stale_writer_truncates_with_the_header_the_file_has(tmp_path):
    path = tmp_path / "metrics.csv"
    stale = MetricsWriter(path)  # opened before another writer widened the file
    writer = MetricsWriter(path)
    for row in ROWS:
        writer.write(row)
    stale.truncate_after(40)
    assert stale.columns == writer.columns
    assert list(read_metrics(path)["step"]) == [20, 40, 40]


@pytest.mark.parametrize("content", [b"no,header\n1,2\n", b"\x00\xff\xfe",
                                     b"step,kind\nx,eval\n"])
def test_an_unreadable_metrics_file_is_a_record_error_naming_it(tmp_path, content):
    path = tmp_path / "metrics.csv"
    path.write_bytes(content)
    with pytest.raises(RecordError, match="metrics.csv is unreadable"):
        MetricsWriter(path).truncate_after(10)
    with pytest.raises(RecordError, match="metrics.csv is unreadable"):
        metrics_last_step(path)
    assert path.read_bytes() == content


@pytest.mark.parametrize("content", ["{bad", "[]", '{"status": "weird"}',
                                     '{"status": "done", "step": "x"}'])
def test_an_unreadable_status_is_a_record_error_and_listed_as_unreadable(config, content):
    record = create_or_open(config)
    record.status_path.write_text(content)
    with pytest.raises(RecordError, match="status.json is unreadable"):
        record.status
    with pytest.raises(RecordError):
        record.set_status("running")
    statuses = load_statuses(record.path.parent)
    assert list(statuses["status"]) == ["unreadable"]
    assert "status.json is unreadable" in statuses["message"][0]
    record.set_status("failed", "rewritten", force=True)  # forcing overwrites it
    assert record.status == "failed"


def test_set_status_keeps_the_checkpoint_step_unless_given(config):
    record = create_or_open(config)
    record.set_status("running", "checkpoint", 100, checkpoint_step=100)
    record.set_status("failed", "boom", 130)
    assert record.read_status()["checkpoint_step"] == 100
