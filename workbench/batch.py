"""Experiment grids executed as papermill notebooks, on any `concurrent.futures` executor.

An *experiment* (`EXPERIMENTS`) turns `GridOptions` into cells, each a dict of
`notebooks/train.ipynb` parameters. `run_grid` plans every cell in the parent (its config is
built by `workbench.notebook_api.config_from_parameters`, the notebook's own path, so the parent
knows the run directory `record_path(config)`), skips cells whose record is final (`done`, or
`diverged`: deterministic on CPU, re-running it diverges again), and submits the rest to the
executor; each executes the notebook into `<run dir>/output.ipynb` with the kernel's cwd there.

* A cell whose parameters fail validation still executes, so the notebook raises the validator's
  `ValueError` and its output notebook holds the traceback. With no valid config there is no run
  id: its directory is `<run_root>/<experiment>/invalid-<hash>`, the first 12 hex digits of the
  sha256 of its parameters' canonical JSON (less `run_root`, `experiment`, `interactive`),
  holding `output.ipynb`, `cell.json` (the parameters) and `status.json` (`failed`, the
  validator's message), and no `params.json`, so `load_metrics`/`load_statuses` skip it;
  `notebook_api.load_experiment` lists it.
* A failing cell never stops the grid: `execute_cell` catches every error, and a record the
  notebook left without a final status (a kernel that died, a timeout) is marked `failed`.
* `execute_cell` holds the record's lock (`workbench.record_lock`) for the whole notebook, so two
  grids on one run root never train a cell twice: a cell another process holds is skipped
  (`locked`), and a cell found final once the lock is held is skipped too. A `done` record is
  skipped only once verified complete (`workbench.record_session.incomplete_done`).
* Kernels started in parallel talk over ipc sockets with unique paths (`IpcKernelManager`), so
  there is no TCP port to race for; a kernel that fails before running any cell is retried.
* Executors: a spawn-context `ProcessPoolExecutor`, or a Dask cluster's `client.get_executor()`
  (`make_executor`); with Dask the run root must be on a file system every worker sees.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_client import AsyncKernelManager
from nbconvert import HTMLExporter
from tqdm.auto import tqdm
from traitlets import default

from dvg_core.algorithms import ALGORITHMS
from dvg_core.envs.factory import MUJOCO_TASKS, NOISE_SETTINGS
from workbench.notebook_api import INVALID_CELL_FILE, TRAIN_PARAMETERS, config_from_parameters
from workbench.record_checks import RecordError
from workbench.record_lock import RecordBusy, make_record_dir, record_lock
from workbench.record_session import incomplete_done
from workbench.runs import RunRecord, atomic_write_text, create_or_open, record_path
from workbench.seed_batch import execute_seed_group, group_by_setting

__all__ = [
    "EXPERIMENTS", "FINAL_STATUSES", "REPORT_NOTEBOOK", "TRAIN_NOTEBOOK", "CellResult",
    "CellTask", "Experiment", "GridOptions", "GridResult", "IpcKernelManager", "execute_cell",
    "final_status", "get_experiment", "grid_cells", "make_executor", "plan_cell",
    "render_report", "reproduce", "run_grid",
]

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TRAIN_NOTEBOOK = NOTEBOOKS / "train.ipynb"
"""The notebook every grid cell executes."""
REPORT_NOTEBOOK = NOTEBOOKS / "report.ipynb"
"""The notebook executed into the experiment directory after the grid."""
FINAL_STATUSES = ("done", "diverged")
"""Record statuses a re-run skips."""
_WHERE = ("run_root", "experiment", "interactive")


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager on the ipc transport, its sockets at a fresh absolute path in the temp
    dir (`dvgk-<uuid>-<n>`, removed at shutdown): parallel kernels never race for TCP ports
    (papermill/jupyter_client's "Address already in use" at start)."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("ip")
    def _default_ip(self) -> str:
        return os.path.join(tempfile.gettempdir(), f"dvgk-{uuid.uuid4().hex[:16]}")


# ----------------------------------------------------------------- experiments
@dataclass(frozen=True)
class GridOptions:
    """What the command line chooses about a grid; None takes the experiment's default."""

    preset: str | None = None
    """Starting config of every cell."""
    seeds: tuple[int, ...] | None = None
    """Seeds of every setting."""
    algos: tuple[str, ...] | None = None
    """Algorithms (names are validated per cell, in its notebook)."""
    n_locations: tuple[int, ...] | None = None
    """Toy: numbers of reward locations N."""
    tasks: tuple[str, ...] | None = None
    """MuJoCo: env ids (names are validated per cell)."""
    noises: tuple[str, ...] | None = None
    """MuJoCo: noise settings."""
    overrides: tuple[str, ...] = ()
    """`key=value` overrides of every cell, applied after the cell's own."""


