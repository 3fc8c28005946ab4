#!/usr/bin/env bash
# Peak resident memory and throughput of `llm train` on the sample, with and without activation checkpointing,
# one after the other on an otherwise idle machine. STEPS steps each (default 20), same seed, same batches.
#   bash benchmarks/train_memory.sh   -> benchmarks/results/train_memory.json
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
STEPS=${STEPS:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows=()
for variant in default activation-checkpointing; do
  extra=(); [ "$variant" = activation-checkpointing ] && extra=(--activation-checkpointing)
  /usr/bin/time -v "$PY" -m sidrec llm train sample_data --tokenizer models/sample/tokenizer --out "$work/$variant" \
    --max-steps "$STEPS" --save-steps 100000 "${extra[@]}" --json > "$work/$variant.out" 2> "$work/$variant.err"
  peak_kb=$(grep "Maximum resident set size" "$work/$variant.err" | awk '{print $NF}')
  rows+=("$(tail -1 "$work/$variant.out" | python3 -c "import json,sys; m=json.load(sys.stdin); print(json.dumps({
    'variant': '$variant', 'peak_rss_gb': round($peak_kb / 1024**2, 2), 'steps': m['steps'],
    'train_seconds': m['train_seconds'], 'tokens_per_second': m['tokens_per_second'],
    'train_loss': m['train_loss'], 'valid_loss': m['valid_loss']}))")")
done
machine=$("$PY" -c "from sidrec.bench import machine; print(machine())")
printf '%s\n' "${rows[@]}" | python3 -c "import json,sys,time; rows=[json.loads(l) for l in sys.stdin]; print(json.dumps(
  {'machine': sys.argv[1], 'date': time.strftime('%Y-%m-%d'), 'steps': int(sys.argv[2]), 'rows': rows}, indent=1))" \
  "$machine" "$STEPS" > benchmarks/results/train_memory.json
cat benchmarks/results/train_memory.json
