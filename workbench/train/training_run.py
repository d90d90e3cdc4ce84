"""Train runs into their records: build, resume from the checkpoints, run, record how each ended.

One path for one seed and for many: `TrainingRun(configs)` takes S >= 1 configs that differ only
in their seed (one record each, the directories a lone run would use) and trains them together
through the one `dvg_core.training.Trainer` (S = 1: the plain eager agent; S > 1:
seed-vectorised). It does everything that can reject the configs (the group, the device, the
records' params, the builders) before it writes anything; `execute()` then trains, holding each
record's lock (`workbench.records.lock`): a lone run meeting a locked record raises `RecordBusy`,
a seed group skips that seed. `train(config)` is `train_seeds([config])[0]`.

A record is never left saying something false. Before resuming, every file is checked
(`workbench.records.checks`): an unreadable status, metrics file or checkpoint, a checkpoint that
does not fit the run, or metrics that stop before the checkpoint, mark the record `failed` with a
`RecordError` naming the file and the remedy (`--restart`). A `done` record is verified before it
is skipped, and a finished run before it is marked `done`. The status is rewritten at every
checkpoint (`checkpoint_step`); each session's provenance goes to `provenance.json`. Metrics go
to `metrics.csv` and TensorBoard event files (`workbench.records.tensorboard_events.RecordSinks`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from dvg_core.training import Trainer
from dvg_core.util.device import resolve_device
from workbench.config.experiment_config import ExperimentConfig, identity_dict
from workbench.records.provenance import end_session, start_session
from workbench.records.checks import RecordError, remove_temp_files
from workbench.records.lock import RecordBusy, record_lock
from workbench.train.record_session import (
    check_complete, check_metrics_cover, incomplete_done, load_checkpoint_checked, record_failure,
    track_checkpoints,
)
from workbench.records.run_record import RunRecord, create_or_open, record_path
from workbench.records.tensorboard_events import RecordSinks  # metrics.csv and TensorBoard events
from workbench.train.records_trainer import build_records_trainer

__all__ = ["TrainingRun", "train", "train_seeds"]


def _seed_group_identities(configs: Sequence[ExperimentConfig]) -> list[dict[str, Any]]:
    """Each config's run identity (`identity_dict`), once `ValueError` has ruled out an empty
    group, configs that differ in more than the seed (or the device) and repeated seeds."""
    if not configs:
        raise ValueError("configs must hold at least one config")
    identities = [identity_dict(config) for config in configs]
    first = configs[0]
    base = {**identities[0], "seed": 0, "device": first.device}
    for config, identity in zip(configs[1:], identities[1:]):
        if {**identity, "seed": 0, "device": config.device} != base:
            raise ValueError("a seed group needs configs that differ only in their seed; "
                             f"{config.seed} differs from {first.seed} in more")
    seeds = [c.seed for c in configs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    return identities


class TrainingRun:
    """S >= 1 runs of one configuration (differing only in the seed), prepared, not started.

    Args:
      configs: the runs' configs.
      resume: continue from the records' checkpoints (and leave complete `done` records
        untouched); False starts afresh, clearing the records' metrics and checkpoints, even if
        `done` (the `--restart` of the command line).
      progress: show the trainer's progress bar.

    Attributes:
      records: one record per config (not yet created on disk).
      todo: indices of the configs that will train (all but the complete `done` ones when
        resuming; `execute` re-checks under the locks).
      trainer: the built `Trainer` of the `todo` seeds, None when there is nothing to train.

    Raises:
      ValueError: configs that differ in more than the seed, repeated seeds, a bad device, a
        record directory holding other parameters (or an unreadable `params.json`, a
        `RecordError`, unless restarting), or a config the builders reject (the oracle model on
        a MuJoCo task; an env kwarg the env does not take, re-raised as `ValueError`). Nothing
        is written then.
    """

    def __init__(self, configs: Sequence[ExperimentConfig], *, resume: bool = True,
                 progress: bool = True) -> None:
        identities = _seed_group_identities(configs)
        self.configs, self.resume, self.progress = list(configs), resume, progress
        self.device = resolve_device(configs[0].device)
        self.records = [RunRecord(record_path(c)) for c in configs]
        for record, identity in zip(self.records, identities):
            try:
                record.check_matches(identity)
            except RecordError:
                if resume:
                    raise
        self.todo = [i for i, (r, c) in enumerate(zip(self.records, configs))
                     if not (resume and incomplete_done(r, c) == [])]
        self.trainer: Trainer | None = None
        if self.todo:
            self.trainer, self.writers = build_records_trainer(
                self.configs, self.records, self.todo, device=self.device, progress=progress)

    def execute(self) -> list[RunRecord]:
        """Train to the end, holding the records' locks; the records, whose statuses say how
        each ended.

        `done`: the final checkpoint is saved and the record verified complete. `diverged`: that
        seed's last good checkpoint stays, the others train on. An exception (or Ctrl-C) marks
        every training record `failed` with the error text (a `RecordError` for a file that
        cannot be read) and is re-raised; temp files are removed then, and before training.

        Raises:
          RecordBusy: a lone run whose record another process holds (nothing is written).
          RecordError: a record file that cannot be read (the status says so), or an
            unwritable run root (no record).
        """
        with ExitStack() as locks:
            held = [i for i in range(len(self.records)) if self._lock(i, locks)]
            if held:
                if held != self.todo or self.trainer is None:
                    self.todo = held
                    self.trainer, self.writers = build_records_trainer(
                        self.configs, self.records, held, device=self.device,
                        progress=self.progress)
                label = "" if len(held) == 1 else f" (seed-vectorised, {len(held)} seeds)"
                _train_records(self.trainer, [self.configs[i] for i in held],
                               [self.records[i] for i in held], self.writers,
                               resume=self.resume, device=self.device, label=label)
        return self.records

    def _lock(self, i: int, locks: ExitStack) -> bool:
        """Take record i's lock, clean its temp files; whether it is to be trained."""
        record, config = self.records[i], self.configs[i]
        print(f"run record: {record.path}")
        try:
            locks.enter_context(record_lock(record.path))
        except RecordBusy as err:
            if len(self.records) == 1:
                raise
            print(f"skipped: {err}", file=sys.stderr)
            return False
        removed = remove_temp_files(record.path)
        if removed:
            print(f"removed temp files of an interrupted run: {', '.join(removed)}")
        problems = incomplete_done(record, config) if self.resume else None
        if problems == []:
            print("already done; not retrained (pass --restart / resume=False to start afresh)")
            return False
        if problems:
            print(f"warning: the record says done but is incomplete: {'; '.join(problems)}; "
                  "resuming it", file=sys.stderr)
        return True


