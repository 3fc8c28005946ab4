"""The cold-start warm target over training seeds: models trained under the cold-start protocol against models trained
on every item, each side averaged over its seeds, on the test users whose target the draw did not withhold.

Each run is an `evaluate --out FILE` JSON with per-user rows, or a `ranks_*.json` map {user: rank} as
benchmarks/recipe_repeat.sh writes; the warm users are those of the first cold run whose target is not a withheld
item. Reports each run's Recall/NDCG@10, each side's mean, the ratio of the means, and the mean per-user difference
with its standard error (each user's value averaged over a side's seeds, `sidrec.ablation.paired_se`).

    PYTHONPATH=.:benchmarks python benchmarks/cold_seeds.py \\
        --cold benchmarks/work/cold_start/withheld.json benchmarks/work/cold_start_seed1/withheld.json \\
        --all models/sample/evaluation.json benchmarks/results/ranks_sample_seed{1,2}.json \\
        --out benchmarks/results/cold_seeds_sample.json
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


def ranks(run: dict) -> dict[str, int | None]:
    """{user: rank or None} from an evaluation's per-user rows or from a ranks map.

    >>> ranks({"per_user": [{"user_id": "u", "rank": 3}]}), ranks({"u": None})
    ({'u': 3}, {'u': None})
    """
    return ranks_of(run) if "per_user" in run else dict(run)


def side(runs: list[dict], users: list[str]) -> dict:
    """Each run's metrics on `users` and their mean over runs.

    >>> side([{"ranks": {"u": 1, "v": None}}, {"ranks": {"u": None, "v": None}}], ["u", "v"])["recall@10"]
    {'runs': [0.5, 0.0], 'mean': 0.25}
    """
    out = {}
    for m in METRICS:
        per_run = [sum(at_rank(m, r["ranks"][u]) for u in users) / len(users) for r in runs]
        out[m] = {"runs": [round(x, 4) for x in per_run], "mean": round(sum(per_run) / len(per_run), 4)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold", type=Path, nargs="+", required=True, help="cold-start evaluations (per-user rows)")
    ap.add_argument("--all", type=Path, nargs="+", required=True, help="models trained on every item, same split")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    first = json.loads(args.cold[0].read_text())
    if not all("cold_target" in u for u in first.get("per_user", [{}])):
        raise SystemExit(f"{args.cold[0]} is not a cold-start evaluation with per-user rows")
    users = [u["user_id"] for u in first["per_user"] if not u["cold_target"]]
    runs = {name: [{"ranks": ranks(json.loads(p.read_text()))} for p in paths]
            for name, paths in (("cold", args.cold), ("all", args.all))}  # fmt: skip
    for name, paths in (("cold", args.cold), ("all", args.all)):
        for p, r in zip(paths, runs[name], strict=True):
            missing = set(users) - set(r["ranks"])
            if missing:
                raise SystemExit(f"{p} does not rank {len(missing)} of the warm users")
            r["ranks"] = {u: r["ranks"][u] for u in users}
    result = {"command": " ".join(sys.argv), "date": date.today().isoformat(), "warm_users": len(users),
              "cold_runs": [str(p) for p in args.cold], "all_runs": [str(p) for p in args.all]}  # fmt: skip
    for name in runs:
        result[name] = side(runs[name], users)
    for m in METRICS:
        a, b = result["cold"][m]["mean"], result["all"][m]["mean"]
        se = paired_se(runs["cold"], runs["all"], m)
        result[m] = {"ratio": round(a / b, 3), "difference": round(a - b, 4), "se": round(se, 4) if se else None}
    write_json_atomic(args.out, result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
