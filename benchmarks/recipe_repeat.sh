#!/usr/bin/env bash
# The demo recipe (benchmarks/train_demo.sh) again with another training seed, or with a subset of the tasks,
# evaluated on the same test split against the same baselines: how much of a result is the seed, and what each
# part of the recipe is worth.
#   SEED=1 bash benchmarks/recipe_repeat.sh                          -> benchmarks/results/evaluate_sample_seed1.json
#   SEED=0 TASKS=sequential MAX_STEPS=1000 bash benchmarks/recipe_repeat.sh  -> ..._seed0_sequential.json
#   SEED=0 TASKS=sequential,textual,query,negative bash benchmarks/recipe_repeat.sh
#       -> ..._seed0_sequential-textual-query-negative_919steps.json
# The full recipe is every task (TASKS in sidrec.tasks), the reference of the ablation table; without TASKS a run
# trains it, whatever the library's default (since 2026-12-06 every task but the negative one).
# With TASKS and no MAX_STEPS, the run is sized to equal epochs of next-item signal: the full recipe's 1,000 steps
# scaled by the variant's share of the task mix (TaskConfig.weights), so every variant sees the same number of
# next-item examples as the demo. Resumable: run the same command again. The per-user lists go to
# benchmarks/work/<run>/evaluation.json and their ranks to benchmarks/results/ranks_sample_<run>.json (paired
# comparisons); benchmarks/recipe_table.py gathers every run.
#   EARLY=6 stops after 6 validations (every 50 steps) without a better loss and keeps the best step;
#   SASREC=models/sample/sasrec compares against that SASRec, tuned on validation, instead of one trained in-run.
#   INIT=random (or mean) initialises the SID rows that way instead of SA-Init: the variant "full recipe, random init"
#   TRAIN_ARGS="--lora-dropout 0.1" TAG=dropout0.1 passes more training options; the run is named TAG_seed<S>...
#   TOK=text (unbalanced, rqvae) trains on a tokenizer that differs from the balanced one in one setting: the item text
#   alone instead of the fused embedding, residual k-means without the capacity limit, or RQ-VAE. It is fitted once
#   into benchmarks/work/tokenizer-<TOK>/ (the balanced tokenizer's settings otherwise) and shared by every seed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
SEED=${SEED:-1}
TASKS=${TASKS:-}
FULL_STEPS=1000
if [ -z "${MAX_STEPS:-}" ] && [ -n "$TASKS" ]; then
  MAX_STEPS=$($PY -c "
import sys
from sidrec.tasks import TaskConfig
w = dict(TaskConfig().weights)
print(round($FULL_STEPS * sum(w[t] for t in sys.argv[1].split(',')) / sum(w.values())))" "$TASKS")
fi
MAX_STEPS=${MAX_STEPS:-$FULL_STEPS}
INIT=${INIT:-}
TOK=${TOK:-}
name=seed$SEED${TASKS:+_${TASKS//,/-}}${INIT:+_init-$INIT}${TOK:+_tok-$TOK}
[ "$MAX_STEPS" != "$FULL_STEPS" ] && name=${name}_${MAX_STEPS}steps
[ -n "${TAG:-}" ] && name=${TAG}_$name  # not seed*: recipe_table.py gathers the recipe's own variants only
RUN=benchmarks/work/$name/llm
log=benchmarks/logs/${name}_sample.log
mkdir -p benchmarks/logs benchmarks/results "$(dirname "$RUN")"
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
# Every run without TOK trains on the balanced tokenizer the demo had until 2026-12-07 (fingerprint c38ee5e9ac5382cf),
# as every such row of the recipe table did; since then the demo's own tokenizer is the unbalanced one (TOK=unbalanced).
# It is taken from the repository as it was then, not fitted again (its keywords were described afterwards).
TOKENIZER=benchmarks/work/tokenizer-balanced
if [ -z "$TOK" ] && [ ! -f "$TOKENIZER/manifest.json" ]; then
  mkdir -p "$TOKENIZER.part" && git archive fdd1712 models/sample/tokenizer | tar -x -C "$TOKENIZER.part"
  mv "$TOKENIZER.part/models/sample/tokenizer" "$TOKENIZER" && rm -r "$TOKENIZER.part"
fi
if [ -z "$TOK" ] && [ "$($PY -m sidrec tokenizer show "$TOKENIZER" | sed -n 's/^fingerprint: //p')" != c38ee5e9ac5382cf ]; then
  echo "$TOKENIZER is not the balanced tokenizer of the recipe table's runs: move it away to restore it" >&2; exit 2
fi
if [ -n "$TOK" ]; then
  case $TOK in
    text) fit=(--embedding text) ;;
    unbalanced) fit=(--no-balanced) ;;
    rqvae) fit=(--method rq-vae --no-balanced) ;;
    *) echo "TOK is one of text, unbalanced, rqvae" >&2; exit 2 ;;
  esac
  TOKENIZER=benchmarks/work/tokenizer-$TOK
  if [ ! -f "$TOKENIZER/manifest.json" ]; then
    # the balanced tokenizer's settings (3 x 64 codes, behaviour weight 0.5, seed 0) but the one above
    say "python -m sidrec tokenizer fit sample_data --out $TOKENIZER --codebook-size 64 --behavior-weight 0.5 --seed 0 ${fit[*]}"
    $PY -m sidrec tokenizer fit sample_data --out "$TOKENIZER" --codebook-size 64 --behavior-weight 0.5 --seed 0 \
      "${fit[@]}" --quiet --json 2>> "$log" | tail -1 > "benchmarks/results/tokenizer_sample_tok-$TOK.json"
  fi
