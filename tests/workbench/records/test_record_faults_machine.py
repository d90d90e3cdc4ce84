"""The fault matrix of run records, the machine's faults and the locks: a full disk while
checkpointing or everywhere, an unwritable run root, locked records and seeds, two processes on
one record."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import papermill
import pytest
import torch
from filelock import FileLock, Timeout

from workbench.grid import grid_cells as cells
from workbench.records import file_writes as record_files
from workbench.records import run_record as runs
from workbench.grid.batch import GridOptions, grid_cells, plan_cell
from workbench.cli.main import main
from workbench.records.provenance import read_sessions
from workbench.records.checks import RecordError
from workbench.records.lock import HELD_ENV, RecordBusy, record_lock
from workbench.records.run_record import RunRecord, record_path
from workbench.train.training_run import TrainingRun, train_seeds

from tests.workbench.records.faults import (
    assert_failed_cleanly, assert_same_metrics, cli_train, no_temp_files, tiny, train_then_exit, truncate_half,
)


# ----------------------------------------------------------------- faults of the machine
def _disk_full_at_checkpoint(monkeypatch, n: int, *, everything: bool = False):
    """`torch.save` of the n-th checkpoint writes a few bytes and fails with ENOSPC; with
    `everything`, every record write fails from then on."""
    save, write, calls, full = torch.save, runs.atomic_write_text, [], []

    def failing_save(obj, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == n:
            Path(path).write_bytes(b"PK\x03\x04partial")
            full.append(True)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return save(obj, path, *args, **kwargs)

    def failing_write(path, text):
        if full and everything:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return write(path, text)

    monkeypatch.setattr(torch, "save", failing_save)
    monkeypatch.setattr(runs, "atomic_write_text", failing_write)  # status, params, provenance
    monkeypatch.setattr(record_files, "atomic_write_text", failing_write)  # metrics rewrites


def test_disk_full_while_checkpointing_fails_cleanly_and_a_rerun_resumes(baseline, tmp_path,
                                                                         capsys, monkeypatch):
    _disk_full_at_checkpoint(monkeypatch, 2)
    record = RunRecord(record_path(tiny(tmp_path)))
    code, out, err = cli_train(tmp_path, capsys)
    state = assert_failed_cleanly(code, out, err, record, "No space left on device",
                                  "checkpoint.tmp", "re-run to resume")
    assert state["checkpoint_step"] == 100 and state["step"] >= 200
    assert no_temp_files(record.path)
    assert torch.load(record.checkpoint_path, weights_only=True)["counters"]["step"] == 100
    monkeypatch.undo()
    code, out, err = cli_train(tmp_path, capsys)
    assert code == 0 and record.status == "done"
    assert_same_metrics(record, baseline)


def test_disk_full_everywhere_leaves_the_printed_status_equal_to_the_file(tmp_path, capsys,
                                                                          monkeypatch):
    _disk_full_at_checkpoint(monkeypatch, 2, everything=True)
    record = RunRecord(record_path(tiny(tmp_path)))
    code, out, err = cli_train(tmp_path, capsys)
    assert code == 1 and "Traceback" not in out + err
    assert f"could not record the failure in {record.status_path}" in err
    state = json.loads(record.status_path.read_text())
    assert (state["status"], state["checkpoint_step"]) == ("running", 100)
    assert f"status: running ({state['message']})" in err
    assert no_temp_files(record.path)


@pytest.mark.parametrize("kind", ["a file", "/proc"])
def test_an_unwritable_run_root_is_an_error_with_no_record(kind, tmp_path, capsys):
    if kind == "a file":
        root = tmp_path / "root"
        root.write_text("not a directory")
    else:
        root = Path("/proc/dvg-runs")
    code, out, err = cli_train(root, capsys)
    assert code == 2 and "Traceback" not in out + err
    assert f"error: cannot create {root}" in err and "--run-root" in err
    assert "status: none (no record was written)" in err
    code = main(["reproduce", "toy", "--algos", "td3", "--seeds", "1", "--n-locations", "1",
                 "--run-root", str(root), "--no-report", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and f"error: cannot create {root}" in err


# ----------------------------------------------------------------- locks
def test_a_locked_record_is_skipped_untouched(tmp_path, capsys):
    path = record_path(tiny(tmp_path))
    path.mkdir(parents=True)
    with FileLock(path / ".lock"):  # another process, as far as the lock can tell
        code, out, err = cli_train(tmp_path, capsys)
        assert code == 3 and "skipped:" in err and "another process" in err
        with pytest.raises(RecordBusy):
            TrainingRun([tiny(tmp_path)], progress=False).execute()
    assert {p.name for p in path.iterdir()} <= {".lock"}  # no status, metrics or params


def test_a_child_process_trusts_the_lock_its_parent_holds_and_no_other(tmp_path):
    """A grid worker holds a cell's lock while its notebook kernel trains the record."""
    code = ("import sys; from workbench.records.lock import record_lock, RecordBusy\n"
            "try:\n    with record_lock(sys.argv[1]): print('trained')\n"
            "except RecordBusy: print('busy')")
    path = tmp_path / "record"
    with record_lock(path):
        assert str(path.resolve()) in os.environ[HELD_ENV].split(os.pathsep)
        child = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                               text=True, check=True)
        with pytest.raises(Timeout):  # anyone else, even another lock in this process
            with FileLock(path / ".lock", timeout=0):
                pass
    assert child.stdout.strip() == "trained"
    assert HELD_ENV not in os.environ


