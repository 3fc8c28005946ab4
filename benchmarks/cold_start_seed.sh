#!/usr/bin/env bash
# The sample's cold-start model (benchmarks/cold_start.sh) trained again with another training seed on the same
# tokenizer (fitted without the same 5% of items), then evaluated on the test split three ways: the search's own lists
# (--new-item-place off); the gate's rules applied to those lists by benchmarks/cold_blend.py; and the default rules,
# whose per-user rows benchmarks/cold_seeds.py reads. How far apart trainings of one cold-start recipe are.
#   SEED=1 bash benchmarks/cold_start_seed.sh
#     -> benchmarks/results/cold_start_seed1_{train,withheld_search_only,withheld}.json, cold_blend_test_seed1.json
# Resumable: run the same command again (an evaluation is kept while it is of the model in the work folder).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
SEED=${SEED:-1}
COLD=(--cold-items 0.05 --cold-seed 0)
TOK=benchmarks/work/cold_start/tokenizer
WORK=benchmarks/work/cold_start_seed$SEED
log=benchmarks/logs/cold_start_seed$SEED.log
mkdir -p benchmarks/logs benchmarks/results "$WORK"
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
made() {  # FILE holds an evaluation of the model now in $WORK/llm (not one of an earlier training's)
  [ -s "$1" ] && PYTHONPATH=. $PY benchmarks/same_model.py "$1" "$WORK/llm"
}
[ -f "$TOK/manifest.json" ] || { echo "run benchmarks/cold_start.sh first: $TOK is missing" >&2; exit 1; }
say "python -m sidrec llm train sample_data --tokenizer $TOK --out $WORK/llm --resume --max-steps 1000 --eval-steps 50 --seed $SEED ${COLD[*]}"
$PY -m sidrec llm train sample_data --tokenizer "$TOK" --out "$WORK/llm" --resume --max-steps 1000 --eval-steps 50 \
  --seed "$SEED" "${COLD[@]}" --json 2>> "$log" | tail -1 > "benchmarks/results/cold_start_seed${SEED}_train.json.part"
mv "benchmarks/results/cold_start_seed${SEED}_train.json.part" "benchmarks/results/cold_start_seed${SEED}_train.json"
out=benchmarks/results/cold_start_seed${SEED}_withheld_search_only.json
if ! made "$out"; then  # the search's own lists; the default gate is applied to them by cold_blend.py below
  say "python -m sidrec evaluate $WORK/llm sample_data ${COLD[*]} --new-item-place off --baselines none --out $WORK/withheld_search_only.json"
  $PY -m sidrec evaluate "$WORK/llm" sample_data "${COLD[@]}" --new-item-place off --baselines none \
    --out "$WORK/withheld_search_only.json" --quiet --json 2>> "$log" | tail -1 > "$out.part" && mv "$out.part" "$out"
fi
say "python benchmarks/cold_blend.py sample_data --lists $WORK/withheld_search_only.json --split test ${COLD[*]}"
PYTHONPATH=. $PY benchmarks/cold_blend.py sample_data --lists "$WORK/withheld_search_only.json" --tokenizer "$TOK" \
  --split test "${COLD[@]}" --out "benchmarks/results/cold_blend_test_seed$SEED.json" 2>> "$log"
out=benchmarks/results/cold_start_seed${SEED}_withheld.json
if ! made "$out"; then  # the default rules, with per-user rows for benchmarks/cold_seeds.py
  say "python -m sidrec evaluate $WORK/llm sample_data ${COLD[*]} --baselines none --out $WORK/withheld.json"
  $PY -m sidrec evaluate "$WORK/llm" sample_data "${COLD[@]}" --baselines none --out "$WORK/withheld.json" \
    --quiet --json 2>> "$log" | tail -1 > "$out.part" && mv "$out.part" "$out"
fi
say "done"
