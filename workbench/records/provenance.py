"""Where and with what a run was trained: one entry per session in `<record>/provenance.json`.

A session is one `execute()` of a record (the first run, each resume): the code's git commit
and whether its tree was dirty (when the workbench runs from a git checkout), the versions of
Python, torch, gymnasium, mujoco and numpy, the host, process id, torch threads, device, start
and end times, the step it started from and how it ended. Sessions are appended, never
rewritten, so a record tells every machine and commit that contributed to it, and a record that
was trained twice at once would show it.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import socket
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

__all__ = ["PROVENANCE_NAME", "code_version", "end_session", "read_sessions", "start_session"]

PROVENANCE_NAME = "provenance.json"
"""The provenance file inside a record."""
_PACKAGES = ("torch", "gymnasium", "mujoco", "numpy")
_REPO = Path(__file__).resolve().parents[2]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(_REPO), *args], capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.cache
def code_version() -> dict[str, Any]:
    """`{"git_commit", "git_dirty"}` of the workbench's checkout (both None outside a git
    repository), read once per process, so it describes the code this process imported."""
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return {"git_commit": None, "git_dirty": None}
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": None if status is None else bool(status)}


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def read_sessions(record_dir: Path) -> list[dict[str, Any]]:
    """The sessions of a record, oldest first; [] if it has none (or an unreadable file)."""
    try:
        sessions = json.loads((record_dir / PROVENANCE_NAME).read_text())["sessions"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return sessions if isinstance(sessions, list) else []


def _write(record_dir: Path, sessions: list[dict[str, Any]]) -> None:
    from workbench.records.run_record import atomic_write_text

    atomic_write_text(record_dir / PROVENANCE_NAME,
                      json.dumps({"sessions": sessions}, indent=2) + "\n")


def start_session(record_dir: Path, *, device: torch.device | str, step: int,
                  message: str) -> None:
    """Append a session that starts now (at env step `step`, `message` saying how)."""
    device = torch.device(device)
    session = {
        "started": _now(), "ended": None, "start_step": int(step), "start_message": message,
        "outcome": None, **code_version(), "versions": _versions(),
        "host": socket.gethostname(), "pid": os.getpid(), "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda" else
                        platform.processor() or platform.machine()),
    }
    _write(record_dir, [*read_sessions(record_dir), session])


def end_session(record_dir: Path, *, status: str, step: int) -> None:
    """Close this process's last open session: end time, final status and step."""
    sessions = read_sessions(record_dir)
    for session in reversed(sessions):
        if session.get("pid") == os.getpid() and session.get("ended") is None:
            session.update(ended=_now(), outcome=status, end_step=int(step))
            break
    _write(record_dir, sessions)
