"""Experiment grids executed as papermill notebooks, on any `concurrent.futures` executor.

An *experiment* (`EXPERIMENTS`) turns `GridOptions` into cells, each a dict of
`notebooks/train.ipynb` parameters. `run_grid` plans every cell in the parent (its config is
built by `workbench.config.notebook_parameters.config_from_parameters`, the notebook's own path, so the parent
knows the run directory `record_path(config)`), skips cells whose record is final (`done`, or
`diverged`: deterministic on CPU, re-running it diverges again), and submits the rest to the
executor; each executes the notebook into `<run dir>/output.ipynb` with the kernel's cwd there.

* A cell whose parameters fail validation still executes, so the notebook raises the validator's
  `ValueError` and its output notebook holds the traceback. With no valid config there is no run
  id: its directory is `<run_root>/<experiment>/invalid-<hash>`, the first 12 hex digits of the
  sha256 of its parameters' canonical JSON (less `run_root`, `experiment`, `interactive`,
  `device`), holding `output.ipynb`, `cell.json` (the parameters) and `status.json` (`failed`, the
  validator's message), and no `params.json`, so `load_metrics`/`load_statuses` skip it;
  `report_api.load_experiment` lists it.
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

import os
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from dvg_core.util.device import gpu_count, resolve_device
from workbench.host.orphans import exit_with_parent, remove_stale_sockets
from workbench.grid.placement import job_device
from workbench.records.lock import make_record_dir
from workbench.grid.grid_cells import (
    FINAL_STATUSES, TRAIN_NOTEBOOK, CellResult, CellTask, compiled_where_it_pays, execute_cell,
    execute_seed_group, final_status, group_by_setting, plan_cell,
)
from workbench.report.render import render_report
from workbench.experiments.registry import EXPERIMENTS, Experiment, GridOptions, get_experiment, grid_cells


__all__ = [
    "EXPERIMENTS", "FINAL_STATUSES", "TRAIN_NOTEBOOK", "CellResult", "CellTask", "Experiment",
    "GridOptions", "GridResult", "execute_cell", "final_status", "get_experiment", "grid_cells",
    "make_executor", "plan_cell", "reproduce", "run_grid",
]

# ----------------------------------------------------------------- the grid
@dataclass
class GridResult:
    """Every cell's result, in completion order."""

    results: list[CellResult] = field(default_factory=list)
    """One per cell."""
    seconds: float = 0.0
    """Wall time of the grid."""

    def count(self, status: str, *, skipped: bool = False) -> int:
        """Cells executed (or skipped, if `skipped`) that ended with `status`."""
        return sum(r.status == status and r.skipped == skipped for r in self.results)

    @property
    def failed(self) -> list[CellResult]:
        """The executed cells that failed."""
        return [r for r in self.results if r.status == "failed" and not r.skipped]

    def summary(self) -> str:
        """Counts, then one line per failed cell with its message and output notebook."""
        locked = self.count("locked", skipped=True)
        skipped = sum(r.skipped for r in self.results) - locked
        lines = [f"{len(self.results)} cells in {self.seconds:.0f} s: {self.count('done')} done, "
                 f"{self.count('diverged')} diverged, {len(self.failed)} failed, "
                 f"{skipped} skipped (already final)"
                 + (f", {locked} skipped (locked by another process)" if locked else "")]
        lines += [f"  failed {r.name}: {r.message}\n    {r.run_dir}/output.ipynb"
                  for r in self.failed]
        return "\n".join(lines)


def _line(result: CellResult) -> str:
    verb = f"skipped ({result.status})" if result.skipped else result.status
    return f"{verb:<18} {result.name}  {result.seconds:6.1f} s"


def _placed(tasks: list[CellTask], *, n_gpus: int, index: int) -> list[CellTask]:
    """The valid `tasks` of job `index` (one cell, or one seed group) on that job's device."""
    return [t if t.error is not None else replace(t, parameters={
        **t.parameters, "device": job_device(t.parameters["device"], n_gpus=n_gpus, index=index)})
        for t in tasks]


