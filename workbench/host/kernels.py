"""Notebook kernels that die with the process that started them: the kernel manager every
papermill execution of the workbench uses (a grid's cells, a report, the notebook tests), and one
line saying how an execution failed.

A kernel runs under `workbench.host.kernel_guard` (its watchdog) on the ipc transport, its sockets
at a fresh path (`workbench.host.orphans.socket_base`), so parallel kernels never race for TCP
ports and a killed parent leaves none running.
"""

from __future__ import annotations

from pathlib import Path

import papermill
from jupyter_client import AsyncKernelManager
from traitlets import default

from workbench.host.orphans import socket_base

__all__ = ["NOTEBOOKS", "IpcKernelManager", "notebook_error"]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
"""The committed notebooks (papermill templates)."""


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager on the ipc transport, its sockets at a fresh absolute path in the temp
    dir (`dvgk-<pid>-<id>-<n>`, `workbench.host.orphans.socket_base`, removed at shutdown): parallel
    kernels never race for TCP ports (papermill/jupyter_client's "Address already in use" at
    start). The kernel runs under `workbench.host.kernel_guard`, which ends it (and removes its
    sockets) when this process dies."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("ip")
    def _default_ip(self) -> str:
        return socket_base()

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """The kernel spec's command, `-m ipykernel_launcher` replaced by
        `-m workbench.host.kernel_guard` (the same kernel, with its watchdog)."""
        cmd = super().format_kernel_cmd(extra_arguments)
        for i in range(len(cmd) - 1):
            if cmd[i] == "-m" and cmd[i + 1] == "ipykernel_launcher":
                cmd[i + 1] = "workbench.host.kernel_guard"
        return cmd


def notebook_error(err: Exception, timeout_s: float | None) -> str:
    """One line saying how a papermill execution failed: the notebook's own error, `timed out
    after N s` (papermill's timeout interrupts the kernel, which reports a KeyboardInterrupt:
    nothing else interrupts a grid's kernel), or the executor's error (a dead kernel)."""
    timed_out = isinstance(err, TimeoutError) or (
        isinstance(err, papermill.PapermillExecutionError) and err.ename == "KeyboardInterrupt")
    if timed_out and timeout_s is not None:
        return (f"timed out after {timeout_s:g} s (one notebook cell's limit: reproduce "
                "--timeout)")
    if isinstance(err, papermill.PapermillExecutionError):
        return f"{err.ename}: {err.evalue}"
    return f"{type(err).__name__}: {err}"
