"""Training: the trainer (the Dyna loop over S >= 1 seeds), its checkpoint and the builders."""

from dvg_core.training.trainer import CHECKPOINT_NAME, TIMING_METRICS, Trainer, TrainResult

__all__ = ["CHECKPOINT_NAME", "TIMING_METRICS", "TrainResult", "Trainer"]
