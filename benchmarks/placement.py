"""Cold-start placement agreement of a tokenizer: known items re-placed from their text alone, per level.

For each method (`sidrec.placement`: "text" leaves the behaviour part zero, "neighbours" imputes it from the
k nearest known items by text, each item left out of its own neighbours) the share of items that get their own
codes up to each level, for all items and for items nobody bought in the training split, next to the ceiling
(the items' exact stored embeddings re-placed), in one run. With --learned, two text-to-code models trained on
the known items are measured too, out of fold (5 folds): "ridge" (a ridge regression from the text embedding to
the behaviour half, then placed by the codebooks) and "logistic a" (a logistic regression from the text
embedding straight to the level-a code; level a only).

    python benchmarks/placement.py sample_data models/sample/tokenizer --out benchmarks/results/placement_sample.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from sidrec.artifacts import write_json_atomic
from sidrec.bench import machine
from sidrec.data import load_dataset, split_dataset
from sidrec.embed import encode_texts
from sidrec.placement import PlacementConfig, prefix_agreement, replace_known
from sidrec.tokenizer import SIDTokenizer, load_embeddings


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("tokenizer", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--k", default="5,10,20", help="neighbour counts to try")
    ap.add_argument("--learned", action="store_true", help="also the ridge and logistic text-to-code models")
    args = ap.parse_args()
    ds, tok = load_dataset(args.data), SIDTokenizer.load(args.tokenizer)
    known = load_embeddings(args.tokenizer)
    if known is None:
        raise SystemExit(f"{args.tokenizer}: no stored embeddings to compare with")
    texts = dict(zip(ds.item_ids, ds.item_text(tok.config.embed.max_description_chars), strict=True))
    t0 = time.perf_counter()
    text = encode_texts([texts[i] for i in tok.item_ids], tok.config.embed.text_model)
    encode_seconds = time.perf_counter() - t0
    bought = {i for seq in split_dataset(ds).train_sequences.values() for i in seq} if ds.sequences else set()
    cold = np.array([i not in bought for i in tok.item_ids])
    configs = [PlacementConfig("text")] + [PlacementConfig("neighbours", int(k)) for k in args.k.split(",")]
    truth = tok.codes[:, : tok.n_levels - 1]
    ceiling = prefix_agreement(tok.prefix_codes_for(known.astype(np.float32)), truth)
    rows = []
    for config in configs:
        t0 = time.perf_counter()
        placed = replace_known(tok, known, text, config)
        row = {"method": config.method, "k": config.k, "items": len(text),
               "agreement": prefix_agreement(placed, truth), "ceiling": ceiling,
               "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
        if cold.any():  # neighbours still come from every known item: only the measured items are restricted
            row["not_bought"] = prefix_agreement(placed[cold], truth[cold])
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    if args.learned:
        rows += learned_rows(tok, known, text, truth, ceiling)
    result = {"data": str(args.data), "tokenizer": str(args.tokenizer), "machine": machine(),
              "date": time.strftime("%Y-%m-%d"), "embedding": tok.config.embed.embedding,
              "items": len(tok.item_ids), "not_bought": int(cold.sum()),
              "text_encode_seconds": round(encode_seconds, 1), "rows": rows}  # fmt: skip
    write_json_atomic(args.out, result)
    return 0


def learned_rows(tok, known: np.ndarray, text: np.ndarray, truth: np.ndarray, ceiling: list[float]) -> list[dict]:
    """Out-of-fold placement by two models trained on the other folds' known items (5 folds, seed 0)."""
    from sklearn.linear_model import LogisticRegression

    from sidrec.embed import fuse
    from sidrec.placement import split_fused

    weight = tok.config.embed.behavior_weight
    _, behavior = split_fused(known, text.shape[1], weight)
    folds = np.random.default_rng(0).integers(0, 5, len(text))
    rows = []
    t0 = time.perf_counter()
    predicted = np.zeros_like(behavior)
    for f in range(5):
        fit, held = folds != f, folds == f
        x = np.c_[text[fit], np.ones(fit.sum())]
        w = np.linalg.solve(x.T @ x + np.eye(x.shape[1]), x.T @ behavior[fit])  # ridge, lambda = 1
        predicted[held] = np.c_[text[held], np.ones(held.sum())] @ w
    predicted /= np.linalg.norm(predicted, axis=1, keepdims=True)
    placed = tok.prefix_codes_for(fuse(text, predicted.astype(np.float32), weight))
    rows.append({"method": "ridge", "items": len(text), "agreement": prefix_agreement(placed, truth),
                 "ceiling": ceiling, "seconds": round(time.perf_counter() - t0, 2)})  # fmt: skip
    t0 = time.perf_counter()
    level_a = np.zeros(len(text), np.int64)
    for f in range(5):
        fit, held = folds != f, folds == f
        level_a[held] = LogisticRegression(C=10, max_iter=300).fit(text[fit], truth[fit, 0]).predict(text[held])
    agreement = [round(float((level_a == truth[:, 0]).mean()), 4)]
    rows.append({"method": "logistic a", "items": len(text), "agreement": agreement, "ceiling": ceiling[:1],
                 "seconds": round(time.perf_counter() - t0, 2)})  # fmt: skip
    for row in rows[-2:]:
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
