#!/usr/bin/env bash
# The demo checkpoint: the default recipe (full-sequence next-item training, SA-Init, the default tasks: every task
# but the negative one since 2026-12-06; the shipped demo was trained with all five, level with the four) on
# sample_data for MAX_STEPS steps, the learning rate decaying linearly to zero at the last step, with the
# validation loss logged every 50 steps for the curve (no early stopping: the schedule ends the run). Then it is
# evaluated on the test split against SASRec and popularity and cached; the three demo artifacts are swapped
# into models/sample/ together at the end.
#   bash benchmarks/train_demo.sh            # first run (or continue an interrupted one: it resumes)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
MAX_STEPS=${MAX_STEPS:-1000}
RUN=${RUN:-benchmarks/work/decay/llm}
STAGE=benchmarks/work/demo
log=benchmarks/logs/demo_llm_train.log
mkdir -p benchmarks/logs benchmarks/results "$STAGE"
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
done_steps=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['steps'])" \
  "$RUN/manifest.json" 2>/dev/null || echo 0)
if [ "$done_steps" -lt "$MAX_STEPS" ]; then
  say "python -m sidrec llm train sample_data --tokenizer models/sample/tokenizer --out $RUN --resume --max-steps $MAX_STEPS --eval-steps 50"
  $PY -m sidrec llm train sample_data --tokenizer models/sample/tokenizer --out "$RUN" --resume \
    --max-steps "$MAX_STEPS" --eval-steps 50 --json 2>> "$log" | tail -1 > benchmarks/results/demo_train.json
else
  python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['metrics']))" "$RUN/manifest.json" \
    > benchmarks/results/demo_train.json
fi
rm -rf "$STAGE/llm" && cp -r "$RUN" "$STAGE/llm"
say "python -m sidrec evaluate $STAGE/llm sample_data --out $STAGE/evaluation.json"
$PY -m sidrec evaluate "$STAGE/llm" sample_data --tokenizer models/sample/tokenizer --out "$STAGE/evaluation.json" \
  --quiet --json 2>> "$log" | tail -1 > benchmarks/results/evaluate_sample.json
say "python -m sidrec cache build $STAGE/llm sample_data --out $STAGE/cache.sqlite"
rm -f "$STAGE/cache.sqlite"
$PY -m sidrec cache build "$STAGE/llm" sample_data --tokenizer models/sample/tokenizer --out "$STAGE/cache.sqlite" \
  --quiet --json 2>> "$log" | tail -1 > benchmarks/results/cache_build.json
rm -rf models/sample/llm.new && cp -r "$STAGE/llm" models/sample/llm.new
python3 - <<'PY'
import json, os
m = json.load(open("models/sample/llm.new/manifest.json"))
m["tokenizer_dir"] = "../tokenizer"  # the demo's tokenizer, relative to the model folder
json.dump(m, open("models/sample/llm.new/manifest.json", "w"), indent=1)
PY
rm -rf models/sample/llm.old && mv models/sample/llm models/sample/llm.old && mv models/sample/llm.new models/sample/llm
cp "$STAGE/evaluation.json" models/sample/evaluation.json && cp "$STAGE/cache.sqlite" models/sample/cache.sqlite
rm -rf models/sample/llm.old
say "demo artifacts replaced"
