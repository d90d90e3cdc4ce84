"""workbench: experiment glue around `dvg_core` (configs, run records, batch, plots, widgets, CLI)."""

from workbench.config import (
    PRESETS,
    ExperimentConfig,
    apply_overrides,
    identity_dict,
    preset,
    run_id,
)
from workbench.record_checks import RecordError
from workbench.record_lock import RecordBusy
from workbench.runs import (
    MetricsWriter,
    RunRecord,
    create_or_open,
    load_metrics,
    load_statuses,
    record_path,
)
from workbench.training import TrainingRun, train

__all__ = [
    "PRESETS",
    "ExperimentConfig",
    "MetricsWriter",
    "RecordBusy",
    "RecordError",
    "RunRecord",
    "TrainingRun",
    "apply_overrides",
    "create_or_open",
    "identity_dict",
    "load_metrics",
    "load_statuses",
    "preset",
    "record_path",
    "run_id",
    "train",
]
