"""Where a withheld item lands and how the search scores it: the cold-start rules compared on one split.

A model trained under the cold-start protocol (`sidrec.coldstart`, e.g. by benchmarks/cold_start.sh) is given
its withheld items by their text under each rule, and Recall/NDCG@10 are measured on the split's users whose
target is a withheld item (all of them) and on the first `--warm-users` of the others, with the
text-similarity baseline on the same users. Rules (`sidrec.placement`, `sidrec.generate`):

- any / cell: the codebooks' own nearest codes, even in a cell no known item occupies;
- occupied / share: the nearest occupied cell; a placed item takes 1/n of its cell's probability;
- occupied / cell: the nearest occupied cell; a placed item scores as its whole cell;
- occupied / mate: the nearest occupied cell; a placed item scores as the likeliest known item of its cell;
- any of them followed by @W, e.g. occupied/cell@0.1: the placed items' probability times W (`placed_weight`).

Each rule after the first is also paired with the first on the same users (per-user difference and its standard
error), and every rule with text similarity; `--rules` runs a subset, the first named being the one paired against.

Run on the validation split to choose the default, then report the test split with `evaluate`.

    PYTHONPATH=. python benchmarks/cold_rules.py benchmarks/work/cold_start/llm sample_data --split valid \\
        --out benchmarks/results/cold_rules_sample.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

from benchmarks.cold_blend import paired, per_user
from sidrec.artifacts import write_json_atomic
from sidrec.bench import machine
from sidrec.coldstart import ColdConfig, cold_items
from sidrec.data import load_dataset, split_dataset
from sidrec.evaluate import seen_items, text_similarity
from sidrec.generate import GenerateConfig, Recommender
from sidrec.llm import torch_threads
from sidrec.metrics import standard_errors, summarize
from sidrec.model import tokenizer_dir_for
from sidrec.placement import PlacementConfig

RULES = ("occupied/cell", "any/cell", "occupied/share", "occupied/mate")


def rule(name: str) -> tuple[str, str, float]:
    """A rule's placement, placed score and placed weight from its name.

    >>> rule("occupied/cell"), rule("any/cell@0.25")
    (('occupied', 'cell', 1.0), ('any', 'cell', 0.25))
    """
    base, _, weight = name.partition("@")
    if base not in RULES:
        raise argparse.ArgumentTypeError(f"unknown rule {base!r} (choose from {', '.join(RULES)}, each with @W)")
    cell, placed_score = base.split("/")
    try:
        return cell, placed_score, float(weight or 1.0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name!r}: the weight after @ must be a number") from None


def scores(lists: list[list[str]], targets: list[str]) -> dict:
    """Recall and NDCG@10 with standard errors over users (`sidrec.metrics`)."""
    errors = standard_errors(lists, targets, ks=(10,))
    return {**summarize(lists, targets, ks=(10,)), **{f"{name}_se": se for name, se in errors.items()}}


def add_arguments(ap: argparse.ArgumentParser, warm_users: int) -> None:
    """The arguments every cold-start comparison on one split takes: the model, the data, the draw and the users."""
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("data", type=Path)
    ap.add_argument("--tokenizer", type=Path)
    ap.add_argument("--split", default="valid", choices=["valid", "test"])
    ap.add_argument("--cold-items", type=float, default=0.05)
    ap.add_argument("--cold-seed", type=int, default=0)
    ap.add_argument("--warm-users", type=int, default=warm_users)


def split_users(args: argparse.Namespace):
    """(dataset, withheld items, split, users): the split's users whose target is withheld ("cold", all of them)
    and the first `--warm-users` others ("warm")."""
    ds = load_dataset(args.data)
    cold = cold_items(ds, ColdConfig(args.cold_items, args.cold_seed))
    cold_set = set(cold)
    split = split_dataset(ds)
    samples = split.test if args.split == "test" else split.valid
    groups = {
        "cold": [s for s in samples if s.target in cold_set],
        "warm": [s for s in samples if s.target not in cold_set][: args.warm_users],
    }
    return ds, cold, split, groups


def run_record(args: argparse.Namespace, cold: list[str], groups: dict) -> dict:
    """What a result file says of its run: the command, the machine, the date, the split and its users."""
    return {
        "command": " ".join(sys.argv),
        "machine": machine(),
        "date": date.today().isoformat(),
        "split": args.split,
        "cold_items": len(cold),
        "users": {g: len(ss) for g, ss in groups.items()},
    }


def against_text(ds, embed, split, groups: dict, rows: dict, hits: dict) -> dict:
    """Text similarity's scores per group; each row of `rows` gains its paired difference from it ("minus text")."""
    baseline = text_similarity(ds, embed)
    targets = {g: [s.target for s in ss] for g, ss in groups.items()}
    text_lists = {
        g: baseline.recommend([list(s.history) for s in ss], 10, seen_items(ss, split)) for g, ss in groups.items()
    }
    for name in rows:
        for g in groups:
            rows[name][g]["minus text"] = paired(hits[name, g], per_user(text_lists[g], targets[g]))
    return {g: scores(text_lists[g], targets[g]) for g in groups}


def search_groups(rec, name: str, groups: dict, split, cold_set: set, hits: dict, first: str) -> dict:
    """One search's scores per group of users and the withheld items per list; its per-user hits are kept in `hits`
    under (name, group), and paired with those of the search `first` when it is another one ("minus <first>")."""
    row = {}
    for group, ss in groups.items():
        targets = [s.target for s in ss]
        lists = [r.items for r in rec.recommend([list(s.history) for s in ss], exclude=seen_items(ss, split))]
        row[group] = scores(lists, targets)
        row[group]["withheld_per_list"] = round(float(np.mean([len(set(x) & cold_set) for x in lists])), 2)
        hits[name, group] = per_user(lists, targets)
        if name != first:
            row[group][f"minus {first}"] = paired(hits[name, group], hits[first, group])
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(ap, warm_users=300)
    ap.add_argument("--rules", nargs="+", default=list(RULES), help="placement/score[@weight], first: the base")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    try:
        rules = {name: rule(name) for name in args.rules}
    except argparse.ArgumentTypeError as e:
        ap.error(str(e))
    torch_threads()
    ds, cold, split, groups = split_users(args)
    cold_set = set(cold)
    tok_dir = tokenizer_dir_for(args.model_dir, args.tokenizer)
    result = {**run_record(args, cold, groups), "rules": {}}
    embed, hits = None, {}
    for name in args.rules:
        cell, placed_score, weight = rules[name]
        t0 = time.perf_counter()
        gen = GenerateConfig(placed_score=placed_score, placed_weight=weight)
        rec = Recommender.from_dirs(args.model_dir, tok_dir, gen)
        text = dict(zip(ds.item_ids, ds.item_text(rec.sid_tok.config.embed.max_description_chars), strict=True))
        rec.add_items(cold, [text[i] for i in cold], PlacementConfig(cell=cell))
        row = {"unreachable": sum(rec.lacks_tokens(i) for i in cold)}
        row |= search_groups(rec, name, groups, split, cold_set, hits, args.rules[0])
        row["seconds"] = round(time.perf_counter() - t0, 1)
        result["rules"][name] = row
        print(f"{name}: {json.dumps(row)}", file=sys.stderr, flush=True)
        embed = rec.sid_tok.config.embed  # the text settings are the tokenizer's, the same under every rule
    result["text"] = against_text(ds, embed, split, groups, result["rules"], hits)
    write_json_atomic(args.out, result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
