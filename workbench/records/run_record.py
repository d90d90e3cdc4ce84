"""Run records: `<run_root>/<experiment>/<run-id>/`, one directory per run (DESIGN.md, "Runs are
records").

* `params.json`: `{"run_id", "created", "config"}`, written once; a record is never reused for a
  config with another identity (`workbench.config.experiment_config.identity_dict`).
* `status.json`: `{"status": running|done|failed|diverged, "message", "step",
  "checkpoint_step", "updated"}`: `step` is the env step when it was written (training rewrites
  it at every checkpoint), `checkpoint_step` the step of the last checkpoint (None before one).
* `metrics.csv`: one row per metric event (`step`, `kind`, values), appended and flushed as they
  happen. Rows carry varying keys; when a key appears for the first time the file is rewritten
  once with the wider header (new columns are rare: the first training row, the first model fit),
  so the file is always a plain rectangular CSV that pandas reads; missing values are empty cells.
* `checkpoint.pt`: written by `dvg_core.training.trainer.Trainer`; `output.ipynb` for papermill runs.
* `provenance.json`: code version, packages, host, device and times of every training session
  (`workbench.records.provenance`); `.lock`: the record's lock (`workbench.records.lock`).

Every write is atomic (a temp file in the same directory, then `os.replace`) except the
per-row append, which is flushed at once; a reader can see at worst a missing last row. Files are
created with mode 0666 less the umask (0644 usually), so others sharing a run root can read them
(`workbench.records.file_writes`: `atomic_write_text` and `MetricsWriter`, re-exported here).
A file that cannot be read raises `RecordError` naming it and the remedy
(`workbench.records.checks`). Training holds the record's lock: never two writers at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from dvg_core.training import CHECKPOINT_NAME
from workbench.config.experiment_config import ExperimentConfig, identity_dict, run_id
from workbench.records.checks import STATUSES, RecordError, metrics_last_step, parse_status
from workbench.records.file_writes import MetricsWriter, atomic_write_text
from workbench.records.lock import make_record_dir

__all__ = [
    "INVALID_CELL_FILE",
    "STATUSES",
    "MetricsWriter",
    "RunRecord",
    "atomic_write_text",
    "create_or_open",
    "metrics_problem",
    "read_metrics",
    "record_path",
]

INVALID_CELL_FILE = "cell.json"
"""The raw parameters of a batch cell whose config failed validation (`workbench.grid.batch`)."""


_TRANSITIONS: dict[str | None, tuple[str, ...]] = {
    None: ("running",),
    "running": ("running", "done", "failed", "diverged"),  # running -> running: re-run after a kill
    "failed": ("running",),
    "diverged": ("running",),
    "done": (),  # final unless forced
}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def record_path(config: ExperimentConfig) -> Path:
    """`<run_root>/<experiment>/<run-id>` of `config`."""
    return Path(config.run_root) / config.experiment / run_id(config)


class RunRecord:
    """The directory of one run; see the module docstring. Constructing one writes nothing."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunRecord({str(self.path)!r})"

    @property
    def run_id(self) -> str:
        """The directory's name."""
        return self.path.name

    params_path = property(lambda self: self.path / "params.json", doc="`params.json`.")
    status_path = property(lambda self: self.path / "status.json", doc="`status.json`.")
    metrics_path = property(lambda self: self.path / "metrics.csv", doc="`metrics.csv`.")
    checkpoint_path = property(lambda self: self.path / CHECKPOINT_NAME, doc="The checkpoint.")
    notebook_path = property(lambda self: self.path / "output.ipynb", doc="papermill's output.")

    def read_params(self) -> dict[str, Any]:
        """The parsed `params.json`; `RecordError` (a `ValueError`) if missing or unreadable."""
        try:
            params = json.loads(self.params_path.read_text())
            if not isinstance(params, dict) or "config" not in params:
                raise ValueError("no 'config' key")
        except (OSError, ValueError) as err:
            raise RecordError(f"{self.params_path} is not a readable run record: {err}; pass "
                              f"--restart (resume=False) to write it afresh, or delete "
                              f"{self.path}") from None
        return params

    def config(self) -> ExperimentConfig:
        """The config the record was created with; `RecordError` naming `params.json` if it
        holds no valid config (an unknown key, a value out of range)."""
        data = self.read_params()["config"]
        try:
            return ExperimentConfig.from_dict(data)
        except RecordError:
            raise
        except ValueError as err:
            raise RecordError(f"{self.params_path} holds no valid config: {err}; pass "
                              f"--restart (resume=False) to write it afresh, or delete "
                              f"{self.path}") from None

    def check_matches(self, identity: Mapping[str, Any]) -> None:
        """Raise `ValueError` if the record holds params of a run other than the one whose
        `identity_dict` is `identity`."""
        if not self.params_path.exists():
            return
        params = self.read_params()
        stored = identity_dict(self.config())
        if params.get("run_id") != self.run_id or stored != identity:
            raise ValueError(f"{self.path} holds a run with other parameters; refusing to "
                             "overwrite it (choose another run_root or experiment)")

    def read_status(self) -> dict[str, Any] | None:
        """The parsed `status.json`, or None if the run has none yet; `RecordError` naming the
        file if it is unreadable (garbage, not an object, an unknown status)."""
        return parse_status(self.status_path)

    @property
    def status(self) -> str | None:
        """`running`, `done`, `failed`, `diverged`, or None before the first status;
        `RecordError` if `status.json` is unreadable."""
        state = self.read_status()
        return None if state is None else state["status"]

    def set_status(self, status: str, message: str = "", step: int = 0, *,
                   checkpoint_step: int | None = None, force: bool = False) -> dict[str, Any]:
        """Write `status.json` atomically and return it.

        Allowed: (none) -> running; running -> done | failed | diverged | running; failed or
        diverged -> running (a re-run). `done` is final unless `force`, which also overwrites
        an unreadable status. `checkpoint_step` None keeps the current one.

        Raises:
          ValueError: an unknown status or a refused transition.
          RecordError: the current status is unreadable (and not `force`).
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {list(STATUSES)}, got {status!r}")
        try:
            current = self.read_status()
        except RecordError:
            if not force:
                raise
            current = None
        now = None if current is None else current["status"]
        if not force and status not in _TRANSITIONS[now]:
            raise ValueError(f"status transition {now} -> {status} refused for {self.path}"
                             + (" (done is final; pass force=True)" if now == "done" else ""))
        if checkpoint_step is None and current is not None:
            checkpoint_step = current.get("checkpoint_step")
        state = {"status": status, "message": str(message), "step": int(step),
                 "checkpoint_step": checkpoint_step, "updated": _now()}
        atomic_write_text(self.status_path, json.dumps(state, indent=2) + "\n")
        return state


def create_or_open(config: ExperimentConfig, *, replace_unreadable: bool = False) -> RunRecord:
    """The record of `config`: created with its `params.json`, or reopened if it holds `config`.

    Args:
      replace_unreadable: rewrite a `params.json` that cannot be read (a restart); the
        directory's name is `config`'s run id, so it is this run's record.

    Raises:
      ValueError: the directory holds a record of other parameters (never overwritten).
      RecordError: an unreadable `params.json` (without `replace_unreadable`), or an
        unwritable run root.
    """
    record = RunRecord(record_path(config))
    make_record_dir(record.path)
    if record.params_path.exists():
        try:
            record.check_matches(identity_dict(config))
            return record
        except RecordError:
            if not replace_unreadable:
                raise
    params = {"run_id": record.run_id, "created": _now(), "config": config.to_dict()}
    atomic_write_text(record.params_path, json.dumps(params, indent=2, sort_keys=True) + "\n")
    return record


# ----------------------------------------------------------------- readers
# pandas 3 parses floats round-trip exactly by default and deprecates the option; pandas 2 needs it.
_EXACT_FLOATS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


def read_metrics(path: str | Path) -> pd.DataFrame:
    """One `metrics.csv` as written, floats parsed back exactly (empty cells are NaN)."""
    return pd.read_csv(path, **_EXACT_FLOATS)


def metrics_problem(path: str | Path) -> str | None:
    """Why a `metrics.csv` gives no rows to a report (missing, empty, unreadable), or None."""
    path = Path(path)
    try:
        if not path.exists():
            return f"{path} is missing"
        if not path.stat().st_size:
            return f"{path} is empty"
        metrics_last_step(path)
    except RecordError as err:
        return str(err)
    except OSError as err:
        return f"{path} cannot be read: {err.strerror or err}"
    return None
