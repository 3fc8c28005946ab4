"""Benchmarks that produce the figures in BENCHMARKS.md.

bench_tokenizer: for each dataset, the text-embedding time cold (empty cache)
and cached, then every tokenizer method x embedding with its fit time, collision
rate before the separating level, utilisation and entropy per level; published
indexes found next to the dataset are measured by the same code. Results come
back as a dict with a ready-to-paste markdown table.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from sidrec.data import load_dataset, split_dataset
from sidrec.embed import EmbedConfig, behavior_embeddings, encode_texts, fuse
from sidrec.fitting import fit_tokenizer
from sidrec.published import import_index
from sidrec.quantize import QuantizerConfig
from sidrec.tokenizer import SIDTokenizer, TokenizerConfig

VARIANTS = [("rq-kmeans", True), ("rq-kmeans", False), ("rq-vae", False)]


def machine(device: str | None = "auto") -> str:
    """The hardware a figure was measured on: GPU name and count, or CPU model, cores and vector flags."""
    from sidrec.device import describe

    return f"{describe(device)}; {platform.system()} {platform.machine()}"


def bench_tokenizer(
    datasets: list[Path], out: Path | None = None, quick: bool = False, codebook_size: int = 256
) -> dict:
    rows = []
    for folder in datasets:
        ds = load_dataset(folder)
        split = split_dataset(ds)
        config = EmbedConfig()
        texts = ds.item_text(config.max_description_chars)
        with tempfile.TemporaryDirectory() as cold_cache:
            saved = os.environ.get("SIDREC_CACHE")
            os.environ["SIDREC_CACHE"] = cold_cache
            encode_texts(texts[:8])  # load the model outside the timing
            t0 = time.perf_counter()
            text = encode_texts(texts)
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            encode_texts(texts)
            cached = time.perf_counter() - t0
            if saved is None:
                os.environ.pop("SIDREC_CACHE")
            else:
                os.environ["SIDREC_CACHE"] = saved
        t0 = time.perf_counter()
        behavior = behavior_embeddings(ds.item_ids, split.train_sequences, config.behavior_dim, config.window)
        behavior_s = time.perf_counter() - t0
        embeddings = {"text": text, "behavior": behavior, "fused": fuse(text, behavior, config.behavior_weight)}
        embed_s = {"text": cold, "behavior": behavior_s, "fused": cold + behavior_s}
        variants = VARIANTS[:1] if quick else VARIANTS
        for method, balanced in variants:
            for name, x in embeddings.items():
                q = replace(QuantizerConfig(), method=method, balanced=balanced, codebook_size=codebook_size)
                tok = fit_tokenizer(ds.item_ids, x, TokenizerConfig(q, replace(config, embedding=name)))
                s = tok.stats
                rows.append(
                    {
                        "dataset": ds.name,
                        "tokenizer": f"{s['method']} {q.levels}x{codebook_size}",
                        "embedding": name,
                        "embed_s_cold": round(embed_s[name], 1),
                        "embed_s_cached": round(cached if name != "behavior" else behavior_s, 2),
                        "fit_s": s["fit_seconds"],
                        "collision_before": s["collision_rate_before_dedup"],
                        "largest_bucket": s["largest_bucket"],
                        "utilization": s["utilization"][:-1],
                        "entropy_bits": s["entropy_bits"][:-1],
                    }
                )
        indexes = {} if quick else ds.index_files
        for name, path in indexes.items():
            from sidrec.layouts import read_index

            tok = import_index(ds.item_ids, read_index(path, ds.items))
            s = tok.stats
            n_fitted = tok.separating_level if tok.separating_level is not None else tok.n_levels
            rows.append(
                {
                    "dataset": ds.name,
                    "tokenizer": f"published: {path.name if name == 'published' else name}",
                    "embedding": "-",
                    "embed_s_cold": None,
                    "embed_s_cached": None,
                    "fit_s": None,
                    "collision_before": s["collision_rate_before_dedup"],
                    "largest_bucket": s["largest_bucket"],
                    "utilization": s["utilization"][:n_fitted],
                    "entropy_bits": s["entropy_bits"][:n_fitted],
                }
            )
    markdown = to_markdown(rows)
    result = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "rows": rows, "markdown": markdown}
    if out is not None:
        with open(out, "a") as f:
            f.write(f"\n<!-- bench tokenizer {result['date']} on {result['machine']} -->\n{markdown}\n")
    return result


def to_markdown(rows: list[dict]) -> str:
    head = (
        "| dataset | tokenizer | embedding | embed s (cold / cached) | fit s | collisions before last level "
        "| largest bucket | utilisation per level | entropy bits per level |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        embed = "-" if r["embed_s_cold"] is None else f"{r['embed_s_cold']} / {r['embed_s_cached']}"
        fit = "-" if r["fit_s"] is None else f"{r['fit_s']:.2f}"
        util = ", ".join(f"{u:.0%}" for u in r["utilization"])
        ent = ", ".join(f"{e:.2f}" for e in r["entropy_bits"])
        lines.append(
            f"| {r['dataset']} | {r['tokenizer']} | {r['embedding']} | {embed} | {fit} | {r['collision_before']:.2%} "
            f"| {r['largest_bucket']} | {util} | {ent} |"
        )
    return "\n".join(lines)


def train_inputs(data: Path, tokenizer_dir: Path, task_config=None):
    """(tokenizer, keywords, training examples, 200 validation examples) of a dataset under a task config."""
    from sidrec.tasks import TaskConfig, build_training_set, build_validation_set
    from sidrec.tokenizer import load_keywords

    ds = load_dataset(data)
    tok = SIDTokenizer.load(tokenizer_dir)
    keywords = load_keywords(tokenizer_dir)
    split = split_dataset(ds)
    task_config = task_config or TaskConfig()
    train_examples = build_training_set(split, ds.items, tok, keywords, task_config)
    valid_examples = build_validation_set(split, tok, task_config, max_examples=200)
    return tok, keywords, train_examples, valid_examples


def plain_trainer_tokens_per_second(examples, sid_tokens, keywords, config, out: Path) -> dict:
    """The baseline: a plain transformers Trainer on the same examples, model, LoRA and batch size.

    Right padding (DataCollatorForSeq2Seq), the model's own loss over full logits,
    a random sampler, float32: what a straightforward script does.
    """
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments, set_seed

    from sidrec.device import pick
    from sidrec.loss import ExampleDataset
    from sidrec.train import prepare_model

    set_seed(config.seed)
    model, tokenizer, _ = prepare_model(config, sid_tokens, keywords)
    ds = ExampleDataset(examples, tokenizer, config.max_length)
    rows = [{"input_ids": r["input_ids"], "labels": r["labels"]} for r in ds.rows]
    seen = {"tokens": 0}
    collate = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)

    def counting_collator(batch):
        out = collate(batch)
        seen["tokens"] += int(out["attention_mask"].sum())
        return out

    args = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        max_steps=config.max_steps,
        logging_steps=config.max_steps,
        save_strategy="no",
        report_to=[],
        seed=config.seed,
        use_cpu=pick(config.device).type == "cpu",  # the same device as ours: a like-for-like ratio
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=counting_collator)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    return {"tokens_per_second": round(seen["tokens"] / seconds, 1), "train_seconds": round(seconds, 1)}


def bench_train(data: Path, tokenizer_dir: Path, steps: int = 20, batch_size: int = 16) -> dict:
    """Tokens/second of our training loop against a plain Trainer, same data, model and steps, same run;
    ours also in float32, to separate what bfloat16 autocast gives from the rest (padding, loss on the answer)."""
    import torch

    from sidrec.llm import torch_threads
    from sidrec.model import TrainConfig
    from sidrec.train import train

    torch_threads()
    tok, keywords, train_examples, valid_examples = train_inputs(data, tokenizer_dir)
    config = TrainConfig(max_steps=steps, batch_size=batch_size, save_steps=10_000, eval_examples=16)
    with tempfile.TemporaryDirectory() as tmp:
        plain = plain_trainer_tokens_per_second(train_examples, tok.tokens(), keywords, config, Path(tmp) / "plain")
        ours = train(
            train_examples, valid_examples, tok.tokens(), keywords, tok.fingerprint(), Path(tmp) / "ours", config
        )
        fp32 = train(
            train_examples, valid_examples, tok.tokens(), keywords, tok.fingerprint(), Path(tmp) / "fp32",
            replace(config, bf16=False),
        )  # fmt: skip
    return {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "steps": steps,
        "batch_size": batch_size,
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "ours_tokens_per_second": ours["tokens_per_second"],
        "ours_bf16": ours["bf16"],
        "plain_trainer_tokens_per_second": plain["tokens_per_second"],
        "speedup": round(ours["tokens_per_second"] / plain["tokens_per_second"], 2),
        "ours_fp32_tokens_per_second": fp32["tokens_per_second"],
        "speedup_fp32": round(fp32["tokens_per_second"] / plain["tokens_per_second"], 2),
    }


def _recommender(model_dir: Path, tokenizer_dir: Path | None, **config):
    from sidrec.generate import GenerateConfig, Recommender
    from sidrec.llm import torch_threads
    from sidrec.model import tokenizer_dir_for

    torch_threads()
    return Recommender.from_dirs(model_dir, tokenizer_dir_for(model_dir, tokenizer_dir), GenerateConfig(**config))


def _eval_histories(data: Path, n_users: int) -> list[list[str]]:
    """Test-time histories (everything before each user's last item) of the first n users."""
    split = split_dataset(load_dataset(data))
    return [list(s.history) for s in split.test[:n_users]]


def bench_decode(
    model_dir: Path, data: Path, users: int = 30, beams: int = 20, k: int = 10, tokenizer_dir=None
) -> dict:
    """Our constrained beam search against `generate` + prefix_allowed_tokens_fn, same model, same prompts;
    also with scores normalised over each level's SID tokens only (no full head), and how often that agrees."""
    from sidrec.reference import hf_generate

    rec = _recommender(model_dir, tokenizer_dir, num_beams=beams, top_k=k)
    histories = _eval_histories(data, users)
    rec.recommend(histories[:1])  # warm-up
    t0 = time.perf_counter()
    ours = rec.recommend(histories)
    ours_ms = (time.perf_counter() - t0) * 1000 / len(histories)
    t0 = time.perf_counter()
    for h in histories:
        rec.recommend([h])
    single_ms = (time.perf_counter() - t0) * 1000 / len(histories)
    t0 = time.perf_counter()
    ref = [hf_generate(rec, h, k=k, num_beams=beams) for h in histories]
    hf_ms = (time.perf_counter() - t0) * 1000 / len(histories)
    level = _recommender(model_dir, tokenizer_dir, num_beams=beams, top_k=k, score="level")
    level.recommend(histories[:1])  # warm-up
    t0 = time.perf_counter()
    ours_level = level.recommend(histories)
    level_ms = (time.perf_counter() - t0) * 1000 / len(histories)
    returned = [s for r in ours for s in r.sids]
    valid = sum(1 for s in returned if _is_item(rec, s))
    return {
        "machine": machine(), "date": time.strftime("%Y-%m-%d"), "users": len(histories), "beams": beams, "k": k,
        "ms_per_user": round(ours_ms, 1), "ms_per_user_unbatched": round(single_ms, 1),
        "hf_ms_per_user": round(hf_ms, 1),
        "speedup_vs_hf": round(hf_ms / ours_ms, 2),
        "match_rate": round(sum(o.items == r.items for o, r in zip(ours, ref, strict=True)) / len(ref), 3),
        "valid_rate": round(valid / max(len(returned), 1), 4),
        "level_scores_ms_per_user": round(level_ms, 1),
        "level_scores_match_rate": round(
            sum(o.items == r.items for o, r in zip(ours_level, ref, strict=True)) / len(ref), 3
        ),
    }  # fmt: skip


def _is_item(rec, sid: str) -> bool:
    try:
        rec.sid_tok.decode(sid)
    except Exception:
        return False
    return True


def bench_cache(model_dir: Path, data: Path, users: int = 64, k: int = 10, tokenizer_dir=None) -> dict:
    """Lookup latency of the cache, and batched build throughput against one-by-one live calls."""
    import numpy as np

    from sidrec.cache import TopKCache, build_cache
    from sidrec.model import model_fingerprint

    rec = _recommender(model_dir, tokenizer_dir, top_k=k)
    ds = load_dataset(data)
    chosen = sorted(ds.sequences)[:users]
    histories = {u: ds.sequences[u][-rec.config.max_history :] for u in chosen}
    rec.recommend([histories[chosen[0]]])  # warm-up
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cache.sqlite"
        stats = build_cache(rec, histories, path, model_fingerprint(model_dir), k=k, batch_size=16)
        t0 = time.perf_counter()
        for u in chosen:
            rec.recommend([histories[u]])
        live_ups = len(chosen) / (time.perf_counter() - t0)
        cache = TopKCache(path)
        order = [chosen[i % len(chosen)] for i in np.random.default_rng(0).permutation(max(len(chosen), 2000))]
        lat = []
        for u in order:
            t0 = time.perf_counter()
            cache.get(u)
            lat.append((time.perf_counter() - t0) * 1000)
        cache.close()
    return {
        "machine": machine(), "date": time.strftime("%Y-%m-%d"), "users": len(chosen), "k": k,
        "lookup_p50_ms": round(float(np.percentile(lat, 50)), 4),
        "lookup_p99_ms": round(float(np.percentile(lat, 99)), 4),
        "build_users_per_second": stats["users_per_second"], "live_users_per_second": round(live_ups, 2),
        "build_speedup_vs_live": round(stats["users_per_second"] / live_ups, 2),
    }  # fmt: skip
