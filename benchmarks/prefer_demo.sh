#!/usr/bin/env bash
# The preference stage (python -m sidrec llm prefer) on the demo model, then its validation and test rankings paired
# against the demo's on the same users.
#   bash benchmarks/prefer_demo.sh                          -> benchmarks/results/prefer_{train,valid,test}.json
#   NAME=prefer_lr1e-4 PREFER_ARGS="--lr 1e-4" bash benchmarks/prefer_demo.sh
# The rule, fixed before the first run: the stage joins the recipe (and the demo is replaced) if on the first 1,000
# validation users it gains more than one paired standard error on both Recall@10 and NDCG@10 over the demo; the
# test split is read afterwards and reported whatever it says. The stage's own validation is the split's last 200
# users, disjoint from those 1,000.
# Steps already done (their result files exist) are skipped: run the same command again to continue.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
NAME=${NAME:-prefer}
RUN=benchmarks/work/$NAME/llm
log=benchmarks/logs/${NAME}_sample.log
R=benchmarks/results
mkdir -p benchmarks/logs "$R" "$(dirname "$RUN")"
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
read -r -a more <<< "${PREFER_ARGS:-}"
if [ ! -s "$R/${NAME}_train.json" ]; then
  say "python -m sidrec llm prefer models/sample/llm sample_data --out $RUN ${more[*]}"
  $PY -m sidrec llm prefer models/sample/llm sample_data --out "$RUN" "${more[@]}" --json 2>> "$log" \
    | tail -1 > "$R/${NAME}_train.json"
fi
for split in valid test; do
  users=(); [ "$split" = valid ] && users=(--max-users 1000)
  demo=benchmarks/work/$NAME/demo_$split.json
  if [ ! -s "$R/${NAME}_$split.json" ]; then
    say "python -m sidrec evaluate $RUN sample_data --split $split ${users[*]} --sasrec models/sample/sasrec"
    $PY -m sidrec evaluate "$RUN" sample_data --split "$split" "${users[@]}" --sasrec models/sample/sasrec \
      --out "benchmarks/work/$NAME/$split.json" --quiet --json 2>> "$log" | tail -1 > "$R/${NAME}_$split.json"
  fi
  if [ ! -s "$demo" ]; then  # the demo's own lists for the same users, for the paired difference
    say "python -m sidrec evaluate models/sample/llm sample_data --split $split ${users[*]} --baselines none"
    $PY -m sidrec evaluate models/sample/llm sample_data --split "$split" "${users[@]}" --baselines none \
      --out "$demo" --quiet --json 2>> "$log" > /dev/null
  fi
  PYTHONPATH=.:benchmarks $PY benchmarks/paired.py "benchmarks/work/$NAME/$split.json" "$demo" \
    --out "$R/paired_${NAME}_$split.json" >> "$log"
  [ "$split" = valid ] && [ "${VALID_ONLY:-}" = 1 ] && break
done
say "done"