fi
FULL_TASKS=$($PY -c "from sidrec.tasks import TASKS; print(','.join(TASKS))")
extra=(--tasks "${TASKS:-$FULL_TASKS}")
[ -n "$INIT" ] && extra+=(--init "$INIT")
[ -n "${EARLY:-}" ] && extra+=(--early-stopping "$EARLY")
read -r -a more <<< "${TRAIN_ARGS:-}"
extra+=("${more[@]}")
against=(); [ -n "${SASREC:-}" ] && against=(--sasrec "$SASREC")
say "python -m sidrec llm train sample_data --tokenizer $TOKENIZER --out $RUN --resume --seed $SEED --max-steps $MAX_STEPS --eval-steps 50 ${extra[*]}"
$PY -m sidrec llm train sample_data --tokenizer "$TOKENIZER" --out "$RUN" --resume --seed "$SEED" \
  --max-steps "$MAX_STEPS" --eval-steps 50 "${extra[@]}" --json 2>> "$log" | tail -1 > "benchmarks/results/train_sample_$name.json.part"
mv "benchmarks/results/train_sample_$name.json.part" "benchmarks/results/train_sample_$name.json"  # never half-written
say "python -m sidrec evaluate $RUN sample_data --tokenizer $TOKENIZER --out $(dirname "$RUN")/evaluation.json ${against[*]}"
$PY -m sidrec evaluate "$RUN" sample_data --tokenizer "$TOKENIZER" --out "$(dirname "$RUN")/evaluation.json" \
  "${against[@]}" --quiet --json 2>> "$log" \
  | tail -1 > "benchmarks/results/evaluate_sample_$name.json.part"
mv "benchmarks/results/evaluate_sample_$name.json.part" "benchmarks/results/evaluate_sample_$name.json"
# the per-user ranks (small, versioned): recipe_table.py pairs the comparisons on them
PYTHONPATH=benchmarks $PY -c "import json, sys; from recipe_table import ranks_of
json.dump(ranks_of(json.load(open(sys.argv[1]))), open(sys.argv[2], 'w'))" \
  "$(dirname "$RUN")/evaluation.json" "benchmarks/results/ranks_sample_$name.json"
say "done"
