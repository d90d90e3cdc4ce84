"""`python -m workbench report PATH`: find the experiments under PATH and render their reports.

PATH may be one run record (a directory with `params.json`), an experiment directory (records
one level down), or a run root (experiment directories two levels down). Each report is
`notebooks/report.ipynb` executed on the directory and exported to `<directory>/report.html`
(`workbench.grid.batch.render_report`).
"""

from __future__ import annotations

import webbrowser
from pathlib import Path

__all__ = ["open_in_browser", "render_reports", "report_targets"]


def _has_records(path: Path) -> bool:
    return any(path.glob("*/params.json")) or any(path.glob("*/cell.json"))


def report_targets(path: str | Path) -> list[Path]:
    """The directories to render a report of: `[path]` for a record or an experiment
    directory, every experiment directory inside a run root (sorted).

    Raises:
      ValueError: `path` is not a directory, or holds no run record two levels down.
    """
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{str(path)!r} is not a directory (give a run record, an experiment "
                         "directory or a run root)")
    if (path / "params.json").exists() or _has_records(path):
        return [path]
    experiments = sorted(p for p in path.iterdir() if p.is_dir() and _has_records(p))
    if not experiments:
        raise ValueError(f"no run record under {str(path)!r}: a record holds params.json; "
                         "train one with python -m workbench train")
    return experiments


def render_reports(path: str | Path, *, timeout_s: float | None = 600.0) -> list[Path]:
    """Render the report of every `report_targets(path)`; returns the HTML paths."""
    from workbench.grid.batch import render_report  # papermill & co. load only here

    return [render_report(target, timeout_s=timeout_s) for target in report_targets(path)]


def open_in_browser(html: str | Path) -> bool:
    """Open `html` in this machine's web browser; False when there is none (a headless
    server: `webbrowser` finds no usable browser)."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    return bool(browser.open(Path(html).resolve().as_uri()))
