"""The command line's commands: each `cmd_*` takes the parsed arguments, does the work through the library and
reports (human-readable progress on stderr; with --json one JSON object as the last stdout line). The parser
that maps `python -m sidrec ...` onto them is `sidrec.cli`.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import replace
from pathlib import Path

from sidrec.errors import SidrecError
from sidrec.progress import ProgressFn


def stderr_progress() -> ProgressFn:
    """A tqdm bar on stderr driven by (fraction, message) callbacks."""
    from tqdm import tqdm

    bar = tqdm(total=1000, file=sys.stderr, bar_format="{l_bar}{bar}| {elapsed}", leave=False)

    def update(frac: float, msg: str) -> None:
        bar.set_description_str(msg[:60])
        bar.update(int(frac * 1000) - bar.n)
        if frac >= 1.0 and msg.startswith("keywords: done"):
            bar.close()

    return update


def finite(obj):
    """`obj` with every NaN or infinite float replaced by None, so that the JSON printed is valid JSON.

    >>> finite({"loss": float("nan"), "xs": [1.0, float("inf")]})
    {'loss': None, 'xs': [1.0, None]}
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def emit(obj: dict, as_json: bool, human: str) -> None:
    print(human, file=sys.stderr if as_json else sys.stdout)
    if as_json:
        print(json.dumps(finite(obj), default=str, allow_nan=False))


# ---------------------------------------------------------------- data


def cmd_data_check(args) -> int:
    from sidrec.data import load_dataset, summarize

    summary = summarize(load_dataset(args.data))
    s = summary
    lines = [
        f"{s['name']} ({s['layout']}): {s['items']} items, {s['users']} users, {s['interactions']} interactions",
        f"sequence length: min {s['seq_len']['min']}, mean {s['seq_len']['mean']}, "
        f"median {s['seq_len']['median']}, max {s['seq_len']['max']}",
    ]
    if "split" in s:
        sp = s["split"]
        lines.append(f"split ({sp['protocol']}): train {sp['train']}, valid {sp['valid']}, test {sp['test']}")
    if s["index_files"]:
        names = ", ".join("published" if n == "published" else f"published:{n}" for n in s["index_files"])
        lines.append(f"SID indexes shipped (tokenizer fit --import-index ...): {names}")
    lines += [f"note: {n}" for n in s["notes"]]
    emit(summary, args.json, "\n".join(lines))
    return 0


def cmd_data_sample(args) -> int:
    from sidrec.sample import write_sample

    summary = write_sample(args.out)
    emit(summary, args.json, f"wrote {args.out}: {summary}")
    return 0


# ---------------------------------------------------------------- tokenizer


def tokenizer_config_from_args(args):
    from sidrec.embed import EmbedConfig
    from sidrec.quantize import QuantizerConfig
    from sidrec.tokenizer import TokenizerConfig

    q = QuantizerConfig(
        method=args.method,
        levels=args.levels,
        codebook_size=args.codebook_size,
        balanced=args.balanced,
        seed=args.seed,
    )
    e = EmbedConfig(embedding=args.embedding, behavior_weight=args.behavior_weight, text_precision=args.text_precision)
    return TokenizerConfig(q, e, first_level=args.first_level)


def training_data(args):
    """The dataset named by `args.data`, without the withheld items in a cold-start run (`--cold-items`)."""
    from sidrec.coldstart import ColdConfig, withhold
    from sidrec.data import load_dataset

    ds = load_dataset(args.data)
    return withhold(ds, ColdConfig(args.cold_items, args.cold_seed)) if args.cold_items else ds


def cmd_tokenizer_fit(args) -> int:
    from sidrec.artifacts import check_replaceable
    from sidrec.pipeline import fit_catalogue, import_published
    from sidrec.tokenizer import KIND

    config = None if args.import_index else tokenizer_config_from_args(args)  # bad settings fail before any work
    check_replaceable(args.out, KIND)
    ds = training_data(args)
    progress = None if args.quiet else stderr_progress()
    if args.import_index:
        from sidrec.layouts import choose_index

        result = import_published(ds, choose_index(ds, args.import_index), progress)
    else:
        result = fit_catalogue(ds, config, progress=progress)
    result.save(args.out)
    stats = {
        "out": str(args.out),
        "items": len(result.tokenizer),
        "tokens": len(result.tokenizer.tokens()),
        **result.tokenizer.stats,
    }
    human = (
        f"saved {args.out}: {stats['items']} items, {stats['tokens']} tokens, "
        f"collisions before the separating level {stats['collision_rate_before_dedup']:.2%}, "
        f"after {stats['collision_rate']:.2%}, "
        f"utilisation per level {stats['utilization']}"
    )
    emit(stats, args.json, human)
    return 0


