"""Helpers of the fault-matrix tests of run records (fixtures: conftest.py): the tiny td3 config
they train, the `train` command they run, and what they assert about a failed record."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from dvg_core.training.trainer import TIMING_METRICS
from workbench.cli.main import main
from workbench.config.presets import preset
from workbench.records.lock import RecordBusy
from workbench.records.run_record import read_metrics
from workbench.train.training_run import train
from tests.workbench.train.test_training_run import TINY as TRAINING_TINY

TINY = [*TRAINING_TINY, "loop.total_steps=200"]  # tests/workbench/train/test_training_run.py's, shorter


def tiny(root, *overrides):
    return preset("toy-quick", [*TINY, f"run_root={root}", "experiment=faults", "algo=td3",
                                *overrides])


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


def truncate_half(path):
    """Cut the file at `path` to half its bytes."""
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def train_then_exit(config, code_when_busy: int = 3) -> None:
    """A child process: train `config`; exit 3 if another process holds it."""
    torch.set_num_threads(1)
    try:
        train(config, progress=False)
    except RecordBusy:
        os._exit(code_when_busy)
    os._exit(0)
