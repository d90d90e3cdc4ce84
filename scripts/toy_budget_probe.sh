#!/usr/bin/env bash
# Issue 5, what a 2-core CPU can afford of the toy experiment: the six algorithms on
# dvg/PointMass-v0 at N = 5 with the oracle world model (critic error only, no model error),
# `toy-quick` settings (64-64 networks, batch 64, UTD 2) but 10k env steps instead of 2k
# (200 episodes instead of 40; 19k updates per run), seeds trained seed-vectorised, one worker.
# Does a 5x budget lift the learners out of the wall optimum, and does DSDPG lead at N = 5?
# Usage, from the repo root:  scripts/toy_budget_probe.sh [SEEDS] [N_LOCATIONS] [ALGOS]
#   (default 3 seeds, N = 5, all six algorithms)
# Records and report.html go to runs-budget/toy/; a re-run resumes and skips finished cells.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
.venv/bin/python -m workbench reproduce toy --seeds "${1:-3}" --n-locations "${2:-5}" \
  --algos "${3:-td3,mage,iqn,mmd,dsdpg_mmd,dsdpg_msmmd}" --set model=oracle --set steps=10000 \
  --workers 1 --vectorize-seeds --run-root runs-budget --no-progress
