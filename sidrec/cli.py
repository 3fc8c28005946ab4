"""`python -m sidrec ...`: the command line's parser and entry point (the commands are in `sidrec.commands`).

Human-readable progress goes to stderr; with --json the last stdout line is one
JSON object. A `SidrecError` (bad input, artifacts that do not belong together)
prints one line and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sidrec.bench_commands import (
    cmd_bench_ablation,
    cmd_bench_cache,
    cmd_bench_decode,
    cmd_bench_tokenizer,
    cmd_bench_train,
)
from sidrec.commands import (
    cmd_cache_build,
    cmd_cache_merge,
    cmd_data_check,
    cmd_data_sample,
    cmd_evaluate,
    cmd_llm_prefer,
    cmd_llm_train,
    cmd_recommend,
    cmd_sasrec,
    cmd_tokenizer_fit,
    cmd_tokenizer_show,
)
from sidrec.errors import SidrecError


class Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help; the description's line breaks (the layouts) kept."""


def device_option(sp) -> None:
    sp.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU) | cpu | cuda | cuda:N | mps")


def cold_options(sp, report: bool = False) -> None:
    sp.add_argument(
        "--cold-items", type=float, metavar="FRACTION",
        help="cold-start run: withhold this share of the items (drawn with --cold-seed) from all training; "
        "give the same value to tokenizer fit, llm train and evaluate",
    )  # fmt: skip
    sp.add_argument("--cold-seed", type=int, default=0, help="which items --cold-items withholds (default: 0)")
    if report:
        from sidrec.evaluate import EvalConfig
        from sidrec.search_rules import NEW_ITEM_PLACES, PLACED_SCORES

        sp.add_argument(
            "--cold-trained-on-all", action="store_true",
            help="the model was trained on every item: only split the report by the --cold-items draw "
            "(the reference for the warm figures)",
        )  # fmt: skip
        sp.add_argument(
            "--placed-score", choices=PLACED_SCORES, default=EvalConfig.placed_score,
            help="how the search scores the withheld items placed by their text: as their whole cell, an even "
            "share of it, or as the likeliest known item of the cell (sidrec.search_rules)",
        )  # fmt: skip
        sp.add_argument(
            "--placed-weight", type=float, default=EvalConfig.placed_weight, metavar="W",
            help="a placed withheld item's probability in the search is multiplied by W (0 < W <= 1; "
            f"default: {EvalConfig.placed_weight})",
        )  # fmt: skip
        sp.add_argument(
            "--new-item-place", choices=NEW_ITEM_PLACES, default=EvalConfig.new_item_place,
            help="gated: a withheld item placed by its text takes a list's last place when its text is closer to "
            "the history than the last item's; off: only what the search ranks (sidrec.search_rules)",
        )  # fmt: skip
        sp.add_argument(
            "--new-item-top", type=int, default=EvalConfig.new_item_top, metavar="N",
            help="with the gated place: only an item among the N items of the whole catalogue nearest the history "
            f"by text may take the place (0: no such check; default: {EvalConfig.new_item_top})",
        )  # fmt: skip


def search_options(sp) -> None:
    """The history rule and the device: the same on every command that searches."""
    sp.add_argument(
        "--allow-repeats", action="store_true", help="items already in the history may be recommended again"
    )
    device_option(sp)


def score_option(sp) -> None:
    """How the constrained search scores an item: the same choices on every command that runs it."""
    from sidrec.generate import SCORES, GenerateConfig

    sp.add_argument(
        "--score", choices=SCORES, default=GenerateConfig.score,
        help="vocab: each SID token's probability over the whole vocabulary; level: over its level's SID tokens; "
        "allowed: over the codes that continue a real item (sidrec.generate)",
    )  # fmt: skip


