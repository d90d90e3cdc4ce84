"""A grid's planned cells executed on any `concurrent.futures` executor (`run_grid`): final
records skipped, the rest submitted one notebook per cell (or one job per setting's seeds), each
job on the device `workbench.grid.placement` gives it, one line per finished cell and a progress
bar; see `workbench.grid.batch` for the rules a cell follows."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import replace
from pathlib import Path

from tqdm.auto import tqdm

from dvg_core.util.device import gpu_count
from workbench.grid.grid_cells import (
    CellResult, CellTask, execute_cell, execute_seed_group, final_status, group_by_setting,
)
from workbench.grid.grid_result import GridResult
from workbench.grid.placement import job_device

__all__ = ["run_grid"]


def _line(result: CellResult) -> str:
    verb = f"skipped ({result.status})" if result.skipped else result.status
    return f"{verb:<18} {result.name}  {result.seconds:6.1f} s"


def _placed(tasks: list[CellTask], *, n_gpus: int, index: int) -> list[CellTask]:
    """The valid `tasks` of job `index` (one cell, or one seed group) on that job's device."""
    return [t if t.error is not None else replace(t, parameters={
        **t.parameters, "device": job_device(t.parameters["device"], n_gpus=n_gpus, index=index)})
        for t in tasks]


def run_grid(tasks: Sequence[CellTask], *, experiment: str, executor: Executor,
             progress: bool = True, vectorize_seeds: bool = False,
             n_gpus: int | None = None) -> GridResult:
    """Skip and execute every planned cell (`workbench.grid.grid_cells.plan_grid`) on
    `executor`; one line per finished cell and a tqdm bar (to stderr) named `experiment`. With
    `vectorize_seeds`, the cells of one setting train together in one worker
    (`execute_seed_group`), without notebooks. The jobs are spread over `n_gpus` GPUs (None:
    `gpu_count()`; see the module)."""
    start, grid = time.perf_counter(), GridResult()
    n_gpus = gpu_count() if n_gpus is None else n_gpus
    invalid = [t for t in tasks if t.error is not None]
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
    for task in tasks:
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
