#!/usr/bin/env bash
# The paper's toy claim (issue 16): the six algorithms x N in {1, 3, 5, 8} x 5 seeds on
# dvg/PointMass-v1, once with the oracle world model and once with the cVAE, each as a resumable
# `reproduce toy` grid (records under $RUN_ROOT/claim-<model>-<steps>/toy; rerun the same command
# after any interruption and it continues from the records), then its report with the verdict.
#
#   STEPS=2000 MODELS="oracle cvae" WORKERS=2 scripts/toy_claim.sh
#
# ALGOS is the comma-separated algorithms (default: the paper's six; add dsdpg_complete for the
# seventh).
# STEPS is the env-step budget of every run (toy-quick's is 2000; UTD 2, 500 random warm-up steps).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-2000}
MODELS=${MODELS:-"oracle cvae"}
WORKERS=${WORKERS:-2}
RUN_ROOT=${RUN_ROOT:-runs}
ALGOS=${ALGOS:-td3,mage,iqn,mmd,dsdpg_mmd,dsdpg_msmmd}
for model in $MODELS; do
  .venv/bin/python -m workbench reproduce toy --n-locations 1,3,5,8 --seeds 5 --vectorize-seeds \
    --algos "$ALGOS" --workers "$WORKERS" --run-root "$RUN_ROOT/claim-$model-$STEPS" --no-progress \
    --set model="$model" --set loop.total_steps="$STEPS"
done
