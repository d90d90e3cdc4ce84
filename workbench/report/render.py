"""`python -m workbench report PATH`: find the experiments under PATH and render their reports.

PATH may be one run record (a directory with `params.json`), an experiment directory (records
one level down), or a run root (experiment directories two levels down). Each report is
`notebooks/report.ipynb` executed on the directory and exported to `<directory>/report.html`
(`render_report`, which `reproduce` calls after its grid too). papermill and nbconvert load only
when a report is rendered.
"""

from __future__ import annotations

import tempfile
import webbrowser
from pathlib import Path

import nbformat
import papermill
from nbconvert import HTMLExporter

from workbench.host.kernels import NOTEBOOKS, IpcKernelManager, notebook_error
from workbench.host.paths import display_path
from workbench.records.checks import describe_os_error
from workbench.records.file_writes import atomic_write_text

__all__ = [
    "REPORT_NOTEBOOK", "ReportError", "open_in_browser", "render_report", "render_reports",
    "report_targets",
]

REPORT_NOTEBOOK = NOTEBOOKS / "report.ipynb"
"""The notebook executed into an experiment directory (or a record) to render its report."""


class ReportError(RuntimeError):
    """A report that could not be rendered or written; the message names the directory, the
    cause and, where one was written, the HTML showing the notebook's error."""


def render_report(experiment_dir: str | Path, *, timeout_s: float | None = 600.0) -> Path:
    """Execute report.ipynb on `experiment_dir` (an experiment directory or one record) and
    write `<experiment_dir>/report.html` (plotly.js embedded once: viewable offline); returns
    its path. Only the HTML is kept: the executed notebook (as large, the same figures) goes to
    a temporary directory. The parameters cell shows the path relative to the repository
    (`runs/toy`) when it is inside it.

    Raises:
      ReportError: the notebook failed (its HTML, with the error, is written first), timed out
        or lost its kernel, or the HTML cannot be written (a full disk, a read-only directory).
    """
    experiment_dir = Path(experiment_dir).resolve()
    html = experiment_dir / "report.html"
    error = None
    with tempfile.TemporaryDirectory(prefix="dvg-report-") as scratch:
        output = Path(scratch) / "report.ipynb"
        try:
            papermill.execute_notebook(
                REPORT_NOTEBOOK, output,
                parameters={"experiment_dir": display_path(experiment_dir)},
                kernel_name="python3", cwd=str(experiment_dir), progress_bar=False,
                execution_timeout=timeout_s, start_timeout=120,
                kernel_manager_class=IpcKernelManager)
        except Exception as err:  # its error, a timeout, a dead kernel
            error = notebook_error(err, timeout_s)
        try:
            body, _ = HTMLExporter().from_notebook_node(nbformat.read(output, as_version=4))
        except (OSError, ValueError):  # the notebook never ran
            raise ReportError(f"the report of {experiment_dir} failed: {error}") from None
    try:
        atomic_write_text(html, body)
    except OSError as err:
        raise ReportError(f"cannot write the report of {experiment_dir}: "
                          f"{describe_os_error(err, html)}"
                          + (f" (and its notebook failed: {error})" if error else "")) from None
    if error is not None:
        raise ReportError(f"the report of {experiment_dir} failed: {error}; its HTML, with the "
                          f"traceback: {html}")
    return html


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

    return [render_report(target, timeout_s=timeout_s) for target in report_targets(path)]


def open_in_browser(html: str | Path) -> bool:
    """Open `html` in this machine's web browser; False when there is none (a headless
    server: `webbrowser` finds no usable browser)."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    return bool(browser.open(Path(html).resolve().as_uri()))