def cmd_tokenizer_show(args) -> int:
    from sidrec.tokenizer import SIDTokenizer, load_keywords

    tok = SIDTokenizer.load(args.dir)
    keywords = load_keywords(args.dir)
    if args.item:
        sid = tok.encode(args.item)
        out = {"item_id": args.item, "sid": sid}
        human = f"{args.item} -> {sid}"
    elif args.sid:
        item = tok.decode(args.sid)
        out = {"sid": args.sid, "item_id": item}
        human = f"{args.sid} -> {item}"
    elif args.token:
        if args.token not in keywords:
            raise SidrecError(f"unknown token {args.token!r} (tokens look like <a_12>)")
        out = {"token": args.token, **keywords[args.token]}
        human = f"{args.token}: {', '.join(out['keywords'])}\n{out['description']}"
    else:
        out = {"items": len(tok), "levels": tok.n_levels, "tokens": len(tok.tokens()), "fingerprint": tok.fingerprint()}
        out.update(tok.stats)
        human = "\n".join(f"{k}: {v}" for k, v in out.items())
    emit(out, args.json, human)
    return 0


# ---------------------------------------------------------------- llm


def train_config_from_args(args):
    from sidrec.model import TrainConfig
    from sidrec.tasks import TASKS, TaskConfig

    tasks = tuple(args.tasks.split(",")) if args.tasks else TaskConfig().tasks
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise SidrecError(f"unknown task {unknown[0]!r} (choose from {', '.join(TASKS)})")
    defaults = TrainConfig()
    return replace(
        defaults,
        base=args.base,
        init=args.init,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        r=args.r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        weight_decay=args.weight_decay,
        seed=args.seed,
        time_budget_s=args.time_budget,
        save_steps=args.save_steps,
        eval_steps=args.eval_steps,
        early_stopping_patience=args.early_stopping,
        activation_checkpointing=args.activation_checkpointing,
        device=args.device,
        tasks=replace(TaskConfig(), tasks=tasks, seed=args.seed, sequential_mode=args.sequential_mode),
    )


def cmd_llm_train(args) -> int:
    from sidrec.pipeline import train_llm

    def report(logs: dict) -> None:
        if "valid_loss" in logs:
            print(
                f"step {logs['step']}/{logs['max_steps']} valid loss {logs['valid_loss']:.4f} "
                f"({logs['train_seconds']:.0f} s, {logs['targets_seen']} next-item targets)",
                file=sys.stderr, flush=True,
            )  # fmt: skip
        if "loss" in logs:
            parts = [f"step {logs['step']}/{logs['max_steps']}", f"loss {logs['loss']:.3f}"]
            parts += [f"{k[5:]} {v:.3f}" for k, v in logs.items() if k.startswith("loss_")]
            print(" ".join(parts), file=sys.stderr, flush=True)

    config = train_config_from_args(args)  # bad settings fail before any work
    ds = training_data(args)
    metrics = train_llm(ds, args.tokenizer, args.out, config, args.resume, report)
    human = (
        f"saved {args.out}: train loss {metrics['train_loss']} (run mean), valid loss {metrics['valid_loss']}, "
        f"{metrics['tokens_per_second']} tokens/s over {metrics['steps']} steps"
    )
    if int(os.environ.get("RANK", "0")) == 0:  # data-parallel runs: the main process reports
        emit(metrics, args.json, human)
    return 0


def cmd_llm_prefer(args) -> int:
    from sidrec.data import load_dataset
    from sidrec.pipeline import prefer_llm
    from sidrec.preference import PreferenceConfig

    # bad settings fail before any work
    config = PreferenceConfig(
        negatives=args.negatives, num_beams=args.beams, beta=args.beta, sft_weight=args.sft_weight,
        learning_rate=args.lr, batch_size=args.batch_size, epochs=args.epochs, positions=args.positions,
        max_users=args.max_users, eval_examples=args.eval_examples, eval_steps=args.eval_steps, keep_by=args.keep_by,
        seed=args.seed, device=args.device,
    )  # fmt: skip
    ds = load_dataset(args.data)
    progress = None if args.quiet else stderr_progress()
    metrics = prefer_llm(ds, args.model_dir, args.out, config, args.tokenizer, progress)
    human = (
        f"saved {args.out}: {metrics['steps']} steps on {metrics['examples']} examples, kept step "
        f"{metrics['kept_step']}; validation: the target above {metrics.get('valid_target_above_negatives')} of the "
        f"starting model's best guesses, next-item loss {metrics['valid_loss_before']} -> {metrics['valid_loss']}"
    )
    emit(metrics, args.json, human)
    return 0


