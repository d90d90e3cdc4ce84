"""Seed-vectorised grid execution: the cells of one setting (all but the seed equal) trained at
once in one worker by `workbench.training.train_seeds`, instead of one notebook per cell.

Used by `run_grid(..., vectorize_seeds=True)` (`reproduce ... --vectorize-seeds`). Each seed
still gets its ordinary record (params, status, metrics, checkpoint), so reports and resumption
do not know the difference; what such a record lacks is `output.ipynb` (no notebook ran).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from workbench.notebook_api import config_from_parameters
from workbench.record_checks import RecordError
from workbench.runs import RunRecord

__all__ = ["execute_seed_group", "group_by_setting"]


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
    process holds is skipped (`locked`)."""
    from workbench.batch import CellResult
    from workbench.training import train_seeds

    start = time.perf_counter()
    try:
        configs = [config_from_parameters(**t.parameters) for t in tasks]
        train_seeds(configs, progress=False)
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
