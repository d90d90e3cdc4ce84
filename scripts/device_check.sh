#!/usr/bin/env bash
# The prepared GPU check (issue 30), meant to finish within 8 min on one H100 or H200:
#   1. the update benchmark at toy and MuJoCo sizes, stacked over S in {1, 5, 20} seeds;
#   2. one short toy grid on the device (two algorithms, two seeds, through papermill);
#   3. eager against compiled updates on the device (scripts/device_agreement.py).
# Every result goes under OUT (default runs/device-check): bench-*.json, the grid's records and
# report, agreement.txt, nvidia-smi.txt, and check.log with the times of each step.
#
#   bash scripts/device_check.sh                 # on the GPU machine, from the repository root
#   DEVICE=cpu QUICK=1 bash scripts/device_check.sh /tmp/dry   # a short dry run on a CPU
set -euo pipefail
out=${1:-${OUT:-runs/device-check}}
device=${DEVICE:-cuda}
py=${PYTHON:-.venv/bin/python}
quick=${QUICK:-0}
case "$device" in cpu|cuda|cuda:[0-9]*) ;; *) echo "DEVICE must be cpu, cuda or cuda:N, got '$device'" >&2; exit 2;; esac
test -x "$py" || { echo "PYTHON ($py) is not an executable: run make test once, or set PYTHON" >&2; exit 2; }
mkdir -p "$out"
log="$out/check.log"
step() { echo "$(date +%T) $*" | tee -a "$log"; }

(nvidia-smi || echo "no nvidia-smi") > "$out/nvidia-smi.txt" 2>&1

if [ "$quick" = 1 ]; then seeds_list="1 2"; repeats=1; steps=300; updates=5
else seeds_list="1 5 20"; repeats=5; steps=1000; updates=100; fi

step "1. bench, toy sizes (64-64, batch 64) and MuJoCo sizes, S in {$seeds_list}"
for s in $seeds_list; do
  "$py" -m workbench bench --problems toy --algos td3,mage,dsdpg_msmmd --hidden 64,64 \
      --batch-size 64 --device "$device" --seeds "$s" --repeats "$repeats" --env-steps 0 \
      --json "$out/bench-toy-s$s.json" >> "$log" 2>&1
  "$py" -m workbench bench --problems mujoco --algos td3,dsdpg_msmmd --device "$device" \
      --seeds "$s" --repeats "$repeats" --env-steps 0 --json "$out/bench-mujoco-s$s.json" \
      >> "$log" 2>&1
done
"$py" -m workbench bench --problems toy --algos dsdpg_msmmd --hidden 64,64 --batch-size 64 \
    --device "$device" --compile --repeats "$repeats" --env-steps 0 \
    --json "$out/bench-toy-compiled.json" >> "$log" 2>&1

step "2. a short toy grid on $device"
"$py" -m workbench reproduce toy --algos td3,dsdpg_msmmd --n-locations 1 --seeds 2 \
    --vectorize-seeds --device "$device" --set loop.total_steps="$steps" --no-progress \
    --run-root "$out/grid" >> "$log" 2>&1

step "3. eager against compiled on $device"
"$py" scripts/device_agreement.py --device "$device" --updates "$updates" \
    | tee "$out/agreement.txt" | tee -a "$log"

step "done"
