"""Train runs into their records: build, resume from the checkpoints, run, record how each ended.

One path for one seed and for many: `TrainingRun(configs)` takes S >= 1 configs that differ
only in their seed (one record each, the directories a lone run would use) and trains them
together through the one `dvg_core.training.Trainer` (S = 1: the plain eager agent; S > 1:
seed-vectorised). It does everything that can reject the configs (the group, the device, the
records' params, the builders) before it writes anything; `execute()` then trains.
`train(config)` is `train_seeds([config])[0]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dvg_core.training import Trainer
from dvg_core.training.build import build_trainer
from dvg_core.util.device import resolve_device
from workbench.config import ExperimentConfig, identity_dict
from workbench.runs import RunRecord, create_or_open, record_path
from workbench.tensorboard import RecordSinks  # metrics.csv and TensorBoard events

__all__ = ["TrainingRun", "train", "train_seeds"]


def _check_seed_group(configs: Sequence[ExperimentConfig]) -> None:
    if not configs:
        raise ValueError("configs must hold at least one config")
    first = configs[0]
    base = identity_dict(replace(first, seed=0)) | {"device": first.device}
    for config in configs[1:]:
        if identity_dict(replace(config, seed=0)) | {"device": config.device} != base:
            raise ValueError("a seed group needs configs that differ only in their seed; "
                             f"{config.seed} differs from {first.seed} in more")
    seeds = [c.seed for c in configs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")


class TrainingRun:
    """S >= 1 runs of one configuration (differing only in the seed), prepared, not started.

    Args:
      configs: the runs' configs.
      resume: continue from the records' checkpoints (and leave `done` records untouched);
        False starts afresh, clearing the records' metrics and checkpoints, even if `done`.
      progress: show the trainer's progress bar.

    Attributes:
      records: one record per config (not yet created on disk).
      todo: indices of the configs that will train (all but the `done` ones when resuming).
      trainer: the built `Trainer` of the `todo` seeds, None when there is nothing to train.

    Raises:
      ValueError: configs that differ in more than the seed, repeated seeds, a bad device, a
        record directory holding other parameters, or a config the builders reject (the oracle
        model on a MuJoCo task; an env kwarg the env does not take, a `TypeError` there,
        re-raised as `ValueError`). Nothing is written then.
    """

    def __init__(self, configs: Sequence[ExperimentConfig], *, resume: bool = True,
                 progress: bool = True) -> None:
        _check_seed_group(configs)
        self.configs, self.resume = list(configs), resume
        device = resolve_device(configs[0].device)
        self.records = [RunRecord(record_path(c)) for c in configs]
        for record, config in zip(self.records, configs):
            record.check_matches(config)
        self.todo = [i for i, r in enumerate(self.records) if not (resume and r.status == "done")]
        self.writers = [RecordSinks(self.records[i].metrics_path, configs[i].to_json())
                        for i in self.todo]
        self.trainer: Trainer | None = None
        if self.todo:
            first = configs[self.todo[0]]
            try:
                self.trainer = build_trainer(
                    first.algorithm, first.model, first.env, first.loop,
                    seeds=[configs[i].seed for i in self.todo], device=device,
                    run_dirs=[self.records[i].path for i in self.todo],
                    logs=[w.write for w in self.writers], progress=progress)
            except TypeError as err:  # e.g. a kwarg the env constructor does not take
                raise ValueError(f"the builders reject this config: {err}") from err

    def execute(self) -> list[RunRecord]:
        """Train to the end and return the records, whose statuses say how each ended.

        `done`: the final checkpoint is saved. `diverged`: that seed's last good checkpoint
        stays, the others train on. An exception (or Ctrl-C) marks every training record
        `failed` with the error text and is re-raised.
        """
        for i, record in enumerate(self.records):
            print(f"run record: {record.path}")
            if i not in self.todo:
                print("already done; not retrained (pass resume=False to start afresh)")
        trainer = self.trainer
        if trainer is None:
            return self.records
        opened = [create_or_open(self.configs[i]) for i in self.todo]
        group = "" if trainer.n_seeds == 1 else " (seed-vectorised)"
        if self.resume and trainer.load_checkpoints():
            for writer in self.writers:
                writer.truncate_after(trainer.step)
            message = f"resumed at env step {trainer.step}{group}"
        else:
            for writer, record in zip(self.writers, opened):
                writer.clear()
                record.checkpoint_path.unlink(missing_ok=True)
            message = "started" + ("" if trainer.n_seeds == 1
                                   else f" (seed-vectorised, {trainer.n_seeds} seeds)")
        for record in opened:
            record.set_status("running", message, trainer.step, force=not self.resume)
        try:
            results = trainer.run()
            trainer.save_checkpoints()
        except (Exception, KeyboardInterrupt) as err:
            for record, writer in zip(opened, self.writers):
                writer.close()
                record.set_status("failed", f"{type(err).__name__}: {err}", trainer.step)
            raise
        for record, result, writer in zip(opened, results, self.writers):
            writer.close()
            record.set_status(result.status, result.message, result.step)
        return self.records


def train_seeds(configs: Sequence[ExperimentConfig], *, resume: bool = True,
                progress: bool = True) -> list[RunRecord]:
    """Prepare and execute S runs that differ only in their seed (see `TrainingRun`); one
    ordinary record per seed."""
    return TrainingRun(configs, resume=resume, progress=progress).execute()


def train(config: ExperimentConfig, *, resume: bool = True, progress: bool = True) -> RunRecord:
    """Prepare and execute one run (see `TrainingRun`); returns its record."""
    return train_seeds([config], resume=resume, progress=progress)[0]
