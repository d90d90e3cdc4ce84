"""A grid dies whole (issue 31): however `reproduce` ends, even by `kill -9`, every pool worker
and notebook kernel it started exits within seconds, releasing its locks and removing its socket
files, and a re-run completes every record bit-identical to an undisturbed grid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from dvg_core.training.trainer import TIMING_METRICS
from workbench.host import orphans
from workbench.grid.batch import GridOptions, grid_cells, plan_cell
from workbench.config.notebook_parameters import config_from_parameters
from workbench.train.training_run import train
from workbench.records.run_record import RunRecord, read_metrics

TINY = [
    "loop.total_steps=600", "loop.warmup_steps=100", "loop.utd=1", "loop.batch_size=32",
    "loop.eval_every=200", "loop.eval_episodes=1", "loop.log_every=100",
    "loop.checkpoint_every=100", "algorithm.hidden=16,16", "env.kwargs.horizon=20",
    "device=cpu",
]


def _reproduce_argv(root: Path) -> list[str]:
    return [sys.executable, "-m", "workbench", "reproduce", "toy", "--algos", "td3", "--seeds",
            "2", "--n-locations", "1", "--workers", "2", "--run-root", str(root),
            "--no-report", "--no-progress", *[f"--set={o}" for o in TINY]]


def _children() -> dict[int, int]:
    """pid -> parent pid of every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":  # a zombie has exited already
                table[int(entry.name)] = int(fields[1])
    return table


def _descendants(pid: int) -> set[int]:
    table, found, frontier = _children(), set(), {pid}
    while frontier:
        frontier = {p for p, parent in table.items() if parent in frontier} - found
        found |= frontier
    return found


def _metrics(record: RunRecord):
    return read_metrics(record.metrics_path).drop(columns=list(TIMING_METRICS))


def test_a_dead_parent_ends_its_child_and_its_files(tmp_path):
    """`exit_with_parent` in a grandchild whose parent is killed: it runs its cleanup, exits."""
    marker = tmp_path / "cleaned"
    code = ("import os, sys, time\n"
            "from pathlib import Path\n"
            "from workbench.host.orphans import exit_with_parent\n"
            "exit_with_parent(interval_s=0.05, before_exit=lambda: Path(sys.argv[1]).touch())\n"
            "print(os.getpid(), flush=True)\n"
            "time.sleep(60)\n")
    parent = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time; subprocess.Popen(sys.argv[1:]); "
         "time.sleep(60)", sys.executable, "-c", code, str(marker)],
        stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and child in _children():
        time.sleep(0.05)
    assert child not in _children() and marker.exists()


def test_stale_kernel_sockets_of_dead_managers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f"dvgk-{dead}-0123456789ab-5"
    live = tmp_path / f"dvgk-{os.getpid()}-0123456789ab-5"
    other = tmp_path / "dvgk-notours"
    for path in (stale, live, other):
        path.write_text("")
    assert orphans.remove_stale_sockets(tmp_path) == [stale.name]
    assert live.exists() and other.exists() and not stale.exists()
    assert Path(orphans.socket_base()).name.startswith(f"dvgk-{os.getpid()}-")


@pytest.mark.slow
def test_kill_9_of_reproduce_leaves_no_process_and_a_rerun_equals_the_undisturbed_grid(
        tmp_path):
    options = GridOptions(seeds=(0, 1), algos=("td3",), n_locations=(1,), overrides=tuple(TINY))
    for cell in grid_cells("toy", options):  # the undisturbed grid, trained here
        task = plan_cell(cell, run_root=tmp_path / "whole", experiment="toy")
        train(config_from_parameters(**task.parameters), progress=False)
    root = tmp_path / "killed"
    proc = subprocess.Popen(_reproduce_argv(root), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    started: set[int] = set()
    while time.monotonic() < deadline:  # both cells training in their kernels
        statuses = [RunRecord(p).status_path for p in (root / "toy").glob("*")]
        started |= _descendants(proc.pid)
        if len(statuses) == 2 and all(p.exists() for p in statuses):
            break
        time.sleep(0.2)
    started |= _descendants(proc.pid)
    assert len(started) >= 4, started  # 2 workers and 2 kernels (and the resource tracker)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and started & set(_children()):
        time.sleep(0.25)
    assert not started & set(_children()), "processes outlived the killed grid"
    left = [p.name for p in Path(tempfile.gettempdir()).glob("dvgk-*")
            if any(p.name.startswith(f"dvgk-{pid}-") for pid in started)]
    assert not left, left  # no socket file of its kernels

    rerun = subprocess.run(_reproduce_argv(root), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "locked by another process" not in rerun.stderr
    wholes = [p for p in sorted((tmp_path / "whole" / "toy").iterdir()) if p.is_dir()]
    assert len(wholes) == 2
    for whole in wholes:
        record = RunRecord(root / "toy" / whole.name)
        assert record.status == "done"
        assert _metrics(record).equals(_metrics(RunRecord(whole)))
