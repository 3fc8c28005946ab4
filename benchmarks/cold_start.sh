#!/usr/bin/env bash
# The cold-start protocol on sample_data (sidrec.coldstart): 5% of the items (seed 0) withheld from the tokenizer,
# the behaviour embeddings, the LLM and SASRec; the demo's tokenizer settings and training recipe otherwise
# (benchmarks/train_demo.sh: 1,000 steps, the learning rate decayed to zero). Then, in the same run:
#   - the placement and scoring rules for the withheld items compared on the validation split
#     (benchmarks/cold_rules.py), where the default was chosen;
#   - whether a withheld item may take a list's last place by its text (benchmarks/cold_blend.py), chosen on the
#     validation split and reported on the test split from the search's own lists (--new-item-place off);
#   - the cold-start model evaluated with the withheld items entering by text (SID-LLM, SASRec, popularity, text
#     similarity, reported for cold and warm targets);
#   - the demo model (trained on every item) evaluated with the report split by the same draw: the reference that
#     the warm figures are compared with.
# The two summaries are copied to models/sample/cold_start.json and cold_start_reference.json (read by the Evaluate
# page). Resumable: run it again (the rule comparison and the reference evaluation, which no placement rule
# changes, are kept once made; delete their result files to redo them).
#   bash benchmarks/cold_start.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
FRACTION=${FRACTION:-0.05}
COLD=(--cold-items "$FRACTION" --cold-seed 0)
WORK=benchmarks/work/cold_start
log=benchmarks/logs/cold_start_sample.log
mkdir -p benchmarks/logs benchmarks/results "$WORK"
say() { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$log"; }
# The demo tokenizer's settings (models/sample/tokenizer: behaviour weight 0.5, the default until 2026-12-06), so that
# the reference compares like with like. A cold-start run made with other settings is refused, not continued.
settings=$(PYTHONPATH=. $PY - models/sample/tokenizer "$WORK/tokenizer" <<'PY'
import json, sys
from pathlib import Path

def settings(folder):
    c = json.loads((Path(folder) / "manifest.json").read_text())["config"]
    q, e = c["quantizer"], c["embed"]
    return [f"--codebook-size {q['codebook_size']}", f"--levels {q['levels']}", f"--method {q['method']}",
            "--balanced" if q["balanced"] else "--no-balanced", f"--embedding {e['embedding']}",
            f"--behavior-weight {e['behavior_weight']}", f"--seed {q['seed']}",
            f"--first-level {c.get('first_level', 'embedding')}"]

demo = settings(sys.argv[1])
if (Path(sys.argv[2]) / "manifest.json").exists() and settings(sys.argv[2]) != demo:
    sys.exit(f"{sys.argv[2]} was fitted with other settings than the demo's tokenizer: move its folder away to redo")
print(" ".join(demo))
PY
)
read -r -a fit <<< "$settings"
if [ ! -f "$WORK/tokenizer/manifest.json" ]; then
  say "python -m sidrec tokenizer fit sample_data --out $WORK/tokenizer ${fit[*]} ${COLD[*]}"
  $PY -m sidrec tokenizer fit sample_data --out "$WORK/tokenizer" "${fit[@]}" "${COLD[@]}" --quiet --json \
    2>> "$log" | tail -1 > benchmarks/results/cold_start_tokenizer.json
fi
say "python -m sidrec llm train sample_data --tokenizer $WORK/tokenizer --out $WORK/llm --resume --max-steps 1000 --eval-steps 50 ${COLD[*]}"
$PY -m sidrec llm train sample_data --tokenizer "$WORK/tokenizer" --out "$WORK/llm" --resume --max-steps 1000 \
  --eval-steps 50 "${COLD[@]}" --json 2>> "$log" | tail -1 > benchmarks/results/cold_start_train.json
if [ ! -f benchmarks/results/cold_rules_sample.json ]; then
  say "python benchmarks/cold_rules.py $WORK/llm sample_data --split valid ${COLD[*]}"
  PYTHONPATH=. $PY benchmarks/cold_rules.py "$WORK/llm" sample_data --split valid "${COLD[@]}" \
    --out benchmarks/results/cold_rules_sample.json 2>> "$log" > /dev/null
fi
if [ ! -s "$WORK/withheld_search_only.json" ]; then  # the lists cold_blend.py reads below
  say "python -m sidrec evaluate $WORK/llm sample_data ${COLD[*]} --new-item-place off --out $WORK/withheld_search_only.json"
  $PY -m sidrec evaluate "$WORK/llm" sample_data "${COLD[@]}" --new-item-place off \
    --out "$WORK/withheld_search_only.json" --quiet --json 2>> "$log" \
    | tail -1 > benchmarks/results/cold_start_withheld_search_only.json
fi
if [ ! -f benchmarks/results/cold_blend_valid.json ]; then
  say "python benchmarks/cold_blend.py sample_data --model $WORK/llm --split valid ${COLD[*]}"
  PYTHONPATH=. $PY benchmarks/cold_blend.py sample_data --model "$WORK/llm" --split valid "${COLD[@]}" \
    --out benchmarks/results/cold_blend_valid.json 2>> "$log"
fi
say "python benchmarks/cold_blend.py sample_data --lists $WORK/withheld_search_only.json --split test ${COLD[*]}"
PYTHONPATH=. $PY benchmarks/cold_blend.py sample_data --lists "$WORK/withheld_search_only.json" \
  --tokenizer "$WORK/tokenizer" --split test "${COLD[@]}" --out benchmarks/results/cold_blend_test.json 2>> "$log"
say "python -m sidrec evaluate $WORK/llm sample_data ${COLD[*]} --out $WORK/withheld.json"
$PY -m sidrec evaluate "$WORK/llm" sample_data "${COLD[@]}" --out "$WORK/withheld.json" --quiet --json 2>> "$log" \
  | tail -1 > benchmarks/results/cold_start_withheld.json
if [ ! -s benchmarks/results/cold_start_reference.json ]; then
  say "python -m sidrec evaluate models/sample/llm sample_data ${COLD[*]} --cold-trained-on-all --out $WORK/reference.json"
  $PY -m sidrec evaluate models/sample/llm sample_data "${COLD[@]}" --cold-trained-on-all --out "$WORK/reference.json" \
    --quiet --json 2>> "$log" | tail -1 > benchmarks/results/cold_start_reference.json
fi
cp benchmarks/results/cold_start_withheld.json models/sample/cold_start.json
cp benchmarks/results/cold_start_reference.json models/sample/cold_start_reference.json
say "done"
