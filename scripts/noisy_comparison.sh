#!/usr/bin/env bash
# Issue 8, "then the method": td3, mage, dsdpg_msmmd on HalfCheetah-v5 with observation noise
# U[0.8, 1.2], at a 2-core CPU budget: 25k env steps (5k random), UTD 1, 64-64 networks and
# world model, batch 64, M = M' = 8, max-slicing with 2 ascent steps and no extra restart,
# evaluation every 2.5k steps over 5 episodes. Usage, from the repo root:
#   scripts/noisy_comparison.sh [SEED ...]     (default: 0 1 2)
# Records go to runs/halfcheetah-obs-noise/.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
seeds=("$@"); [ ${#seeds[@]} -eq 0 ] && seeds=(0 1 2)
for seed in "${seeds[@]}"; do
  for algo in td3 mage dsdpg_msmmd; do
    .venv/bin/python -m workbench train --preset mujoco-100k --algo $algo --env HalfCheetah-v5 \
      --seed "$seed" --set noise=obs --set steps=25000 --set loop.warmup_steps=5000 \
      --set algorithm.hidden=64,64 --set model.hidden=64,64 --set loop.batch_size=64 \
      --set samples=8 --set algorithm.n_target_samples=8 --set algorithm.slicing_steps=2 \
      --set algorithm.slicing_restarts=0 --set loop.eval_every=2500 --set loop.eval_episodes=5 \
      --set loop.checkpoint_every=5000 --experiment halfcheetah-obs-noise --no-progress
  done
done
