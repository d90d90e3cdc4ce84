"""Processes that die with the process that started them, and the kernel socket files they leave.

A grid's pool workers and their notebook kernels must never outlive the grid: a `kill -9` of
`reproduce` used to leave them training and holding the records' locks, so a re-run skipped
those cells as "locked by another process". Each such child runs `exit_with_parent`, a daemon
thread that polls its parent's pid (`os.getppid()` changes when the parent dies, however it
dies) and ends the child within `interval_s`, so its locks drop with it. A grid worker runs it
as its pool initializer; a kernel runs it through `workbench.host.kernel_guard`, removing its ipc
socket files first.

Kernel sockets are `<tmp>/dvgk-<pid>-<id>-<port>` (`IpcKernelManager`), `<pid>` the process that
started the kernel; `remove_stale_sockets` deletes those of processes no longer alive (after a
grid, and when a kernel was killed before its manager could clean up).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["SOCKET_PREFIX", "exit_with_parent", "ipc_files", "remove_stale_sockets",
           "socket_base"]

SOCKET_PREFIX = "dvgk-"
"""The name every kernel socket file of the workbench starts with."""
_SOCKET = re.compile(rf"{SOCKET_PREFIX}(\d+)-[0-9a-f]+-\d+")


def socket_base(pid: int | None = None) -> str:
    """A fresh base path for one kernel's ipc sockets, `<tmp>/dvgk-<pid>-<random hex>` (`pid`:
    this process, the kernel's manager)."""
    import uuid

    pid = os.getpid() if pid is None else pid
    return os.path.join(tempfile.gettempdir(), f"{SOCKET_PREFIX}{pid}-{uuid.uuid4().hex[:12]}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def remove_stale_sockets(directory: str | Path | None = None) -> list[str]:
    """Delete the kernel socket files in `directory` (the temp dir) whose manager process is
    dead; their names."""
    directory = Path(tempfile.gettempdir() if directory is None else directory)
    removed = []
    for path in directory.glob(f"{SOCKET_PREFIX}*"):
        match = _SOCKET.fullmatch(path.name)
        if match and not _alive(int(match.group(1))):
            try:
                path.unlink()
                removed.append(path.name)
            except OSError:
                pass  # gone already, or another user's
    return sorted(removed)


def ipc_files(connection_file: str | Path) -> list[Path]:
    """The socket files of a kernel on the ipc transport, from its connection file ([] on tcp
    or if the file cannot be read)."""
    try:
        info = json.loads(Path(connection_file).read_text())
    except (OSError, ValueError):
        return []
    if info.get("transport") != "ipc":
        return []
    return [Path(f"{info['ip']}-{port}") for key, port in info.items()
            if key.endswith("_port") and isinstance(port, int)]


def _watch(parent: int, interval_s: float, before_exit: Callable[[], None] | None) -> None:
    while os.getppid() == parent:
        time.sleep(interval_s)
    try:
        if before_exit is not None:
            before_exit()
    finally:
        os._exit(1)


def exit_with_parent(parent: int | None = None, *, interval_s: float = 0.5,
                     before_exit: Callable[[], None] | None = None) -> threading.Thread:
    """Start a daemon thread that ends this process (exit status 1, no cleanup but
    `before_exit`) within `interval_s` of its parent's death.

    Args:
      parent: the parent's pid (None: the current parent). A pool initializer passes the pid it
        was given, so a parent that died before the child started is caught too.
      interval_s: seconds between checks.
      before_exit: called first (removing files, say); its errors are ignored.
    """
    parent = os.getppid() if parent is None else parent
    thread = threading.Thread(target=_watch, args=(parent, interval_s, before_exit),
                              name="exit-with-parent", daemon=True)
    thread.start()
    return thread
