#!/usr/bin/env bash
# The demo checkpoint: the default recipe (full-sequence next-item training, SA-Init, the default tasks: every task
# but the negative one since 2026-12-06) on sample_data for MAX_STEPS steps with training seed SEED, the learning
# rate decaying linearly to zero at the last step, with the validation loss logged every 50 steps for the curve (no
# early stopping: the schedule ends the run). Then it is evaluated on the test split against the tuned SASRec
# (models/sample/sasrec) and popularity, cached, and evaluated again with the report split by the cold-start draw
# (the reference the Evaluate page sets models/sample/cold_start.json against); the demo artifacts are swapped into
# models/sample/ together at the end.
#   bash benchmarks/train_demo.sh            # first run (or continue an interrupted one: it resumes)
#   RUN=benchmarks/work/seed2_sequential-textual-query-ts_align/llm bash benchmarks/train_demo.sh
#       # ships a run of benchmarks/recipe_repeat.sh as it is, reusing its test evaluation (same model fingerprint)
#   TOKENIZER=benchmarks/work/tokenizer-unbalanced RUN=benchmarks/work/seed0_..._tok-unbalanced/llm bash ...
#       # a run on another tokenizer: that tokenizer replaces models/sample/tokenizer in the same swap
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
MAX_STEPS=${MAX_STEPS:-1000}
SEED=${SEED:-0}
RUN=${RUN:-benchmarks/work/decay/llm}
DEMO_TOKENIZER=models/sample/tokenizer
TOKENIZER=${TOKENIZER:-$DEMO_TOKENIZER}
[ -f "$TOKENIZER/manifest.json" ] || { echo "no tokenizer in $TOKENIZER" >&2; exit 2; }
STAGE=benchmarks/work/demo
log=benchmarks/logs/demo_llm_train.log
mkdir -p benchmarks/logs benchmarks/results "$STAGE"
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
done_steps=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['steps'])" \
  "$RUN/manifest.json" 2>/dev/null || echo 0)
if [ "$done_steps" -lt "$MAX_STEPS" ]; then
  say "python -m sidrec llm train sample_data --tokenizer $TOKENIZER --out $RUN --resume --seed $SEED --max-steps $MAX_STEPS --eval-steps 50"
  $PY -m sidrec llm train sample_data --tokenizer "$TOKENIZER" --out "$RUN" --resume --seed "$SEED" \
    --max-steps "$MAX_STEPS" --eval-steps 50 --json 2>> "$log" | tail -1 > benchmarks/results/demo_train.json
else
  say "shipping $RUN as trained ($done_steps steps)"
  python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['metrics']))" "$RUN/manifest.json" \
    > benchmarks/results/demo_train.json
fi
rm -rf "$STAGE/llm" && cp -r "$RUN" "$STAGE/llm"
# recipe_repeat.sh's test evaluation of this very model (same fingerprint, same tuned SASRec), if there is one
run_name=$(basename "$(dirname "$RUN")")
if [ -s "benchmarks/results/evaluate_sample_$run_name.json" ] && PYTHONPATH=. $PY benchmarks/same_model.py \
  "$(dirname "$RUN")/evaluation.json" "$STAGE/llm" --split test --tuned-sasrec; then
  say "reusing $(dirname "$RUN")/evaluation.json (the same model, the tuned SASRec)"
  cp "$(dirname "$RUN")/evaluation.json" "$STAGE/evaluation.json"
  cp "benchmarks/results/evaluate_sample_$run_name.json" benchmarks/results/evaluate_sample.json
else
  say "python -m sidrec evaluate $STAGE/llm sample_data --sasrec models/sample/sasrec --out $STAGE/evaluation.json"
  $PY -m sidrec evaluate "$STAGE/llm" sample_data --tokenizer "$TOKENIZER" --sasrec models/sample/sasrec \
    --out "$STAGE/evaluation.json" --quiet --json 2>> "$log" | tail -1 > benchmarks/results/evaluate_sample.json
fi
say "python -m sidrec cache build $STAGE/llm sample_data --out $STAGE/cache.sqlite"
rm -f "$STAGE/cache.sqlite"
$PY -m sidrec cache build "$STAGE/llm" sample_data --tokenizer "$TOKENIZER" --out "$STAGE/cache.sqlite" \
  --quiet --json 2>> "$log" | tail -1 > benchmarks/results/cache_build.json
PYTHONPATH=. $PY benchmarks/cache_repeats.py "$STAGE/cache.sqlite" sample_data \
  --out benchmarks/results/cache_repeats_sample.json > /dev/null  # the history rule, checked on every cached slot
COLD=(--cold-items 0.05 --cold-seed 0)  # benchmarks/cold_start.sh's draw
say "python -m sidrec evaluate $STAGE/llm sample_data ${COLD[*]} --cold-trained-on-all --out $STAGE/cold_start_reference_lists.json"
$PY -m sidrec evaluate "$STAGE/llm" sample_data --tokenizer "$TOKENIZER" "${COLD[@]}" --cold-trained-on-all \
  --out "$STAGE/cold_start_reference_lists.json" --quiet --json 2>> "$log" | tail -1 > "$STAGE/cold_start_reference.json"
rm -rf models/sample/llm.new && cp -r "$STAGE/llm" models/sample/llm.new
python3 - <<'PY'
import json, os
m = json.load(open("models/sample/llm.new/manifest.json"))
m["tokenizer_dir"] = "../tokenizer"  # the demo's tokenizer, relative to the model folder
json.dump(m, open("models/sample/llm.new/manifest.json", "w"), indent=1)
PY
swap_in() {  # folder $1.new replaces folder $1, never leaving $1 half-written
  rm -rf "$1.old" && mv "$1" "$1.old" && mv "$1.new" "$1" && rm -rf "$1.old"
}
if [ "$TOKENIZER" != "$DEMO_TOKENIZER" ]; then  # the model's own tokenizer comes with it
  rm -rf "$DEMO_TOKENIZER.new" && cp -r "$TOKENIZER" "$DEMO_TOKENIZER.new"
  swap_in "$DEMO_TOKENIZER"
fi
swap_in models/sample/llm
cp "$STAGE/evaluation.json" models/sample/evaluation.json && cp "$STAGE/cache.sqlite" models/sample/cache.sqlite
cp "$STAGE/cold_start_reference.json" benchmarks/results/cold_start_reference.json
cp "$STAGE/cold_start_reference.json" models/sample/cold_start_reference.json
say "demo artifacts replaced"
