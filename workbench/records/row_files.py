"""Append-only JSON-lines row files, kept as carefully as run records: one writer at a time, torn
lines repaired and named, a series counted only when all its rows are there.

A row file (`fidelity`'s `<json>.d/<setting>_seed<k>.jsonl`) is written by whoever holds its lock,
`<file>.lock` (`row_lock`: an OS file lock, dropped by the kernel when its holder dies, even by
`kill -9`); another process meeting it locked is told so (`RowsBusy`) and skips the file, as a
grid skips a locked record. The holder reads the file with `repair=True`: a line that is no JSON
object (a writer killed mid-line) is dropped, the file rewritten atomically without it, and the
repair printed naming the file. Readers without the lock never rewrite: they skip such a line.
Each series is appended in one `write` of whole lines and flushed, so a reader sees at worst a
series cut short, which `complete_series` does not count.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from workbench.records.checks import file_mode
from workbench.records.file_writes import atomic_write_text

__all__ = ["RowsBusy", "append_rows", "complete_series", "merge_lock", "read_rows",
           "row_lock", "write_rows"]


class RowsBusy(RuntimeError):
    """The row file is locked by another process: skipped, never written twice at once."""


@contextmanager
def row_lock(path: str | Path) -> Iterator[None]:
    """Hold the lock of the row file `path` for the `with` block; `RowsBusy` at once if another
    process (or another `row_lock` in this one) holds it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(f"{path}.lock", mode=file_mode(), thread_local=False, is_singleton=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RowsBusy(f"{path} is being written by another process (it holds {path}.lock); "
                       "skipped here: re-run when it ends") from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def merge_lock(path: str | Path, timeout_s: float = 600.0) -> Iterator[None]:
    """Hold `<path>.lock` while merging row files into `path`, waiting for another merge (a
    short one) to end, so the last of two runs reads what both wrote."""
    with FileLock(f"{path}.lock", timeout=timeout_s, mode=file_mode(), thread_local=False):
        yield


def read_rows(path: str | Path, *, repair: bool = False) -> list[dict[str, Any]]:
    """The JSON-object lines of `path` ([] if there is none). A torn or garbled line is skipped;
    with `repair` (hold `row_lock`) the file is rewritten without it and the repair printed to
    stderr, naming the file and the lines dropped."""
    path = Path(path)
    if not path.exists():
        return []
    text = path.read_bytes().decode("utf-8", errors="replace")
    rows, bad = [], []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        row = _parse(line)
        if row is None:
            if line.strip():
                bad.append(number)
        else:
            rows.append(row)
    torn_end = bool(text) and not text.endswith("\n")
    if repair and (bad or torn_end):
        write_rows(path, rows)
        print(f"repaired {path}: dropped {len(bad)} torn or unreadable line(s) "
              f"{bad[:5]}{'...' if len(bad) > 5 else ''} (a writer killed mid-row); their "
              "series are trained again", file=sys.stderr)
    return rows


def _parse(line: str) -> dict[str, Any] | None:
    if not line.endswith("\n"):
        return None  # a last line still (or forever) being written
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return None
    return row if isinstance(row, dict) else None


def write_rows(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Replace `path` by `rows`, atomically (hold `row_lock`)."""
    atomic_write_text(Path(path), "".join(json.dumps(row) + "\n" for row in rows))


def append_rows(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Append `rows` as whole lines in one write, flushed to disk (hold `row_lock`)."""
    text = "".join(json.dumps(row) + "\n" for row in rows)
    with open(path, "a") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def complete_series(rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Hashable],
                    wanted: dict[Hashable, set[Any]], field: str) -> dict[Hashable, list]:
    """The rows of every `wanted` series whose `field` values cover all of `wanted[key]` (one
    row each, the first), by key; a series with a row missing is left out.

    Args:
      rows: rows of any series.
      key: a row's series.
      wanted: series -> the `field` values it must have (a fidelity series: its update
        counts).
      field: the row field that tells a series' rows apart.
    """
    found: dict[Hashable, dict[Any, dict[str, Any]]] = {}
    for row in rows:
        k = key(row)
        if k in wanted and row.get(field) in wanted[k]:
            found.setdefault(k, {}).setdefault(row[field], row)
    return {k: [by_value[v] for v in sorted(by_value)] for k, by_value in found.items()
            if set(by_value) == wanted[k]}
