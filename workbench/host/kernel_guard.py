"""`python -m workbench.host.kernel_guard -f CONNECTION_FILE`: an IPython kernel (as
`ipykernel_launcher` starts it) that exits, removing its ipc socket files and connection file,
within half a second of the death of the process that started it (`workbench.host.orphans`). The grid's
kernels run this (`workbench.host.kernels.IpcKernelManager`), so a killed grid leaves no kernel training.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path


def _remove_files(connection_file: str | None) -> None:
    """The kernel's socket files and connection file; twice, 0.2 s apart, so a socket the
    kernel's main thread was binding while the watchdog ran goes too."""
    from workbench.host.orphans import ipc_files

    if connection_file is None:
        return
    paths = [*ipc_files(connection_file), Path(connection_file)]  # read before it goes
    for attempt in range(2):
        for path in paths:
            path.unlink(missing_ok=True)
        if attempt == 0:
            time.sleep(0.2)


def _manager_pid(connection_file: str | None) -> int | None:
    """The pid of the process that started this kernel, read from its socket path
    (`dvgk-<pid>-...`, `workbench.host.orphans.socket_base`): a manager that died before this kernel
    started its watchdog is then still caught (the kernel's parent is already another process)."""
    from workbench.host.orphans import SOCKET_PREFIX

    try:
        ip = json.loads(Path(connection_file).read_text())["ip"] if connection_file else ""
    except (OSError, ValueError, KeyError, TypeError):
        return None
    match = re.match(rf"{SOCKET_PREFIX}(\d+)-", Path(str(ip)).name)
    return int(match.group(1)) if match else None


def main() -> None:
    """Start the watchdog, then the kernel."""
    from workbench.host.orphans import exit_with_parent

    argv = sys.argv[1:]
    connection_file = argv[argv.index("-f") + 1] if "-f" in argv[:-1] else None
    exit_with_parent(_manager_pid(connection_file),
                     before_exit=lambda: _remove_files(connection_file))
    # ipykernel's own parent poller (`JPY_PARENT_PID`) would `os._exit` on the parent's death
    # too, racing this watchdog and leaving the sockets: this watchdog does its job, cleanly.
    os.environ.pop("JPY_PARENT_PID", None)
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    if sys.path[0] == "" or Path(sys.path[0]) == Path.cwd():  # as ipykernel_launcher does
        del sys.path[0]
    main()
