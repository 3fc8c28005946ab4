"""Keyword quality of a tokenizer, before and after the current keyword method, in the same run.

Quality: the share of items whose own text names one of their token's top-5 keywords, against the same share
with the keywords of another token of the same level drawn at random (`sidrec.keywords.keyword_quality`).
"Stored" is the tokenizer's keywords.json as it is; "current" re-describes its tokens with today's method
(Unicode words, learned product-copy filter, no keywords on the separating level). The codes are untouched, so a
model trained on the tokenizer still belongs to it; `--write` swaps the new keywords.json in.

    python benchmarks/keyword_quality.py sample_data models/sample/tokenizer \
        --out benchmarks/results/keyword_quality_sample.json [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from sidrec.artifacts import write_json_atomic
from sidrec.bench import machine
from sidrec.data import load_dataset
from sidrec.pipeline import describe_tokens, tokenizer_keyword_quality
from sidrec.tokenizer import SIDTokenizer, load_keywords

FILLER_PROBES = ("designed", "features", "offers", "highlights", "include", "available", "made")


def summary(keywords: dict, ds, tok) -> dict:
    q = tokenizer_keyword_quality(ds, tok, keywords)
    words = Counter(w for v in keywords.values() for k in v["keywords"][:5] for w in k.split())
    q["tokens_naming_filler"] = {w: words[w] for w in FILLER_PROBES if words[w]}
    q["separating_tokens_with_keywords"] = sum(
        1 for v in keywords.values() if v["level"] == tok.n_levels - 1 and v["keywords"]
    )
    return q


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("tokenizer", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--write", action="store_true", help="replace the tokenizer's keywords.json by the current one")
    args = ap.parse_args()
    ds, tok = load_dataset(args.data), SIDTokenizer.load(args.tokenizer)
    stored = load_keywords(args.tokenizer)
    t0 = time.perf_counter()
    current = describe_tokens(ds, tok)
    seconds = time.perf_counter() - t0
    result = {
        "data": str(args.data),
        "tokenizer": str(args.tokenizer),
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "stored": summary(stored, ds, tok),
        "current": summary(current, ds, tok),
        "describe_seconds": round(seconds, 1),
    }
    write_json_atomic(args.out, result)
    if args.write:
        write_json_atomic(args.tokenizer / "keywords.json", current)
    print(json.dumps(result, indent=1), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
