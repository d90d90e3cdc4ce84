"""The training rows' accumulators: per-seed sums of the update and model-fit diagnostics
between two training rows, averaged into a row, saved and restored per seed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["MetricSums"]


class MetricSums:
    """Sums `[S]` of every diagnostic since the last training row, and their counts.

    Args:
      n_seeds: S.
      device: where the sums live (the updates' device: no host sync per update).
    """

    def __init__(self, n_seeds: int, device: torch.device) -> None:
        self.n_seeds, self.device = n_seeds, device
        self.reset()

    def reset(self) -> None:
        """Start a new row."""
        self.sums: dict[str, torch.Tensor] = {}
        """Metric sums `[S]` since the last training row."""
        self.counts: dict[str, int] = {}
        """How many updates reported each summed metric since the last training row."""
        self.n_summed = 0
        """Updates summed."""
        self.fit_count = 0
        """Model fits summed (`model_loss`, the last step of each fit)."""

    def _add(self, key: str, value: torch.Tensor) -> None:
        self.sums[key] = self.sums.get(key, torch.zeros(self.n_seeds, device=self.device)) + value

    def add_updates(self, infos: Sequence[dict[str, torch.Tensor]]) -> None:
        """Add the diagnostics `{key: [S]}` of consecutive updates (`actor_loss` appears in every
        `policy_delay`-th only, and is averaged over those)."""
        for info in infos:
            for key, value in info.items():
                self._add(key, value)
                self.counts[key] = self.counts.get(key, 0) + 1
        self.n_summed += len(infos)

    def add_model_loss(self, loss: torch.Tensor) -> None:
        """Add one model fit's last `loss [S]`."""
        self._add("model_loss", loss)
        self.fit_count += 1

    def rows(self) -> list[dict[str, float]]:
        """Each seed's averages since the last row (one host sync for all)."""
        sums = {k: v.tolist() for k, v in self.sums.items()}
        rows: list[dict[str, float]] = []
        for k in range(self.n_seeds):
            row: dict[str, float] = {}
            if self.n_summed:
                row |= {key: v[k] / self.counts[key] for key, v in sums.items()
                        if key != "model_loss"}
            if "model_loss" in sums:
                row["model_loss"] = sums["model_loss"][k] / max(self.fit_count, 1)
            rows.append(row)
        return rows

    def seed_state_dict(self, seed_index: int) -> dict[str, Any]:
        """Seed `seed_index`'s `sums` and the shared `counters` (`n_summed`, `fit_count`,
        `metric_counts`): a part of a checkpoint's `counters` and its `sums`."""
        return {"counters": {"n_summed": self.n_summed, "fit_count": self.fit_count,
                             "metric_counts": dict(self.counts)},
                "sums": {key: v[seed_index].clone() for key, v in self.sums.items()}}

    def load_seed_state_dicts(self, states: Sequence[dict[str, Any]]) -> None:
        """Restore every seed from its `seed_state_dict` (or a checkpoint holding it; one per
        seed, in order)."""
        counters = states[0]["counters"]
        self.n_summed, self.fit_count = counters["n_summed"], counters["fit_count"]
        self.counts = dict(counters["metric_counts"])
        self.sums = {key: torch.stack([s["sums"][key] for s in states])
                     for key in states[0]["sums"]}
