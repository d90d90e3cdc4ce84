"""Issue 14's lever scan: one fidelity setting, one seed, several critic configurations.

Each lever is a label and a set of `AlgorithmConfig` fields (JSON); every row is trained by policy
evaluation (`dvg_core.analysis.fidelity_runs.evaluate_critic`) and printed as `mean error / gradient error
/ bias / spread ratio / energy` after each 1000 updates.

Usage, from the repo root:
  .venv/bin/python scripts/fidelity_levers.py [N GAMMA NOISE UPDATES] [--levers JSON]
Without --levers it runs the issue-14 scan (the table of docs/lab/fidelity.md, "How the defaults were
chosen"), at N = 5, γ = 0.9, noise 0, 4000 updates, seed 0.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from dvg_core.agents import PAPER_SETTINGS, AlgorithmConfig, SlicingConfig
from dvg_core.analysis.fidelity import FidelitySetting
from dvg_core.analysis.fidelity_runs import evaluate_critic, make_probe

PAPER = dict(PAPER_SETTINGS)
LEVERS = [
    ("td3", {"name": "td3"}),
    ("mage", {"name": "mage"}),
    ("iqn, paper (truncation 0.1)", {"name": "iqn", "truncate": 0.1}),
    ("iqn, default", {"name": "iqn"}),
    ("dsdpg_mmd, paper = old defaults", {"name": "dsdpg_mmd", **PAPER}),
    ("  + truncation off", {"name": "dsdpg_mmd", **PAPER, "truncate": 0.0}),
    ("  + U-statistic", {"name": "dsdpg_mmd", **PAPER, "truncate": 0.0, "unbiased": True}),
    ("  + U-statistic, ReLU", {"name": "dsdpg_mmd", **PAPER, "truncate": 0.0, "unbiased": True,
                               "critic_activation": "relu"}),
    ("  + U-statistic, ReLU, λ = 10", {"name": "dsdpg_mmd", **PAPER, "truncate": 0.0,
                                       "unbiased": True, "critic_activation": "relu",
                                       "lam": 10.0}),
    ("  + U-statistic, ReLU, ξ-dim 1", {"name": "dsdpg_mmd", **PAPER, "truncate": 0.0,
                                        "unbiased": True, "critic_activation": "relu",
                                        "xi_dim": 1}),
    ("  + truncation off, quantile ξ (V-statistic)", {"name": "dsdpg_mmd", **PAPER,
                                                      "truncate": 0.0,
                                                      "critic_noise": "quantile"}),
    ("  + all three (U-statistic, quantile ξ, truncation off)",
     {"name": "dsdpg_mmd", "bandwidth": 100.0}),
    ("  + h = 10: dsdpg_mmd, default", {"name": "dsdpg_mmd"}),
    ("dsdpg_msmmd, paper = old defaults", {"name": "dsdpg_msmmd", **PAPER}),
    ("dsdpg_msmmd, all three, h = 100", {"name": "dsdpg_msmmd", "bandwidth": 100.0}),
    ("dsdpg_msmmd, all three, h = 1", {"name": "dsdpg_msmmd", "bandwidth": 1.0}),
    ("dsdpg_msmmd, default (h = 10)", {"name": "dsdpg_msmmd"}),
    ("mmd, paper = old defaults", {"name": "mmd", **PAPER}),
    ("mmd, all three, h = 100", {"name": "mmd", "bandwidth": 100.0}),
]


def make_config(gamma: float, fields: dict) -> AlgorithmConfig:
    """The lever's `AlgorithmConfig` (64-64 networks unless it sets `hidden`); a `slicing` dict
    becomes a `SlicingConfig`."""
    if isinstance(fields.get("slicing"), dict):
        fields = {**fields, "slicing": SlicingConfig(**fields["slicing"])}
    fields = {"hidden": (64, 64), **fields}
    return AlgorithmConfig(gamma=gamma, **{**fields, "hidden": tuple(fields["hidden"])})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("setting", nargs="*", default=["5", "0.9", "0", "4000"])
    parser.add_argument("--levers", type=str, default=None,
                        help='JSON list of [label, {field: value}] pairs')
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n, gamma, noise, updates = (int(args.setting[0]), float(args.setting[1]),
                                float(args.setting[2]), int(args.setting[3]))
    levers = LEVERS if args.levers is None else [tuple(x) for x in json.loads(args.levers)]
    torch.set_num_threads(1)
    probe = make_probe(FidelitySetting(n, gamma, noise))
    checkpoints = tuple(range(1000, updates + 1, 1000))
    print(f"N = {n}, γ = {gamma}, noise = {noise}, seed {args.seed}; each cell: mean error / "
          "gradient error / bias / spread ratio / energy\n")
    print("| lever | " + " | ".join(f"{u} updates" for u in checkpoints) + " | s |")
    print("|---|" + "---|" * (len(checkpoints) + 1))
    for label, fields in levers:
        config = make_config(gamma, fields)
        start = time.perf_counter()
        rows = evaluate_critic(config, probe, seed=args.seed, checkpoints=checkpoints)
        cells = [f"{r['mean_error']:.2f} / {r['gradient_error']:.2f} / {r['mean_bias']:+.2f} / "
                 f"{r['spread_ratio']:.2f} / {r['energy']:.2f}" for r in rows]
        print(f"| {label} | " + " | ".join(cells) + f" | {time.perf_counter() - start:.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