@dataclass(frozen=True)
class Experiment:
    """A named grid: how to build its cells and its defaults."""

    name: str
    """Also the experiment directory's name."""
    description: str
    """One line for `--help`."""
    cells: Callable[[GridOptions, str, tuple[int, ...]], list[dict[str, Any]]]
    """(options, preset, seeds) -> train.ipynb parameters of every cell."""
    preset: str = "toy-quick"
    """Default preset."""
    n_seeds: int = 3
    """Default seeds: 0 .. n_seeds - 1."""
    timeout_s: float = 3600.0
    """Default per-notebook-cell execution timeout of papermill, seconds."""


def _toy_cells(options: GridOptions, preset: str, seeds: tuple[int, ...]) -> list[dict[str, Any]]:
    """algorithms x N x seeds on the toy, noise-free."""
    return [{"algo": algo, "n_locations": n, "seed": seed, "preset": preset,
             "overrides": list(options.overrides)}
            for algo in options.algos or ALGORITHMS
            for n in options.n_locations or (1, 3, 5)
            for seed in seeds]


def _mujoco_cells(options: GridOptions, preset: str, seeds: tuple[int, ...]
                  ) -> list[dict[str, Any]]:
    """tasks x noise settings x algorithms x seeds (the paper's main table)."""
    return [{"algo": algo, "env_id": task, "noise": noise, "seed": seed, "preset": preset,
             "overrides": list(options.overrides)}
            for task in options.tasks or MUJOCO_TASKS
            for noise in options.noises or NOISE_SETTINGS
            for algo in options.algos or ALGORITHMS
            for seed in seeds]


EXPERIMENTS: dict[str, Experiment] = {
    "toy": Experiment("toy", "dvg/PointMass-v0: algorithms x N in {1, 3, 5} x seeds", _toy_cells),
    "mujoco": Experiment("mujoco", "Gymnasium v5 tasks x noise (none, obs, dynamics) x "
                         "algorithms x seeds", _mujoco_cells, preset="mujoco-100k",
                         timeout_s=24 * 3600.0),
}
"""The registered experiments."""


def get_experiment(name: str) -> Experiment:
    """The experiment `name`; `ValueError` listing the registered ones."""
    if name not in EXPERIMENTS:
        known = "; ".join(f"{e.name}: {e.description}" for e in EXPERIMENTS.values())
        raise ValueError(f"unknown experiment {name!r}; experiments: {known}")
    return EXPERIMENTS[name]


def grid_cells(name: str, options: GridOptions = GridOptions()) -> list[dict[str, Any]]:
    """The cells of experiment `name` under `options`."""
    experiment = get_experiment(name)
    seeds = options.seeds if options.seeds is not None else tuple(range(experiment.n_seeds))
    return experiment.cells(options, options.preset or experiment.preset, seeds)


# ----------------------------------------------------------------- one cell
@dataclass(frozen=True)
class CellTask:
    """One notebook execution, as sent to a worker."""

    parameters: dict[str, Any]
    """Every train.ipynb parameter."""
    run_dir: str
    """The record's directory (absolute); the notebook runs there."""
    error: str | None = None
    """The validation error, if the parameters were rejected in the parent."""
    timeout_s: float | None = 3600.0
    """papermill's per-notebook-cell execution timeout."""
    retries: int = 2
    """Retries of a kernel that fails before running any cell."""


@dataclass(frozen=True)
class CellResult:
    """How one cell ended."""

    name: str
    """The run id (or `invalid-<hash>`)."""
    run_dir: str
    """The record's directory."""
    status: str
    """`done`, `diverged`, `failed`, the status of a skipped record, or `locked` (skipped:
    another process holds the record)."""
    message: str = ""
    """The record's message, or the error."""
    seconds: float = 0.0
    """Wall time of the execution."""
    skipped: bool = False
    """Not executed: the record was final."""


