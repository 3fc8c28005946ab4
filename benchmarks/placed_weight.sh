#!/usr/bin/env bash
# The placed items' weight (GenerateConfig.placed_weight) compared on both validation splits by
# benchmarks/cold_rules.py, with the cold-start models of benchmarks/cold_start.sh and cold_start_scientific.sh, and the
# demo (trained on every item) evaluated on the sample's validation split by the same draw. Resumable: a result file
# already written is kept.
#   bash benchmarks/placed_weight.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
RULES=(occupied/cell occupied/cell@0.3 occupied/cell@0.1 occupied/cell@0.01)
log=benchmarks/logs/placed_weight.log
mkdir -p benchmarks/logs benchmarks/results
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
out=benchmarks/results/cold_reference_valid_sample.json
if [ ! -s "$out" ]; then
  say "python -m sidrec evaluate models/sample/llm sample_data --split valid --cold-items 0.05 --cold-seed 0 --cold-trained-on-all --baselines none"
  $PY -m sidrec evaluate models/sample/llm sample_data --split valid --cold-items 0.05 --cold-seed 0 \
    --cold-trained-on-all --baselines none --quiet --json 2>> "$log" | tail -1 > "$out.part" && mv "$out.part" "$out"
fi
out=benchmarks/results/cold_rules_weight_sample.json
if [ ! -s "$out" ]; then
  say "python benchmarks/cold_rules.py benchmarks/work/cold_start/llm sample_data --split valid --rules ${RULES[*]} --warm-users 100000"
  PYTHONPATH=. $PY benchmarks/cold_rules.py benchmarks/work/cold_start/llm sample_data --split valid \
    --rules "${RULES[@]}" --warm-users 100000 --out "$out" 2>> "$log" > /dev/null
fi
out=benchmarks/results/cold_rules_weight_scientific.json
if [ ! -s "$out" ]; then
  say "python benchmarks/cold_rules.py benchmarks/work/cold_start_scientific/llm ../shared/data/scientific --split valid --rules ${RULES[*]} --warm-users 1000"
  PYTHONPATH=. $PY benchmarks/cold_rules.py benchmarks/work/cold_start_scientific/llm ../shared/data/scientific \
    --tokenizer benchmarks/work/cold_start_scientific/tokenizer --split valid --rules "${RULES[@]}" --warm-users 1000 \
    --out "$out" 2>> "$log" > /dev/null
fi
say "done"
