#!/usr/bin/env bash
# The sample_data benchmarks, one after another (the machine has 2 cores: never two at once).
# Each step writes its JSON result under benchmarks/results/ and its log under benchmarks/logs/.
#   STEPS="decode cache train" bash benchmarks/run_sample_benchmarks.sh   # a subset
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p benchmarks/results benchmarks/logs
PY=.venv/bin/python
M=models/sample/llm
STEPS=${STEPS:-"evaluate decode cache train cache_build ablation"}
run() {  # name, command...
  local name=$1; shift
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "benchmarks/logs/$name.log"
  "$@" --json 2>> "benchmarks/logs/$name.log" | tail -1 > "benchmarks/results/$name.json"
}
for step in $STEPS; do
  case $step in
    evaluate) run evaluate_sample $PY -m sidrec evaluate $M sample_data --out models/sample/evaluation.json --quiet ;;
    decode) run bench_decode $PY -m sidrec bench decode $M sample_data --users 30 ;;
    cache) run bench_cache $PY -m sidrec bench cache $M sample_data --users 64 ;;
    train) run bench_train $PY -m sidrec bench train sample_data --tokenizer models/sample/tokenizer --steps 20 ;;
    cache_build) run cache_build $PY -m sidrec cache build $M sample_data --out models/sample/cache.sqlite --quiet ;;
    ablation) run bench_ablation $PY -m sidrec bench ablation sample_data --tokenizer models/sample/tokenizer \
        --steps 80 --users 200 --out models/sample/ablation.json --variants "full recipe (sa, all tasks)" \
        "init mean" "init random" "without ts_align" "without negative" "tokenizer: text embedding only" \
        "tokenizer: rq-kmeans balanced" "tokenizer: rq-kmeans unbalanced" ;;  # the demo tokenizer's own is left out
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
