"""What training does to a record around the trainer: verify before trusting, record failures.

The record-level half of `workbench.train.training_run` (which holds the lock and drives the trainer):
whether a `done` record is complete, loading a checkpoint with its failures named as
`RecordError`, the status rewritten at every checkpoint, and failures recorded without ever
raising from the error path.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from workbench.config.experiment_config import ExperimentConfig
from workbench.records.provenance import end_session
from workbench.records.checks import (
    RecordError, brief, describe_os_error, checkpoint_step, metrics_last_step, remedy, remove_temp_files,
    verify_done,
)
from workbench.records.run_record import RunRecord
from workbench.host.stops import stop_message

if TYPE_CHECKING:
    from dvg_core.training import Trainer

__all__ = [
    "check_complete", "check_metrics_cover", "failure_message", "incomplete_done",
    "load_checkpoint_checked", "record_failure", "track_checkpoints",
]


def incomplete_done(record: RunRecord, config: ExperimentConfig) -> list[str] | None:
    """None unless `record` says `done`; then why it is incomplete ([] if it is complete).
    An unreadable status counts as not `done`."""
    try:
        if record.status != "done":
            return None
    except RecordError:
        return None
    return verify_done(checkpoint=record.checkpoint_path, metrics=record.metrics_path,
                       total_steps=config.loop.total_steps, log_every=config.loop.log_every)


def failure_message(err: BaseException) -> str:
    """The status message of a run that raised `err`."""
    if isinstance(err, RecordError):
        return str(err)
    if isinstance(err, KeyboardInterrupt):
        return f"{stop_message(err)}; a re-run resumes from the last checkpoint"
    if isinstance(err, OSError):
        return (f"{describe_os_error(err)} ({type(err).__name__}: {err}); the record up to its "
                "last checkpoint is intact: fix that and re-run to resume")
    return f"{type(err).__name__}: {err}"


def record_failure(records: Sequence[RunRecord], err: BaseException, step: int) -> None:
    """Mark `records` failed at env step `step` (0, before anything loaded: the step their
    status had), never raising: a failure to write is printed instead."""
    message = failure_message(err)
    for record in records:
        try:
            remove_temp_files(record.path)
            record.set_status("failed", message, step or _last_step(record), force=True)
            end_session(record.path, status="failed", step=step)
        except OSError as write_err:
            print(f"could not record the failure in {record.status_path}: {write_err}",
                  file=sys.stderr)


def _last_step(record: RunRecord) -> int:
    try:
        return (record.read_status() or {}).get("step", 0)
    except RecordError:
        return 0


def track_checkpoints(trainer: Trainer, records: Sequence[RunRecord]) -> None:
    """Give each record whose checkpoint `trainer` rewrites (`records[k]` for seed k) a `running`
    status carrying the checkpoint's step: a `Trainer.checkpoint_hooks` hook."""

    def stamp(step: int, written: list[int]) -> None:
        for k in written:
            records[k].set_status("running", f"checkpoint at env step {step}", step,
                                  checkpoint_step=step)

    trainer.checkpoint_hooks.append(stamp)


def check_metrics_cover(record: RunRecord, step: int) -> None:
    """`RecordError` unless the metrics reach the checkpoint's `step` (rows before it would be
    lost for good: a resume only rewrites the rows after it)."""
    last = metrics_last_step(record.metrics_path)
    if step > 0 and (last is None or last < step):
        where = (("is empty" if record.metrics_path.exists() else "is missing") if last is None
                 else f"ends at step {last}")
        raise RecordError(f"{record.metrics_path} {where} but the checkpoint is at step {step}: "
                          f"the metrics before it are lost; {remedy(record.path)}")


def load_checkpoint_checked(load: Callable[[], bool], records: Sequence[RunRecord]) -> bool:
    """`load()` (the trainer's loader of the `records`' checkpoints) after checking each is a
    readable archive, with its failures named as `RecordError`."""
    for record in records:
        checkpoint_step(record.checkpoint_path)
    try:
        return load()
    except Exception as err:
        paths = ", ".join(str(r.checkpoint_path) for r in records)
        raise RecordError(f"the checkpoint {paths} does not fit this run ({brief(err)}); was it "
                          f"written by another algorithm or configuration? "
                          f"{remedy(records[0].path)}") from err


def check_complete(record: RunRecord, config: ExperimentConfig) -> None:
    """`RecordError` unless a finished run's record is complete (`verify_done`)."""
    problems = verify_done(checkpoint=record.checkpoint_path, metrics=record.metrics_path,
                           total_steps=config.loop.total_steps, log_every=config.loop.log_every)
    if problems:
        raise RecordError(f"the run ended but its record is incomplete: {'; '.join(problems)}")