LAYOUTS = """DATA is a folder in one of three layouts, detected from its files:
  generic     items.{csv,jsonl,parquet} (item_id, title; any of description, brand, categories)
              + optional interactions.{csv,jsonl,parquet} (user_id, item_id, optional timestamp)
  lcrec       <Name>.item.json + <Name>.inter.json (+ a published <Name>.index.json), as LC-Rec/LETTER ship them
  minionerec  <Cat>.item.json, <Cat>.index.json, valid/*.csv, test/*.csv (+ train/*.csv)
Without a split of its own, a dataset is split leave-one-out per user (last item test, second-to-last valid)."""


def build_parser() -> argparse.ArgumentParser:
    """Every option's default is read from the config dataclass it fills, and `--help` shows it."""
    from sidrec.embed import EMBEDDINGS, PRECISIONS, EmbedConfig
    from sidrec.evaluate import EvalConfig
    from sidrec.generate import GenerateConfig
    from sidrec.llm import INITS
    from sidrec.model import TrainConfig
    from sidrec.preference import KEEP_BY, PreferenceConfig
    from sidrec.prompts import SEQUENTIAL_MODES
    from sidrec.quantize import METHODS, QuantizerConfig
    from sidrec.sasrec_grid import GridConfig
    from sidrec.tasks import TASKS
    from sidrec.tokenizer import FIRST_LEVELS, TokenizerConfig

    quant, embed, train = QuantizerConfig(), EmbedConfig(), TrainConfig()
    search, evaluation = GenerateConfig(), EvalConfig()
    p = argparse.ArgumentParser(
        prog="sidrec", description="Generative recommendation with semantic IDs.", epilog=LAYOUTS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    sub = p.add_subparsers(dest="group", required=True)

    def add(parent, name, fn, help_):
        sp = parent.add_parser(name, help=help_, description=f"{help_}.\n\n{LAYOUTS}", formatter_class=Formatter)
        sp.set_defaults(fn=fn)
        sp.add_argument("--json", action="store_true", help="print one JSON object as the last stdout line")
        return sp

    data = sub.add_parser("data", help="check or generate datasets").add_subparsers(dest="cmd", required=True)
    sp = add(data, "check", cmd_data_check, "validate a dataset folder and summarise it")
    sp.add_argument("data", type=Path)
    sp = add(data, "sample", cmd_data_sample, "generate the sample catalogue")
    sp.add_argument("--out", type=Path, default=Path("sample_data"))

    tok = sub.add_parser("tokenizer", help="fit and inspect SID tokenizers").add_subparsers(dest="cmd", required=True)
    sp = add(tok, "fit", cmd_tokenizer_fit, "fit a codebook tokenizer on a dataset")
    sp.add_argument("data", type=Path)
    sp.add_argument("--out", type=Path, required=True)
    sp.add_argument("--method", default=quant.method, choices=METHODS, help="residual k-means or RQ-VAE")
    sp.add_argument(
        "--balanced", action=argparse.BooleanOptionalAction, default=quant.balanced,
        help="rq-kmeans: capacity-limited assignment",
    )  # fmt: skip
    sp.add_argument("--levels", type=int, default=quant.levels, help="codebooks before the separating level")
    sp.add_argument("--codebook-size", type=int, default=quant.codebook_size, help="codes per level")
    sp.add_argument(
        "--embedding", default=embed.embedding, choices=EMBEDDINGS,
        help="what is quantized: the item text, the purchase behaviour, or both fused",
    )  # fmt: skip
    sp.add_argument(
        "--behavior-weight", type=float, default=embed.behavior_weight, help="fused: the behaviour's share (0..1)"
    )
    sp.add_argument(
        "--first-level", default=TokenizerConfig().first_level, choices=FIRST_LEVELS,
        help="what decides an item's first code: the whole embedding, or (fused, rq-kmeans) its text part alone, "
        "so that a new item's first code follows from its text",
    )  # fmt: skip
    sp.add_argument("--seed", type=int, default=quant.seed, help="k-means / RQ-VAE seed")
    sp.add_argument(
        "--text-precision", default=embed.text_precision, choices=PRECISIONS,
        help="the text encoder's arithmetic: auto (bfloat16 where native, else float32), or int8 on a CPU "
        "(faster without AVX-512, about one item neighbour in ten moves)",
    )  # fmt: skip
    sp.add_argument(
        "--import-index",
        metavar="PATH|published[:VARIANT]",
        help="import a SID index instead of fitting: a .index.json file, the folder's own (published) or one "
        "shipped under indexes/VARIANT/ (data check lists them)",
    )
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    cold_options(sp)
    sp = add(tok, "show", cmd_tokenizer_show, "summarise a tokenizer, or look up an item, SID or token")
    sp.add_argument("dir", type=Path)
    group = sp.add_mutually_exclusive_group()
    group.add_argument("--item")
    group.add_argument("--sid")
    group.add_argument("--token")

    llm = sub.add_parser("llm", help="align an LLM to the SID tokens").add_subparsers(dest="cmd", required=True)
    sp = add(llm, "train", cmd_llm_train, "LoRA fine-tuning on the alignment task mix")
    sp.add_argument("data", type=Path)
    sp.add_argument("--tokenizer", type=Path, required=True)
    sp.add_argument("--out", type=Path, required=True)
    sp.add_argument("--base", default=train.base, help="smollm2-135m (embedded) or a local model folder")
    sp.add_argument(
        "--init", default=train.init, choices=INITS,
        help="how the SID rows start: sa (from each token's keywords), mean or random",
    )  # fmt: skip
    sp.add_argument("--tasks", default=",".join(train.tasks.tasks), help=f"comma-separated subset of {','.join(TASKS)}")
    sp.add_argument(
        "--sequential-mode", default=train.tasks.sequential_mode, choices=SEQUENTIAL_MODES,
        help="sequence: one example per user's whole sequence, a loss on every next item; "
        "prefix: one example per history prefix",
    )  # fmt: skip
    sp.add_argument("--max-steps", type=int, default=train.max_steps, help="optimizer steps")
    sp.add_argument("--batch-size", type=int, default=train.batch_size, help="examples per step")
    sp.add_argument("--lr", type=float, default=train.learning_rate, help="peak learning rate (linear decay to 0)")
    sp.add_argument("--r", type=int, default=train.r, help="LoRA rank")
    sp.add_argument("--lora-alpha", type=int, default=train.lora_alpha, help="LoRA scaling")
    sp.add_argument("--lora-dropout", type=float, default=train.lora_dropout, help="dropout on the LoRA input (0..1)")
    sp.add_argument("--weight-decay", type=float, default=train.weight_decay, help="AdamW weight decay")
    sp.add_argument("--seed", type=int, default=train.seed, help="training and task-sampling seed")
    sp.add_argument(
        "--time-budget", type=float, default=train.time_budget_s, help="seconds; stop and save when spent (0: none)"
    )
    sp.add_argument("--save-steps", type=int, default=train.save_steps, help="checkpoint every N steps (for --resume)")
    sp.add_argument(
        "--resume",
        action="store_true",
        help="continue from the last checkpoint in OUT-checkpoints (trained on the same tokenizer); "
        "without it, a run starts over and clears them",
    )
    device_option(sp)
    sp.add_argument(
        "--eval-steps", type=int, default=train.eval_steps, help="validation loss every N steps (0: at the end only)"
    )
    sp.add_argument(
        "--early-stopping", type=int, default=train.early_stopping_patience, metavar="N",
        help="stop after N validations without a better loss and keep the best (needs --eval-steps; 0: off)",
    )  # fmt: skip

    sp.add_argument(
        "--activation-checkpointing", action="store_true",
        help="recompute activations in the backward pass: less memory, more compute",
    )  # fmt: skip
    cold_options(sp)

    pref = PreferenceConfig()
    sp = add(llm, "prefer", cmd_llm_prefer, "preference alignment (S-DPO) of a trained model on its own best guesses")
    sp.add_argument("model_dir", type=Path, help="the trained model to start from (left as it is)")
    sp.add_argument("data", type=Path)
    sp.add_argument("--out", type=Path, required=True, help="where the new model goes")
    sp.add_argument("--tokenizer", type=Path, help="the SID tokenizer (default: the one the model names)")
    sp.add_argument("--negatives", type=int, default=pref.negatives, help="the model's own best items per example")
    sp.add_argument("--beams", type=int, default=pref.num_beams, help="beam width of the search for them")
    sp.add_argument("--beta", type=float, default=pref.beta, help="scale of the log-ratios to the starting model")
    sp.add_argument("--sft-weight", type=float, default=pref.sft_weight, help="weight of the target's own token loss")
    sp.add_argument("--lr", type=float, default=pref.learning_rate, help="peak learning rate (linear decay to 0)")
    sp.add_argument("--batch-size", type=int, default=pref.batch_size, help="examples per step")
    sp.add_argument("--epochs", type=int, default=pref.epochs, help="passes over the examples")
    sp.add_argument("--positions", type=int, default=pref.positions, help="last N training items per user as targets")
    sp.add_argument("--max-users", type=int, default=pref.max_users, help="the first N users' examples only (0: all)")
    sp.add_argument("--eval-examples", type=int, default=pref.eval_examples, help="validation users for the stage")
    sp.add_argument("--eval-steps", type=int, default=pref.eval_steps, help="validate every N steps, keep the best")
    sp.add_argument(
        "--keep-by", default=pref.keep_by, choices=KEEP_BY,
        help="the best step on validation: the target's own token loss, or the preference loss",
    )  # fmt: skip
    sp.add_argument("--seed", type=int, default=pref.seed)
    sp.add_argument("--quiet", action="store_true", help="no progress")
    device_option(sp)

    sp = add(sub, "recommend", cmd_recommend, "top-k items for a history, by constrained beam search")
    sp.add_argument("model_dir", type=Path)
    sp.add_argument("--history", required=True, help="comma-separated item ids, oldest first")
    sp.add_argument("-k", type=int, default=search.top_k, help="items to return")
    sp.add_argument("--beams", type=int, default=search.num_beams, help="beam width (at least k)")
    sp.add_argument("--tokenizer", type=Path, help="the SID tokenizer (default: the one the model names)")
    search_options(sp)
    score_option(sp)

    sp = add(sub, "evaluate", cmd_evaluate, "Recall/NDCG@5,10 of the model against popularity and SASRec")
    sp.add_argument("model_dir", type=Path)
    sp.add_argument("data", type=Path)
    sp.add_argument("--split", default=evaluation.split, choices=["test", "valid"], help="the split's targets")
    sp.add_argument("--beams", type=int, default=evaluation.num_beams, help="beam width (at least k)")
    sp.add_argument("-k", type=int, default=evaluation.k, help="length of each list (metrics at 5 and 10)")
    sp.add_argument(
        "--max-users", type=int, default=evaluation.max_users, help="evaluate the first N users only (0 = all)"
    )
    sp.add_argument("--tokenizer", type=Path, help="the SID tokenizer (default: the one the model names)")
    sp.add_argument("--out", type=Path, help="write the full result with per-user rows to this JSON file")
    sp.add_argument("--no-llm", action="store_true", help="baselines only")
    sp.add_argument(
        "--baselines",
        help="comma-separated baselines to run beside the model (popularity, sasrec, text) or none "
        "(default: popularity,sasrec; with --cold-items also text)",
    )  # fmt: skip
    sp.add_argument(
        "--sasrec", type=Path, metavar="FOLDER",
        help="use this SASRec, tuned by `sidrec sasrec` on the same data, instead of training one",
    )  # fmt: skip
    cold_options(sp, report=True)
    search_options(sp)
    score_option(sp)
    sp.add_argument("--quiet", action="store_true")

    grid = GridConfig()
    sp = add(sub, "sasrec", cmd_sasrec, "tune SASRec on validation within a small grid and save the winner")
    sp.add_argument("data", type=Path)
    sp.add_argument(
        "--out", type=Path, required=True,
        help="the folder for the winner (evaluate --sasrec FOLDER); every point is kept in OUT-grid/, and the same "
        "command again resumes an interrupted grid from there",
    )  # fmt: skip
    sp.add_argument("--hidden", type=int, nargs="+", default=list(grid.hidden), help="hidden sizes")
    sp.add_argument("--dropout", type=float, nargs="+", default=list(grid.dropout), help="dropout rates")
    sp.add_argument("--max-len", type=int, nargs="+", default=list(grid.max_len), help="window lengths")
    sp.add_argument("--seed", type=int, default=grid.base.seed)
    sp.add_argument(
        "--min-epochs", type=int, default=grid.base.min_epochs,
        help="early stopping cannot end a point's training before this epoch (validation can sit on a plateau first)",
    )  # fmt: skip
    cold_options(sp)
    search_options(sp)
    sp.add_argument("--quiet", action="store_true")

    cache = sub.add_parser("cache", help="the pre-computed top-K cache").add_subparsers(dest="cmd", required=True)
    sp = add(cache, "build", cmd_cache_build, "compute top-k for every user into a SQLite file (resumable)")
    sp.add_argument("model_dir", type=Path)
    sp.add_argument("data", type=Path)
    sp.add_argument("--out", type=Path, required=True)
    sp.add_argument("-k", type=int, default=search.top_k, help="items per user")
    sp.add_argument("--beams", type=int, default=search.num_beams, help="beam width (at least k)")
    sp.add_argument("--shard", default="0/1", help="i/n: build every n-th user starting at i")
    sp.add_argument("--max-users", type=int, default=0, help="the first N users by id only (0 = all)")
    search_options(sp)
    score_option(sp)
    sp.add_argument("--tokenizer", type=Path)
    sp.add_argument("--quiet", action="store_true")
    sp = add(cache, "merge", cmd_cache_merge, "merge shard files built by one model")
    sp.add_argument("parts", type=Path, nargs="+")
    sp.add_argument("--out", type=Path, required=True)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="cmd", required=True)
    sp = add(bench, "tokenizer", cmd_bench_tokenizer, "fit time, collisions and utilisation per method and embedding")
    sp.add_argument("data", type=Path, nargs="+")
    sp.add_argument("--out", type=Path, help="append the markdown table to this file (e.g. BENCHMARKS.md)")
    sp.add_argument("--quick", action="store_true", help="fewer variants (for a smoke run)")
    sp.add_argument("--codebook-size", type=int, default=256)
    sp = add(bench, "train", cmd_bench_train, "training tokens/second: ours vs a plain Trainer, same run")
    sp.add_argument("data", type=Path)
    sp.add_argument("--tokenizer", type=Path, required=True)
    sp.add_argument("--steps", type=int, default=20)
    sp.add_argument("--batch-size", type=int, default=16)
    sp = add(bench, "decode", cmd_bench_decode, "our constrained beam search vs generate(), same run")
    sp.add_argument("model_dir", type=Path)
    sp.add_argument("data", type=Path)
    sp.add_argument("--users", type=int, default=30)
    sp.add_argument("--beams", type=int, default=20)
    sp.add_argument("-k", type=int, default=10)
    sp = add(bench, "cache", cmd_bench_cache, "cache lookup latency; batched build vs one-by-one live calls")
    sp.add_argument("model_dir", type=Path)
    sp.add_argument("data", type=Path)
    sp.add_argument("--users", type=int, default=64)
    sp.add_argument("-k", type=int, default=10)
    sp = add(
        bench, "ablation", cmd_bench_ablation, "the same training steps per variant: inits, task mixes, tokenizers"
    )
    sp.add_argument("data", type=Path)
    sp.add_argument("--tokenizer", type=Path, required=True)
    sp.add_argument("--steps", type=int, default=40)
    sp.add_argument("--users", type=int, default=0, help="also Recall/NDCG@10 on this many test users (0: loss only)")
    sp.add_argument("--variants", nargs="+", metavar="NAME", help="a subset of the variants (default: all)")
    sp.add_argument("--out", type=Path, help="write the result to this JSON file (the app reads ablation.json)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except SidrecError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
