#!/usr/bin/env bash
# The sample_data benchmarks, one after another (the machine has 2 cores: never two at once).
# Each step writes its JSON result under benchmarks/results/ and its log under benchmarks/logs/.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p benchmarks/results benchmarks/logs
PY=.venv/bin/python
run() {  # name, command...
  local name=$1; shift
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "benchmarks/logs/$name.log"
  "$@" --json 2>> "benchmarks/logs/$name.log" | tail -1 > "benchmarks/results/$name.json"
}
M=models/sample/llm
run bench_train   $PY -m sidrec bench train sample_data --tokenizer models/sample/tokenizer --steps 20
run bench_decode  $PY -m sidrec bench decode $M sample_data --users 30
run bench_cache   $PY -m sidrec bench cache $M sample_data --users 64
run evaluate_sample $PY -m sidrec evaluate $M sample_data --out models/sample/evaluation.json --quiet
run cache_build   $PY -m sidrec cache build $M sample_data --out models/sample/cache.sqlite --quiet
run bench_ablation $PY -m sidrec bench ablation sample_data --tokenizer models/sample/tokenizer --steps 120 --users 300 --out models/sample/ablation.json
