"""The `bench` commands: each runs a benchmark of `sidrec.bench` (or `sidrec.ablation`), adds the process's
peak memory and reports like every command (`sidrec.commands.emit`)."""

from __future__ import annotations

import sys

from sidrec.commands import emit
from sidrec.device import peak_memory


def cmd_bench_decode(args) -> int:
    from sidrec.bench import bench_decode

    result = bench_decode(args.model_dir, args.data, users=args.users, beams=args.beams, k=args.k)
    result |= peak_memory()
    emit(result, args.json, "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


def cmd_bench_cache(args) -> int:
    from sidrec.bench import bench_cache

    result = bench_cache(args.model_dir, args.data, users=args.users, k=args.k)
    result |= peak_memory()
    emit(result, args.json, "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


def cmd_bench_tokenizer(args) -> int:
    from sidrec.bench import bench_tokenizer

    result = bench_tokenizer(args.data, args.out, quick=args.quick, codebook_size=args.codebook_size)
    result |= peak_memory()
    emit(result, args.json, result["markdown"])
    return 0


def cmd_bench_train(args) -> int:
    from sidrec.bench import bench_train

    result = bench_train(args.data, args.tokenizer, steps=args.steps, batch_size=args.batch_size)
    human = (
        f"ours {result['ours_tokens_per_second']} tokens/s vs plain Trainer "
        f"{result['plain_trainer_tokens_per_second']} tokens/s: {result['speedup']}x"
    )
    result |= peak_memory()
    emit(result, args.json, human)
    return 0


def cmd_bench_ablation(args) -> int:
    from sidrec.ablation import bench_ablation
    from sidrec.artifacts import write_json_atomic

    result = bench_ablation(
        args.data, args.tokenizer, steps=args.steps, variants=args.variants, users=args.users,
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
    )  # fmt: skip
    result |= peak_memory()
    if args.out:
        write_json_atomic(args.out, result)
    human = "\n".join(
        f"{r['variant']}: valid loss {r['valid_loss']}" + (f", recall@10 {r['recall@10']}" if "recall@10" in r else "")
        for r in result["rows"]
    )
    emit(result, args.json, human)
    return 0
