#!/usr/bin/env bash
# The cold-start protocol on Scientific (8,317 users, 4,344 items; sidrec.coldstart): 5% of the items (draw 0) withheld
# from the tokenizer, the behaviour embeddings, the LLM and SASRec. The default tokenizer, and the recipe of
# `TAG=scientific_decay MAX_STEPS=1700 bash benchmarks/run_scientific.sh` (1,700 steps, the learning rate decayed to
# zero); SASRec is the Scientific grid's winner (hidden 128, dropout 0.5, window 20) trained without the withheld
# items. Then every test user, cold and warm targets reported apart (SID-LLM, SASRec, popularity, text similarity),
# and the reference: the scientific_decay model, trained on every item, with its report split by the same draw (the
# SID-LLM only: the warm figures are compared with it).
# Resumable: run it again (the training continues from its last checkpoint; finished steps are skipped).
#   bash benchmarks/cold_start_scientific.sh
#   BUDGET=3000 bash benchmarks/cold_start_scientific.sh   # stop the training after 3,000 s (then run it again)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
D=../shared/data/scientific
FRACTION=${FRACTION:-0.05}
COLD=(--cold-items "$FRACTION" --cold-seed 0)
MAX_STEPS=${MAX_STEPS:-1700}
BUDGET=${BUDGET:-0}
WORK=benchmarks/work/cold_start_scientific
REFERENCE=benchmarks/work/scientific_decay
log=benchmarks/logs/cold_start_scientific.log
mkdir -p benchmarks/logs benchmarks/results "$WORK"
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
say "machine: $($PY -c 'from sidrec.device import describe; print(describe())')"
if [ ! -f "$WORK/tokenizer/manifest.json" ]; then
  # --behavior-weight 0.5: the weight of the recorded runs (the default until 2026-12-06, 0.3 since)
  say "python -m sidrec tokenizer fit $D --out $WORK/tokenizer --behavior-weight 0.5 ${COLD[*]}"
  $PY -m sidrec tokenizer fit "$D" --out "$WORK/tokenizer" --behavior-weight 0.5 "${COLD[@]}" --quiet --json \
    2>> "$log" | tail -1 > benchmarks/results/cold_start_scientific_tokenizer.json
fi
say "python -m sidrec llm train $D --tokenizer $WORK/tokenizer --out $WORK/llm --resume --max-steps $MAX_STEPS --eval-steps 100 --time-budget $BUDGET ${COLD[*]}"
$PY -m sidrec llm train "$D" --tokenizer "$WORK/tokenizer" --out "$WORK/llm" --resume --max-steps "$MAX_STEPS" \
  --eval-steps 100 --time-budget "$BUDGET" "${COLD[@]}" --json 2>> "$log" \
  | tail -1 > benchmarks/results/cold_start_scientific_train.json
steps=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['steps'])" "$WORK/llm/manifest.json")
if [ "$steps" -lt "$MAX_STEPS" ]; then
  say "stopped at step $steps of $MAX_STEPS (time budget): run the script again to continue"
  exit 0
fi
if [ ! -f "$WORK/sasrec/manifest.json" ]; then
  say "python -m sidrec sasrec $D --out $WORK/sasrec --hidden 128 --dropout 0.5 --max-len 20 ${COLD[*]}"
  $PY -m sidrec sasrec "$D" --out "$WORK/sasrec" --hidden 128 --dropout 0.5 --max-len 20 "${COLD[@]}" --quiet --json \
    2>> "$log" | tail -1 > benchmarks/results/cold_start_scientific_sasrec.json
fi
say "python -m sidrec evaluate $WORK/llm $D ${COLD[*]} --sasrec $WORK/sasrec --out $WORK/withheld.json"
$PY -m sidrec evaluate "$WORK/llm" "$D" "${COLD[@]}" --sasrec "$WORK/sasrec" --out "$WORK/withheld.json" --quiet --json \
  2>> "$log" | tail -1 > benchmarks/results/cold_start_scientific_withheld.json
if [ ! -s benchmarks/results/cold_start_scientific_reference.json ]; then
  say "python -m sidrec evaluate $REFERENCE/llm $D ${COLD[*]} --cold-trained-on-all --baselines none --out $WORK/reference.json"
  $PY -m sidrec evaluate "$REFERENCE/llm" "$D" --tokenizer "$REFERENCE/tokenizer" "${COLD[@]}" --cold-trained-on-all \
    --baselines none --out "$WORK/reference.json" --quiet --json 2>> "$log" \
    | tail -1 > benchmarks/results/cold_start_scientific_reference.json
fi
say "done"