def train_seeds(configs: Sequence[ExperimentConfig], *, resume: bool = True,
                progress: bool = True) -> list[RunRecord]:
    """Prepare and execute S runs that differ only in their seed (see `TrainingRun`); one
    ordinary record per seed."""
    return TrainingRun(configs, resume=resume, progress=progress).execute()


def train(config: ExperimentConfig, *, resume: bool = True, progress: bool = True) -> RunRecord:
    """Prepare and execute one run (see `TrainingRun`); returns its record."""
    return train_seeds([config], resume=resume, progress=progress)[0]


def _train_records(trainer: Trainer, configs: Sequence[ExperimentConfig],
                   records: Sequence[RunRecord], writers: Sequence[RecordSinks], *,
                   resume: bool, device: Any, label: str = "") -> None:
    """Train `records` (locked by the caller) with `trainer`, one record per config.

    Raises:
      RecordError: a record file that cannot be read, or a finished record found incomplete
        (every record is marked `failed` with the message first); whatever training raised.
    """
    for config in configs:
        create_or_open(config, replace_unreadable=not resume)  # its errors touch no status
    try:
        message = _resume_or_start(trainer, records, writers, resume) + label
        for record in records:
            record.set_status("running", message, trainer.step,
                              checkpoint_step=trainer.step or None, force=True)
            start_session(record.path, device=device, step=trainer.step, message=message)
        track_checkpoints(trainer, records)
        results = trainer.run()
        trainer.save_checkpoints()  # a diverged seed keeps its last good one
        for record, config, result in zip(records, configs, results):
            if result.status == "done":
                check_complete(record, config)
    except (Exception, KeyboardInterrupt) as err:
        for writer in writers:
            try:
                writer.close()
            except (Exception, KeyboardInterrupt):  # a full disk too: the failure comes first
                pass
        record_failure(records, err, trainer.step)
        raise
    for record, result, writer in zip(records, results, writers):
        writer.close()
        record.set_status(result.status, result.message, result.step)
        end_session(record.path, status=result.status, step=result.step)


def _resume_or_start(trainer: Trainer, records: Sequence[RunRecord],
                     writers: Sequence[RecordSinks], resume: bool) -> str:
    """Load the checkpoints (after checking the records' files) or clear the records; the
    status message."""
    if resume:
        for record in records:
            record.read_status()  # a RecordError if it is unreadable
        if load_checkpoint_checked(trainer.load_checkpoints, records):
            for record, writer in zip(records, writers):
                check_metrics_cover(record, trainer.step)
                writer.truncate_after(trainer.step)
            return f"resumed at env step {trainer.step}"
    for writer, record in zip(writers, records):
        writer.clear()
        record.checkpoint_path.unlink(missing_ok=True)
    return "started"
