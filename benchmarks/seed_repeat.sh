#!/usr/bin/env bash
# The demo recipe (benchmarks/train_demo.sh) again with another training seed, evaluated on the same test split
# against the same baselines: how much of a result is the seed.
#   SEED=1 bash benchmarks/seed_repeat.sh   -> benchmarks/results/evaluate_sample_seed1.json (resumable)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
SEED=${SEED:-1}
MAX_STEPS=${MAX_STEPS:-1000}
RUN=benchmarks/work/seed$SEED/llm
log=benchmarks/logs/seed${SEED}_sample.log
mkdir -p benchmarks/logs benchmarks/results "$(dirname "$RUN")"
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
say "python -m sidrec llm train sample_data --tokenizer models/sample/tokenizer --out $RUN --resume --seed $SEED --max-steps $MAX_STEPS --eval-steps 50"
$PY -m sidrec llm train sample_data --tokenizer models/sample/tokenizer --out "$RUN" --resume --seed "$SEED" \
  --max-steps "$MAX_STEPS" --eval-steps 50 --json 2>> "$log" | tail -1 > "benchmarks/results/train_sample_seed$SEED.json"
say "python -m sidrec evaluate $RUN sample_data --tokenizer models/sample/tokenizer"
$PY -m sidrec evaluate "$RUN" sample_data --tokenizer models/sample/tokenizer --quiet --json 2>> "$log" \
  | tail -1 > "benchmarks/results/evaluate_sample_seed$SEED.json"
say "done"
