"""How far any recommender could go on the sample: the generator's own next-pick odds (`sidrec.sample_oracle`),
scored like the models on the same leave-one-out targets, beside an evaluation's figures for the same users.

    PYTHONPATH=.:benchmarks python benchmarks/sample_ceiling.py --evaluation models/sample/evaluation.json \\
        --out benchmarks/results/sample_ceiling.json

Checks first that the sample regenerated from its config is the one on disk, so the hidden states are the ones
behind its sequences. The oracle is scored twice with different draw seeds: the gap between the two is the noise
of its finite draws.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from recipe_table import ranks_of

from sidrec.artifacts import write_json_atomic
from sidrec.bench import machine
from sidrec.metrics import at_rank, rank_of, standard_errors, summarize
from sidrec.sample import SampleConfig, generate_sample
from sidrec.sample_oracle import OracleConfig, oracle_lists

KS = (10,)
METRICS = ("recall@10", "ndcg@10")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("sample_data"))
    ap.add_argument("--evaluation", type=Path, help="an evaluate --out JSON on this data (test split) to set beside")
    ap.add_argument("--draws", type=int, default=OracleConfig.draws)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    config = SampleConfig()
    _, interactions = generate_sample(config)
    on_disk = pd.read_csv(args.data / "interactions.csv", dtype={"user_id": str, "item_id": str})
    if not on_disk.equals(interactions.reset_index(drop=True)):
        raise SystemExit(f"{args.data} is not the sample SampleConfig() generates; the oracle would not match it")
    sequences = interactions.groupby("user_id", sort=False)["item_id"].apply(list).to_dict()

    result = {
        "command": " ".join(sys.argv),
        "date": date.today().isoformat(),
        "machine": machine("cpu"),
        "draws": args.draws,
        "splits": {},
    }
    for split, before_last in (("valid", 2), ("test", 1)):
        rows = {}
        for seed in (0, 1):
            start = time.perf_counter()
            lists = oracle_lists(config, OracleConfig(draws=args.draws, seed=seed), before_last)
            users = list(lists)
            targets = [sequences[u][-before_last] for u in users]
            ranked = [lists[u] for u in users]
            rows[f"oracle, draw seed {seed}"] = {
                **summarize(ranked, targets, KS),
                "se": standard_errors(ranked, targets, KS),
                "users": len(users),
                "seconds": round(time.perf_counter() - start, 1),
                "ranks": {u: rank_of(lists[u], t) for u, t in zip(users, targets, strict=True)},
            }
        result["splits"][split] = rows
        print(split, {k: {m: round(v[m], 4) for m in METRICS} for k, v in rows.items()}, flush=True)

    if args.evaluation:
        ev = json.loads(args.evaluation.read_text())
        if ev["split"] != "test" or ev["history_rule"] != "exclude history":
            raise SystemExit(f"{args.evaluation} is not a test-split evaluation under the history rule")
        test = result["splits"]["test"]
        oracle = test["oracle, draw seed 0"]
        llm = ranks_of(ev)
        if set(llm) != set(oracle["ranks"]):
            raise SystemExit(f"{args.evaluation} does not rank the sample's test users")
        beside = {name: {m: ev["models"][name][m] for m in METRICS} for name in ev["models"]}
        for figures in beside.values():
            figures["share_of_ceiling"] = {m: round(figures[m] / oracle[m], 3) for m in METRICS}
        paired = {}
        for m in METRICS:
            d = np.array([at_rank(m, oracle["ranks"][u]) - at_rank(m, llm[u]) for u in llm])
            paired[m] = {"mean": round(float(d.mean()), 4), "se": round(float(d.std(ddof=1) / np.sqrt(d.size)), 4)}
        result["beside"] = {"evaluation": str(args.evaluation), "models": beside, "oracle_minus_sid_llm": paired}
        print(json.dumps(result["beside"], indent=1))
    for rows in result["splits"].values():
        for row in rows.values():
            row.pop("ranks")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
