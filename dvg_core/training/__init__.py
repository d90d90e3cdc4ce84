"""Training: the trainer (the Dyna loop over S >= 1 seeds), its checkpoint and the builders."""

from dvg_core.training.checkpoint import CHECKPOINT_NAME
from dvg_core.training.trainer import TIMING_METRICS, MetricsSink, Trainer, TrainResult

__all__ = ["CHECKPOINT_NAME", "TIMING_METRICS", "MetricsSink", "TrainResult", "Trainer"]
