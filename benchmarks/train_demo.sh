#!/usr/bin/env bash
# Trains the demo checkpoint models/sample/llm on sample_data with the default recipe (resumable).
#   bash benchmarks/train_demo.sh            # first run
#   bash benchmarks/train_demo.sh --resume   # continue after an interruption
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p benchmarks/logs
{
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs: python -m sidrec llm train sample_data --tokenizer models/sample/tokenizer --out models/sample/llm --max-steps 450 --time-budget 2400 $*"
  .venv/bin/python -m sidrec llm train sample_data --tokenizer models/sample/tokenizer --out models/sample/llm \
    --max-steps 450 --time-budget 2400 --json "$@" 2>&1
} | tee -a benchmarks/logs/demo_llm_train.log
