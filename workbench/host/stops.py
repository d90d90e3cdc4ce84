"""A stop signal handled as Ctrl-C is: SIGTERM (`kill PID`, a batch scheduler's stop) raises
`Stopped`, a `KeyboardInterrupt`, so every handler of Ctrl-C handles it too: a run records
`failed` with a message saying it was stopped, a grid terminates its workers, the command line
prints one line and exits 128 + the signal's number (143)."""

from __future__ import annotations

import signal
from types import FrameType

__all__ = ["Stopped", "exit_code", "handle_sigterm", "stop_message"]


class Stopped(KeyboardInterrupt):
    """The process was sent a stop signal (SIGTERM)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


def handle_sigterm() -> None:
    """Raise `Stopped` on SIGTERM in this process (the main thread's handler)."""
    signal.signal(signal.SIGTERM, _raise_stopped)


def stop_message(err: KeyboardInterrupt) -> str:
    """`stopped by SIGTERM` or `interrupted by SIGINT (Ctrl-C)`."""
    if isinstance(err, Stopped):
        return str(err)
    return "interrupted by SIGINT (Ctrl-C)"


def exit_code(err: KeyboardInterrupt) -> int:
    """128 + the signal's number: 143 for SIGTERM, 130 for Ctrl-C."""
    return 128 + (err.signum if isinstance(err, Stopped) else signal.SIGINT)
