"""Two SID-LLM evaluations of the same users, paired: each one's Recall/NDCG@10, the mean per-user difference (A
minus B) with its standard error (`sidrec.ablation.paired_se`), and how many top-10 lists are identical.

Reads the per-user rows two `evaluate --out FILE` runs wrote (same split, same users, in any order); with
`--targets warm` or `cold`, only the users of a cold-start run whose target is (cold) or is not (warm) a withheld item
(by A's draw; B may be a plain evaluation of a model trained on every item, for the same users).

    PYTHONPATH=. python benchmarks/paired.py benchmarks/work/dropout0.1_seed0/valid.json \\
        benchmarks/work/first_level_text/valid_demo.json --out benchmarks/results/paired_dropout0.1_valid.json
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from recipe_table import ranks_of

from sidrec.ablation import paired_se
from sidrec.artifacts import write_json_atomic
from sidrec.metrics import at_rank

METRICS = ("recall@10", "ndcg@10")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path, help="an evaluate --out JSON with per-user rows")
    ap.add_argument("b", type=Path, help="the one A is set against, for the same users")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument(
        "--targets", choices=("all", "warm", "cold"), default="all",
        help="cold-start runs: only the users whose target is a withheld item (cold) or is not (warm)",
    )  # fmt: skip
    args = ap.parse_args()
    a, b = (json.loads(p.read_text()) for p in (args.a, args.b))
    if args.targets != "all":  # the users are chosen by A's cold-start draw (or B's, where only B has one)
        flags = next(
            ({u["user_id"]: u["cold_target"] for u in run["per_user"]} for run in (a, b)
             if all("cold_target" in u for u in run["per_user"])), None,
        )  # fmt: skip
        if flags is None:
            raise SystemExit(f"--targets {args.targets}: neither {args.a} nor {args.b} is a cold-start run")
        for run in (a, b):
            run["per_user"] = [u for u in run["per_user"] if flags.get(u["user_id"]) == (args.targets == "cold")]
    ra, rb = ranks_of(a), ranks_of(b)
    if set(ra) != set(rb) or a["split"] != b["split"]:
        raise SystemExit(f"{args.a} and {args.b} do not rank the same users on the same split")
    lists_b = {u["user_id"]: u["items"] for u in b["per_user"]}
    result = {
        "command": " ".join(sys.argv), "date": date.today().isoformat(), "split": a["split"], "targets": args.targets,
        "users": len(ra),
        "identical_lists": sum(u["items"] == lists_b[u["user_id"]] for u in a["per_user"]),
    }  # fmt: skip
    for m in METRICS:
        mean_a, mean_b = (sum(at_rank(m, r) for r in ranks.values()) / len(ranks) for ranks in (ra, rb))
        result[m] = {
            "a": round(mean_a, 4), "b": round(mean_b, 4), "difference": round(mean_a - mean_b, 4),
            "paired_se": round(paired_se([{"ranks": ra}], [{"ranks": rb}], m), 4),
        }  # fmt: skip
    write_json_atomic(args.out, result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
