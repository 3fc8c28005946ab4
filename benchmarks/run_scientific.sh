#!/usr/bin/env bash
# The default recipe on ../shared/data/scientific (8,317 users, 4,344 items) against SASRec and popularity.
# On a 2-core CPU the LLM trains under a time budget; a second run with --resume continues it (the learning-rate
# schedule is set by MAX_STEPS, the same in every run). The validation loss is logged every 100 steps with the
# training seconds and next-item targets seen, so the log says how many epochs the model has reached.
#   bash benchmarks/run_scientific.sh            # tokenizer, training (budgeted), evaluation
#   bash benchmarks/run_scientific.sh --resume   # continue the training, then evaluate again
#   USERS=0 bash benchmarks/run_scientific.sh --resume   # evaluate every test user (about 35 min on 2 cores)
#   TRAIN=0 USERS=0 bash benchmarks/run_scientific.sh    # evaluate the model as it is
# SASRec is tuned once on validation within a grid (`sidrec sasrec`, hidden size x dropout;
# benchmarks/results/scientific_sasrec_grid.json) and every evaluation uses the winner (--sasrec).
# Models go to benchmarks/scientific/ (not versioned); logs and results are.
#   SASREC_ARGS="--hidden 128 --dropout 0.5" trains only the grid's recorded winner (a fresh machine, grid known)
#   TAG=scientific_decay names another run: its models in benchmarks/work/TAG/, its log and results TAG_*
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
D=../shared/data/scientific
TAG=${TAG:-scientific}
OUT=benchmarks/scientific
[ "$TAG" != scientific ] && OUT=benchmarks/work/$TAG
MAX_STEPS=${MAX_STEPS:-3000}
BUDGET=${BUDGET:-1500}
USERS=${USERS:-1000}
TRAIN=${TRAIN:-1}
PY=.venv/bin/python
mkdir -p benchmarks/results benchmarks/logs "$OUT"
log=benchmarks/logs/$TAG.log
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
say "machine: $($PY -c 'from sidrec.device import describe; print(describe("cpu"))')"
if [ ! -f "$OUT/tokenizer/manifest.json" ]; then
  # --behavior-weight 0.5: the weight of the recorded runs (the default until 2026-12-06, 0.3 since)
  say "python -m sidrec tokenizer fit $D --out $OUT/tokenizer --behavior-weight 0.5"
  $PY -m sidrec tokenizer fit "$D" --out "$OUT/tokenizer" --behavior-weight 0.5 --json 2>> "$log" | tail -1 > "benchmarks/results/${TAG}_tokenizer.json"
fi
if [ ! -f "$OUT/sasrec/manifest.json" ]; then
  # window length fixed at 20: only 4.4% of the users have more than 11 training items, so 10 against 20 is moot
  say "python -m sidrec sasrec $D --out $OUT/sasrec --max-len 20 ${SASREC_ARGS:-}"
  # shellcheck disable=SC2086
  $PY -m sidrec sasrec "$D" --out "$OUT/sasrec" --max-len 20 ${SASREC_ARGS:-} --json 2>> "$log" \
    | tail -1 > "benchmarks/results/${TAG}_sasrec_grid.json"
fi
if [ "$TRAIN" = 1 ]; then
  say "python -m sidrec llm train $D --tokenizer $OUT/tokenizer --out $OUT/llm --max-steps $MAX_STEPS --eval-steps 100 --time-budget $BUDGET $*"
  $PY -m sidrec llm train "$D" --tokenizer "$OUT/tokenizer" --out "$OUT/llm" --max-steps "$MAX_STEPS" --eval-steps 100 \
    --time-budget "$BUDGET" --json "$@" 2>> "$log" | tail -1 > "benchmarks/results/${TAG}_train.json"
fi
say "python -m sidrec evaluate $OUT/llm $D --max-users $USERS --sasrec $OUT/sasrec --out $OUT/evaluation.json"
$PY -m sidrec evaluate "$OUT/llm" "$D" --max-users "$USERS" --sasrec "$OUT/sasrec" --out "$OUT/evaluation.json" \
  --quiet --json \
  2>> "$log" | tail -1 > "benchmarks/results/${TAG}_evaluate.json"
