#!/usr/bin/env bash
# The sample's cold-start model (benchmarks/cold_start.sh) trained again with another training seed on the same
# tokenizer (fitted without the same 5% of items), then evaluated on the test split with the default rules and
# with the search's own lists (--new-item-place off): how far apart two trainings of one cold-start recipe are.
#   SEED=1 bash benchmarks/cold_start_seed.sh   -> benchmarks/results/cold_start_seed1_{train,withheld}.json
# Resumable: run the same command again.
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
[ -f "$TOK/manifest.json" ] || { echo "run benchmarks/cold_start.sh first: $TOK is missing" >&2; exit 1; }
say "python -m sidrec llm train sample_data --tokenizer $TOK --out $WORK/llm --resume --max-steps 1000 --eval-steps 50 --seed $SEED ${COLD[*]}"
$PY -m sidrec llm train sample_data --tokenizer "$TOK" --out "$WORK/llm" --resume --max-steps 1000 --eval-steps 50 \
  --seed "$SEED" "${COLD[@]}" --json 2>> "$log" | tail -1 > "benchmarks/results/cold_start_seed${SEED}_train.json.part"
mv "benchmarks/results/cold_start_seed${SEED}_train.json.part" "benchmarks/results/cold_start_seed${SEED}_train.json"
for place in gated off; do
  out=benchmarks/results/cold_start_seed${SEED}_withheld_$place.json
  [ -s "$out" ] && continue
  say "python -m sidrec evaluate $WORK/llm sample_data ${COLD[*]} --new-item-place $place --out $WORK/withheld_$place.json"
  $PY -m sidrec evaluate "$WORK/llm" sample_data "${COLD[@]}" --new-item-place "$place" --baselines none \
    --out "$WORK/withheld_$place.json" --quiet --json 2>> "$log" | tail -1 > "$out.part" && mv "$out.part" "$out"
done
say "done"
