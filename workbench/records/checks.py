"""Checks that a run record's files say what they claim, and the errors that name a bad one.

A record (`workbench.records.run_record`) is trusted like a committed database row, so every file is read
defensively here: `status.json`, `metrics.csv` and the checkpoint each get a parser that either
returns what the file holds or raises `RecordError` naming the file, what is wrong with it and
what to do. `verify_done` decides whether a `done` record really is complete (its metrics reach
the final step, its checkpoint loads and is at that step) before anything skips it.

The checkpoint is opened with `torch.load(..., mmap=True, weights_only=True)`: the archive and
its pickled structure are read and checked, the tensors' bytes are only mapped, so checking a
MuJoCo run's large replay costs almost nothing.
"""

from __future__ import annotations

import csv
import errno
import json
import math
import os
from pathlib import Path
from typing import Any

import torch

from workbench.host.paths import NAME_MAX, PATH_MAX

__all__ = [
    "STATUSES",
    "RecordError",
    "brief",
    "checkpoint_step",
    "describe_os_error",
    "file_mode",
    "metrics_last_step",
    "parse_status",
    "remedy",
    "remove_temp_files",
    "verify_done",
]

STATUSES = ("running", "done", "failed", "diverged")
"""The states of a run."""

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once at import: os.umask can only be read by setting it


class RecordError(ValueError):
    """A record file that cannot be read (or written); the message names the file, what is
    wrong and what to do. A `ValueError`, so callers that reject bad input catch it too."""


def brief(err: BaseException) -> str:
    """`Type: message` of `err`, its first sentence of its first line (torch's load errors run
    to a paragraph, a state-dict mismatch to a hundred keys)."""
    text = (str(err).splitlines() or [""])[0]
    text = text.split(". ", 1)[0]
    return f"{type(err).__name__}: {text[:200]}"


def describe_os_error(err: OSError, path: str | Path | None = None) -> str:
    """What an `OSError` means, naming the path: `no space left on device at PATH` for a full
    disk, `STRERROR at PATH` otherwise (`path` when the error names none)."""
    where = err.filename if err.filename is not None else path
    at = "" if where is None else f" at {where}"
    if err.errno == errno.ENOSPC:
        return f"no space left on device{at}"
    if err.errno == errno.ENAMETOOLONG:
        return (f"file name too long{at} (this file system allows {NAME_MAX} characters per "
                f"name and {PATH_MAX} per path)")
    return f"{err.strerror or err}{at}"


def remedy(record_dir: str | Path) -> str:
    """What to do about a record whose progress cannot be trusted (`reproduce` has no
    `--restart`: deleting the record is what works there)."""
    return (f"delete {record_dir} to train it afresh (or run `train` with --restart, "
            "resume=False, which discards its progress)")


def file_mode() -> int:
    """The mode of a newly created record file: 0666 less the process umask (0644 usually)."""
    return 0o666 & ~_UMASK


def parse_status(path: Path) -> dict[str, Any] | None:
    """The validated content of a `status.json`, or None if there is none.

    Raises:
      RecordError: the file is unreadable, not a JSON object, or has an unknown status or a
        step that is no integer.
    """
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise _status_error(path, f"it is not JSON ({type(err).__name__}: {err})") from None
    if not isinstance(state, dict):
        raise _status_error(path, f"it holds a {type(state).__name__}, not a JSON object")
    if state.get("status") not in STATUSES:
        raise _status_error(path, f"status {state.get('status')!r} is none of {list(STATUSES)}")
    if not isinstance(state.get("step", 0), int) or isinstance(state.get("step"), bool):
        raise _status_error(path, f"step {state.get('step')!r} is no integer")
    return state


def _status_error(path: Path, problem: str) -> RecordError:
    return RecordError(f"{path} is unreadable: {problem}. The run's state is unknown; a re-run "
                       f"marks it failed and then resumes from its checkpoint, or "
                       f"{remedy(path.parent)}")


def metrics_last_step(path: Path) -> int | None:
    """The step of the last row of a `metrics.csv` (None if the file is missing or empty),
    after checking every row: a header starting `step,kind`, numeric steps, never decreasing.

    Raises:
      RecordError: the file is unreadable (binary bytes, garbage, rows out of order).
    """
    if not path.exists() or not path.stat().st_size:
        return None
    last = -math.inf
    try:
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            if header[:2] != ["step", "kind"]:
                raise ValueError(f"its header {header[:4]} does not start with step,kind")
            for line, row in enumerate(reader, start=2):
                step = float(row[0]) if row and row[0] else math.nan
                if not step >= last:  # also NaN
                    raise ValueError(f"line {line} has step {row[:1]} after step {last:g}")
                last = step
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as err:
        raise RecordError(f"{path} is unreadable: {type(err).__name__}: {err}; "
                          f"{remedy(path.parent)}") from None
    return None if last == -math.inf else int(last)


def checkpoint_step(path: Path) -> int | None:
    """The env step of a checkpoint (None if there is none), after loading it.

    Raises:
      RecordError: the file is truncated, empty, not a torch archive, or not a training
        checkpoint (no `agent` or `counters.step`).
    """
    if not path.exists():
        return None
    try:
        if not path.stat().st_size:
            raise EOFError("the file is empty")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except Exception:  # not a zip archive: the plain load tells what it is, or loads it
            state = torch.load(path, map_location="cpu", weights_only=True)
        step = state["counters"]["step"]
        if "agent" not in state or not isinstance(step, int):
            raise KeyError("agent")
    except Exception as err:  # torch raises RuntimeError, EOFError, UnpicklingError, ...
        raise RecordError(f"the checkpoint {path} cannot be loaded ({brief(err)}); "
                          f"{remedy(path.parent)}") from None
    return step


def verify_done(*, checkpoint: Path, metrics: Path, total_steps: int,
                log_every: int) -> list[str]:
    """Why a `done` record is not complete; an empty list if it is.

    Complete: the checkpoint loads and is at `total_steps`; `metrics.csv` reads and its last row
    is at least the last training-log step (`total_steps` rounded down to `log_every`); a run
    shorter than `log_every` may have no metrics yet.
    """
    problems = []
    try:
        step = checkpoint_step(checkpoint)
        if step != total_steps:
            problems.append(f"the checkpoint {checkpoint} is "
                            + ("missing" if step is None else f"at step {step}, not {total_steps}"))
    except RecordError as err:
        problems.append(str(err))
    last_log = total_steps // log_every * log_every
    try:
        last = metrics_last_step(metrics)
        if last is None and last_log == 0:
            pass  # a run shorter than log_every may end before its first row
        elif last is None or not last_log <= last <= total_steps:
            problems.append(f"{metrics} " + (_missing_or_empty(metrics) if last is None else
                            f"ends at step {last}, not in [{last_log}, {total_steps}]"))
    except RecordError as err:
        problems.append(str(err))
    return problems


def _missing_or_empty(path: Path) -> str:
    """`is missing`, or `is empty` (a file with no row, not even the header)."""
    return "is empty" if path.exists() else "is missing"


def remove_temp_files(record_dir: Path) -> list[str]:
    """Delete the temp files a killed or failed write left in `record_dir` (`*.tmp`: the
    checkpoint's and every atomic write's); returns their names. Call it holding the lock."""
    removed = []
    if record_dir.is_dir():
        for path in record_dir.iterdir():
            if path.name.endswith(".tmp") and path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path.name)
    return sorted(removed)
