#!/usr/bin/env bash
# TD3 base validation (issue 8): td3 on Hopper-v5 and HalfCheetah-v5, noise-free, 100k env steps,
# TD3's own settings (mujoco-100k without observation normalisation), random warm-up 1k (Hopper)
# or 10k (HalfCheetah) as in the TD3 paper. Usage, from the repo root:
#   scripts/td3_validation.sh [ENV SEED ...]     (default: both tasks, seeds 0 1 2)
# Records go to runs/td3-validation/; a re-run skips done runs and resumes interrupted ones.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(Hopper-v5 0 HalfCheetah-v5 0 Hopper-v5 1 HalfCheetah-v5 1 Hopper-v5 2 HalfCheetah-v5 2)
set -- "${args[@]}"
while [ $# -ge 2 ]; do
  env=$1; seed=$2; shift 2
  warm=10000; [ "$env" = Hopper-v5 ] && warm=1000
  .venv/bin/python -m workbench train --preset mujoco-100k --algo td3 --env "$env" --seed "$seed" \
    --set loop.warmup_steps=$warm --set algorithm.normalize_obs=false \
    --experiment td3-validation --no-progress
done