def test_a_grid_cell_whose_record_is_locked_is_skipped_without_running(tmp_path, monkeypatch):
    (cell,) = grid_cells("toy", GridOptions(seeds=(0,), algos=("td3",), n_locations=(1,)))
    task = plan_cell(cell, run_root=tmp_path, experiment="toy")
    Path(task.run_dir).mkdir(parents=True)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a locked cell must not execute")

    monkeypatch.setattr(papermill, "execute_notebook", must_not_run)
    with FileLock(Path(task.run_dir) / ".lock"):
        result = cells.execute_cell(task)
    assert (result.status, result.skipped) == ("locked", True)
    assert "another process" in result.message
    assert not RunRecord(task.run_dir).status_path.exists()


def test_train_seeds_skips_a_locked_seed_and_trains_the_others(tmp_path, capsys):
    configs = [tiny(tmp_path, "seed=0"), tiny(tmp_path, "seed=1")]
    locked = record_path(configs[1])
    locked.mkdir(parents=True)
    with FileLock(locked / ".lock"):
        records = train_seeds(configs, progress=False)
    assert records[0].status == "done" and records[1].status is None
    assert "skipped:" in capsys.readouterr().err


def test_a_seed_group_with_an_unusable_checkpoint_fails_every_seed_naming_it(tmp_path):
    configs = [tiny(tmp_path, "seed=0"), tiny(tmp_path, "seed=1")]
    records = train_seeds(configs, progress=False)
    for record in records:
        record.set_status("running", "killed", 150, force=True)
    truncate_half(records[1].checkpoint_path)
    with pytest.raises(RecordError, match="checkpoint"):
        train_seeds(configs, progress=False)
    for record in records:
        state = record.read_status()
        assert state["status"] == "failed" and str(records[1].checkpoint_path) in state["message"]
        assert "--restart" in state["message"]
    train_seeds(configs, resume=False, progress=False)
    assert [r.status for r in records] == ["done", "done"]


def test_two_processes_on_one_record_train_it_once(baseline, tmp_path):
    config = tiny(tmp_path)
    fork = multiprocessing.get_context("fork")
    children = [fork.Process(target=train_then_exit, args=(config,)) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
    assert sorted(c.exitcode for c in children) in ([0, 0], [0, 3])
    record = RunRecord(record_path(config))
    assert record.status == "done" and len(read_sessions(record.path)) == 1
    assert_same_metrics(record, baseline)
