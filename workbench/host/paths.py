"""Paths from the repository root, wherever the process starts (JupyterLab's kernels start in
`notebooks/`; papermill's in a record), and the file system's limits on names and paths,
without importing torch."""

from __future__ import annotations

from pathlib import Path

__all__ = ["NAME_MAX", "PATH_MAX", "REPO_ROOT", "display_path", "repo_path"]

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The checkout holding `workbench/` (an editable install, as `make` sets up)."""

NAME_MAX = 255
"""The longest file name (one path component) of Linux and macOS file systems, in bytes."""
PATH_MAX = 4096
"""The longest path Linux's system calls take, in bytes."""


def repo_path(path: str | Path) -> Path:
    """`path` itself if absolute, else `REPO_ROOT / path`: a notebook's `runs/toy` means the
    repository's `runs/toy` whether Lab started the kernel in `notebooks/` or elsewhere."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def display_path(path: str | Path) -> str:
    """`path` relative to `REPO_ROOT` when inside it (`runs/toy`), else absolute: what a
    report's parameters cell shows, and what `repo_path` turns back into the same directory."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
