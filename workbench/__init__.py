"""workbench: experiment glue around `dvg_core`, in rooms by job, each importing only rooms below
it: `host` (paths, signals, processes, kernels), `config`, `records`, `experiments`, `train`,
`report`, `grid`, `fidelity`, `explorer`, `contraction`, `bench`, `notebook` and `cli`.

The names below load on first use (PEP 562), so `python -m workbench --help`, which imports this
package first, does not wait for torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "PRESETS": "workbench.config.presets",
    "ExperimentConfig": "workbench.config.experiment_config",
    "apply_overrides": "workbench.config.overrides",
    "identity_dict": "workbench.config.experiment_config",
    "preset": "workbench.config.presets",
    "run_id": "workbench.config.experiment_config",
    "MetricsWriter": "workbench.records.run_record",
    "RunRecord": "workbench.records.run_record",
    "create_or_open": "workbench.records.run_record",
    "load_metrics": "workbench.report.record_frames",
    "load_statuses": "workbench.report.record_frames",
    "record_path": "workbench.records.run_record",
    "RecordError": "workbench.records.checks",
    "RecordBusy": "workbench.records.lock",
    "TrainingRun": "workbench.train.training_run",
    "train": "workbench.train.training_run",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    """Import `name` from its module on first access (`_HOMES`)."""
    if name not in _HOMES:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
