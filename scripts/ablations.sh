#!/usr/bin/env bash
# Every ablation of `reproduce ablations --list` on dvg/PointMass-v1 at N = 3, 5 seeds, each a
# resumable grid under $RUN_ROOT/ablation-<name>/ with its report (rerun the same command after
# any interruption: finished cells are skipped), then the table of docs/lab/results.md, "Ablations".
#
#   scripts/ablations.sh                                   # about 1 h on 2 cores
#   WORLD_MODEL_ALGOS=mage,iqn,mmd,dsdpg_mmd,dsdpg_msmmd scripts/ablations.sh
#
# The world-model ablation runs dsdpg_msmmd alone unless WORLD_MODEL_ALGOS says otherwise (the
# other learners under the oracle and the cVAE are in the toy claim's tables).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_ROOT=${RUN_ROOT:-runs}
WORKERS=${WORKERS:-2}
SEEDS=${SEEDS:-5}
WORLD_MODEL_ALGOS=${WORLD_MODEL_ALGOS:-dsdpg_msmmd}
run() {
  .venv/bin/python -m workbench reproduce ablation "$@" --seeds "$SEEDS" --vectorize-seeds \
    --workers "$WORKERS" --run-root "$RUN_ROOT" --no-progress
}
for name in truncation msmmd-vs-mmd lambda samples bandwidth noise; do
  run "$name"
done
run world-model --algos "$WORLD_MODEL_ALGOS"
.venv/bin/python scripts/ablation_table.py "$RUN_ROOT"
