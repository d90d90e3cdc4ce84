"""The fault matrix of run records (issue 18): every fault a user meets, as a user meets it.

Each test asserts the exit code, the message (naming the file and the remedy, never a raw
traceback), what status.json says (and that the CLI printed the same), and that no record is
silently wrong: a failed resume leaves metrics and checkpoint as they were, a recovery ends with
the metrics of an uninterrupted run.
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import papermill
import pytest
import torch
from filelock import FileLock, Timeout

from dvg_core.training.trainer import TIMING_METRICS
from workbench.grid import grid_cells as cells
from workbench.records import file_writes as record_files
from workbench.records import run_record as runs
from workbench.grid.batch import GridOptions, grid_cells, plan_cell
from workbench.cli.main import main
from workbench.config.presets import preset
from workbench.records.provenance import read_sessions
from workbench.records.checks import RecordError, file_mode
from workbench.records.lock import HELD_ENV, RecordBusy, record_lock
from workbench.records.run_record import MetricsWriter, RunRecord, read_metrics, record_path
from workbench.train.training_run import TrainingRun, train, train_seeds
from tests.workbench.train.test_training_run import TINY as TRAINING_TINY

TINY = [*TRAINING_TINY, "loop.total_steps=200"]  # tests/workbench/train/test_training_run.py's, shorter


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny(root, *overrides):
    return preset("toy-quick", [*TINY, f"run_root={root}", "experiment=faults", "algo=td3",
                                *overrides])


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """An uninterrupted td3 record."""
    torch.set_num_threads(1)
    return train(tiny(tmp_path_factory.mktemp("baseline")), progress=False)


@pytest.fixture(scope="module")
def foreign_checkpoint(tmp_path_factory):
    """A good checkpoint of another algorithm."""
    torch.set_num_threads(1)
    record = train(tiny(tmp_path_factory.mktemp("foreign"), "algo=iqn"), progress=False)
    return record.checkpoint_path


@pytest.fixture
def done_copy(baseline, tmp_path):
    """A copy of the baseline's done record under tmp_path."""
    shutil.copytree(baseline.path, record_path(tiny(tmp_path)))
    (record_path(tiny(tmp_path)) / ".lock").unlink(missing_ok=True)
    return RunRecord(record_path(tiny(tmp_path)))


