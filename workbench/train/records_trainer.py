"""The core's `Trainer` of S >= 1 records that differ only in their seed, logging into each
record's sinks (`metrics.csv` and TensorBoard events): what `TrainingRun` trains."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dvg_core.training import Trainer
from dvg_core.training.build import build_trainer
from workbench.config.experiment_config import ExperimentConfig
from workbench.records.run_record import RunRecord
from workbench.records.tensorboard_events import RecordSinks

__all__ = ["build_records_trainer"]


def build_records_trainer(configs: Sequence[ExperimentConfig], records: Sequence[RunRecord],
                          todo: Sequence[int], *, device: Any, progress: bool
                          ) -> tuple[Trainer, list[RecordSinks]]:
    """The trainer of the configs at indices `todo` (one seed each) and the sinks it logs into,
    one per record.

    Raises:
      ValueError: a config the builders reject (an env kwarg the env constructor does not take,
        re-raised from its `TypeError`).
    """
    configs, records = [configs[i] for i in todo], [records[i] for i in todo]
    writers = [RecordSinks(record.metrics_path, config.to_json())
               for config, record in zip(configs, records)]
    first = configs[0]
    try:
        trainer = build_trainer(
            first.algorithm, first.model, first.env, first.loop,
            seeds=[config.seed for config in configs], device=device,
            run_dirs=[record.path for record in records],
            logs=[writer.write for writer in writers], progress=progress)
    except TypeError as err:  # e.g. a kwarg the env constructor does not take
        raise ValueError(f"the builders reject this config: {err}") from err
    return trainer, writers
