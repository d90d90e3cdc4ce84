"""Train one run into its record: build, resume from the checkpoint, run, record how it ended.

`TrainingRun(config)` does everything that can reject a config (device, the record's params, the
builders) before it writes anything; `execute()` then trains. `train(config)` does both.
"""

from __future__ import annotations

from dvg_core.build import build_trainer
from dvg_core.device import resolve_device
from dvg_core.loop import Trainer
from workbench.config import ExperimentConfig
from workbench.runs import MetricsWriter, RunRecord, create_or_open, record_path

__all__ = ["TrainingRun", "train"]


class TrainingRun:
    """One run, prepared but not started.

    Args:
      config: the experiment.
      resume: continue from the record's checkpoint (and return a `done` record untouched);
        False starts afresh, clearing the record's metrics and checkpoint, even if it is `done`.
      progress: show the trainer's progress bar.

    Attributes:
      record: the run's record (not yet created on disk).
      skipped: the record is `done` and `resume` is set, so `execute` will not train.
      trainer: the built `Trainer`, None when skipped.

    Raises:
      ValueError: a bad device, a record directory holding other parameters, or a config the
        builders reject (the oracle model on a MuJoCo task; an env kwarg the env does not take,
        a `TypeError` there, re-raised as `ValueError`). Nothing is written then.
    """

    def __init__(self, config: ExperimentConfig, *, resume: bool = True,
                 progress: bool = True) -> None:
        self.config, self.resume = config, resume
        device = resolve_device(config.device)
        self.record = RunRecord(record_path(config))
        self.record.check_matches(config)
        self.skipped = resume and self.record.status == "done"
        self.trainer: Trainer | None = None
        self.writer = MetricsWriter(self.record.metrics_path)
        if not self.skipped:
            try:
                self.trainer = build_trainer(
                    config.algorithm, config.model, config.env, config.loop, seed=config.seed,
                    device=device, run_dir=self.record.path, log=self.writer.write,
                    progress=progress,
                )
            except TypeError as err:  # e.g. a kwarg the env constructor does not take
                raise ValueError(f"the builders reject this config: {err}") from err

    def execute(self) -> RunRecord:
        """Train to the end and return the record, whose status says how it ended.

        `done`: the final checkpoint is saved. `diverged`: no checkpoint is saved (the last good
        one stays). An exception (or Ctrl-C) marks the record `failed` with the error text and
        is re-raised.
        """
        print(f"run record: {self.record.path}")
        if self.trainer is None:
            print("already done; not retrained (pass resume=False to start afresh)")
            return self.record
        trainer, record = self.trainer, create_or_open(self.config)
        if self.resume and trainer.load_checkpoint():
            self.writer.truncate_after(trainer.step)
            message = f"resumed at env step {trainer.step}"
        else:
            self.writer.clear()
            record.checkpoint_path.unlink(missing_ok=True)
            message = "started"
        record.set_status("running", message, trainer.step, force=not self.resume)
        try:
            result = trainer.run()
            if result.status == "done":
                trainer.save_checkpoint()
        except (Exception, KeyboardInterrupt) as err:
            record.set_status("failed", f"{type(err).__name__}: {err}", trainer.step)
            raise
        record.set_status(result.status, result.message, result.step)
        return record


def train(config: ExperimentConfig, *, resume: bool = True, progress: bool = True) -> RunRecord:
    """Prepare and execute one run (see `TrainingRun`); returns its record."""
    return TrainingRun(config, resume=resume, progress=progress).execute()
