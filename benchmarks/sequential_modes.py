"""Full-sequence against per-prefix next-item training, at equal wall-clock, same run, same recipe.

For each mode the default recipe (all five tasks, SA-Init) trains in chunks of
`--chunk` seconds (each chunk resumes the last); after every chunk the model's
validation Recall/NDCG@10 is measured on the first `--users` validation users
(history rule on, SID-LLM only), and during training the validation loss is
logged every `--eval-steps` steps against the training seconds. Both modes use
the same learning-rate schedule (`--max-steps` sets it; the time budget ends
the run first). Resumable: a finished chunk is not redone.

    python benchmarks/sequential_modes.py sample_data models/sample/tokenizer \
        --out benchmarks/results/sequential_modes_sample.json

Prints progress on stderr; writes the JSON result and an HTML plot next to it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from sidrec.artifacts import write_json_atomic
from sidrec.bench import machine
from sidrec.data import load_dataset
from sidrec.evaluate import EvalConfig, evaluate
from sidrec.llm import torch_threads
from sidrec.model import TrainConfig, log_history
from sidrec.pipeline import train_llm
from sidrec.tasks import TaskConfig

MODES = ("prefix", "sequence")


def run_mode(args, mode: str, result: dict) -> None:
    ds = load_dataset(args.data)
    out = args.work / mode
    state = result["modes"].setdefault(mode, {"chunks": []})
    config = replace(
        TrainConfig(),
        max_steps=args.max_steps,
        warmup_ratio=args.warmup_ratio,
        time_budget_s=args.chunk,
        eval_steps=args.eval_steps,
        save_steps=10_000,  # the budget's stop saves; no periodic checkpoints
        tasks=replace(TaskConfig(), sequential_mode=mode),
    )
    trained = sum(c["train_seconds"] for c in state["chunks"])
    while len(state["chunks"]) < args.chunks:
        n = len(state["chunks"])
        print(f"[{mode}] chunk {n + 1}/{args.chunks} ({trained:.0f} s trained so far)", file=sys.stderr, flush=True)
        metrics = train_llm(ds, args.tokenizer, out, config, resume=n > 0, progress=_report(mode))
        trained += metrics["train_seconds"]
        ev = evaluate(out, args.data, EvalConfig(split="valid", max_users=args.users, baselines=()))
        state["chunks"].append(
            {
                "train_seconds": metrics["train_seconds"],
                "cumulative_seconds": round(trained, 1),
                "steps": metrics["steps"],
                "next_item_targets": metrics["next_item_targets"],
                "next_item_targets_per_second": metrics["next_item_targets_per_second"],
                "tokens_per_second": metrics["tokens_per_second"],
                "valid_loss": metrics["valid_loss"],
                "valid": ev["models"]["sid-llm"],
                "valid_se": ev["standard_errors"]["sid-llm"],
            }
        )
        state["curve"] = [h for h in log_history(out) if "valid_loss" in h]
        state["examples"] = metrics["examples"]
        write_json_atomic(args.out, result)


def _report(mode: str):
    def report(logs: dict) -> None:
        if "valid_loss" in logs:
            print(
                f"[{mode}] step {logs['step']} valid loss {logs['valid_loss']:.4f} at {logs['train_seconds']:.0f} s, "
                f"{logs['targets_seen']} next-item targets",
                file=sys.stderr,
                flush=True,
            )

    return report


def plot(result: dict, path: Path) -> None:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("Validation loss", "Validation NDCG@10 (± 1 SE)"))
    for mode, state in result["modes"].items():
        curve = state.get("curve", [])
        fig.add_trace(
            go.Scatter(x=[c["train_seconds"] for c in curve], y=[c["valid_loss"] for c in curve], name=f"{mode} loss"),
            row=1,
            col=1,
        )
        chunks = state["chunks"]
        fig.add_trace(
            go.Scatter(
                x=[c["cumulative_seconds"] for c in chunks],
                y=[c["valid"]["ndcg@10"] for c in chunks],
                error_y={"array": [c["valid_se"]["ndcg@10"] for c in chunks]},
                name=f"{mode} NDCG@10",
            ),
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="training seconds")
    fig.update_layout(title=f"Full-sequence vs per-prefix training on {result['dataset']} ({result['machine']})")
    fig.write_html(path, include_plotlyjs="cdn")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", type=Path)
    p.add_argument("tokenizer", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--work", type=Path, default=Path("benchmarks/work/sequential_modes"))
    p.add_argument("--chunk", type=float, default=240.0, help="seconds of training between validations")
    p.add_argument("--chunks", type=int, default=3)
    p.add_argument("--eval-steps", type=int, default=25)
    p.add_argument("--users", type=int, default=300, help="validation users for Recall/NDCG@10")
    p.add_argument("--max-steps", type=int, default=2000, help="sets the learning-rate schedule (same for both)")
    p.add_argument("--warmup-ratio", type=float, default=0.01)
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    args = p.parse_args()
    args.work = args.work / args.data.name
    torch_threads()
    result = json.loads(args.out.read_text()) if args.out.exists() else {}
    result.update(
        {
            "dataset": load_dataset(args.data).name,
            "machine": machine(),
            "date": time.strftime("%Y-%m-%d"),
            "command": "python benchmarks/sequential_modes.py " + " ".join(sys.argv[1:]),
            "chunk_seconds": args.chunk,
            "users": args.users,
        }
    )
    result.setdefault("modes", {})
    for mode in args.modes:
        run_mode(args, mode, result)
    plot(result, args.out.with_suffix(".html"))
    summary = {m: s["chunks"][-1] for m, s in result["modes"].items() if s["chunks"]}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
