"""The SID-LLM against text similarity on the same cold-target users, paired: the difference per user and its
standard error (tighter than comparing the two means' own errors), and which users each one finds.

Reads the per-user rows an `evaluate --cold-items ... --out FILE` run wrote (the SID-LLM's lists) and recomputes
the text-similarity lists for the same users under the same history rule.

    PYTHONPATH=. python benchmarks/cold_paired.py benchmarks/work/cold_start/withheld.json sample_data \\
        benchmarks/work/cold_start/tokenizer --out benchmarks/results/cold_paired_sample.json
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

from sidrec.artifacts import write_json_atomic
from sidrec.bench import machine
from sidrec.data import load_dataset, split_dataset
from sidrec.evaluate import seen_items, text_similarity
from sidrec.metrics import ndcg_at, recall_at
from sidrec.tokenizer import SIDTokenizer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("evaluation", type=Path, help="the JSON an evaluate --out run wrote, with per-user rows")
    ap.add_argument("data", type=Path)
    ap.add_argument("tokenizer", type=Path, help="the tokenizer whose text settings the text baseline uses")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    rows = [u for u in json.loads(args.evaluation.read_text())["per_user"] if u.get("cold_target")]
    ds = load_dataset(args.data)
    split = split_dataset(ds)
    by_user = {s.user_id: s for s in split.test}
    samples = [by_user[u["user_id"]] for u in rows]
    embed = SIDTokenizer.load(args.tokenizer).config.embed
    text = text_similarity(ds, embed).recommend([list(s.history) for s in samples], 10, seen_items(samples, split))
    result = {"command": " ".join(sys.argv), "machine": machine(), "date": date.today().isoformat(), "users": len(rows)}
    for name, fn in (("recall@10", recall_at), ("ndcg@10", ndcg_at)):
        sid = np.array([fn(u["items"], u["target"], 10) for u in rows])
        txt = np.array([fn(items, s.target, 10) for items, s in zip(text, samples, strict=True)])
        diff = sid - txt
        result[name] = {
            "sid-llm": round(float(sid.mean()), 4),
            "text": round(float(txt.mean()), 4),
            "difference": round(float(diff.mean()), 4),
            "paired_se": round(float(diff.std(ddof=1) / np.sqrt(len(diff))), 4),
        }
    hit_sid = np.array([recall_at(u["items"], u["target"], 10) > 0 for u in rows])
    hit_txt = np.array([recall_at(items, s.target, 10) > 0 for items, s in zip(text, samples, strict=True)])
    result["found_by"] = {
        "both": int((hit_sid & hit_txt).sum()),
        "sid-llm only": int((hit_sid & ~hit_txt).sum()),
        "text only": int((~hit_sid & hit_txt).sum()),
    }
    write_json_atomic(args.out, result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
