"""Is the average of two trained models (a "model soup", Wortsman et al., 2022) better than either?

Each model is the base LLM plus a LoRA update s_i B_i A_i (s_i = lora_alpha / r) and its own SID rows. The average
of n updates is exactly a LoRA update of rank sum(r_i) with scaling 1:

    (1/n) sum_i s_i B_i A_i = [s_1 B_1 / n, ..., s_n B_n / n] @ [A_1; ...; A_n]

and the SID rows (absolute rows, not differences) are averaged as they are. The averaged model is written as an
ordinary model artifact, and the script reports its validation loss (the training's own 200 validation next items)
beside each ingredient's. Averaging a model with itself must give back its own loss: the arithmetic's check.

    PYTHONPATH=. python benchmarks/model_soup.py sample_data models/sample/llm benchmarks/work/seed0_init-mean/llm \\
        --out benchmarks/work/soup/llm --result benchmarks/results/model_soup_sample.json
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from sidrec.artifacts import atomic_dir, read_manifest, write_json_atomic, write_manifest
from sidrec.data import load_dataset, split_dataset
from sidrec.device import describe
from sidrec.loss import ExampleDataset, evaluate_loss
from sidrec.model import FORMAT_VERSION, KIND, TrainConfig, load_model, tokenizer_dir_for
from sidrec.tasks import build_validation_set
from sidrec.tokenizer import SIDTokenizer


def average_states(states: list[dict[str, torch.Tensor]], scalings: list[float]) -> dict[str, torch.Tensor]:
    """LoRA factors stacked (rank sum(r_i), scaling 1, B_i scaled by s_i / n); every other tensor averaged."""
    n = len(states)
    out = {}
    for key in states[0]:
        tensors = [s[key].float() for s in states]
        if key.endswith(".lora_A.weight"):
            out[key] = torch.cat(tensors, dim=0)
        elif key.endswith(".lora_B.weight"):
            out[key] = torch.cat([t * (s / n) for t, s in zip(tensors, scalings, strict=True)], dim=1)
        else:
            out[key] = torch.stack(tensors).mean(0)
    return out


def valid_loss(folder: Path, split, tok: SIDTokenizer) -> float:
    model, llm_tok, manifest = load_model(folder, tok.fingerprint())
    config = TrainConfig.from_dict(manifest["config"])
    examples = build_validation_set(split, tok, config.tasks, max_examples=config.eval_examples)
    dataset = ExampleDataset(examples, llm_tok, config.max_length)
    return evaluate_loss(model, dataset, llm_tok.pad_token_id, config.batch_size)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True, help="the averaged model's folder")
    ap.add_argument("--result", type=Path, required=True)
    args = ap.parse_args()
    if len(args.models) < 2:
        raise SystemExit("give at least two models")
    split = split_dataset(load_dataset(args.data))
    tokenizer_dir = tokenizer_dir_for(args.models[0])
    tok = SIDTokenizer.load(tokenizer_dir)
    manifests = [read_manifest(m, KIND, FORMAT_VERSION) for m in args.models]
    configs = [TrainConfig.from_dict(m["config"]) for m in manifests]
    if len({m["tokenizer_fingerprint"] for m in manifests}) > 1 or len({c.target_modules for c in configs}) > 1:
        raise SystemExit("the models do not share a SID tokenizer and LoRA layout")
    state = average_states(
        [load_file(str(m / "adapter.safetensors")) for m in args.models], [c.lora_alpha / c.r for c in configs]
    )
    rank = sum(c.r for c in configs)
    config = replace(configs[0], r=rank, lora_alpha=rank, lora_dropout=0.0)
    with atomic_dir(args.out) as tmp:
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp / "adapter.safetensors"))
        write_json_atomic(tmp / "sid_tokens.json", json.loads((args.models[0] / "sid_tokens.json").read_text()))
        write_manifest(
            tmp, KIND, FORMAT_VERSION, asdict(config), tokenizer_fingerprint=manifests[0]["tokenizer_fingerprint"],
            tokenizer_dir=str(tokenizer_dir.resolve()), metrics={}, average=[str(m) for m in args.models],
        )  # fmt: skip
    result = {
        "command": " ".join(sys.argv),
        "date": date.today().isoformat(),
        "machine": describe("cpu"),
        "models": {str(m): round(valid_loss(m, split, tok), 4) for m in args.models},
        "average": round(valid_loss(args.out, split, tok), 4),
    }
    write_json_atomic(args.result, result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
