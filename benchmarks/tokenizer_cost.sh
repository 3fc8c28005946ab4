#!/usr/bin/env bash
# What a tokenizer setting costs the recommender: the demo's tokenizer settings changed by FIT_ARGS, and the demo's
# recipe (1,000 steps, seed 0, the learning rate decayed to zero) trained on that tokenizer, evaluated against the
# same tuned SASRec as the demo, on the validation split (the first USERS users; the demo too, in the same run:
# where a default is chosen) and on the test split (every user; the demo's own test evaluation is
# models/sample/evaluation.json). Resumable: run it again.
#   NAME=first_level_text FIT_ARGS="--first-level text" bash benchmarks/tokenizer_cost.sh
#   NAME=behavior_weight_0.3 FIT_ARGS="--behavior-weight 0.3" bash benchmarks/tokenizer_cost.sh
# -> benchmarks/results/NAME_{tokenizer,train,valid_run,valid_demo,test}.json, log benchmarks/logs/NAME_sample.log;
# the per-user lists (for benchmarks/paired.py) in benchmarks/work/NAME/{valid_run,valid_demo,test}.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
: "${NAME:?NAME names the run}" "${FIT_ARGS:?FIT_ARGS are the tokenizer fit options that differ from the demo}"
USERS=${USERS:-1000}
WORK=benchmarks/work/$NAME
log=benchmarks/logs/${NAME}_sample.log
read -r -a fit <<< "$FIT_ARGS"
mkdir -p benchmarks/logs benchmarks/results "$WORK"
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
if [ ! -f "$WORK/tokenizer/manifest.json" ]; then
  # --behavior-weight 0.5: the weight of the recorded runs (the default until 2026-12-06, 0.3 since)
  say "python -m sidrec tokenizer fit sample_data --out $WORK/tokenizer --codebook-size 64 --behavior-weight 0.5 $FIT_ARGS"
  $PY -m sidrec tokenizer fit sample_data --out "$WORK/tokenizer" --codebook-size 64 --behavior-weight 0.5 "${fit[@]}" --quiet --json \
    2>> "$log" | tail -1 > "benchmarks/results/${NAME}_tokenizer.json"
fi
say "python -m sidrec llm train sample_data --tokenizer $WORK/tokenizer --out $WORK/llm --resume --max-steps 1000 --eval-steps 50"
$PY -m sidrec llm train sample_data --tokenizer "$WORK/tokenizer" --out "$WORK/llm" --resume --max-steps 1000 \
  --eval-steps 50 --json 2>> "$log" | tail -1 > "benchmarks/results/${NAME}_train.json"
for model in "$WORK/llm:run" "models/sample/llm:demo"; do
  dir=${model%%:*} name=${model##*:}
  say "python -m sidrec evaluate $dir sample_data --split valid --max-users $USERS --sasrec models/sample/sasrec"
  $PY -m sidrec evaluate "$dir" sample_data --split valid --max-users "$USERS" --sasrec models/sample/sasrec \
    --out "$WORK/valid_$name.json" --quiet --json 2>> "$log" | tail -1 > "benchmarks/results/${NAME}_valid_$name.json"
done
say "python -m sidrec evaluate $WORK/llm sample_data --sasrec models/sample/sasrec"
$PY -m sidrec evaluate "$WORK/llm" sample_data --sasrec models/sample/sasrec --out "$WORK/test.json" --quiet --json \
  2>> "$log" | tail -1 > "benchmarks/results/${NAME}_test.json"
say "done"
