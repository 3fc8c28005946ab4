#!/usr/bin/env bash
# Does a tokenizer whose first level the text decides (`tokenizer fit --first-level text`) cost the recommender
# anything? The demo's tokenizer settings and recipe (1,000 steps, seed 0, the learning rate decayed to zero) on a
# tokenizer fitted with --first-level text, evaluated against the same tuned SASRec as the demo, on the validation
# split (the first USERS users; the demo too, in the same run: where a default is chosen) and on the test split
# (every user; the demo's own test evaluation is models/sample/evaluation.json). Resumable: run it again.
#   bash benchmarks/first_level_text.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
USERS=${USERS:-1000}
WORK=benchmarks/work/first_text
log=benchmarks/logs/first_level_text_sample.log
mkdir -p benchmarks/logs benchmarks/results "$WORK"
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
if [ ! -f "$WORK/sample/manifest.json" ]; then
  say "python -m sidrec tokenizer fit sample_data --out $WORK/sample --codebook-size 64 --first-level text"
  $PY -m sidrec tokenizer fit sample_data --out "$WORK/sample" --codebook-size 64 --first-level text --quiet --json \
    2>> "$log" | tail -1 > benchmarks/results/first_level_text_tokenizer.json
fi
say "python -m sidrec llm train sample_data --tokenizer $WORK/sample --out $WORK/llm --resume --max-steps 1000 --eval-steps 50"
$PY -m sidrec llm train sample_data --tokenizer "$WORK/sample" --out "$WORK/llm" --resume --max-steps 1000 \
  --eval-steps 50 --json 2>> "$log" | tail -1 > benchmarks/results/first_level_text_train.json
for model in "$WORK/llm:first_text" "models/sample/llm:demo"; do
  dir=${model%%:*} name=${model##*:}
  say "python -m sidrec evaluate $dir sample_data --split valid --max-users $USERS --sasrec models/sample/sasrec"
  $PY -m sidrec evaluate "$dir" sample_data --split valid --max-users "$USERS" --sasrec models/sample/sasrec \
    --out "$WORK/valid_$name.json" --quiet --json 2>> "$log" | tail -1 > "benchmarks/results/first_level_text_valid_$name.json"
done
say "python -m sidrec evaluate $WORK/llm sample_data --sasrec models/sample/sasrec"
$PY -m sidrec evaluate "$WORK/llm" sample_data --sasrec models/sample/sasrec --out "$WORK/test.json" --quiet --json \
  2>> "$log" | tail -1 > benchmarks/results/first_level_text_test.json
say "done"
