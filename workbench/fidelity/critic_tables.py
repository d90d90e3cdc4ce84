"""Tables and acceptance criteria of the fidelity benchmark's rows (`workbench.fidelity.critic_grid`).

Inputs are the row dicts `run_fidelity` returns (or `load_rows` reads); outputs are markdown.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from dvg_core.analysis.fidelity import FIDELITY_METRICS

__all__ = [
    "CRITERIA",
    "criteria",
    "final_rows",
    "format_criteria",
    "format_criteria_summary",
    "format_table",
    "row_label",
    "series_key",
]


def series_key(row: dict[str, Any]) -> tuple:
    """What names a row series within a setting: `(algorithm, kind, variant, seed)`."""
    return (row["algorithm"], row["kind"], row["variant"], row["seed"])


def row_label(row: dict[str, Any]) -> str:
    """A row's name in tables and legends: algorithm, [reference kind], (variant)."""
    label = row["algorithm"]
    if row["kind"] != "critic":
        label += f" [{row['kind'].replace('_', ' ')}]"
    if row["variant"] != "default":
        label += f" ({row['variant']})"
    return label


def _summary(values: Sequence[float]) -> str:
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return "—"
    mean = sum(finite) / len(finite)
    if len(finite) == 1:
        return f"{mean:.2f}"
    sd = math.sqrt(sum((v - mean) ** 2 for v in finite) / (len(finite) - 1))
    return f"{mean:.2f} ± {sd / math.sqrt(len(finite)):.2f}"


def final_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each (setting, algorithm, kind, variant, seed)'s row at its largest update count."""
    best: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = (row["n_locations"], row["gamma"], row["noise"], *series_key(row))
        if key not in best or row["updates"] > best[key]["updates"]:
            best[key] = row
    return list(best.values())


def format_table(rows: Iterable[dict[str, Any]]) -> str:
    """Markdown: one table per setting, one line per row label, mean ± s.e. over seeds."""
    groups: dict[tuple, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in final_rows(rows):
        groups[(row["n_locations"], row["gamma"], row["noise"])][row_label(row)].append(row)
    header = ("| critic | updates | " + " | ".join(FIDELITY_METRICS) + " | s/row |\n|---|---|"
              + "---|" * (len(FIDELITY_METRICS) + 1))
    lines = []
    for (n, gamma, noise), by_label in sorted(groups.items()):
        lines += [f"\n**N = {n}, γ = {gamma}, noise = {noise}**\n", header]
        for label, group in by_label.items():
            cells = [_summary([r[m] for r in group]) for m in FIDELITY_METRICS]
            seconds = sum(r["seconds"] for r in group) / len(group)
            lines.append(f"| {label} | {group[0]['updates']} | " + " | ".join(cells)
                         + f" | {seconds:.0f} |")
    return "\n".join(lines).lstrip("\n")


CRITERIA: dict[str, tuple[str, ...]] = {
    "dsdpg_msmmd": ("mean", "spread", "energy", "gradient"),
    "dsdpg_complete": ("mean", "spread", "energy", "gradient"),
    "dsdpg_mmd": ("mean", "spread", "energy", "gradient"),
    "mmd": ("mean", "spread"),
    "iqn": ("mean",),
}
"""Which acceptance criteria each critic must meet (see `criteria`)."""


def criteria(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The acceptance criteria of the default critics, per setting (means over seeds, last update).

    * `mean`: mean error ≤ 1.2 × td3's;
    * `spread`: spread ratio in [0.7, 1.3] (skipped where the truth is a point mass);
    * `energy`: joint energy ≤ iqn's;
    * `gradient`: mean-gradient error ≤ min(td3's, mage's).

    Returns:
      one dict per (setting, algorithm, criterion): `setting`, `algorithm`, `criterion`,
      `value`, `bound` (text) and `passed` (None where undefined or a comparison row is missing).
    """
    means: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in final_rows(rows):
        if row["kind"] == "critic" and row["variant"] == "default":
            key = ((row["n_locations"], row["gamma"], row["noise"]), row["algorithm"])
            for metric in FIDELITY_METRICS:
                means[key][metric].append(row[metric])

    def mean_of(setting, algorithm, metric) -> float | None:
        values = means.get((setting, algorithm), {}).get(metric)
        return None if not values else sum(values) / len(values)

    results = []
    for setting, algorithm in sorted(means):
        for criterion in CRITERIA.get(algorithm, ()):
            bound, value, passed = "", None, None
            if criterion == "mean":
                value, ref = mean_of(setting, algorithm, "mean_error"), mean_of(setting, "td3", "mean_error")
                bound = "—" if ref is None else f"≤ {1.2 * ref:.2f} (1.2 × td3)"
                passed = None if ref is None else value <= 1.2 * ref
            elif criterion == "spread":
                value, bound = mean_of(setting, algorithm, "spread_ratio"), "in [0.7, 1.3]"
                passed = None if math.isnan(value) else 0.7 <= value <= 1.3
            elif criterion == "energy":
                value, ref = mean_of(setting, algorithm, "energy"), mean_of(setting, "iqn", "energy")
                bound = "—" if ref is None else f"≤ {ref:.2f} (iqn)"
                passed = None if ref is None else value <= ref
            else:
                value = mean_of(setting, algorithm, "gradient_error")
                refs = [r for r in (mean_of(setting, "td3", "gradient_error"),
                                    mean_of(setting, "mage", "gradient_error")) if r is not None]
                bound = "—" if len(refs) < 2 else f"≤ {min(refs):.2f} (min td3, mage)"
                passed = None if len(refs) < 2 else value <= min(refs)
            results.append({"setting": setting, "algorithm": algorithm, "criterion": criterion,
                            "value": value, "bound": bound, "passed": passed})
    return results


def format_criteria(results: Sequence[dict[str, Any]]) -> str:
    """Markdown table of `criteria`, with a pass count."""
    marks = {True: "pass", False: "**FAIL**", None: "n/a"}
    lines = ["| N | γ | noise | critic | criterion | value | bound | |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        n, gamma, noise = r["setting"]
        value = "—" if r["value"] is None or math.isnan(r["value"]) else f"{r['value']:.2f}"
        lines.append(f"| {n} | {gamma} | {noise} | {r['algorithm']} | {r['criterion']} | "
                     f"{value} | {r['bound']} | {marks[r['passed']]} |")
    decided = [r for r in results if r["passed"] is not None]
    passed = sum(bool(r["passed"]) for r in decided)
    lines.append(f"\n{passed} of {len(decided)} decided criteria pass.")
    return "\n".join(lines)


def format_criteria_summary(results: Sequence[dict[str, Any]]) -> str:
    """Markdown: per critic and criterion, how many settings pass (of those decided)."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        if r["passed"] is not None:
            counts[(r["algorithm"], r["criterion"])][0] += bool(r["passed"])
            counts[(r["algorithm"], r["criterion"])][1] += 1
    criteria_names = ("mean", "spread", "energy", "gradient")
    lines = ["| critic | " + " | ".join(criteria_names) + " |", "|---|---|---|---|---|"]
    for algorithm, names in CRITERIA.items():
        cells = [f"{counts[(algorithm, c)][0]} / {counts[(algorithm, c)][1]}"
                 if c in names and counts[(algorithm, c)][1] else "—" for c in criteria_names]
        lines.append(f"| {algorithm} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
