"""The fault matrix of run records (issue 18): every fault a user meets, as a user meets it.

Each test asserts the exit code, the message (naming the file and the remedy, never a raw
traceback), what status.json says (and that the CLI printed the same), and that no record is
silently wrong: a failed resume leaves metrics and checkpoint as they were, a recovery ends with
the metrics of an uninterrupted run.
"""

from __future__ import annotations

import random
import shutil

import pytest

from workbench.train.training_run import TrainingRun

from tests.workbench.records.faults import (
    assert_failed_cleanly, assert_same_metrics, cli_train, tiny, truncate_half,
)


# ----------------------------------------------------------------- corrupted files
CHECKPOINTS = {
    "truncated": truncate_half,
    "empty": lambda path: path.write_bytes(b""),
    "random": lambda path: path.write_bytes(random.Random(0).randbytes(4096)),
}


@pytest.mark.parametrize("damage", [*CHECKPOINTS, "other algorithm"])
def test_an_unusable_checkpoint_fails_naming_it_and_restart_recovers(
        damage, done_copy, baseline, foreign_checkpoint, tmp_path, capsys):
    record = done_copy
    record.set_status("running", "killed", 150, force=True)  # an interrupted run to resume
    if damage == "other algorithm":
        shutil.copy(foreign_checkpoint, record.checkpoint_path)
    else:
        CHECKPOINTS[damage](record.checkpoint_path)
    damaged = record.checkpoint_path.read_bytes(), record.metrics_path.read_bytes()
    for _ in range(2):  # every re-run says the same, and changes nothing
        code, out, err = cli_train(tmp_path, capsys)
        state = assert_failed_cleanly(code, out, err, record, str(record.checkpoint_path),
                                      "--restart")
        assert state["step"] == 150  # the step the record had reached, not 0
        assert (record.checkpoint_path.read_bytes(), record.metrics_path.read_bytes()) == damaged
    code, out, err = cli_train(tmp_path, capsys, "--restart")
    assert code == 0 and "status: done" in out
    assert_same_metrics(record, baseline)


def test_a_done_record_with_an_unreadable_checkpoint_is_no_longer_done(done_copy, tmp_path,
                                                                        capsys):
    record = done_copy
    truncate_half(record.checkpoint_path)
    assert TrainingRun([tiny(tmp_path)], progress=False).todo == [0]
    code, out, err = cli_train(tmp_path, capsys)
    assert "the record says done but is incomplete" in err
    assert_failed_cleanly(code, out, err, record, "checkpoint.pt", "--restart")


@pytest.mark.parametrize("status", ["done", "running"])
def test_a_record_whose_metrics_were_deleted_never_ends_done(status, done_copy, tmp_path,
                                                              capsys):
    record = done_copy
    record.set_status(status, "as it was", 200, force=True)
    record.metrics_path.unlink()
    code, out, err = cli_train(tmp_path, capsys)
    state = assert_failed_cleanly(code, out, err, record, "metrics.csv", "--restart")
    assert "is missing but the checkpoint is at step 200" in state["message"]
    assert not record.metrics_path.exists()


STATUSES = {
    "garbage": "{not json", "weird status": '{"status": "weird"}', "a list": "[]", "empty": "",
    "binary": b"\x00\xff\xfe",
}


@pytest.mark.parametrize("content", list(STATUSES.values()), ids=list(STATUSES))
def test_an_unreadable_status_fails_once_naming_it_then_the_run_resumes(
        content, done_copy, baseline, tmp_path, capsys):
    record = done_copy
    if isinstance(content, bytes):
        record.status_path.write_bytes(content)
    else:
        record.status_path.write_text(content)
    code, out, err = cli_train(tmp_path, capsys)
    assert_failed_cleanly(code, out, err, record, str(record.status_path), "--restart")
    code, out, err = cli_train(tmp_path, capsys)
    assert code == 0 and "status: done (trained 200 env steps)" in out
    assert record.status == "done"
    assert_same_metrics(record, baseline)


def _out_of_order(path):
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines, *lines[5:9]]))  # rows written twice, as two writers did


METRICS = {
    "garbage": lambda path: path.write_text("this is not,a metrics file\n1,2\n"),
    "binary": lambda path: path.write_bytes(random.Random(1).randbytes(2048)),
    "rows out of order": _out_of_order,
}


@pytest.mark.parametrize("damage", list(METRICS))
def test_an_unreadable_metrics_file_fails_naming_it(damage, done_copy, tmp_path, capsys):
    record = done_copy
    METRICS[damage](record.metrics_path)
    damaged = record.metrics_path.read_bytes()
    code, out, err = cli_train(tmp_path, capsys)
    assert_failed_cleanly(code, out, err, record, str(record.metrics_path), "--restart")
    assert record.metrics_path.read_bytes() == damaged


def test_restart_recovers_from_unreadable_metrics_and_params(done_copy, baseline, tmp_path,
                                                             capsys):
    record = done_copy
    record.metrics_path.write_bytes(b"\x00\x01garbage")
    record.params_path.write_text("{torn")
    record.status_path.write_text('{"status": "weird"}')
    code, out, err = cli_train(tmp_path, capsys)
    assert code == 2 and "params.json is not a readable run record" in err and "--restart" in err
    code, out, err = cli_train(tmp_path, capsys, "--restart")
    assert code == 0 and record.status == "done"
    assert_same_metrics(record, baseline)
    assert record.config() == tiny(tmp_path)
