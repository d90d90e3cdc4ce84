"""One grid cell: planned in the parent (`plan_cell`), executed as a papermill notebook in a
worker (`execute_cell`), or trained with the other seeds of its setting in one process
(`execute_seed_group`, `reproduce ... --vectorize-seeds`: vmapped where that pays, else one seed
after another; each seed still gets its ordinary record, without `output.ipynb`). See
`workbench.grid.batch` for the rules a cell follows."""

import hashlib
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill

from workbench.config.experiment_config import identity_dict
from workbench.config.notebook_parameters import TRAIN_PARAMETERS, config_from_parameters
from workbench.host.kernels import NOTEBOOKS, IpcKernelManager, notebook_error
from workbench.records.checks import RecordError
from workbench.records.lock import RecordBusy, record_lock
from workbench.train.record_session import incomplete_done
from workbench.records.run_record import (
    INVALID_CELL_FILE, RunRecord, atomic_write_text, create_or_open, record_path,
)


__all__ = [
    "FINAL_STATUSES", "TRAIN_NOTEBOOK", "CellResult", "CellTask", "compiled_where_it_pays",
    "execute_cell", "execute_seed_group", "final_status", "group_by_setting", "plan_cell",
    "plan_grid",
]

TRAIN_NOTEBOOK = NOTEBOOKS / "train.ipynb"
"""The notebook every grid cell executes."""
FINAL_STATUSES = ("done", "diverged")
"""Record statuses a re-run skips."""
_WHERE = ("run_root", "experiment", "interactive", "device")


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


def compiled_where_it_pays(cell: dict[str, Any]) -> dict[str, Any]:
    """`cell` with `loop.compile=true` last in its overrides if it trains on the toy and its
    algorithm's compiled update pays there (`CriticStrategy.compile_pays`, measured at the toy's
    sizes; at MuJoCo's the compiled Sobolev update is slower); an invalid cell is left as it is,
    to fail in its notebook with its own message."""
    from dvg_core.agents import STRATEGIES
    from dvg_core.envs import POINT_MASS_IDS

    try:
        config = config_from_parameters(**cell)
    except ValueError:
        return cell
    on_toy = config.env.env_id in POINT_MASS_IDS
    if not (on_toy and STRATEGIES[config.algorithm.name].compile_pays):
        return cell
    return {**cell, "overrides": [*cell.get("overrides", []), "loop.compile=true"]}


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
        RunRecord(record_path(config)).check_matches(identity_dict(config))
        run_dir, error = record_path(config), None
    except ValueError as err:
        run_dir, error = _invalid_dir(parameters, run_root / experiment), f"ValueError: {err}"
    return CellTask(parameters, str(run_dir), error, timeout_s, retries)


def plan_grid(cells: Sequence[dict[str, Any]], *, run_root: Path, experiment: str,
              timeout_s: float | None = 3600.0, retries: int = 2) -> list[CellTask]:
    """`plan_cell` of every cell, in order; duplicate cells (the same run directory) once."""
    tasks: dict[str, CellTask] = {}
    for cell in cells:
        task = plan_cell(cell, run_root=run_root, experiment=experiment, timeout_s=timeout_s,
                         retries=retries)
        tasks.setdefault(task.run_dir, task)
    return list(tasks.values())


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
            return notebook_error(err, task.timeout_s)
        except Exception as err:  # a kernel that died or never started, a timeout
            if _started(output) or attempt == task.retries:
                return notebook_error(err, task.timeout_s)
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



def group_by_setting(tasks: Sequence) -> list[list]:
    """Valid `CellTask`s grouped by everything but the seed, in first-seen order."""
    groups: dict[str, list] = {}
    for task in tasks:
        what = {k: v for k, v in task.parameters.items() if k != "seed"}
        groups.setdefault(json.dumps(what, sort_keys=True, default=repr), []).append(task)
    return list(groups.values())


def execute_seed_group(tasks: Sequence) -> list:
    """Train the group's cells together; one `CellResult` per cell, never raises (but
    KeyboardInterrupt): an error fails every cell of the group. A cell whose record another
    process holds is skipped (`locked`). Torch's thread count is the cells' `threads`, as each
    notebook kernel sets it (1 by default: without it every worker of a grid spun torch's default
    thread pool, twice the cores on a 2-core machine with 2 workers). The seeds train as one
    vmapped stack where that pays (`CriticStrategy.stacks_seeds`) and they are not compiled
    (`loop.compile` trains one seed at a time), else one after another in this process (no
    notebook kernel per seed either way)."""
    from dvg_core.agents import STRATEGIES
    from workbench.train.devices import use_threads
    from workbench.train.training_run import train_seeds

    start = time.perf_counter()
    try:
        use_threads({**TRAIN_PARAMETERS, **tasks[0].parameters}["threads"])
        configs = [config_from_parameters(**t.parameters) for t in tasks]
        first = configs[0]
        stacked = STRATEGIES[first.algorithm.name].stacks_seeds and not first.loop.compile
        for group in [configs] if stacked else [[config] for config in configs]:
            try:
                train_seeds(group, progress=False)
            except RecordBusy:  # a lone seed another process trains: reported `locked` below
                pass
        error = None
    except Exception as err:
        error = f"{type(err).__name__}: {err}"
    seconds = (time.perf_counter() - start) / len(tasks)
    results = []
    for task in tasks:
        record = RunRecord(task.run_dir)
        try:
            state = record.read_status() if record.params_path.exists() else None
        except RecordError as err:
            state = {"status": "failed", "message": str(err)}
        unfinished = state is None or state["status"] == "running"
        if error is not None and unfinished:
            status, message = "failed", f"seed group: {error}"
        elif unfinished:  # train_seeds left it alone: another process holds it
            status, message = "locked", "skipped: another process holds the record"
        else:
            status, message = state["status"], state["message"]
        results.append(CellResult(Path(task.run_dir).name, task.run_dir, status, message,
                                  seconds, skipped=status == "locked"))
    return results
