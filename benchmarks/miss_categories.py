"""What a model's misses have in common with their targets: for each test user whose target is not in the top 10,
whether the list holds an item of the target's leaf category, of its brand, or of both; and what the SID codes say
about brand and category (the share of items whose first 1, 2, 3 codes' group agrees with the group's most common
brand or category: its purity).

Reads an `evaluate --out FILE` result with per-user rows, the catalogue's items (brand and categories columns) and
the SID tokenizer the model was trained with.

    PYTHONPATH=. python benchmarks/miss_categories.py models/sample/evaluation.json sample_data \\
        models/sample/tokenizer --out benchmarks/results/miss_categories_sample.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from sidrec.artifacts import write_json_atomic
from sidrec.data import load_dataset
from sidrec.tokenizer import SIDTokenizer


def purity(tok: SIDTokenizer, label: dict[str, str], depth: int) -> float:
    """Share of items whose label is the most common one among the items sharing their first `depth` codes."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for iid in tok.item_ids:
        groups[tuple(tok.codes_of(iid)[:depth])].append(label[iid])
    return sum(Counter(g).most_common(1)[0][1] for g in groups.values()) / len(tok.item_ids)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("evaluation", type=Path)
    ap.add_argument("data")
    ap.add_argument("tokenizer")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    ds = load_dataset(args.data)
    items = ds.items  # indexed by item_id
    if not {"brand", "categories"} <= set(items.columns):
        raise SystemExit(f"{args.data}: the items need brand and categories columns")
    brand, cat = items["brand"].astype(str).to_dict(), items["categories"].astype(str).to_dict()
    rows = json.loads(args.evaluation.read_text())["per_user"]
    count = Counter()
    for u in rows:
        target, top = u["target"], u["items"][:10]
        count["users"] += 1
        if target in top:
            count["hits"] += 1
            continue
        same_cat = [i for i in top if cat[i] == cat[target]]
        count["misses"] += 1
        count["misses with the target's leaf category in the top 10"] += bool(same_cat)
        count["misses with the target's brand in the top 10"] += any(brand[i] == brand[target] for i in top)
        count["misses with the target's category and brand in one top-10 item"] += any(
            brand[i] == brand[target] for i in same_cat
        )
        count["misses whose target's leaf category is in the history"] += any(
            cat[h] == cat[target] for h in u["history"]
        )
    tok = SIDTokenizer.load(args.tokenizer)
    result = {
        "command": " ".join(sys.argv),
        "date": date.today().isoformat(),
        "counts": dict(count),
        "purity": {
            name: {f"first {d} codes": round(purity(tok, label, d), 3) for d in (1, 2, 3)}
            for name, label in (("brand", brand), ("leaf category", cat))
        },
    }
    write_json_atomic(args.out, result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
