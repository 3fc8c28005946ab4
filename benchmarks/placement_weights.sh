#!/usr/bin/env bash
# How the behaviour's share of the fused embedding (`tokenizer fit --behavior-weight W`; 0.5 was the default then, 0.3 since) trades a new
# item's placement from its text against codes that follow purchases: for each W, the default tokenizer otherwise
# (the sample's 64 codes; Scientific's 256), and the placement agreement of its known items re-placed from their
# text alone (`benchmarks/placement.py`, neighbours k = 10), all in one run. Resumable: a fitted tokenizer is kept.
#   bash benchmarks/placement_weights.sh                      -> benchmarks/results/placement_<data>_w<W>.json
#   WEIGHTS="0.5 0.3" DATASETS=scientific bash benchmarks/placement_weights.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
WEIGHTS=${WEIGHTS:-0.5 0.4 0.3 0.2}
DATASETS=${DATASETS:-sample scientific}
WORK=benchmarks/work/weights
log=benchmarks/logs/placement_weights.log
mkdir -p benchmarks/logs benchmarks/results "$WORK"
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
for name in $DATASETS; do
  case $name in
    sample) data=sample_data size=(--codebook-size 64) ;;
    scientific) data=../shared/data/scientific size=() ;;
    *) echo "unknown dataset $name (sample | scientific)" >&2; exit 2 ;;
  esac
  for w in $WEIGHTS; do
    tok=$WORK/${name}_w$w
    if [ ! -f "$tok/manifest.json" ]; then
      say "python -m sidrec tokenizer fit $data --out $tok ${size[*]} --behavior-weight $w"
      $PY -m sidrec tokenizer fit "$data" --out "$tok" "${size[@]}" --behavior-weight "$w" --quiet --json \
        2>> "$log" | tail -1 > "benchmarks/results/tokenizer_${name}_w$w.json"
    fi
    say "python benchmarks/placement.py $data $tok --k 10 --out benchmarks/results/placement_${name}_w$w.json"
    PYTHONPATH=. $PY benchmarks/placement.py "$data" "$tok" --k 10 --out "benchmarks/results/placement_${name}_w$w.json" \
      >> "$log" 2>&1
  done
done
say "done"
