"""What the world-model fidelity benchmark's rows (`workbench.fidelity.world_model_grid`) become:
a markdown table (mean over seeds), each model's draws beside the simulator's at the showcase
probe, and TensorBoard scalars."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.fidelity.world_model_grid import MODEL_VARIANTS, TABLE_METRICS

__all__ = ["format_model_table", "probe_figures", "write_model_fidelity_events"]


def probe_figures(rows: Sequence[dict[str, Any]]) -> list[Any]:
    """Per data set and setting (first seed): each model's draws of `(r, ∂r/∂a₁, ∂r/∂a₂)` beside
    the simulator's at the showcase probe, reward against each derivative."""
    import numpy as np
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figures: dict[tuple, Any] = {}
    first_seed = min((r["seed"] for r in rows), default=0)
    for row in rows:
        if row["seed"] != first_seed or "probe_draws" not in row or row["model"] == "oracle":
            continue
        key = (row["data"], row["n_locations"], row["noise"], row["model"])
        model, truth = np.asarray(row["probe_draws"]), np.asarray(row["probe_truth"])
        figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=[
            "r against ∂r/∂a₁", "r against ∂r/∂a₂"])
        for col in (1, 2):
            for name, x, color in (("simulator", truth, "black"), (row["model"], model,
                                                                    "#d62728")):
                figure.add_trace(go.Scatter(x=x[:, col], y=x[:, 0], mode="markers", name=name,
                                            legendgroup=name, showlegend=col == 1,
                                            marker={"size": 5, "color": color,
                                                    "opacity": 0.6}), row=1, col=col)
            figure.update_xaxes(title_text=f"∂r/∂a{'₁₂'[col - 1]}", row=1, col=col)
            figure.update_yaxes(title_text="r", row=1, col=col)
        s, a = row["probe_state"], row["probe_action"]
        figure.update_layout(
            title={"text": f"{row['model']} on {row['data']} data, N={row['n_locations']}, "
                           f"noise {row['noise']:g}: draws at s=({s[0]:.2f}, {s[1]:.2f}), "
                           f"a=({a[0]:.2f}, {a[1]:.2f})<br>reward-gradient error "
                           f"{row['reward_gradient_error']:.2f}, reward between modes "
                           f"{row['between_modes']:.0%} (the simulator's draws in black)"},
            height=420, width=940, margin={"t": 110})
        figures[key] = figure
    return [figures[k] for k in sorted(figures)]


def format_model_table(rows: Sequence[dict[str, Any]]) -> str:
    """A markdown table: one row per data set, setting and model (mean over seeds)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        key = (row["data"], row["n_locations"], row["noise"], row["model"])
        groups.setdefault(key, []).append(row)
    header = ["data", "N", "noise", "model", "seeds", *TABLE_METRICS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 4 + "---:|" * (len(header) - 4)]
    for (data, n, noise, model), group in sorted(groups.items(), key=lambda kv: (
            kv[0][0], kv[0][1], kv[0][2], list(MODEL_VARIANTS).index(kv[0][3])
            if kv[0][3] in MODEL_VARIANTS else 99)):
        values = [sum(r[m] for r in group) / len(group) for m in TABLE_METRICS]
        lines.append("| " + " | ".join([data, str(n), f"{noise:g}", model, str(len(group))]
                                       + [f"{v:.3g}" for v in values]) + " |")
    return "\n".join(lines)


def write_model_fidelity_events(rows: Sequence[dict[str, Any]], log_dir: str | Path) -> Path:
    """The rows as TensorBoard scalars under `log_dir` (replaced): one run per data set,
    setting and model, `model_fidelity/<metric>` at step = fit steps."""
    import shutil

    from workbench.records.tensorboard_events import TensorBoardWriter

    log_dir = Path(log_dir)
    shutil.rmtree(log_dir, ignore_errors=True)
    for row in rows:
        name = (f"{row['data']}/N{row['n_locations']}-noise{row['noise']:g}/"
                f"{row['model']}-s{row['seed']}")
        writer = TensorBoardWriter(log_dir / name)
        writer.write({"step": row["fit_steps"], **{f"model_{m}": row[m] for m in TABLE_METRICS}})
        writer.close()
    return log_dir
