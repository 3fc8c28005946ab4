"""Steps that chain the modules for one dataset; the CLI and the app call these.

fit_catalogue: dataset -> embeddings -> tokenizer -> token keywords, with one
progress callback spanning all three. It adds no logic of its own beyond
wiring and timing.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sidrec.data import Dataset, split_dataset
from sidrec.embed import encode_texts, item_embeddings
from sidrec.errors import SidrecError
from sidrec.fitting import fit_tokenizer
from sidrec.keywords import KeywordConfig, keyword_quality, token_keywords
from sidrec.progress import ProgressFn, stage
from sidrec.published import import_index
from sidrec.tokenizer import SIDTokenizer, TokenizerConfig


@dataclass
class FitResult:
    tokenizer: SIDTokenizer
    embeddings: np.ndarray | None  # what was quantized, one row per item (None for an imported index)
    keywords: dict[str, dict]
    timings: dict[str, float]
    titles: dict[str, str]

    def save(self, folder: str | Path) -> None:
        self.tokenizer.save(folder, keywords=self.keywords, embeddings=self.embeddings, titles=self.titles)


def fit_catalogue(
    ds: Dataset,
    config: TokenizerConfig = TokenizerConfig(),
    keyword_config: KeywordConfig = KeywordConfig(),
    progress: ProgressFn | None = None,
) -> FitResult:
    """Embed, fit the codebooks, separate collisions and describe every token."""
    if config.embed.embedding != "behavior":
        ds.require_text(f"a tokenizer on {config.embed.embedding} embeddings (fit on behavior, or import an index)")
    t0 = time.perf_counter()
    split = split_dataset(ds) if ds.sequences else None
    texts = ds.item_text(config.embed.max_description_chars)
    embeddings = item_embeddings(
        texts, ds.item_ids, split.train_sequences if split else {}, config.embed, stage(progress, 0.0, 0.5)
    )
    t1 = time.perf_counter()
    tok = fit_tokenizer(ds.item_ids, embeddings, config, ds.fingerprint(), stage(progress, 0.5, 0.8))
    t2 = time.perf_counter()
    keywords = describe_tokens(ds, tok, stage(progress, 0.8, 1.0), keyword_config)
    t3 = time.perf_counter()
    timings = {"embed_seconds": t1 - t0, "fit_seconds": t2 - t1, "keyword_seconds": t3 - t2, "total_seconds": t3 - t0}
    tok.stats.update({k: round(v, 3) for k, v in timings.items()})
    return FitResult(tok, embeddings, keywords, timings, ds.items["title"].to_dict())


def keyword_texts(ds: Dataset) -> list[str]:
    """Each item's raw fields in one string, as keywords are drawn from them (without the "Brand:" and
    "Categories:" labels the text encoder sees)."""
    fields = ds.items[["title", "brand", "categories", "description"]].agg(" ".join, axis=1)
    return fields.str.replace(">", " ").tolist()


def tokenizer_keyword_quality(ds: Dataset, tok: SIDTokenizer, keywords: dict[str, dict]) -> dict:
    """`keyword_quality` of a tokenizer's keywords over the dataset's items that it knows."""
    ids = [i for i in ds.item_ids if i in tok]
    texts = dict(zip(ds.item_ids, keyword_texts(ds), strict=True))
    return keyword_quality(keywords, [texts[i] for i in ids], np.array([tok.codes_of(i) for i in ids]))


def describe_tokens(
    ds: Dataset, tok: SIDTokenizer, progress: ProgressFn | None = None, config: KeywordConfig = KeywordConfig()
) -> dict[str, dict]:
    """Keywords and descriptions for every token of `tok` over the items of `ds` (none without item text)."""
    if not ds.has_text:
        return {}
    texts = ds.item_text(tok.config.embed.max_description_chars)
    text_emb = encode_texts(texts, tok.config.embed.text_model, progress=stage(progress, 0.0, 0.3))
    return token_keywords(
        np.array([tok.codes_of(i) for i in ds.item_ids]),
        keyword_texts(ds),
        ds.items["categories"].tolist(),
        ds.items["brand"].tolist(),
        text_emb,
        config,
        encode=lambda terms: encode_texts(terms, tok.config.embed.text_model),
        separating_level=tok.separating_level,
        progress=stage(progress, 0.3, 1.0),
    )


def import_published(
    ds: Dataset, index: dict[str, list[str]] | None = None, progress: ProgressFn | None = None
) -> FitResult:
    """A tokenizer from a SID index (default: the one the dataset ships, `sidrec.layouts.choose_index`), with
    keywords where the catalogue has text."""
    from sidrec.layouts import choose_index

    index = index if index is not None else choose_index(ds)
    tok = import_index(ds.item_ids, index, ds.fingerprint())
    keywords = describe_tokens(ds, tok, progress)
    return FitResult(tok, None, keywords, {}, ds.items["title"].to_dict())


def train_llm(
    ds: Dataset,
    tokenizer_dir: str | Path,
    out: str | Path,
    config=None,
    resume: bool = False,
    progress=None,
    should_stop=None,
) -> dict:
    """Build the alignment task mix from the training split and fine-tune the LLM on it."""
    from sidrec.model import TrainConfig
    from sidrec.tasks import TEXT_TASKS, build_training_set, build_validation_set
    from sidrec.tokenizer import load_keywords
    from sidrec.train import train

    config = config or TrainConfig()
    tok = SIDTokenizer.load(tokenizer_dir)
    tok.require_catalogue(ds.fingerprint(), ds.name)
    keywords = load_keywords(tokenizer_dir)
    if not ds.has_text:
        needs = [t for t in config.tasks.tasks if t in TEXT_TASKS] + (["SA-Init"] if config.init == "sa" else [])
        if needs:
            ds.require_text(f"{', '.join(needs)} (train on SIDs alone: --tasks sequential,negative --init mean)")
    split = split_dataset(ds)
    train_examples = build_training_set(split, ds.items, tok, keywords, config.tasks)
    built = Counter(ex.task for ex in train_examples)
    empty = [t for t in config.tasks.tasks if not built[t]]
    if empty:
        why = f" ({'; '.join(ds.notes)})" if ds.notes else ""
        raise SidrecError(
            f"{ds.name}: no training examples for the {', '.join(empty)} task{'s' if len(empty) > 1 else ''}{why}: "
            "leave it out (--tasks) or change what it needs"
        )
    valid_examples = build_validation_set(split, tok, config.tasks, max_examples=config.eval_examples)
    metrics = train(
        train_examples,
        valid_examples,
        tok.tokens(),
        keywords,
        tok.fingerprint(),
        out,
        config,
        resume,
        progress,
        should_stop,
        tokenizer_dir=tokenizer_dir,
    )
    return metrics


def prefer_llm(
    ds: Dataset,
    model_dir: str | Path,
    out: str | Path,
    config=None,
    tokenizer_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
    should_stop=None,
) -> dict:
    """Preference alignment (`sidrec.preference`) of a trained model on its own best guesses, saved as a new model
    artifact at `out` (the model it starts from is left as it is)."""
    import copy
    import os
    from dataclasses import asdict

    from sidrec.artifacts import check_replaceable
    from sidrec.generate import GenerateConfig, Recommender
    from sidrec.loss import ExampleDataset, evaluate_loss
    from sidrec.model import (
        KIND,
        TrainConfig,
        load_model,
        log_history,
        model_fingerprint,
        save_model,
        tokenizer_dir_for,
    )
    from sidrec.preference import PreferenceConfig, last_items, prefer
    from sidrec.tasks import build_validation_set

    config = config or PreferenceConfig()
    model_dir, out = Path(model_dir), Path(out)
    if out.resolve() == model_dir.resolve():
        raise SidrecError(
            f"{out}: the preference stage writes a new model; give another --out than the model it starts from"
        )
    check_replaceable(out, KIND)  # before the work, not after it
    tokenizer_dir = tokenizer_dir_for(model_dir, tokenizer_dir)
    tok = SIDTokenizer.load(tokenizer_dir)
    tok.require_catalogue(ds.fingerprint(), ds.name)
    model, llm_tok, manifest = load_model(model_dir, tok.fingerprint())  # trained below
    start = copy.deepcopy(model)  # the reference, merged: a faster search and scoring
    train_config = TrainConfig.from_dict(manifest["config"])
    search = GenerateConfig(
        num_beams=config.num_beams, top_k=config.negatives + 1, max_history=train_config.tasks.max_history,
        device=config.device,
    )  # fmt: skip
    recommender = Recommender(start.merge_and_unload(), llm_tok, tok, search, train_config.tasks.sequential_mode)
    split = split_dataset(ds)
    valid = split.valid[len(split.valid) - config.eval_examples :] if config.eval_examples else []
    result = prefer(
        recommender,
        model,
        last_items(split.train_sequences, config.positions, config.max_users),
        valid,
        config,
        progress,
        should_stop,
    )
    valid_ds = ExampleDataset(
        build_validation_set(split, tok, train_config.tasks, max_examples=train_config.eval_examples),
        llm_tok,
        train_config.max_length,
    )
    valid_loss = evaluate_loss(model, valid_ds, llm_tok.pad_token_id, train_config.batch_size)
    metrics = dict(manifest.get("metrics", {}))
    metrics["valid_loss_before_preference"] = metrics.get("valid_loss")
    metrics["valid_loss"] = round(valid_loss, 4)
    record = {
        "config": asdict(config),
        "from_model": str(model_dir),
        "from_fingerprint": model_fingerprint(model_dir),
        "metrics": {k: v for k, v in result.items() if k != "log"},
        "log": result["log"],
    }
    if "preference" in manifest:  # a stage on a model that had one already: keep the earlier record
        record["earlier"] = manifest["preference"]
    hint = os.path.relpath(Path(tokenizer_dir).resolve(), out.resolve())
    save_model(
        model, out, train_config, tok.tokens(), tok.fingerprint(), metrics, log_history(model_dir), hint,
        preference=record,
    )  # fmt: skip
    return {
        **record["metrics"],
        "valid_loss": metrics["valid_loss"],
        "valid_loss_before": metrics["valid_loss_before_preference"],
    }