def _invalid_dir(parameters: dict[str, Any], experiment_dir: Path) -> Path:
    """`invalid-<hash>` of the parameters that say what the cell is (not where it is stored)."""
    what = {k: v for k, v in parameters.items() if k not in _WHERE}
    text = json.dumps(what, sort_keys=True, separators=(",", ":"), default=repr)
    return experiment_dir / f"invalid-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def plan_cell(cell: dict[str, Any], *, run_root: Path, experiment: str,
              timeout_s: float | None = 3600.0, retries: int = 2) -> CellTask:
    """Complete `cell` (run root, experiment, batch mode) and find its run directory; a config
    that fails validation, or whose directory holds another run, gets an `invalid-` dir.

    Raises:
      ValueError: a key that is no parameter of train.ipynb (papermill would inject it unused).
    """
    unknown = sorted(set(cell) - set(TRAIN_PARAMETERS))
    if unknown:
        raise ValueError(f"cell keys {unknown} are not train.ipynb parameters; valid: "
                         f"{list(TRAIN_PARAMETERS)}")
    parameters = {**TRAIN_PARAMETERS, **cell, "run_root": str(run_root),
                  "experiment": experiment, "interactive": False}
    try:
        config = config_from_parameters(**parameters)
        RunRecord(record_path(config)).check_matches(config)
        run_dir, error = record_path(config), None
    except ValueError as err:
        run_dir, error = _invalid_dir(parameters, run_root / experiment), f"ValueError: {err}"
    return CellTask(parameters, str(run_dir), error, timeout_s, retries)


def _started(output: Path) -> bool:
    """Whether any code cell of the output notebook ran."""
    try:
        cells = nbformat.read(output, as_version=4).cells
    except (OSError, ValueError):
        return False
    return any(c.cell_type == "code" and c.get("execution_count") for c in cells)


def _execute(task: CellTask, output: Path) -> str | None:
    """Run the notebook (retrying a kernel that never ran a cell); the error text, or None."""
    for attempt in range(task.retries + 1):
        try:
            papermill.execute_notebook(
                TRAIN_NOTEBOOK, output, parameters=task.parameters, kernel_name="python3",
                cwd=task.run_dir, progress_bar=False, execution_timeout=task.timeout_s,
                start_timeout=120, kernel_manager_class=IpcKernelManager)
            return None
        except papermill.PapermillExecutionError as err:
            return f"{err.ename}: {err.evalue}"
        except Exception as err:  # a kernel that died or never started, a timeout
            if _started(output) or attempt == task.retries:
                return f"{type(err).__name__}: {err}"
            time.sleep(1.0 + 2.0 * attempt + random.random())
    return None  # unreachable


def _finalise(task: CellTask, error: str | None,
              before: dict[str, Any] | None) -> tuple[str, str]:
    """Make the record say how the cell ended; returns (status, message).

    Args:
      error: the notebook's error, or None.
      before: the record's status before the execution (to tell a stale status from a new one).
    """
    record = RunRecord(task.run_dir)
    if task.error is None:
        create_or_open(config_from_parameters(**task.parameters))  # params.json, if not yet there
    state = _status_or_none(record)
    fresh = state is not None and state != before and state["status"] != "running"
    if fresh and (error is None or state["status"] == "failed"):  # the run recorded its end
        return state["status"], state["message"]
    if fresh:  # e.g. trained, then a plot failed: the record stays, the cell failed
        return "failed", f"the run is {state['status']}, but its notebook failed: {error}"
    error = error or "the notebook ended without a final status"
    if state is not None and state["status"] == "done":  # a stale done: the record stays done
        return "failed", f"the run is done, but its notebook failed: {error}"
    record.set_status("failed", error, 0 if state is None else state["step"], force=True)
    return "failed", error


def _status_or_none(record: RunRecord) -> dict[str, Any] | None:
    """The record's status; None if it has none or an unreadable one."""
    try:
        return record.read_status()
    except RecordError:
        return None


def final_status(task: CellTask) -> str | None:
    """The status of a valid cell's record if a re-run skips it: `diverged`, or `done` and
    verified complete; else None (also for an unreadable status)."""
    record = RunRecord(task.run_dir)
    status = (_status_or_none(record) or {}).get("status")
    if status == "done":
        config = config_from_parameters(**task.parameters)
        return status if incomplete_done(record, config) == [] else None
    return status if status in FINAL_STATUSES else None


