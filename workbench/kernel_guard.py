"""`python -m workbench.kernel_guard -f CONNECTION_FILE`: an IPython kernel (as
`ipykernel_launcher` starts it) that exits, removing its ipc socket files and connection file,
within half a second of the death of the process that started it (`workbench.orphans`). The grid's
kernels run this (`workbench.cells.IpcKernelManager`), so a killed grid leaves no kernel training.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _remove_files(connection_file: str | None) -> None:
    from workbench.orphans import ipc_files

    if connection_file is None:
        return
    for path in [*ipc_files(connection_file), Path(connection_file)]:
        path.unlink(missing_ok=True)


def main() -> None:
    """Start the watchdog, then the kernel."""
    from workbench.orphans import exit_with_parent

    argv = sys.argv[1:]
    connection_file = argv[argv.index("-f") + 1] if "-f" in argv[:-1] else None
    exit_with_parent(before_exit=lambda: _remove_files(connection_file))
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    if sys.path[0] == "" or Path(sys.path[0]) == Path.cwd():  # as ipykernel_launcher does
        del sys.path[0]
    main()
