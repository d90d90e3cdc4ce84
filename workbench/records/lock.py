"""One lock per run record (`filelock`), so no record is ever trained by two processes at once.

The lock is `<record>/.lock`, an OS file lock (`flock`): the kernel drops it when its holder
dies, even by `kill -9`, so a killed run never leaves a record locked. A process that meets a
locked record is told so (`RecordBusy`) and skips it; it never waits behind it.

A grid worker holds the lock of the cell it executes for the whole notebook, and the notebook's
kernel (a child process) must not take it again: the holder lists the records it holds in the
environment variable `DVG_HELD_RECORDS` (paths joined by `os.pathsep`), which child processes
inherit, and `record_lock` on a record its parent listed does nothing. Within one process a
record is held once: a second `record_lock` on it (another thread) is `RecordBusy` too.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from workbench.records.checks import RecordError, describe_os_error, file_mode

__all__ = ["HELD_ENV", "LOCK_NAME", "RecordBusy", "make_record_dir", "record_lock"]

LOCK_NAME = ".lock"
"""The lock file inside a record."""
HELD_ENV = "DVG_HELD_RECORDS"
"""Records this process (or its parent) holds, for child processes to see."""
_ENV_GUARD = threading.Lock()
_OWN: set[str] = set()
"""Records this process holds."""


class RecordBusy(RuntimeError):
    """The record is locked by another process: skipped, never trained twice at once."""


def _held() -> list[str]:
    return [p for p in os.environ.get(HELD_ENV, "").split(os.pathsep) if p]


_INHERITED = frozenset(_held())
"""Records the parent process held when it started this one (a notebook kernel's)."""


def _advertise(path: str, held: bool) -> None:
    with _ENV_GUARD:
        if held and path in _OWN:
            raise RecordBusy(f"{path} is already being trained by this process; skipped here: "
                             "a record is never trained twice at once")
        (_OWN.add if held else _OWN.discard)(path)
        paths = [p for p in _held() if p != path] + ([path] if held else [])
        if paths:
            os.environ[HELD_ENV] = os.pathsep.join(paths)
        else:
            os.environ.pop(HELD_ENV, None)


def make_record_dir(path: Path) -> None:
    """Create a record's directory; `RecordError` naming it if the run root is unwritable."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RecordError(f"cannot create {path}: {describe_os_error(err, path)}; "
                          "choose a writable run root (--run-root)") from None


@contextmanager
def record_lock(path: str | Path) -> Iterator[None]:
    """Hold the lock of the record at `path` (created if need be) for the `with` block; a
    record that is locked already raises at once (never waits behind another run).

    Raises:
      RecordBusy: another process holds the lock.
      RecordError: the record directory or its lock file cannot be created.
    """
    path = Path(path).resolve()
    if str(path) in _INHERITED and str(path) not in _OWN:  # the parent holds it for us
        yield
        return
    make_record_dir(path)
    lock = FileLock(path / LOCK_NAME, mode=file_mode())
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RecordBusy(f"{path} is being trained by another process (it holds "
                         f"{path / LOCK_NAME}); skipped here: a record is never trained twice "
                         "at once") from None
    except OSError as err:
        raise RecordError(f"cannot lock the run record {path}: {err.strerror or err}; "
                          "choose a writable run root (--run-root)") from None
    try:
        _advertise(str(path), True)
    except RecordBusy:
        lock.release()
        raise
    try:
        yield
    finally:
        _advertise(str(path), False)
        lock.release()

