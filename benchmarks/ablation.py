"""The recipe's ablation: every variant for the same epochs of next-item signal, over several seeds.

Each variant (an initialisation, a task left out, another tokenizer) trains the
default recipe with one change for `--epochs` passes over its sequential
examples (the other tasks ride along in their mixed proportion, so a variant
without them takes fewer steps), then reports its validation loss and
Recall/NDCG@10 on the first `--users` validation users (history rule on). Each
(variant, seed) is one row written as soon as it finishes; a rerun skips rows
that exist, so the run continues where it stopped. The summary is the mean and
standard deviation over seeds per variant.

    python benchmarks/ablation.py sample_data models/sample/tokenizer --out benchmarks/results/ablation_seeds.json

On a 2-core CPU a variant-seed takes tens of minutes; on one GPU, about a minute.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from sidrec.ablation import ABLATIONS, changes_nothing, variant_tokenizer
from sidrec.artifacts import write_json_atomic
from sidrec.bench import machine, train_inputs
from sidrec.evaluate import EvalConfig, evaluate
from sidrec.llm import torch_threads
from sidrec.model import TrainConfig
from sidrec.tasks import TaskConfig
from sidrec.tokenizer import SIDTokenizer
from sidrec.train import train


def run_one(args, name: str, seed: int) -> dict:
    change = ABLATIONS[name]
    task_config = replace(TaskConfig(), seed=seed, **({"tasks": change["tasks"]} if "tasks" in change else {}))
    with tempfile.TemporaryDirectory() as tmp:
        tok_dir = variant_tokenizer(args.data, args.tokenizer, change, Path(tmp) / "tokenizer")
        tok, keywords, train_examples, valid_examples = train_inputs(args.data, tok_dir, task_config)
        sequential = sum(ex.task == "sequential" for ex in train_examples)
        steps = max(1, math.ceil(args.epochs * len(train_examples) / args.batch_size))
        config = replace(
            TrainConfig(), max_steps=steps, batch_size=args.batch_size, save_steps=100_000, seed=seed,
            init=change.get("init", "sa"), tasks=task_config, device=args.device,
        )  # fmt: skip
        m = train(
            train_examples, valid_examples, tok.tokens(), keywords, tok.fingerprint(), Path(tmp) / "m", config,
            tokenizer_dir=tok_dir,
        )  # fmt: skip
        ev = evaluate(Path(tmp) / "m", args.data, EvalConfig(split="valid", max_users=args.users, baselines=(),
                                                             device=args.device))  # fmt: skip
    return {
        "variant": name, "seed": seed, "steps": steps, "epochs": args.epochs, "sequential_examples": sequential,
        "examples": len(train_examples), "valid_loss": m["valid_loss"], "train_loss": m["train_loss"],
        "train_seconds": m["train_seconds"], **{k: ev["models"]["sid-llm"][k] for k in ("recall@10", "ndcg@10")},
    }  # fmt: skip


def summary(rows: list[dict]) -> list[dict]:
    out = []
    for name in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == name]
        entry = {"variant": name, "seeds": len(mine)}
        for key in ("valid_loss", "recall@10", "ndcg@10"):
            values = [r[key] for r in mine]
            entry[key] = round(statistics.mean(values), 4)
            entry[f"{key}_sd"] = round(statistics.stdev(values), 4) if len(values) > 1 else None
        out.append(entry)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", type=Path)
    p.add_argument("tokenizer", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--epochs", type=float, default=3.0, help="passes over each variant's sequential examples")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--users", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--device", default="auto")
    p.add_argument("--variants", nargs="+", default=list(ABLATIONS), choices=list(ABLATIONS))
    args = p.parse_args()
    torch_threads()
    result = json.loads(args.out.read_text()) if args.out.exists() else {"rows": []}
    result.update(
        {
            "machine": machine(args.device),
            "dataset": str(args.data),
            "epochs": args.epochs,
            "users": args.users,
            "command": "python benchmarks/ablation.py " + " ".join(sys.argv[1:]),
        }
    )
    done = {(r["variant"], r["seed"]) for r in result["rows"] if r.get("epochs") == args.epochs}
    base = SIDTokenizer.load(args.tokenizer).config
    for seed in args.seeds:  # every variant once before any second seed: partial runs stay comparable
        for name in args.variants:
            if (name, seed) in done:
                continue
            if ABLATIONS[name].get("published") or changes_nothing(base, ABLATIONS[name]):
                continue  # only datasets that ship a published index; not the given tokenizer's own setting
            print(f"{name}, seed {seed}", file=sys.stderr, flush=True)
            result["rows"].append({**run_one(args, name, seed), "date": time.strftime("%Y-%m-%d")})
            result["summary"] = summary(result["rows"])
            write_json_atomic(args.out, result)
    print(json.dumps(result.get("summary", [])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
