"""The recipe ablation: the same training steps from the same start for each variant of the recipe (SID-row
initialisation, task mix, tokenizer), with the validation loss and, optionally, Recall/NDCG@10 of each. The
`bench ablation` command and the Evaluate page's ablation table read it."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sidrec.bench import machine, train_inputs
from sidrec.data import load_dataset
from sidrec.errors import SidrecError
from sidrec.tokenizer import SIDTokenizer, TokenizerConfig

ABLATIONS = {
    "default (sa, all tasks)": {},
    "init mean": {"init": "mean"},
    "init random": {"init": "random"},
    "without ts_align": {"tasks": ("sequential", "textual", "query", "negative")},
    "without negative": {"tasks": ("sequential", "textual", "query", "ts_align")},
    "without query and textual": {"tasks": ("sequential", "negative", "ts_align")},
    "sequential only": {"tasks": ("sequential",)},
    "tokenizer: text embedding only": {"embed": {"embedding": "text"}},
    "tokenizer: rq-kmeans unbalanced": {"quantizer": {"balanced": False}},
    "tokenizer: rq-vae": {"quantizer": {"method": "rq-vae", "balanced": False}},
    "tokenizer: published index": {"published": True},
}


def variant_tokenizer(data: Path, tokenizer_dir: Path, change: dict, out: Path) -> Path:
    """The tokenizer a variant trains with: the given one, or one refitted/imported with the variant's change."""
    from sidrec.pipeline import fit_catalogue, import_published

    if not {"embed", "quantizer", "published"} & set(change):
        return tokenizer_dir
    ds = load_dataset(data)
    if change.get("published"):
        fit = import_published(ds)  # the index the folder ships (one clear line when it ships none, or several)
    else:
        base = SIDTokenizer.load(tokenizer_dir).config
        config = TokenizerConfig(
            replace(base.quantizer, **change.get("quantizer", {})), replace(base.embed, **change.get("embed", {}))
        )
        fit = fit_catalogue(ds, config)
    fit.save(out)
    return out


def bench_ablation(
    data: Path,
    tokenizer_dir: Path,
    steps: int = 40,
    variants: list[str] | None = None,
    users: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Per variant, the same number of training steps from the same start: validation loss on the held-out
    next items and, when `users` > 0, Recall/NDCG@10 by constrained beam search on that many test users."""
    from sidrec.evaluate import EvalConfig, evaluate
    from sidrec.llm import torch_threads
    from sidrec.model import TrainConfig
    from sidrec.tasks import TaskConfig
    from sidrec.train import train

    torch_threads()
    unknown = [v for v in variants or [] if v not in ABLATIONS]
    if unknown:
        raise SidrecError(f"unknown ablation variant {unknown[0]!r}; choose from {', '.join(ABLATIONS)}")
    rows = []
    for name in variants or list(ABLATIONS):
        change = ABLATIONS[name]
        if change.get("published") and not load_dataset(data).index_files:
            continue  # only datasets that ship a published index
        if progress:
            progress(f"{name}: training {steps} steps")
        task_config = replace(TaskConfig(), tasks=change["tasks"]) if "tasks" in change else TaskConfig()
        with tempfile.TemporaryDirectory() as tmp:
            tok_dir = variant_tokenizer(data, tokenizer_dir, change, Path(tmp) / "tokenizer")
            tok, keywords, train_examples, valid_examples = train_inputs(data, tok_dir, task_config)
            config = TrainConfig(
                max_steps=steps, save_steps=10_000, init=change.get("init", "sa"), tasks=task_config, eval_examples=200
            )
            m = train(
                train_examples, valid_examples, tok.tokens(), keywords, tok.fingerprint(), Path(tmp) / "m", config,
                tokenizer_dir=tok_dir,
            )  # fmt: skip
            row = {"variant": name, "valid_loss": m["valid_loss"], "train_loss": m["train_loss"], "steps": m["steps"]}
            if users:
                if progress:
                    progress(f"{name}: evaluating {users} users")
                result = evaluate(Path(tmp) / "m", data, EvalConfig(max_users=users, baselines=()))
                metrics = result["models"]["sid-llm"]
                row.update({k: metrics[k] for k in ("recall@10", "ndcg@10")})
        rows.append(row)
    return {
        "machine": machine(), "date": time.strftime("%Y-%m-%d"), "dataset": str(data), "steps": steps,
        "users": users, "rows": rows,
    }  # fmt: skip
