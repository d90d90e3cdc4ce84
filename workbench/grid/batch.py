"""Experiment grids executed as papermill notebooks, on any `concurrent.futures` executor.

An *experiment* (`EXPERIMENTS`) turns `GridOptions` into cells, each a dict of
`notebooks/train.ipynb` parameters. `reproduce` plans every cell once, in the parent
(`workbench.grid.grid_cells.plan_grid`: its config is built by
`workbench.config.notebook_parameters.config_from_parameters`, the notebook's own path, so the
parent knows the run directory `record_path(config)`); `run_grid` (`workbench.grid.grid_runner`)
skips cells whose record is final (`done`, or `diverged`: deterministic on CPU, re-running it
diverges again) and submits the rest to the executor (`workbench.grid.executors`); each executes
the notebook into `<run dir>/output.ipynb` with the kernel's cwd there.

* A cell whose parameters fail validation still executes, so the notebook raises the validator's
  `ValueError` and its output notebook holds the traceback. With no valid config there is no run
  id: its directory is `<run_root>/<experiment>/invalid-<hash>`, the first 12 hex digits of the
  sha256 of its parameters' canonical JSON (less `run_root`, `experiment`, `interactive`,
  `device`), holding `output.ipynb`, `cell.json` (the parameters) and `status.json` (`failed`, the
  validator's message), and no `params.json`, so `load_metrics`/`load_statuses` skip it;
  `workbench.report.experiment_data.load_experiment` lists it.
* A failing cell never stops the grid: `execute_cell` catches every error, and a record the
  notebook left without a final status (a kernel that died, a timeout) is marked `failed`.
* `execute_cell` holds the record's lock (`workbench.records.lock`) for the whole notebook, so two
  grids on one run root never train a cell twice: a cell another process holds is skipped
  (`locked`), and a cell found final once the lock is held is skipped too. A `done` record is
  skipped only once verified complete (`workbench.train.record_session.incomplete_done`).
* Kernels started in parallel talk over ipc sockets with unique paths (`IpcKernelManager`), so
  there is no TCP port to race for; a kernel that fails before running any cell is retried.
* On a machine with several GPUs, the cells (or seed groups) whose device is `auto` or `cuda`
  go round-robin over them in submission order (`workbench.grid.placement.job_device`); the GPU
  count is the parent's, so on a Dask cluster of other machines pass an explicit device.
* Executors: a spawn-context `ProcessPoolExecutor`, or a Dask cluster's `client.get_executor()`
  (`make_executor`); with Dask the run root must be on a file system every worker sees.
"""

from __future__ import annotations

from pathlib import Path

from dvg_core.util.device import resolve_device
from workbench.experiments.registry import (
    EXPERIMENTS, Experiment, GridOptions, experiment_grid, get_experiment, grid_cells,
)
from workbench.grid.executors import make_executor
from workbench.grid.grid_cells import (
    FINAL_STATUSES, TRAIN_NOTEBOOK, CellResult, CellTask, compiled_where_it_pays, execute_cell,
    final_status, plan_cell, plan_grid,
)
from workbench.grid.grid_result import GridResult
from workbench.grid.grid_runner import run_grid
from workbench.host.orphans import remove_stale_sockets
from workbench.records.lock import make_record_dir
from workbench.report.render import render_report

__all__ = [
    "EXPERIMENTS", "FINAL_STATUSES", "TRAIN_NOTEBOOK", "CellResult", "CellTask", "Experiment",
    "GridOptions", "GridResult", "execute_cell", "final_status", "get_experiment", "grid_cells",
    "make_executor", "plan_cell", "plan_grid", "reproduce", "run_grid",
]


def reproduce(name: str, options: GridOptions = GridOptions(), *, run_root: str | Path = "runs",
              workers: int = 1, dask: str | None = None, timeout_s: float | None = None,
              report: bool = True, progress: bool = True,
              vectorize_seeds: bool = False) -> tuple[GridResult, Path | None]:
    """Run experiment `name`'s grid, print its summary, and render its report.

    Args:
      timeout_s: per-notebook-cell timeout; None takes the experiment's.
      vectorize_seeds: train each setting's seeds together (see `run_grid`).

    Returns:
      the grid's result and the report's HTML path (None without `report`).

    Raises:
      ValueError: an unknown experiment or preset, a bad device or a GPU this machine lacks, a
        grid whose every cell is invalid (a bad `--set`, say), any invalid cell of a `strict`
        experiment (an ablation), or an unwritable run root (a `RecordError`): then nothing
        runs.
    """
    experiment, cells = experiment_grid(name, options)
    resolve_device(options.device)  # `cuda` without a GPU stops here, not in every cell
    if options.compile:
        cells = [compiled_where_it_pays(cell) for cell in cells]
    root = Path(run_root).resolve()
    timeout = experiment.timeout_s if timeout_s is None else timeout_s
    tasks = plan_grid(cells, run_root=root, experiment=name, timeout_s=timeout)
    errors = [task.error for task in tasks]
    if not tasks or all(errors):
        raise ValueError(f"no valid cell in the {name} grid"
                         + (f"; the first error: {errors[0]}" if errors else ""))
    if experiment.strict and any(errors):
        index = next(i for i, error in enumerate(errors) if error)
        raise ValueError(f"invalid cell in the {name} grid (overrides "
                         f"{tasks[index].parameters['overrides']}): {errors[index]}")
    make_record_dir(root / name)  # an unwritable run root stops here, with a RecordError
    try:
        with make_executor(min(workers, len(tasks)), dask) as executor:
            grid = run_grid(tasks, experiment=name, executor=executor, progress=progress,
                            vectorize_seeds=vectorize_seeds)
    finally:  # the sockets of kernels whose worker is gone (a kernel killed mid-cell)
        remove_stale_sockets()
    print(grid.summary())
    return grid, render_report(root / name) if report else None