def run_grid(cells: Sequence[dict[str, Any]], *, run_root: str | Path, experiment: str,
             executor: Executor, timeout_s: float | None = 3600.0, retries: int = 2,
             progress: bool = True, vectorize_seeds: bool = False,
             n_gpus: int | None = None) -> GridResult:
    """Plan, skip and execute every cell on `executor`; one line per finished cell and a tqdm bar
    (to stderr). Duplicate cells (same run directory) run once. With `vectorize_seeds`, the
    cells of one setting train together in one worker (`workbench.seed_batch`), without
    notebooks. The jobs are spread over `n_gpus` GPUs (None: `gpu_count()`; see the module)."""
    start, grid = time.perf_counter(), GridResult()
    n_gpus = gpu_count() if n_gpus is None else n_gpus
    tasks = {}
    for cell in cells:
        task = plan_cell(cell, run_root=Path(run_root).resolve(), experiment=experiment,
                         timeout_s=timeout_s, retries=retries)
        tasks.setdefault(task.run_dir, task)
    invalid = [t for t in tasks.values() if t.error is not None]
    for task in invalid:
        print(f"invalid cell {Path(task.run_dir).name}: {task.error}", file=sys.stderr)
    bar = tqdm(total=len(tasks), unit="cell", desc=experiment, file=sys.stderr,
               disable=not progress, mininterval=1.0)
    counts = {"done": 0, "failed": 0, "skipped": 0}

    def finish(result: CellResult) -> None:
        grid.results.append(result)
        key = "skipped" if result.skipped else ("failed" if result.status == "failed" else "done")
        counts[key] += 1
        bar.set_postfix(counts, refresh=False)
        bar.update(1)
        tqdm.write(_line(result), file=sys.stderr)

    futures: dict[Future, list[CellTask]] = {}
    pending, jobs = [], []
    for task in tasks.values():
        status = final_status(task) if task.error is None else None
        if status is not None:
            finish(CellResult(Path(task.run_dir).name, task.run_dir, status, skipped=True))
        elif vectorize_seeds and task.error is None:
            pending.append(task)
        else:
            jobs.append((execute_cell, [task]))
    jobs += [(execute_seed_group, group) for group in group_by_setting(pending)]
    for index, (run, group) in enumerate(jobs):
        group = _placed(group, n_gpus=n_gpus, index=index)
        futures[executor.submit(run, group if run is execute_seed_group else group[0])] = group
    try:
        for future in as_completed(futures):
            group = futures[future]
            try:
                result = future.result()
            except Exception as err:  # the worker itself died
                result = [CellResult(Path(t.run_dir).name, t.run_dir, "failed",
                                     f"worker error: {type(err).__name__}: {err}") for t in group]
            for one in result if isinstance(result, list) else [result]:
                finish(one)
    except KeyboardInterrupt:  # queued cells must not start; running ones stay `running`
        for future in futures:
            future.cancel()
        raise
    finally:
        bar.close()
    grid.seconds = time.perf_counter() - start
    return grid


@contextmanager
def make_executor(workers: int, dask: str | None = None) -> Iterator[Executor]:
    """A spawn-context process pool of `workers`, or with `dask` a Dask executor: `"local"` starts
    a `LocalCluster` of `workers` single-threaded processes, anything else is a scheduler
    address."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if dask is None:  # each worker exits when this process dies, even by kill -9
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                   initializer=exit_with_parent, initargs=(os.getpid(),))
        try:
            yield pool
        except BaseException:  # Ctrl-C, SIGTERM (`main` makes it SystemExit), an error
            _terminate_workers(pool)
            raise
        pool.shutdown(wait=True)
        return
    from distributed import Client, LocalCluster

    cluster = None
    if dask == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    client = Client(cluster if cluster is not None else dask)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """Stop `pool` now: drop its queued cells and terminate the workers still training (the
    default shutdown waits for them, so a stopped grid would leave them running, holding their
    records' locks). Their records stay resumable: the next run continues from the checkpoints."""
    workers = list((pool._processes or {}).values())  # {pid: Process}; private but stable
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        if process.is_alive():
            process.terminate()
    for process in workers:
        process.join(timeout=5)
        if process.is_alive():  # a worker that did not take SIGTERM (seen once under load)
            process.kill()
            process.join(timeout=5)


# ----------------------------------------------------------------- the report
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
    experiment = get_experiment(name)
    resolve_device(options.device)  # `cuda` without a GPU stops here, not in every cell
    cells = grid_cells(name, options)
    if options.compile:
        cells = [compiled_where_it_pays(cell) for cell in cells]
    root = Path(run_root).resolve()
    errors = [plan_cell(cell, run_root=root, experiment=name).error for cell in cells]
    if not cells or all(errors):
        raise ValueError(f"no valid cell in the {name} grid"
                         + (f"; the first error: {errors[0]}" if errors else ""))
    if experiment.strict and any(errors):
        index = next(i for i, error in enumerate(errors) if error)
        raise ValueError(f"invalid cell in the {name} grid (overrides {cells[index]['overrides']})"
                         f": {errors[index]}")
    make_record_dir(root / name)  # an unwritable run root stops here, with a RecordError
    timeout = experiment.timeout_s if timeout_s is None else timeout_s
    try:
        with make_executor(min(workers, len(cells)), dask) as executor:
            grid = run_grid(cells, run_root=root, experiment=name, executor=executor,
                            timeout_s=timeout, progress=progress,
                            vectorize_seeds=vectorize_seeds)
    finally:  # the sockets of kernels whose worker is gone (a kernel killed mid-cell)
        remove_stale_sockets()
    print(grid.summary())
    return grid, render_report(root / name) if report else None
