"""The fault matrix of run records, kills and small things: `kill -9` at random points then an
exact resume, the last checkpoint step of a failed run, temp files, file modes, provenance, an
absurd horizon, and two concurrent grids training every cell once."""

from __future__ import annotations

import errno
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from workbench.grid import grid_cells as cells
from workbench.records import run_record as runs
from workbench.grid.batch import GridOptions, grid_cells, plan_cell
from workbench.records.provenance import read_sessions
from workbench.records.checks import file_mode
from workbench.records.run_record import MetricsWriter, RunRecord, read_metrics, record_path
from workbench.train.training_run import train

from tests.workbench.records.faults import (
    TINY, assert_same_metrics, cli_train, no_temp_files, tiny, train_then_exit,
)


# ----------------------------------------------------------------- kill -9 and small things
def _kill_once_training(config, record, delay: float) -> None:
    """Start a child training `config`, wait for its session to begin, sleep `delay`, kill -9."""
    sessions = len(read_sessions(record.path))
    child = multiprocessing.get_context("fork").Process(target=train_then_exit, args=(config,))
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
