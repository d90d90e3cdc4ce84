"""A variant's fidelity against the defaults': the acceptance criteria (docs/concepts/fidelity.md) of one
algorithm's variant rows beside its default rows, on the same seeds, each judged against the same
committed reference critics (td3, mage, iqn), and the four metrics per setting.

    .venv/bin/python -m workbench fidelity --algos dsdpg_msmmd --variants lean-targets \\
        --no-references --seeds 1 --json runs/lean/fidelity.json
    .venv/bin/python scripts/variant_criteria.py runs/lean/fidelity.json dsdpg_msmmd lean-targets

The default rows are the committed ones (docs/results/fidelity.json), restricted to the seeds the
variant was run with.
"""

from __future__ import annotations

import argparse

from workbench.fidelity.critic_grid import load_rows
from workbench.fidelity.critic_tables import criteria, final_rows, format_criteria_summary

COMMITTED = "docs/results/fidelity.json"
METRICS = ("mean_error", "gradient_error", "spread_ratio", "energy")


def _as_default(row: dict) -> dict:
    return {**row, "variant": "default"}


def _summary_of(algorithm: str, rows: list[dict]) -> str:
    """`format_criteria_summary` of `algorithm`'s criteria: its header and its own line."""
    lines = format_criteria_summary([c for c in criteria(rows) if c["algorithm"] == algorithm])
    return "\n".join(line for i, line in enumerate(lines.splitlines())
                     if i < 2 or line.startswith(f"| {algorithm} |"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant_json")
    parser.add_argument("algorithm")
    parser.add_argument("variant")
    parser.add_argument("--defaults", default=COMMITTED, help=f"default rows (default {COMMITTED})")
    args = parser.parse_args()
    variant_rows = [r for r in load_rows(args.variant_json)
                    if r["algorithm"] == args.algorithm and r["variant"] == args.variant
                    and r["kind"] == "critic"]
    if not variant_rows:
        raise SystemExit(f"{args.variant_json}: no {args.algorithm} rows of variant {args.variant}")
    seeds = {r["seed"] for r in variant_rows}
    defaults = [r for r in load_rows(args.defaults)
                if r["variant"] == "default" and r["kind"] == "critic" and r["seed"] in seeds]
    others = [r for r in defaults if r["algorithm"] != args.algorithm]
    mine = [r for r in defaults if r["algorithm"] == args.algorithm]
    print(f"seeds {sorted(seeds)}; {args.algorithm}, default:\n")
    print(_summary_of(args.algorithm, others + mine))
    print(f"\n{args.algorithm}, {args.variant}:\n")
    print(_summary_of(args.algorithm, others + [_as_default(r) for r in variant_rows]))
    print(f"\nper setting, mean over seeds at the last update: default → {args.variant}\n")
    print("| N | γ | noise | " + " | ".join(METRICS) + " |")
    print("|---|---|---|" + "---|" * len(METRICS))
    finals = {"default": final_rows(mine), args.variant: final_rows(variant_rows)}
    settings = sorted({(r["n_locations"], r["gamma"], r["noise"]) for r in finals[args.variant]})
    for setting in settings:
        cells = []
        for metric in METRICS:
            means = []
            for rows in finals.values():
                values = [r[metric] for r in rows
                          if (r["n_locations"], r["gamma"], r["noise"]) == setting]
                means.append(sum(values) / len(values) if values else float("nan"))
            cells.append(f"{means[0]:.2f} → {means[1]:.2f}")
        print(f"| {setting[0]} | {setting[1]} | {setting[2]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
