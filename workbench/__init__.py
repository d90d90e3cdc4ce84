"""workbench: experiment glue around `dvg_core` (configs, run records, batch, plots, widgets, CLI).

The names below load on first use (PEP 562), so `python -m workbench --help`, which imports this
package first, does not wait for torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "PRESETS": "workbench.presets",
    "ExperimentConfig": "workbench.config",
    "apply_overrides": "workbench.overrides",
    "identity_dict": "workbench.config",
    "preset": "workbench.presets",
    "run_id": "workbench.config",
    "MetricsWriter": "workbench.runs",
    "RunRecord": "workbench.runs",
    "create_or_open": "workbench.runs",
    "load_metrics": "workbench.runs",
    "load_statuses": "workbench.runs",
    "record_path": "workbench.runs",
    "RecordError": "workbench.record_checks",
    "RecordBusy": "workbench.record_lock",
    "TrainingRun": "workbench.training",
    "train": "workbench.training",
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
