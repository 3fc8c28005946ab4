"""Cold-start placement agreement of a tokenizer: known items re-placed from their text alone, per level.

For each method (`sidrec.placement`: "text" leaves the behaviour part zero, "neighbours" imputes it from the
k nearest known items by text, each item left out of its own neighbours) the share of items that get their own
codes up to each level, for all items and for items nobody bought in the training split, next to the ceiling
(the items' exact stored embeddings re-placed), in one run.

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
    result = {"data": str(args.data), "tokenizer": str(args.tokenizer), "machine": machine(),
              "date": time.strftime("%Y-%m-%d"), "embedding": tok.config.embed.embedding,
              "items": len(tok.item_ids), "not_bought": int(cold.sum()),
              "text_encode_seconds": round(encode_seconds, 1), "rows": rows}  # fmt: skip
    write_json_atomic(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
