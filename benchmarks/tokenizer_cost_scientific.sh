#!/usr/bin/env bash
# What a tokenizer setting costs the recommender on Scientific (8,317 users, 4,344 items): the default tokenizer
# changed by FIT_ARGS, and the recipe of `TAG=scientific_decay MAX_STEPS=1700 bash benchmarks/run_scientific.sh`
# (1,700 steps, the learning rate decayed to zero) trained on it. Evaluated on the first USERS validation users,
# the scientific_decay model too in the same run, and on every test user; the scientific_decay model's test
# evaluation (benchmarks/work/scientific_decay/evaluation.json) is the reference the test run is paired with. Both
# are searched against the same tuned SASRec (the grid's winner in benchmarks/work/scientific_decay/sasrec).
# Resumable: run it again (the training continues from its last checkpoint; finished steps are skipped).
#   NAME=scientific_w0.3 FIT_ARGS="--behavior-weight 0.3" bash benchmarks/tokenizer_cost_scientific.sh
#   BUDGET=3000 NAME=... FIT_ARGS=... bash benchmarks/tokenizer_cost_scientific.sh   # stop the training after 3,000 s
# -> benchmarks/results/NAME_{tokenizer,placement,train,valid_run,valid_reference,test}.json, log
# benchmarks/logs/NAME.log; the per-user lists (for benchmarks/paired.py) in benchmarks/work/NAME/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
D=../shared/data/scientific
: "${NAME:?NAME names the run}" "${FIT_ARGS:?FIT_ARGS are the tokenizer fit options that differ from the default}"
MAX_STEPS=${MAX_STEPS:-1700}
BUDGET=${BUDGET:-0}
USERS=${USERS:-2000}
REFERENCE=benchmarks/work/scientific_decay
WORK=benchmarks/work/$NAME
log=benchmarks/logs/$NAME.log
read -r -a fit <<< "$FIT_ARGS"
mkdir -p benchmarks/logs benchmarks/results "$WORK"
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
say "machine: $($PY -c 'from sidrec.device import describe; print(describe("cpu"))')"
for need in "$REFERENCE/llm/manifest.json" "$REFERENCE/sasrec/manifest.json" "$REFERENCE/evaluation.json"; do
  [ -f "$need" ] || { echo "missing $need: run TAG=scientific_decay MAX_STEPS=1700 USERS=0 bash benchmarks/run_scientific.sh first" >&2; exit 2; }
done
if [ ! -f "$WORK/tokenizer/manifest.json" ]; then
  # --behavior-weight 0.5: the weight of the recorded runs (the default until 2026-12-06, 0.3 since)
  say "python -m sidrec tokenizer fit $D --out $WORK/tokenizer --behavior-weight 0.5 $FIT_ARGS"
  $PY -m sidrec tokenizer fit "$D" --out "$WORK/tokenizer" --behavior-weight 0.5 "${fit[@]}" --quiet --json \
    2>> "$log" | tail -1 > "benchmarks/results/${NAME}_tokenizer.json"
  say "python benchmarks/placement.py $D $WORK/tokenizer --k 10"
  PYTHONPATH=. $PY benchmarks/placement.py "$D" "$WORK/tokenizer" --k 10 \
    --out "benchmarks/results/${NAME}_placement.json" >> "$log" 2>&1
fi
say "python -m sidrec llm train $D --tokenizer $WORK/tokenizer --out $WORK/llm --resume --max-steps $MAX_STEPS --eval-steps 100 --time-budget $BUDGET"
$PY -m sidrec llm train "$D" --tokenizer "$WORK/tokenizer" --out "$WORK/llm" --resume --max-steps "$MAX_STEPS" \
  --eval-steps 100 --time-budget "$BUDGET" --json 2>> "$log" | tail -1 > "benchmarks/results/${NAME}_train.json"
steps=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['steps'])" "$WORK/llm/manifest.json")
if [ "$steps" -lt "$MAX_STEPS" ]; then
  say "stopped at step $steps of $MAX_STEPS (time budget): run the script again to continue"
  exit 0
fi
for model in "$WORK/llm:run" "$REFERENCE/llm:reference"; do
  dir=${model%%:*} name=${model##*:}
  if [ ! -s "$WORK/valid_$name.json" ]; then
    say "python -m sidrec evaluate $dir $D --split valid --max-users $USERS --sasrec $REFERENCE/sasrec"
    $PY -m sidrec evaluate "$dir" "$D" --split valid --max-users "$USERS" --sasrec "$REFERENCE/sasrec" \
      --out "$WORK/valid_$name.json" --quiet --json 2>> "$log" | tail -1 > "benchmarks/results/${NAME}_valid_$name.json"
  fi
done
if [ ! -s "$WORK/test.json" ]; then
  say "python -m sidrec evaluate $WORK/llm $D --max-users 0 --sasrec $REFERENCE/sasrec"
  $PY -m sidrec evaluate "$WORK/llm" "$D" --max-users 0 --sasrec "$REFERENCE/sasrec" --out "$WORK/test.json" --quiet \
    --json 2>> "$log" | tail -1 > "benchmarks/results/${NAME}_test.json"
fi
for split in valid test; do
  a=$WORK/test.json b=$REFERENCE/evaluation.json
  [ "$split" = valid ] && a=$WORK/valid_run.json b=$WORK/valid_reference.json
  PYTHONPATH=.:benchmarks $PY benchmarks/paired.py "$a" "$b" --out "benchmarks/results/paired_${NAME}_$split.json" >> "$log"
done
say "done"
