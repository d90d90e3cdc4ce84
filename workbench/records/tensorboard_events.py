"""TensorBoard event files beside the CSV metrics: `tensorboard --logdir runs/<experiment>`.

`RecordSinks` is what a training run logs into: the record's `MetricsWriter` (`metrics.csv`,
the record of truth) and a `TensorBoardWriter` on the same rows, its event files
(`events.out.tfevents.*`) in the record directory itself, so TensorBoard names each run by its
run id. Tags are namespaced as in CleanRL (`scalar_tag`): `charts/episodic_return`,
`charts/eval_return`, `losses/critic_loss`, `charts/updates_per_s`, ...; the run's config goes
in once as text (`config`). `write_fidelity_events` does the same for the rows of
`python -m workbench fidelity` (`fidelity/<metric>` against critic updates).

torch's `SummaryWriter` is imported when the first row is written, not before.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from workbench.records.run_record import MetricsWriter

__all__ = ["EVENT_GLOB", "RecordSinks", "TensorBoardWriter", "scalar_tag",
           "write_fidelity_events"]

EVENT_GLOB = "events.out.tfevents.*"
"""The names of TensorBoard's event files."""

_RENAMED = {
    "episode_return": "charts/episodic_return", "episode_length": "charts/episodic_length",
    "eval_return_mean": "charts/eval_return", "eval_return_std": "charts/eval_return_std",
    "updates_per_s": "charts/updates_per_s", "env_steps_per_s": "charts/env_steps_per_s",
    "episodes": "charts/episodes", "critic_value": "losses/critic_value",
}


def scalar_tag(key: str) -> str:
    """The TensorBoard tag of a metric-row key: `_RENAMED` (CleanRL's names), `losses/KEY` for
    a `*_loss`, `fidelity/REST` for a `fidelity_REST` (the critic's), `model_fidelity/REST`
    for a `model_REST` (the world model's, `dvg_core.analysis.model_fidelity`), else
    `charts/KEY`."""
    if key in _RENAMED:
        return _RENAMED[key]
    if key.endswith("_loss"):
        return f"losses/{key}"
    if key.startswith("fidelity_"):
        return f"fidelity/{key.removeprefix('fidelity_')}"
    if key.startswith("model_"):
        return f"model_fidelity/{key.removeprefix('model_')}"
    return f"charts/{key}"


def _number(value: Any) -> float | None:
    """A finite float, or None (empty cells, text, NaN and inf are not plotted)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class TensorBoardWriter:
    """Metric rows (`{"step", "kind", ...}`) as TensorBoard scalars in `log_dir`.

    Args:
      log_dir: the directory of the event files (created on the first write).
      config_text: written once as the text summary `config` (JSON, shown as code).
      purge_step: TensorBoard hides events of an earlier writer at steps >= this (a resumed run
        rewrites them); None for a fresh run.
    """

    def __init__(self, log_dir: str | Path, *, config_text: str | None = None,
                 purge_step: int | None = None) -> None:
        self.log_dir, self.config_text, self.purge_step = Path(log_dir), config_text, purge_step
        self._writer: Any = None

    def write(self, row: Mapping[str, Any]) -> None:
        """Add every finite number of `row` but `step` at `row["step"]`, and flush (rows are
        rare next to updates): a live TensorBoard shows them, and a killed run loses none."""
        if self._writer is None:
            self._open()
        step = int(row["step"])
        for key, value in row.items():
            number = _number(value)
            if key not in ("step", "kind") and number is not None:
                self._writer.add_scalar(scalar_tag(key), number, step)
        self._writer.flush()

    def _open(self) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._writer = SummaryWriter(str(self.log_dir), purge_step=self.purge_step)
        if self.config_text is not None:
            text = "\n".join(f"    {line}" for line in self.config_text.splitlines())
            self._writer.add_text("config", text, 0)  # indented: markdown code block

    def close(self) -> None:
        """Flush and close the event file (a later `write` opens a new one)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def clear(self) -> None:
        """Close, and delete this directory's event files (a fresh start)."""
        self.close()
        for path in self.log_dir.glob(EVENT_GLOB):
            path.unlink()


class RecordSinks:
    """The sinks of one record: `metrics.csv` and TensorBoard, behind `MetricsWriter`'s
    interface (`write`, `truncate_after`, `clear`), so a run logs to both through one callable.

    Args:
      metrics_path: the record's `metrics.csv`.
      config_text: the run's config as JSON, for TensorBoard's text tab.
    """

    def __init__(self, metrics_path: str | Path, config_text: str | None = None) -> None:
        self.csv = MetricsWriter(metrics_path)
        self.board = TensorBoardWriter(Path(metrics_path).parent, config_text=config_text)

    def write(self, row: Mapping[str, Any]) -> None:
        """Append `row` to the CSV, then to TensorBoard."""
        self.csv.write(row)
        self.board.write(row)

    def truncate_after(self, step: int) -> None:
        """Drop CSV rows after `step`; TensorBoard hides the old events after it."""
        self.csv.truncate_after(step)
        self.board.close()
        self.board.purge_step = step + 1

    def clear(self) -> None:
        """Delete the CSV and the event files."""
        self.csv.clear()
        self.board.clear()

    def close(self) -> None:
        """Flush and close the event file."""
        self.board.close()


def write_fidelity_events(rows: Iterable[Mapping[str, Any]], log_dir: str | Path) -> Path:
    """The rows of `workbench.fidelity.critic_grid.run_fidelity` as TensorBoard runs under `log_dir`
    (replaced): one run per setting, critic and seed,
    `N{n}-g{gamma}-noise{noise}/{algorithm}-{variant}[-{reference kind}]-s{seed}`, with
    `fidelity/<metric>` against critic updates. Returns `log_dir`."""
    from dvg_core.analysis.fidelity import FIDELITY_METRICS

    log_dir = Path(log_dir)
    shutil.rmtree(log_dir, ignore_errors=True)
    writers: dict[str, TensorBoardWriter] = {}
    for row in sorted(rows, key=lambda r: r["updates"]):
        kind = "" if row.get("kind", "critic") == "critic" else f"-{row['kind']}"
        name = (f"N{row['n_locations']}-g{row['gamma']:g}-noise{row['noise']:g}/"
                f"{row['algorithm']}-{row['variant']}{kind}-s{row['seed']}")
        if name not in writers:
            writers[name] = TensorBoardWriter(
                log_dir / name, config_text=json.dumps(
                    {k: row.get(k) for k in ("algorithm", "kind", "variant", "seed", "config",
                                             "n_locations", "gamma", "noise")}, indent=2))
        writers[name].write({"step": row["updates"], "kind": "fidelity",
                             **{f"fidelity_{m}": row.get(m) for m in FIDELITY_METRICS}})
    for writer in writers.values():
        writer.close()
    return log_dir
