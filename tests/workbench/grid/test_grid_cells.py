"""One grid cell (`workbench.grid.grid_cells`): ipc kernels with distinct sockets, a kernel that
never ran a cell retried and one that died mid-notebook not, and the record a failed notebook
leaves."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill

from workbench.grid import grid_cells as cells
from workbench.grid.batch import CellTask, GridOptions, grid_cells, plan_cell
from workbench.host.kernels import IpcKernelManager
from workbench.config.notebook_parameters import config_from_parameters
from workbench.records.run_record import RunRecord


def test_ipc_kernels_get_distinct_absolute_socket_paths():
    a, b = IpcKernelManager(kernel_name="python3"), IpcKernelManager(kernel_name="python3")
    assert a.transport == b.transport == "ipc"
    assert a.ip != b.ip and Path(a.ip).is_absolute() and len(a.ip) < 80


def _task(tmp_path: Path) -> CellTask:
    return CellTask({}, str(tmp_path), retries=2)


def test_a_kernel_that_never_ran_a_cell_is_retried(tmp_path, monkeypatch):
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    monkeypatch.setattr(cells.time, "sleep", lambda s: None)
    assert cells._execute(_task(tmp_path), tmp_path / "output.ipynb") is None
    assert len(calls) == 3


def test_a_kernel_that_died_mid_notebook_is_not_retried(tmp_path, monkeypatch):
    calls = []
    output = tmp_path / "output.ipynb"

    def dies(*args, **kwargs):
        calls.append(1)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1", execution_count=1)])
        nbformat.write(nb, output)
        raise RuntimeError("Kernel died")

    monkeypatch.setattr(papermill, "execute_notebook", dies)
    assert cells._execute(_task(tmp_path), output) == "RuntimeError: Kernel died"
    assert len(calls) == 1


def _valid_task(tmp_path: Path) -> CellTask:
    (cell,) = grid_cells("toy", GridOptions(seeds=(0,), algos=("td3",), n_locations=(1,)))
    task = plan_cell(cell, run_root=tmp_path, experiment="toy")
    Path(task.run_dir).mkdir(parents=True)
    return task


def test_a_notebook_that_died_before_training_leaves_a_failed_record(tmp_path):
    task = _valid_task(tmp_path)
    assert cells._finalise(task, "DeadKernelError: gone", None) == (
        "failed", "DeadKernelError: gone")
    record = RunRecord(task.run_dir)
    assert record.status == "failed" and record.config() == config_from_parameters(
        **task.parameters)


def test_a_stale_failed_status_is_replaced_by_the_new_error(tmp_path):
    task = _valid_task(tmp_path)
    cells._finalise(task, "OldError: before", None)
    before = RunRecord(task.run_dir).read_status()
    assert cells._finalise(task, "NewError: now", before) == ("failed", "NewError: now")
    assert RunRecord(task.run_dir).read_status()["message"] == "NewError: now"


def test_a_done_run_whose_notebook_failed_later_is_a_failed_cell_with_a_done_record(tmp_path):
    task = _valid_task(tmp_path)
    record = RunRecord(task.run_dir)
    cells._finalise(task, None, None)  # creates the record (failed: no status written)
    record.set_status("running")
    record.set_status("done", "trained")
    status, message = cells._finalise(task, "KeyError: 'x'", {"status": "failed"})
    assert status == "failed" and "the run is done, but its notebook failed" in message
    assert record.status == "done"