# ---------------------------------------------------------------- recommend and cache


def cmd_recommend(args) -> int:
    from sidrec.explain import explain
    from sidrec.generate import GenerateConfig, Recommender
    from sidrec.llm import torch_threads
    from sidrec.model import tokenizer_dir_for
    from sidrec.tokenizer import load_keywords, load_titles

    history = [h.strip() for h in args.history.split(",") if h.strip()]
    if not history:
        raise SidrecError("--history needs at least one item id")
    torch_threads()
    tok_dir = tokenizer_dir_for(args.model_dir, args.tokenizer)
    gen = GenerateConfig(
        num_beams=args.beams, top_k=args.k, exclude_history=not args.allow_repeats, device=args.device, score=args.score
    )
    rec = Recommender.from_dirs(args.model_dir, tok_dir, gen)
    r = rec.recommend([history])[0]
    titles, keywords = load_titles(tok_dir), load_keywords(tok_dir)
    items = [
        {"rank": n + 1, "item_id": i, "sid": s, "score": round(sc, 4), "title": titles.get(i, ""),
         "why": explain(rec.sid_tok, keywords, i, history).to_dict()}
        for n, (i, s, sc) in enumerate(zip(r.items, r.sids, r.scores, strict=True))
    ]  # fmt: skip
    human = "\n".join(
        f"{x['rank']:>2}. {x['sid']}  {x['score']:8.3f}  {x['title'] or x['item_id']}\n    {x['why']['sentence']}"
        for x in items
    )
    human += f"\n({r.timings['total_ms']:.0f} ms)"
    emit({"history": history, "items": items, "timings": r.timings}, args.json, human)
    return 0


def cmd_cache_build(args) -> int:
    """Top-K lists for every user (or the first --max-users); under `accelerate launch` the processes split the
    users, each writes a part, and the main process merges them into --out."""
    from sidrec.cache import TopKCache, build_cache, merge_caches, shard_users
    from sidrec.data import load_dataset
    from sidrec.generate import GenerateConfig, Recommender
    from sidrec.llm import torch_threads
    from sidrec.model import model_fingerprint, tokenizer_dir_for
    from sidrec.parallel import processes, split_shard

    try:
        i, n = (int(x) for x in args.shard.split("/"))
    except ValueError:
        raise SidrecError(f"--shard {args.shard!r}: expected i/n, e.g. 0/4") from None
    if args.max_users < 0:
        raise SidrecError(f"--max-users {args.max_users}: must be 0 (all) or more")
    procs = processes(args.device)
    torch_threads()  # the processes on this machine share its cores
    ds = load_dataset(args.data)
    tok_dir = tokenizer_dir_for(args.model_dir, args.tokenizer)
    gen = GenerateConfig(
        num_beams=args.beams, top_k=args.k, exclude_history=not args.allow_repeats, device=str(procs.device),
        score=args.score,
    )  # fmt: skip
    rec = Recommender.from_dirs(args.model_dir, tok_dir, gen)
    rec.sid_tok.require_catalogue(ds.fingerprint(), ds.name)
    fingerprint = model_fingerprint(args.model_dir)
    # this process's users: shard i of n of every user, split again among the processes; the shard is taken
    # before users already in the file are left out, so that an interrupted shard resumes with its own users
    users = shard_users(sorted(ds.sequences)[: args.max_users or None], split_shard((i, n), procs.rank, procs.world))
    if args.out.exists():  # an interrupted build resumes: users already in the file are skipped
        done = TopKCache(args.out, fingerprint, args.k)
        users = [u for u in users if u not in done.users()]
        done.close()
    histories = {u: ds.sequences[u][-rec.config.max_history :] for u in users}
    seen = {u: set(ds.sequences[u]) for u in users}  # everything the user has, not only what the model reads
    progress = None if args.quiet or not procs.is_main else stderr_progress()

    def part_of(rank: int) -> Path:
        return args.out if procs.world == 1 else args.out.with_name(f"{args.out.name}.part{rank}of{procs.world}")

    part = part_of(procs.rank)
    stats = build_cache(rec, histories, part, fingerprint, args.k, progress=progress, exclude=seen)
    if procs.world > 1:
        procs.barrier()
        if procs.is_main:
            parts = [part_of(r) for r in range(procs.world)]
            stats["users_in_cache"] = merge_caches(parts, args.out)
            for p in parts:
                p.unlink()
            stats["processes"] = procs.world
        procs.barrier()
    if procs.is_main:
        emit({"out": str(args.out), "device": str(procs.device), **stats}, args.json, f"{args.out}: {stats}")
    return 0


