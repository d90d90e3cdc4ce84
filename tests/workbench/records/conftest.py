"""Fixtures of the records' tests: one torch thread, and the trained records the fault-matrix
tests damage (`baseline`, `foreign_checkpoint`, `done_copy`)."""

from __future__ import annotations

import shutil

import pytest
import torch

from workbench.records.run_record import RunRecord, record_path
from workbench.train.training_run import train
from tests.workbench.records.faults import tiny


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
