"""Issue 17 item 3: the toy explorer's response time and its MMD to the truth, cold and warm.

1. Seconds from a λ slider release to redrawn figures in `workbench.explorer.toy_explorer.ToyExplorer` at its
   defaults (one torch thread), warm starts (`warm_updates`) and cold starts (`n_updates`)
   alternated in one process, so the ratio holds on a loaded machine; the load is printed.
2. Joint MMD² to the Monte-Carlo truth at the probe after each move from the defaults' critic:
   a cold start at the new settings beside a warm start from the defaults' critic.

Usage, from the repo root:  .venv/bin/python scripts/explore_response.py [ROUNDS] [ALGORITHM]
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time

import torch

from workbench.explorer.exploration import ExploreSettings, explore, warm_start
from workbench.explorer.toy_explorer import ToyExplorer

MOVES = {"λ = 2": {"lam": 2.0}, "λ = 0": {"lam": 0.0}, "γ = 0.7": {"gamma": 0.7},
         "N = 4": {"n_locations": 4}, "σ = 0.1": {"noise": 0.1}, "M = 20": {"n_samples": 20},
         "h = 10": {"bandwidth": 10.0}, "probe (0.85, 0.3)": {"probe": (0.85, 0.3)},
         "probe (0.4, 0.0)": {"probe": (0.4, 0.0)}}
"""Moves from the defaults; each keeps the critic and the probe's training window (warm)."""


def response_times(settings: ExploreSettings, rounds: int) -> None:
    """Print seconds per λ release, warm and cold alternated, and the load around them."""
    explorer = ToyExplorer(settings)
    seconds: dict[bool, list[float]] = {True: [], False: []}
    print(f"load before {os.getloadavg()}")
    for i in range(rounds):
        for warm in (True, False):
            explorer.warm.value = warm
            begin = time.perf_counter()
            explorer.controls["lam"].value = round(0.5 + (0.3 * (2 * i + warm)) % 2.0, 2)
            seconds[warm].append(time.perf_counter() - begin)
    print(f"load after {os.getloadavg()}")
    cold = sum(seconds[False]) / rounds
    for warm, found in seconds.items():
        mean = sum(found) / rounds
        print(f"{'warm' if warm else 'cold'}: {mean:.2f} s per release "
              f"({', '.join(f'{s:.2f}' for s in found)}), ratio to cold {mean / cold:.3f}")


def mmd_table(settings: ExploreSettings) -> None:
    """Print cold and warm joint MMD² at the probe for each of `MOVES`."""
    first = explore(settings)
    print(f"| move | cold ({settings.n_updates}) | warm ({settings.warm_updates}) |\n|---|---|---|")
    print(f"| none (the defaults) | {first.mmd:.4f} | |")
    for name, change in MOVES.items():
        moved = dataclasses.replace(settings, **change)
        start = warm_start(first, moved)
        assert start is not None, name
        print(f"| {name} | {explore(moved).mmd:.4f} | {explore(moved, start=start).mmd:.4f} |")


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    torch.set_num_threads(1)
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    settings = ExploreSettings(algorithm=sys.argv[2] if len(sys.argv) > 2 else "dsdpg_msmmd")
    response_times(settings, rounds)
    mmd_table(settings)