def cmd_cache_merge(args) -> int:
    from sidrec.cache import merge_caches

    n = merge_caches(args.parts, args.out)
    emit({"out": str(args.out), "users": n}, args.json, f"merged {len(args.parts)} parts into {args.out}: {n} users")
    return 0


def cmd_evaluate(args) -> int:
    from sidrec.artifacts import write_json_atomic
    from sidrec.coldstart import ColdConfig
    from sidrec.evaluate import BASELINES, EvalConfig, evaluate

    default = "popularity,sasrec,text" if args.cold_items else "popularity,sasrec"
    baselines = tuple(b.strip() for b in (args.baselines or default).split(",") if b.strip() and b.strip() != "none")
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise SidrecError(f"--baselines: unknown baseline {unknown[0]!r} (choose from {', '.join(BASELINES)}, or none)")
    if args.cold_trained_on_all and not args.cold_items:
        raise SidrecError("--cold-trained-on-all reports a cold-start split: give --cold-items too")
    config = EvalConfig(
        split=args.split, num_beams=args.beams, k=args.k, max_users=args.max_users,
        exclude_history=not args.allow_repeats, device=args.device, baselines=baselines,
        cold=ColdConfig(args.cold_items, args.cold_seed) if args.cold_items else None,
        cold_trained_on_all=args.cold_trained_on_all, placed_score=args.placed_score,
        placed_weight=args.placed_weight,
        new_item_place=args.new_item_place, new_item_top=args.new_item_top,
        sasrec_dir=str(args.sasrec) if args.sasrec else None, score=args.score,
    )  # fmt: skip
    if args.sasrec and "sasrec" not in baselines:
        raise SidrecError("--sasrec gives the SASRec baseline: keep sasrec in --baselines")
    if args.no_llm:
        model_dir = None
    else:
        model_dir = args.model_dir
    result = evaluate(model_dir, args.data, config, None if args.quiet else stderr_progress(), args.tokenizer)
    if args.out:
        write_json_atomic(args.out, result)
    summary = {k: v for k, v in result.items() if k != "per_user"}
    lines = [f"{result['dataset']} {result['split']} ({result['users']} users, {result['seconds']} s)"]
    lines += [
        f"{name:>10}: " + "  ".join(f"{m} {v:.4f}" for m, v in ms.items()) for name, ms in result["models"].items()
    ]
    for group, part in result.get("by_target", {}).items():
        lines.append(f"{group} targets ({part['users']} users):")
        lines += [
            f"{name:>10}: " + "  ".join(f"{m} {v:.4f}" for m, v in ms.items()) for name, ms in part["models"].items()
        ]
    emit(summary, args.json, "\n".join(lines))
    return 0


def cmd_sasrec(args) -> int:
    from sidrec.artifacts import check_replaceable
    from sidrec.baselines import SASRecConfig
    from sidrec.coldstart import ColdConfig, withhold
    from sidrec.data import load_dataset, split_dataset
    from sidrec.sasrec_grid import GridConfig, key_of, save_tuned, tune

    check_replaceable(args.out, "sasrec")
    ds = load_dataset(args.data)
    cold = ColdConfig(args.cold_items, args.cold_seed) if args.cold_items else None
    trained_on = withhold(ds, cold) if cold else ds
    base = SASRecConfig(seed=args.seed, min_epochs=args.min_epochs, device=args.device)
    grid = GridConfig(tuple(args.hidden), tuple(args.dropout), tuple(args.max_len), base)
    model, rows = tune(
        trained_on.item_ids, split_dataset(trained_on), grid, None if args.quiet else stderr_progress(),
        exclude_history=not args.allow_repeats, work=args.out.with_name(args.out.name + "-grid"),
        key=key_of(ds, cold, not args.allow_repeats),
    )  # fmt: skip
    save_tuned(model, rows, args.out, ds, cold, exclude_history=not args.allow_repeats)
    lines = [f"{ds.name}: SASRec grid ({len(rows)} points), validation NDCG@10 at the best epoch"]
    lines += [
        f"{'*' if r['winner'] else ' '} hidden {r['hidden']:>4}  dropout {r['dropout']:<4}  max_len {r['max_len']:>3}"
        f"  {r['best_valid_ndcg@10']:.4f}  (best at epoch {r['best_epoch']} of {r['epochs']}, stopped {r['stopped']},"
        f" {r['train_seconds']} s)"
        for r in rows
    ]
    lines.append(f"saved the winner (*) to {args.out}")
    emit({"out": str(args.out), "grid": rows}, args.json, "\n".join(lines))
    return 0
