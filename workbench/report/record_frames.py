"""Run records read into tidy frames for the reports: every metric row of an experiment's runs
with the columns that say what each run is (`load_metrics`), and one status row per run
(`load_statuses`). A run's ablation value is read back from its config (`variant`,
`workbench.experiments.ablations.ablation_value`), so a report draws one series per value."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from dvg_core.envs import POINT_MASS_IDS, PointMassSpec
from workbench.experiments.ablations import ablation_value
from workbench.records.checks import RecordError, metrics_last_step
from workbench.records.run_record import RunRecord, read_metrics

__all__ = ["load_metrics", "load_statuses", "model_name"]


def _unreadable_columns(path: Path) -> dict[str, Any]:
    """`_param_columns` of a record whose `params.json` cannot be read: its name, nothing else."""
    return {"run_id": path.name, "experiment": None, "algo": None, "env_id": None,
            "n_locations": None, "noise": None, "noise_scale": None, "model": None,
            "seed": None, "lam": None, "gamma": None, "env_kwargs": None, "variant": None}


def _param_columns(params: Mapping[str, Any]) -> dict[str, Any]:
    """The columns `load_metrics` joins onto every row of a run."""
    config = params["config"]
    env = config["env"]
    n_locations = None
    if env["env_id"] in POINT_MASS_IDS:
        n_locations = env["kwargs"].get("n_locations", PointMassSpec.n_locations)
    return {
        "run_id": params["run_id"], "experiment": config["experiment"],
        "algo": config["algorithm"]["name"], "env_id": env["env_id"],
        "n_locations": n_locations, "noise": env["noise"], "noise_scale": env["noise_scale"],
        "model": model_name(config["model"]), "seed": config["seed"],
        "lam": config["algorithm"]["lam"], "gamma": config["algorithm"]["gamma"],
        "env_kwargs": json.dumps(env["kwargs"], sort_keys=True),
        "variant": ablation_value(config),
    }


def model_name(model: dict[str, Any]) -> str:
    """The world model as the report names it, from a params.json `model` section: its `kind`,
    and for the flow its layout (`flow (coupling)`; records from before the field have the
    two-pass flow)."""
    if model["kind"] != "flow":
        return model["kind"]
    return f"flow ({model.get('flow_layout', 'two_pass')})"


def _run_dirs(source: str | Path | RunRecord | Iterable[str | Path | RunRecord]) -> list[Path]:
    """A run dir, an experiment dir (its run dirs, sorted), or an iterable of run dirs."""
    if isinstance(source, (str, Path, RunRecord)):
        path = source.path if isinstance(source, RunRecord) else Path(source)
        if (path / "params.json").exists():
            return [path]
        return sorted(p.parent for p in path.glob("*/params.json"))
    return [s.path if isinstance(s, RunRecord) else Path(s) for s in source]


def load_metrics(source: str | Path | RunRecord | Iterable[str | Path | RunRecord]) -> pd.DataFrame:
    """Every metric row of the runs of `source`, with `_param_columns` (run_id, algo, env_id,
    n_locations, noise, seed, lam, gamma, ..., env_kwargs as sorted-key JSON, and `variant`: the
    value of an ablation's run, `workbench.experiments.ablations.ablation_value`, else None) first on every
    row.

    A `metrics.csv` that cannot be read is left out with a warning naming it (training names
    it too, and marks its run failed), so one torn file does not stop a report.

    Args:
      source: an experiment directory, one run directory, or an iterable of run directories.
    """
    frames = []
    for path in _run_dirs(source):
        record = RunRecord(path)
        if not record.metrics_path.exists() or not record.metrics_path.stat().st_size:
            continue
        try:
            metrics_last_step(record.metrics_path)
            frame = read_metrics(record.metrics_path)
            columns = _param_columns(record.read_params())
        except (RecordError, ValueError, UnicodeDecodeError, KeyError, TypeError) as err:
            warnings.warn(f"left out of the metrics: {err}", stacklevel=2)
            continue
        frames.append(frame.assign(**columns)[[*columns, *frame.columns]])
    if not frames:
        return pd.DataFrame(columns=["run_id", "step", "kind"])
    return pd.concat(frames, ignore_index=True)


def load_statuses(source: str | Path | Iterable[str | Path | RunRecord]) -> pd.DataFrame:
    """One row per run: `_param_columns`, `status` (None before the first, `unreadable` for a
    garbled `status.json` or `params.json`: then only `run_id` of the columns), `message`,
    `step`, `checkpoint_step`, `updated`, and `checkpoint` (whether one exists)."""
    rows = []
    for path in _run_dirs(source):
        record = RunRecord(path)
        try:
            state = record.read_status() or {"status": None, "message": "", "step": 0,
                                             "checkpoint_step": None, "updated": None}
        except RecordError as err:
            state = {"status": "unreadable", "message": str(err), "step": 0,
                     "checkpoint_step": None, "updated": None}
        try:
            columns = _param_columns(record.read_params())
        except (RecordError, KeyError, TypeError) as err:
            columns = _unreadable_columns(record.path)
            message = err if isinstance(err, RecordError) else f"{record.params_path}: no {err}"
            state = {**state, "status": "unreadable", "message": str(message)}
        rows.append({**columns, **state, "checkpoint": record.checkpoint_path.exists()})
    return pd.DataFrame(rows)
