"""Train one run into its record: build, resume from the checkpoint, run, record how it ended.

`TrainingRun(config)` does everything that can reject a config (device, the record's params, the
builders) before it writes anything; `execute()` then trains. `train(config)` does both.
`train_seeds(configs)` trains configs that differ only in their seed at once, one record each
(seed-vectorised, `dvg_core.seed_loop`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dvg_core.build import build_seed_trainer, build_trainer
from dvg_core.device import resolve_device
from dvg_core.loop import Trainer
from workbench.config import ExperimentConfig, identity_dict
from workbench.runs import RunRecord, create_or_open, record_path
from workbench.tensorboard import RecordSinks  # metrics.csv and TensorBoard events

__all__ = ["TrainingRun", "train", "train_seeds"]


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
        self.writer = RecordSinks(self.record.metrics_path, config.to_json())
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
            self.writer.close()
            record.set_status("failed", f"{type(err).__name__}: {err}", trainer.step)
            raise
        self.writer.close()
        record.set_status(result.status, result.message, result.step)
        return record


def train(config: ExperimentConfig, *, resume: bool = True, progress: bool = True) -> RunRecord:
    """Prepare and execute one run (see `TrainingRun`); returns its record."""
    return TrainingRun(config, resume=resume, progress=progress).execute()


def _check_seed_group(configs: Sequence[ExperimentConfig]) -> None:
    if not configs:
        raise ValueError("configs must hold at least one config")
    first = configs[0]
    base = identity_dict(replace(first, seed=0)) | {"device": first.device}
    for config in configs[1:]:
        if identity_dict(replace(config, seed=0)) | {"device": config.device} != base:
            raise ValueError("train_seeds needs configs that differ only in their seed; "
                             f"{config.seed} differs from {first.seed} in more")
    seeds = [c.seed for c in configs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")


def train_seeds(configs: Sequence[ExperimentConfig], *, resume: bool = True,
                progress: bool = True) -> list[RunRecord]:
    """Train S configs that differ only in their seed at once, seed-vectorised; one ordinary
    record per seed (the same directories `train` would use).

    With `resume`, `done` records are left alone and the others resume together from their
    checkpoints when all were written by this group at the same step (else they restart). A
    seed that diverges ends `diverged` while the others train on.

    Raises:
      ValueError: configs that differ in more than the seed, repeated seeds, or a config the
        builders reject (nothing is written then).
    """
    _check_seed_group(configs)
    records = [RunRecord(record_path(c)) for c in configs]
    for record, config in zip(records, configs):
        record.check_matches(config)
    todo = [i for i, r in enumerate(records) if not (resume and r.status == "done")]
    if not todo:
        for record in records:
            print(f"run record: {record.path} (already done)")
        return records
    group = [configs[i] for i in todo]
    writers = [RecordSinks(records[i].metrics_path, configs[i].to_json()) for i in todo]
    first = group[0]
    try:
        trainer = build_seed_trainer(
            first.algorithm, first.model, first.env, first.loop, seeds=[c.seed for c in group],
            device=resolve_device(first.device), run_dirs=[records[i].path for i in todo],
            logs=[w.write for w in writers], progress=progress)
    except TypeError as err:
        raise ValueError(f"the builders reject this config: {err}") from err
    opened = [create_or_open(c) for c in group]
    if resume and trainer.load_checkpoints():
        for writer in writers:
            writer.truncate_after(trainer.step)
        message = f"resumed at env step {trainer.step} (seed-vectorised)"
    else:
        for writer, record in zip(writers, opened):
            writer.clear()
            record.checkpoint_path.unlink(missing_ok=True)
        message = f"started (seed-vectorised, {len(group)} seeds)"
    for record in opened:
        print(f"run record: {record.path}")
        record.set_status("running", message, trainer.step, force=not resume)
    try:
        results = trainer.run()
        trainer.save_checkpoints()
    except (Exception, KeyboardInterrupt) as err:
        for record in opened:
            record.set_status("failed", f"{type(err).__name__}: {err}", trainer.step)
        raise
    for record, result, writer in zip(opened, results, writers):
        writer.close()
        record.set_status(result.status, result.message, result.step)
    return records