def execute_cell(task: CellTask) -> CellResult:
    """Execute train.ipynb for one cell into `<run_dir>/output.ipynb`, holding the record's
    lock; never raises (but KeyboardInterrupt): every error ends in a `failed` record and
    result. A record another process holds, or one found final, is skipped."""
    start = time.perf_counter()
    run_dir = Path(task.run_dir)
    try:
        with record_lock(run_dir):
            final = final_status(task) if task.error is None else None
            if final is not None:
                return CellResult(run_dir.name, str(run_dir), final, skipped=True)
            if task.error is not None:
                atomic_write_text(run_dir / INVALID_CELL_FILE,
                                  json.dumps(task.parameters, indent=2, sort_keys=True) + "\n")
            before = _status_or_none(RunRecord(run_dir))
            error = _execute(task, run_dir / "output.ipynb")
            status, message = _finalise(task, error, before)
    except RecordBusy as err:
        return CellResult(run_dir.name, str(run_dir), "locked", str(err), skipped=True)
    except Exception as err:
        status, message = "failed", f"batch error: {type(err).__name__}: {err}"
    return CellResult(run_dir.name, str(run_dir), status, message, time.perf_counter() - start)


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


def run_grid(cells: Sequence[dict[str, Any]], *, run_root: str | Path, experiment: str,
             executor: Executor, timeout_s: float | None = 3600.0, retries: int = 2,
             progress: bool = True, vectorize_seeds: bool = False) -> GridResult:
    """Plan, skip and execute every cell on `executor`; one line per finished cell and a tqdm bar
    (to stderr). Duplicate cells (same run directory) run once. With `vectorize_seeds`, the
    cells of one setting train together in one worker (`workbench.seed_batch`), without
    notebooks."""
    start, grid = time.perf_counter(), GridResult()
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
    pending = []
    for task in tasks.values():
        status = final_status(task) if task.error is None else None
        if status is not None:
            finish(CellResult(Path(task.run_dir).name, task.run_dir, status, skipped=True))
        elif vectorize_seeds and task.error is None:
            pending.append(task)
        else:
            futures[executor.submit(execute_cell, task)] = [task]
    for group in group_by_setting(pending):
        futures[executor.submit(execute_seed_group, group)] = group
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
    if dask is None:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            yield pool
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


# ----------------------------------------------------------------- the report
def render_report(experiment_dir: str | Path, *, timeout_s: float | None = 600.0) -> Path:
    """Execute report.ipynb into `<experiment_dir>/report.ipynb` and export it to
    `report.html` (plotly.js embedded: viewable offline); returns the HTML's path. An error in
    the notebook is exported too, then raised."""
    experiment_dir = Path(experiment_dir).resolve()
    output, html = experiment_dir / "report.ipynb", experiment_dir / "report.html"
    error = None
    try:
        papermill.execute_notebook(
            REPORT_NOTEBOOK, output, parameters={"experiment_dir": str(experiment_dir)},
            kernel_name="python3", cwd=str(experiment_dir), progress_bar=False,
            execution_timeout=timeout_s, start_timeout=120, kernel_manager_class=IpcKernelManager)
    except papermill.PapermillExecutionError as err:
        error = err
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(output, as_version=4))
    atomic_write_text(html, body)
    if error is not None:
        raise error
    return html



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
      ValueError: an unknown experiment or preset, a grid whose every cell is invalid (a bad
        `--set`, say), or an unwritable run root (a `RecordError`): then nothing runs.
    """
    experiment = get_experiment(name)
    cells = grid_cells(name, options)
    root = Path(run_root).resolve()
    errors = [plan_cell(cell, run_root=root, experiment=name).error for cell in cells]
    if not cells or all(errors):
        raise ValueError(f"no valid cell in the {name} grid"
                         + (f"; the first error: {errors[0]}" if errors else ""))
    make_record_dir(root / name)  # an unwritable run root stops here, with a RecordError
    timeout = experiment.timeout_s if timeout_s is None else timeout_s
    with make_executor(min(workers, len(cells)), dask) as executor:
        grid = run_grid(cells, run_root=root, experiment=name, executor=executor,
                        timeout_s=timeout, progress=progress, vectorize_seeds=vectorize_seeds)
    print(grid.summary())
    return grid, render_report(root / name) if report else None
