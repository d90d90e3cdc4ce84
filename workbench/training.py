"""Train one run into its record: build, resume from the checkpoint, run, record how it ended.

`TrainingRun(config)` does everything that can reject a config (device, the record's params, the
builders) before it writes anything; `execute()` then trains, holding the record's lock
(`workbench.record_lock`), so a second process meeting it skips it (`RecordBusy`). `train(config)`
does both. `train_seeds(configs)` trains configs that differ only in their seed at once, one
record each (seed-vectorised, `dvg_core.seed_loop`).

A record is never left saying something false. Before resuming, every file is checked
(`workbench.record_checks`): an unreadable status, metrics file or checkpoint, a checkpoint that
does not fit the run, or metrics that stop before the checkpoint, mark the record `failed` with a
`RecordError` naming the file and the remedy (`--restart`). A `done` record is verified before it
is skipped, and a finished run before it is marked `done`. The status is rewritten at every
checkpoint (`checkpoint_step`); each session's provenance goes to `provenance.json`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

from dvg_core.build import build_seed_trainer, build_trainer
from dvg_core.device import resolve_device
from dvg_core.loop import Trainer
from workbench.config import ExperimentConfig, identity_dict
from workbench.provenance import end_session, start_session
from workbench.record_checks import RecordError, remove_temp_files
from workbench.record_lock import RecordBusy, record_lock
from workbench.record_session import (
    check_complete, check_metrics_cover, incomplete_done, load_checkpoint_checked, record_failure,
    track_checkpoints,
)
from workbench.runs import MetricsWriter, RunRecord, create_or_open, record_path

__all__ = ["TrainingRun", "train", "train_seeds"]


class TrainingRun:
    """One run, prepared but not started.

    Args:
      config: the experiment.
      resume: continue from the record's checkpoint (and return a complete `done` record
        untouched); False starts afresh, clearing the record's metrics and checkpoint, even if
        it is `done` (the `--restart` of the command line).
      progress: show the trainer's progress bar.

    Attributes:
      record: the run's record (not yet created on disk).
      skipped: the record is `done` and complete and `resume` is set, so `execute` will not
        train (unless the record changes before it).
      trainer: the built `Trainer`, None when skipped.

    Raises:
      ValueError: a bad device, a record directory holding other parameters (or an unreadable
        `params.json`, a `RecordError`, unless restarting), or a config the builders reject
        (the oracle model on a MuJoCo task; an env kwarg the env does not take, a `TypeError`
        there, re-raised as `ValueError`). Nothing is written then.
    """

    def __init__(self, config: ExperimentConfig, *, resume: bool = True,
                 progress: bool = True) -> None:
        self.config, self.resume, self.progress = config, resume, progress
        self.device = resolve_device(config.device)
        self.record = RunRecord(record_path(config))
        try:
            self.record.check_matches(config)
        except RecordError:
            if resume:
                raise
        self.skipped = resume and incomplete_done(self.record, config) == []
        self.trainer: Trainer | None = None
        self.writer = MetricsWriter(self.record.metrics_path)
        if not self.skipped:
            self.trainer = self._build()

    def _build(self) -> Trainer:
        config = self.config
        try:
            return build_trainer(
                config.algorithm, config.model, config.env, config.loop, seed=config.seed,
                device=self.device, run_dir=self.record.path, log=self.writer.write,
                progress=self.progress,
            )
        except TypeError as err:  # e.g. a kwarg the env constructor does not take
            raise ValueError(f"the builders reject this config: {err}") from err

    def execute(self) -> RunRecord:
        """Train to the end, holding the record's lock, and return the record, whose status
        says how it ended.

        `done`: the final checkpoint is saved and the record verified complete. `diverged`: no
        checkpoint is saved (the last good one stays). An exception (or Ctrl-C) marks the record
        `failed` with the error text (a `RecordError` for a file that cannot be read) and is
        re-raised; temp files are removed then, and before training.

        Raises:
          RecordBusy: another process holds the record (nothing is written).
          RecordError: a record file that cannot be read (the status says so), or an
            unwritable run root (no record).
        """
        print(f"run record: {self.record.path}")
        with record_lock(self.record.path):
            return self._execute_locked()

    def _execute_locked(self) -> RunRecord:
        record, config = self.record, self.config
        removed = remove_temp_files(record.path)
        if removed:
            print(f"removed temp files of an interrupted run: {', '.join(removed)}")
        problems = incomplete_done(record, config) if self.resume else None
        if problems == []:
            print("already done; not retrained (pass --restart / resume=False to start afresh)")
            return record
        if problems:
            print(f"warning: the record says done but is incomplete: {'; '.join(problems)}; "
                  "resuming it", file=sys.stderr)
        trainer = self.trainer = self.trainer or self._build()
        _train_records(trainer, [config], [record], [self.writer], resume=self.resume,
                       device=self.device, checkpoints=("load_checkpoint", "save_checkpoint"))
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

    Each record's lock is held while it trains; a record another process holds is skipped (and
    said so). With `resume`, complete `done` records are left alone and the others resume
    together from their checkpoints when all were written by this group at the same step (else
    they restart). A seed that diverges ends `diverged` while the others train on. An error
    fails every record of the group (a `RecordError` names the file).

    Raises:
      ValueError: configs that differ in more than the seed, repeated seeds, or a config the
        builders reject (nothing is written then).
    """
    _check_seed_group(configs)
    records = [RunRecord(record_path(c)) for c in configs]
    for record, config in zip(records, configs):
        record.check_matches(config)
    with ExitStack() as locks:
        todo = []
        for i, record in enumerate(records):
            try:
                locks.enter_context(record_lock(record.path))
            except RecordBusy as err:
                print(f"skipped: {err}", file=sys.stderr)
                continue
            remove_temp_files(record.path)
            if not (resume and incomplete_done(record, configs[i]) == []):
                todo.append(i)
            else:
                print(f"run record: {record.path} (already done)")
        if todo:
            _train_group([configs[i] for i in todo], [records[i] for i in todo],
                         resume=resume, progress=progress)
    return records