def cli_train(root, capsys, *extra):
    sets = [arg for item in TINY for arg in ("--set", item)]
    code = main(["train", "--algo", "td3", "--run-root", str(root), "--experiment", "faults",
                 "--no-progress", *sets, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def metrics_without_timing(record):
    return read_metrics(record.metrics_path).drop(columns=list(TIMING_METRICS))


def assert_same_metrics(record, baseline):
    assert metrics_without_timing(record).equals(metrics_without_timing(baseline))


def assert_failed_cleanly(code, out, err, record, *named):
    """rc 1, no traceback, status.json `failed` naming `named`, and the CLI printed that."""
    assert code == 1, err
    assert "Traceback" not in out + err
    state = json.loads(record.status_path.read_text())
    assert state["status"] == "failed"
    for name in named:
        assert name in state["message"], state["message"]
    assert f"error: {state['message']}" in err
    assert f"status: failed ({state['message']})" in err
    return state


def no_temp_files(path):
    return not [p.name for p in Path(path).iterdir() if p.name.endswith(".tmp")]


# ----------------------------------------------------------------- corrupted files
def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


CHECKPOINTS = {
    "truncated": _truncate,
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
    _truncate(record.checkpoint_path)
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
    _truncate(records[1].checkpoint_path)
    with pytest.raises(RecordError, match="checkpoint"):
        train_seeds(configs, progress=False)
    for record in records:
        state = record.read_status()
        assert state["status"] == "failed" and str(records[1].checkpoint_path) in state["message"]
        assert "--restart" in state["message"]
    train_seeds(configs, resume=False, progress=False)
    assert [r.status for r in records] == ["done", "done"]


def _train_then_exit(config, code_when_busy: int = 3) -> None:
    """A child process: train `config`; exit 3 if another process holds it."""
    torch.set_num_threads(1)
    try:
        train(config, progress=False)
    except RecordBusy:
        os._exit(code_when_busy)
    os._exit(0)


def test_two_processes_on_one_record_train_it_once(baseline, tmp_path):
    config = tiny(tmp_path)
    fork = multiprocessing.get_context("fork")
    children = [fork.Process(target=_train_then_exit, args=(config,)) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
    assert sorted(c.exitcode for c in children) in ([0, 0], [0, 3])
    record = RunRecord(record_path(config))
    assert record.status == "done" and len(read_sessions(record.path)) == 1
    assert_same_metrics(record, baseline)


# ----------------------------------------------------------------- kill -9 and small things
def _kill_once_training(config, record, delay: float) -> None:
    """Start a child training `config`, wait for its session to begin, sleep `delay`, kill -9."""
    sessions = len(read_sessions(record.path))
    child = multiprocessing.get_context("fork").Process(target=_train_then_exit, args=(config,))
    child.start()
    deadline = time.monotonic() + 60
    while child.is_alive() and time.monotonic() < deadline:
        if len(read_sessions(record.path)) > sessions:
            break
        time.sleep(0.005)
    time.sleep(delay)
    os.kill(child.pid, signal.SIGKILL)
    child.join()


def test_kill_9_at_random_points_then_the_resume_equals_the_uninterrupted_run(tmp_path):
    """Kills land anywhere after training started (mid-step, in a checkpoint write, in a metrics
    rewrite, after the end); 500 steps take a warm process about 1.5 s."""
    whole = train(tiny(tmp_path / "whole", "steps=500"), progress=False)
    config, rng = tiny(tmp_path / "killed", "steps=500"), random.Random(18)
    record = RunRecord(record_path(config))
    for _ in range(6):
        _kill_once_training(config, record, rng.uniform(0.0, 0.5))
    sessions = read_sessions(record.path)
    assert any(s["ended"] is None for s in sessions)  # at least one run was killed mid-way
    train(config, progress=False)
    assert record.status == "done" and no_temp_files(record.path)
    assert_same_metrics(record, whole)
    nets = torch.load(record.checkpoint_path, weights_only=True)["agent"]["networks"]
    expected = torch.load(whole.checkpoint_path, weights_only=True)["agent"]["networks"]
    assert all(torch.equal(nets[k], expected[k]) for k in expected)
    outcomes = [s["outcome"] for s in read_sessions(record.path)]  # None: killed
    assert set(outcomes) <= {None, "done"} and outcomes.count("done") <= 1


def test_a_failed_run_carries_its_last_checkpoint_step(tmp_path, monkeypatch):
    write = MetricsWriter.write

    def dies_after_150(self, row):
        if row["step"] > 150:
            raise OSError(errno.EIO, "simulated I/O error")
        write(self, row)

    monkeypatch.setattr(MetricsWriter, "write", dies_after_150)
    with pytest.raises(OSError):
        train(tiny(tmp_path), progress=False)
    state = RunRecord(record_path(tiny(tmp_path))).read_status()
    assert (state["status"], state["checkpoint_step"]) == ("failed", 100)
    assert state["step"] > 150 and "simulated I/O error" in state["message"]


def test_a_dead_kernel_is_recorded_at_the_last_checkpoint_step(tmp_path):
    (cell,) = grid_cells("toy", GridOptions(seeds=(0,), algos=("td3",), n_locations=(1,)))
    task = plan_cell(cell, run_root=tmp_path, experiment="toy")
    record = runs.create_or_open(cells.config_from_parameters(**task.parameters))
    record.set_status("running", "checkpoint at env step 500", 500, checkpoint_step=500)
    assert cells._finalise(task, "DeadKernelError: gone", None) == ("failed",
                                                                   "DeadKernelError: gone")
    state = record.read_status()
    assert (state["status"], state["step"], state["checkpoint_step"]) == ("failed", 500, 500)


def test_temp_files_of_a_killed_run_are_removed_before_training(done_copy, tmp_path, capsys):
    record = done_copy
    record.set_status("failed", "killed", 150, force=True)
    for name in (".metrics.csv.x1.tmp", ".status.json.x2.tmp", "checkpoint.tmp"):
        (record.path / name).write_text("left behind")
    code, out, err = cli_train(tmp_path, capsys)
    assert code == 0 and "removed temp files" in out
    assert no_temp_files(record.path)


def test_record_files_are_created_with_the_umask_mode(baseline):
    umask = os.umask(0o022)
    os.umask(umask)
    assert file_mode() == 0o666 & ~umask  # 0644 under the usual umask 022
    for name in ("params.json", "status.json", "metrics.csv", "checkpoint.pt",
                 "provenance.json"):
        assert (baseline.path / name).stat().st_mode & 0o777 == file_mode(), name


def test_provenance_names_code_packages_host_device_and_times(baseline):
    (session,) = read_sessions(baseline.path)
    repo = Path(__file__).resolve().parents[3]
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip() or None
    assert session["git_commit"] == head
    assert isinstance(session["git_dirty"], bool) or head is None
    assert session["versions"]["torch"] == torch.__version__
    assert {"gymnasium", "mujoco", "numpy", "python"} <= set(session["versions"])
    assert session["host"] == socket.gethostname() and session["device"] == "cpu"
    assert session["torch_threads"] == 1 and session["pid"] == os.getpid()
    assert session["started"] <= session["ended"]
    assert (session["outcome"], session["start_step"], session["end_step"]) == ("done", 0, 200)


def test_an_absurd_horizon_is_rejected_naming_it(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"env.kwargs.horizon must be <= loop.total_steps"):
        tiny(tmp_path, f"env.kwargs.horizon={10**12}")
    code, out, err = cli_train(tmp_path, capsys, "--set", f"env.kwargs.horizon={10**12}")
    assert code == 2 and "env.kwargs.horizon" in err and not any(tmp_path.iterdir())


# ----------------------------------------------------------------- concurrent grids
@pytest.mark.slow
def test_two_concurrent_reproduce_processes_train_every_cell_once(tmp_path):
    argv = [sys.executable, "-m", "workbench", "reproduce", "toy", "--algos", "td3",
            "--seeds", "2", "--n-locations", "1", "--workers", "2", "--run-root",
            str(tmp_path), "--no-report", "--no-progress", *[f"--set={o}" for o in TINY]]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    records = [RunRecord(p) for p in sorted((tmp_path / "toy").iterdir()) if p.is_dir()]
    assert len(records) == 2
    for record in records:
        assert record.status == "done"
        assert len(read_sessions(record.path)) == 1  # trained by one process, once
        frame = read_metrics(record.metrics_path)
        assert not frame.duplicated(["step", "kind"]).any()
        assert frame["step"].is_monotonic_increasing
