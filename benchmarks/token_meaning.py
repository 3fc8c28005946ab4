"""Do the SID tokens still mean their keywords after training, per recipe variant?

For every trained run of `recipe_repeat.sh` still on disk (benchmarks/work/<run>/llm) and the demo
(models/sample/llm: the full recipe, seed 0): the share of SID tokens whose row has a word of its keywords among
its 10 nearest vocabulary words (`sidrec.token_space.keyword_hits`), as initialised and after training, averaged
over each variant's seeds and set against the full recipe (difference paired over tokens, ± its standard error).
The Align page's "what does a token mean to the model", for every token at once; the alignment tasks (TS-Align,
the textual task) are meant to build it.

    PYTHONPATH=. python benchmarks/token_meaning.py --out benchmarks/results/token_meaning_sample.json
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import date
from pathlib import Path

import numpy as np
from recipe_table import RUN, variant

from sidrec.artifacts import write_json_atomic
from sidrec.bench import machine
from sidrec.token_space import keyword_hits, trained_rows

ROOT = Path(__file__).resolve().parents[1]
K = 10


def models(work: Path) -> list[tuple[str, int, Path]]:
    """(variant, seed, model folder) of the demo and every finished recipe run with its model on disk."""
    found = [("full recipe", 0, ROOT / "models" / "sample" / "llm")]
    for folder in sorted(work.glob("seed*/llm")):
        m = RUN.match(f"evaluate_sample_{folder.parent.name}.json")
        if m and (folder / "manifest.json").exists():
            tasks, steps = m.group(3), m.group(4)
            found.append((variant(tasks, steps and int(steps)), int(m.group(2)), folder))
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    keywords = json.loads((ROOT / "models" / "sample" / "tokenizer" / "keywords.json").read_text())
    hits: dict[str, list[np.ndarray]] = {}
    seeds: dict[str, list[int]] = {}
    initial = None
    for name, seed, folder in models(args.work):
        table = keyword_hits(trained_rows(folder, keywords), keywords, K)
        initial = table["initial"].to_numpy(float)  # SA-Init: the same start for every run
        hits.setdefault(name, []).append(table["trained"].to_numpy(float))
        seeds.setdefault(name, []).append(seed)
        print(f"{folder}: {table['trained'].mean():.3f} after training", flush=True)
    reference = np.mean(hits["full recipe"], axis=0)
    rows = []
    for name, group in hits.items():
        mean = np.mean(group, axis=0)  # per token, the share of this variant's seeds that keep a keyword
        shares = [float(g.mean()) for g in group]
        row = {"variant": name, "seeds": seeds[name], "trained": round(float(mean.mean()), 4),
               "seed_sd": round(float(np.std(shares, ddof=1)), 4) if len(shares) > 1 else 0.0}  # fmt: skip
        if name != "full recipe":
            d = mean - reference
            row["vs_full_recipe"] = {"difference": round(float(d.mean()), 4),
                                     "se": round(float(d.std(ddof=1) / np.sqrt(len(d))), 4)}  # fmt: skip
        rows.append(row)
    result = {
        "kind": "token meaning", "dataset": "sample_data", "k": K, "tokens": len(reference),
        "initial": round(float(initial.mean()), 4), "rows": rows, "date": date.today().isoformat(),
        "machine": machine(), "python": platform.python_version(),
    }  # fmt: skip
    write_json_atomic(args.out, result)
    print(f"| variant | seeds | keyword among the {K} nearest words | vs full recipe |\n|---|---|---|---|")
    print(f"| as initialised (SA-Init) | | {result['initial']:.3f} | |")
    for r in rows:
        vs = r.get("vs_full_recipe")
        spread = f" (seed sd {r['seed_sd']:.3f})" if r["seed_sd"] else ""
        diff = f"{vs['difference']:+.3f} ± {vs['se']:.3f}" if vs else ""
        print(f"| {r['variant']} | {', '.join(map(str, r['seeds']))} | {r['trained']:.3f}{spread} | {diff} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