def _train_group(group: Sequence[ExperimentConfig], records: Sequence[RunRecord], *,
                 resume: bool, progress: bool) -> None:
    """`train_seeds` of the records it holds."""
    writers = [MetricsWriter(r.metrics_path) for r in records]
    first = group[0]
    device = resolve_device(first.device)
    try:
        trainer = build_seed_trainer(
            first.algorithm, first.model, first.env, first.loop, seeds=[c.seed for c in group],
            device=device, run_dirs=[r.path for r in records],
            logs=[w.write for w in writers], progress=progress)
    except TypeError as err:
        raise ValueError(f"the builders reject this config: {err}") from err
    for record in records:
        print(f"run record: {record.path}")
    _train_records(trainer, group, records, writers, resume=resume, device=device,
                   checkpoints=("load_checkpoints", "save_checkpoints"),
                   label=f" (seed-vectorised, {len(records)} seeds)")


def _train_records(trainer: Any, configs: Sequence[ExperimentConfig],
                   records: Sequence[RunRecord], writers: Sequence[MetricsWriter], *,
                   resume: bool, device: Any, checkpoints: tuple[str, str],
                   label: str = "") -> None:
    """Train `records` (locked by the caller) with `trainer`, one record per config; the one
    record-keeping path of a lone run and a seed group.

    Args:
      trainer: built for `records`; its `run()` returns one `TrainResult` or a list of them.
      writers: the metric sinks the trainer logs to, one per record.
      checkpoints: the names of the trainer's (load, save) checkpoint methods.
      label: appended to the status messages (`started`, `resumed at env step N`).

    Raises:
      RecordError: a record file that cannot be read, or a finished record found incomplete
        (every record is marked `failed` with the message first); whatever training raised.
    """
    load, save = checkpoints
    for config in configs:
        create_or_open(config, replace_unreadable=not resume)  # its errors touch no status
    try:
        message = _resume_or_start(getattr(trainer, load), trainer, records, writers, resume)
        message += label
        for record in records:
            record.set_status("running", message, trainer.step,
                              checkpoint_step=trainer.step or None, force=True)
            start_session(record.path, device=device, step=trainer.step, message=message)
        track_checkpoints(trainer, save, records)
        results = trainer.run()
        results = results if isinstance(results, list) else [results]
        if any(r.status == "done" for r in results):
            getattr(trainer, save)()  # a seed group's diverged seeds keep their last good one
        for record, config, result in zip(records, configs, results):
            if result.status == "done":
                check_complete(record, config)
    except (Exception, KeyboardInterrupt) as err:
        record_failure(records, err, trainer.step)
        raise
    for record, result in zip(records, results):
        record.set_status(result.status, result.message, result.step)
        end_session(record.path, status=result.status, step=result.step)


def _resume_or_start(load: Callable[[], bool], trainer: Any, records: Sequence[RunRecord],
                     writers: Sequence[MetricsWriter], resume: bool) -> str:
    """Load the checkpoints (after checking the records' files) or clear the records; the
    status message."""
    if resume:
        for record in records:
            record.read_status()  # a RecordError if it is unreadable
        if load_checkpoint_checked(load, records):
            for record, writer in zip(records, writers):
                check_metrics_cover(record, trainer.step)
                writer.truncate_after(trainer.step)
            return f"resumed at env step {trainer.step}"
    for writer, record in zip(writers, records):
        writer.clear()
        record.checkpoint_path.unlink(missing_ok=True)
    return "started"
