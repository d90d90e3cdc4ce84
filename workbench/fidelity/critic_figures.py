"""Figures of the fidelity benchmark: each metric against updates, and joint samples at a probe.

Inputs are the row dicts of `workbench.fidelity.critic_grid` (as loaded from its JSON); nothing here reads
files or displays anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dvg_core.analysis.fidelity import FIDELITY_METRICS
from workbench.fidelity.critic_tables import final_rows, row_label
from workbench.explorer.figures import joint_samples_vs_truth
from workbench.report.plots import ALGORITHM_COLORS

__all__ = ["REFERENCE_STYLES", "metric_curves", "probe_figures"]

REFERENCE_STYLES = {"exact_targets": ("#222222", "dash"), "regression": ("#999999", "dot")}
"""Colour and dash of the reference rows (critic rows: the algorithm's colour, solid; the paper
variant dash-dotted)."""


def _setting(row: dict[str, Any]) -> tuple:
    return (row["n_locations"], row["gamma"], row["noise"])


def _title(setting: tuple) -> str:
    n, gamma, noise = setting
    return f"N = {n}, γ = {gamma}, noise = {noise}"


def metric_curves(rows: Iterable[dict[str, Any]]) -> list[go.Figure]:
    """One figure per setting: a panel per metric, its seed mean against updates per critic (the
    exact values, 0 bias and spread ratio 1, drawn as lines)."""
    by_setting: dict[tuple, dict[str, dict[int, list[dict]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list)))
    for row in rows:
        by_setting[_setting(row)][row_label(row)][row["updates"]].append(row)
    figures = []
    for setting, by_label in sorted(by_setting.items()):
        figure = make_subplots(rows=2, cols=3, subplot_titles=list(FIDELITY_METRICS))
        for label, by_updates in by_label.items():
            updates = sorted(by_updates)
            first = next(iter(by_updates.values()))[0]
            color, dash = REFERENCE_STYLES.get(
                first["kind"], (ALGORITHM_COLORS.get(first["algorithm"], "#7f7f7f"),
                                "solid" if first["variant"] == "default" else "dashdot"))
            for i, metric in enumerate(FIDELITY_METRICS):
                values = [np.nanmean([r[metric] for r in by_updates[u]]) if any(
                    np.isfinite(r[metric]) for r in by_updates[u]) else np.nan for u in updates]
                figure.add_trace(go.Scatter(
                    x=updates, y=values, mode="lines+markers", name=label, legendgroup=label,
                    showlegend=i == 0, line={"color": color, "dash": dash}),
                    row=i // 3 + 1, col=i % 3 + 1)
        figure.add_hline(y=0.0, line={"color": "black", "width": 1}, row=1, col=1)
        figure.add_hline(y=1.0, line={"color": "black", "width": 1}, row=2, col=1)
        figure.update_xaxes(title_text="critic updates")
        figure.update_layout(title={"text": f"Critic fidelity against updates: {_title(setting)}"},
                             height=620, width=1000, margin={"t": 90})
        figures.append(figure)
    return figures


def probe_figures(rows: Iterable[dict[str, Any]]) -> list[go.Figure]:
    """Per setting and critic row (first seed), its joint samples beside the truth at the
    showcase probe, from each row's last checkpoint."""
    figures, seen = [], set()
    for row in sorted(final_rows(rows), key=lambda r: (_setting(r), row_label(r), r["seed"])):
        key = (_setting(row), row_label(row))
        if key in seen or "probe_samples" not in row:
            continue
        seen.add(key)
        samples, truth = np.asarray(row["probe_samples"]), np.asarray(row["probe_truth"])
        figures.append(joint_samples_vs_truth(
            samples, truth, mmd=row["mmd2"],
            title=f"{row_label(row)} after {row['updates']} updates<br>{_title(key[0])}, "
                  f"seed {row['seed']}, the probe with the widest true return"))
        figures[-1].update_layout(margin={"t": 130})
    return figures
