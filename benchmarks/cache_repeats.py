"""How many cached slots hold an item the user already has: every row of a top-K cache read back and set against
the user's whole sequence in the dataset (the history rule's promise, checked on the shipped file).

    PYTHONPATH=. python benchmarks/cache_repeats.py models/sample/cache.sqlite sample_data \\
        --out benchmarks/results/cache_repeats_sample.json
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from sidrec.artifacts import write_json_atomic
from sidrec.cache import TopKCache
from sidrec.data import load_dataset


def count_repeats(cache: TopKCache, sequences: dict[str, list[str]]) -> dict:
    users = sorted(cache.users())
    slots = repeats = users_with_repeat = 0
    for user in users:
        items = cache.get(user).items
        had = set(sequences.get(user, ()))
        n = sum(item in had for item in items)
        slots += len(items)
        repeats += n
        users_with_repeat += n > 0
    return {"users": len(users), "slots": slots, "repeat_slots": repeats, "users_with_a_repeat": users_with_repeat}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cache", type=Path)
    p.add_argument("data", type=Path)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    cache = TopKCache(args.cache)
    try:
        result = {
            "cache": str(args.cache), "model_fingerprint": cache.model_fingerprint, "date": date.today().isoformat(),
            **count_repeats(cache, load_dataset(args.data).sequences),
        }  # fmt: skip
    finally:
        cache.close()
    if args.out:
        write_json_atomic(args.out, result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
