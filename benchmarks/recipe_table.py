"""The recipe, part by part: every full training of a recipe variant (benchmarks/recipe_repeat.sh) gathered per
variant over seeds and set against the full recipe (`sidrec.ablation.recipe_evidence`).

Reads benchmarks/results/train_sample_<run>.json and evaluate_sample_<run>.json for every run named
seed<S>[_<tasks>][_init-<mean|random>][_tok-<text|unbalanced|rqvae>][_<N>steps] (seed0 is the full recipe's seed 0,
the demo until 2026-12-07), and each run's per-user ranks where kept (ranks_sample_<run>.json, written by
recipe_repeat.sh), which make the comparisons paired. Writes the table the Evaluate page shows and prints it as
Markdown for BENCHMARKS.md.

    PYTHONPATH=. python benchmarks/recipe_table.py --out models/sample/recipe.json

With --reference the same runs are set against another variant instead, e.g. the default recipe:

    PYTHONPATH=. python benchmarks/recipe_table.py --out benchmarks/results/recipe_vs_default_sample.json \
        --reference "without negative, equal steps: the default recipe"
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date
from pathlib import Path

from sidrec.ablation import recipe_evidence
from sidrec.artifacts import write_json_atomic
from sidrec.errors import SidrecError
from sidrec.tasks import DEFAULT_TASKS, TASKS

RESULTS = Path(__file__).resolve().parent / "results"
RUN = re.compile(  # seed, tasks (never starting "init-" or "tok-"), initialisation, tokenizer, steps
    r"^evaluate_sample_(seed(\d+)(?:_(?!init-|tok-)([a-z_-]+?))?(?:_init-(mean|random))?(?:_tok-([a-z]+))?"
    r"(?:_(\d+)steps)?)\.json$"
)
TOKENIZERS = {  # recipe_repeat.sh's TOK: what the run's tokenizer changes from the demo's
    "text": "text-only tokenizer", "unbalanced": "unbalanced k-means tokenizer", "rqvae": "RQ-VAE tokenizer",
}  # fmt: skip


def tokenizer(tok: str) -> str:
    """What a run's tokenizer changes, from recipe_repeat.sh's TOK (a name it does not know is shown as it is)."""
    return TOKENIZERS.get(tok, f"{tok} tokenizer")


def variant(tasks: str | None, steps: int | None, init: str | None = None, tok: str | None = None) -> str:
    """The variant's name from its task list, step count (None: the full recipe's 1,000 steps, the name
    recipe_repeat.sh gives a run without _<N>steps), SID-row initialisation (None: SA-Init) and tokenizer (None: the
    demo's); a run of the full 1,000 steps that drops tasks says so, and the library's default tasks at that length
    are the default recipe.

    >>> variant(None, None), variant(None, 2000), variant("sequential", 541), variant("sequential", None)
    ('full recipe', 'full recipe, 2,000-step schedule', 'sequential only', 'sequential only, equal steps')
    >>> variant(None, None, "random")
    'full recipe, random init'
    >>> variant("sequential-textual-query-ts_align", None)
    'without negative, equal steps: the default recipe'
    >>> variant("sequential-textual-query-ts_align", None, tok="text")
    'the default recipe, text-only tokenizer'
    """
    if not tasks:
        name = f"full recipe, {steps:,}-step schedule" if steps else "full recipe"
    else:
        kept = tasks.split("-")
        dropped = [t for t in TASKS if t not in kept]
        name = "sequential only" if kept == ["sequential"] else "without " + " and ".join(dropped)
        name = name if steps else f"{name}, equal steps"  # the full 1,000 steps: more next-item signal than the rest
        if not steps and not init and set(kept) == set(DEFAULT_TASKS):
            return f"the default recipe, {tokenizer(tok)}" if tok else name + ": the default recipe"
    name = f"{name}, {tokenizer(tok)}" if tok else name
    return f"{name}, {init} init" if init else name


def runs(results: Path) -> list[dict]:
    found = []
    for path in sorted(results.glob("evaluate_sample_seed*.json")):
        m = RUN.match(path.name)
        if m:
            name, seed, tasks, init, tok, steps = m.group(1), int(m.group(2)), *m.group(3, 4, 5, 6)
            kind = variant(tasks, steps and int(steps), init, tok)
            found.append((name, seed, kind, path, results / f"train_sample_{name}.json"))
    out = []
    for name, seed, kind, evaluation, training in found:
        if not evaluation.stat().st_size or not training.exists():
            continue  # a run still under way
        ev, tr = json.loads(evaluation.read_text()), json.loads(training.read_text())
        kept = results / f"ranks_sample_{name}.json"
        ranks = json.loads(kept.read_text()) if kept.exists() else None
        out.append({
            "run": name, "variant": kind, "seed": seed, "steps": tr["steps"],
            # a resumed run counts the targets of its last leg only: left out rather than shown short
            "next_item_targets": None if tr.get("resumed_from_step") else tr.get("next_item_targets"),
            "valid_loss": tr["valid_loss"], "users": ev["users"],
            "metrics": ev["models"]["sid-llm"], "standard_errors": ev["standard_errors"]["sid-llm"],
            "sasrec": ev["models"].get("sasrec"), "tokenizer": ev.get("tokenizer_fingerprint"),
            **({"ranks": ranks} if ranks else {}),
        })  # fmt: skip
    return out


def mixed_codes(found: list[dict]) -> str | None:
    """The first variant whose seeds were trained on different tokenizers (their figures do not pool); else None."""
    codes: dict[str, set] = {}
    for r in found:
        if r.get("tokenizer"):
            codes.setdefault(r["variant"], set()).add(r["tokenizer"])
    return next((f"{v!r} has runs on tokenizers {', '.join(sorted(t))}" for v, t in codes.items() if len(t) > 1), None)


def ranks_of(evaluation: dict) -> dict[str, int | None]:
    """{user: the target's 1-based rank in the SID-LLM's list, or None} from an evaluation's per-user lists."""
    return {u["user_id"]: u["rank"] for u in evaluation["per_user"]}


def markdown(table: dict) -> str:
    ref = table["reference"]
    lines = [
        f"| variant | seeds | steps | next-item targets | valid loss | Recall@10 | NDCG@10 | vs {ref}, Recall@10 "
        f"| vs {ref}, NDCG@10 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table["rows"]:
        targets = f"{row['next_item_targets']:,}" if "next_item_targets" in row else "(resumed)"
        seeds = ", ".join(map(str, row["seeds"]))
        cells = [row["variant"], seeds, f"{row.get('steps', '')}", targets, f"{row.get('valid_loss', '')}"]
        for m in table["metrics"]:
            s = row[m]
            cells.append(
                f"{s['mean']:.4f} ± {s['se']:.4f}" + (f" (seed sd {s['seed_sd']:.4f})" if len(row["seeds"]) > 1 else "")
            )
        for m in table["metrics"]:
            vs = row.get("vs_reference", {}).get(m)
            paired = " (paired)" if vs and vs.get("paired") else ""
            cells.append(f"{vs['difference']:+.4f} ± {vs['se']:.4f}{paired}: **{vs['verdict']}**" if vs else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument(
        "--reference", default="full recipe",
        help=f"the variant every other is set against, e.g. {variant('sequential-textual-query-ts_align', None)!r}",
    )  # fmt: skip
    args = ap.parse_args()
    found = runs(args.results)
    if mixed := mixed_codes(found):
        print(f"error: {mixed}", file=sys.stderr)
        return 2
    try:
        table = recipe_evidence(found, reference=args.reference)
    except SidrecError as e:  # e.g. a --reference no run has
        print(f"error: {e}", file=sys.stderr)
        return 2
    sasrec = {r["run"]: r["sasrec"] for r in found if r.get("sasrec")}
    table.update({
        "dataset": "sample_data", "split": "test", "users": found[0]["users"], "history_rule": "exclude history",
        "date": date.today().isoformat(), "runs": [{k: r[k] for k in ("run", "variant", "seed")} for r in found],
        "sasrec": next(iter(sasrec.values()), None),
        "note": (
            f"The full recipe is every task; the default recipe is {', '.join(DEFAULT_TASKS)} for the same 1,000 "
            "steps. "
            "Each variant trains the full recipe's 1,000 steps scaled by its share of the task mix, so every variant "
            "sees the same next-item targets ('equal steps': the full 1,000 steps instead); evaluated on the same "
            "test split, every user, full ranking, history rule on. 'level' unless a difference exceeds two "
            "standard errors over users (paired where both recipes kept their per-user ranks) and the seed-to-seed "
            "spread."
        ),
    })  # fmt: skip
    write_json_atomic(args.out, table)
    print(markdown(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
