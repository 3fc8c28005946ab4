"""Do the SID tokens mean their keywords, as initialised and after training, per recipe variant?

For every trained run of `recipe_repeat.sh` still on disk (benchmarks/work/<run>/llm) and the demo
(models/sample/llm): the share of SID tokens whose row has a word of its keywords among its 10 nearest vocabulary
words (`sidrec.token_space.keyword_hits`), as the run's initialisation (SA-Init, mean or random) left it and after
training, averaged over each variant's seeds. Each model is read with the keywords of the tokenizer it was trained
on; a variant is set against the reference (difference paired over tokens, ± its standard error) only when both
were trained on the same codes. The Align page's "what does a token mean to the model", for every token at once.

    PYTHONPATH=. python benchmarks/token_meaning.py --out benchmarks/results/token_meaning_sample.json
"""

from __future__ import annotations

import argparse
import platform
from datetime import date
from pathlib import Path

import numpy as np
from recipe_table import RUN, variant

from sidrec.artifacts import read_manifest, write_json_atomic
from sidrec.bench import machine
from sidrec.model import FORMAT_VERSION, KIND, tokenizer_dir_for
from sidrec.token_space import keyword_hits, trained_rows
from sidrec.tokenizer import load_keywords, saved_fingerprint

ROOT = Path(__file__).resolve().parents[1]
K = 10
DEFAULT = "without negative, equal steps: the default recipe"


def models(work: Path) -> list[tuple[str, int, Path]]:
    """(variant, seed, model folder) of every finished recipe run with its model on disk, and the demo unless it is
    one of them (the same tokenizer and training seed under the same variant)."""
    found = []
    for folder in sorted(work.glob("seed*/llm")):
        m = RUN.match(f"evaluate_sample_{folder.parent.name}.json")
        if m and (folder / "manifest.json").exists():
            tasks, init, tok, steps = m.group(3), m.group(4), m.group(5), m.group(6)
            found.append((variant(tasks, steps and int(steps), init, tok), int(m.group(2)), folder))
    demo = ROOT / "models" / "sample" / "llm"
    seed = read_manifest(demo, KIND, FORMAT_VERSION)["config"]["seed"]
    name = variant("sequential-textual-query-ts_align", None, tok="unbalanced")  # the demo's recipe and codes
    if (name, seed) not in {(n, s) for n, s, _ in found}:
        found.append((name, seed, demo))
    return found


def tokenizer_of(folder: Path, work: Path) -> Path:
    """The tokenizer holding the codes the model at `folder` was trained on: the one it names, or one of the
    recipe runs' tokenizers (a run trained on the demo's folder before the demo moved to other codes names it)."""
    codes = read_manifest(folder, KIND, FORMAT_VERSION)["tokenizer_fingerprint"]
    for candidate in [tokenizer_dir_for(folder), *sorted(work.glob("tokenizer-*"))]:
        if saved_fingerprint(candidate) == codes:
            return candidate
    raise SystemExit(f"error: {folder}: no tokenizer with its codes ({codes}) here")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work")
    ap.add_argument("--reference", default=DEFAULT, help="the variant every other on the same codes is set against")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    hits: dict[str, dict] = {}
    for name, seed, folder in models(args.work):
        tok_dir = tokenizer_of(folder, args.work)
        codes = read_manifest(folder, KIND, FORMAT_VERSION)["tokenizer_fingerprint"]
        keywords = load_keywords(tok_dir)
        table = keyword_hits(trained_rows(folder, keywords, codes), keywords, K)
        group = hits.setdefault(name, {"codes": codes, "seeds": [], "initial": [], "trained": []})
        if group["codes"] != codes:
            raise SystemExit(f"error: {name}: seeds trained on different codes ({group['codes']}, {codes})")
        group["seeds"].append(seed)
        group["initial"].append(table["initial"].to_numpy(float))
        group["trained"].append(table["trained"].to_numpy(float))
        print(f"{folder}: {table['initial'].mean():.3f} as initialised, {table['trained'].mean():.3f} after training",
              flush=True)  # fmt: skip
    ref = hits.get(args.reference)
    rows = []
    for name, g in hits.items():
        trained = np.mean(g["trained"], axis=0)  # per token, the share of this variant's seeds that keep a keyword
        shares = [float(t.mean()) for t in g["trained"]]
        row = {"variant": name, "codes": g["codes"], "seeds": g["seeds"],
               "initial": round(float(np.mean(g["initial"])), 4), "trained": round(float(trained.mean()), 4),
               "seed_sd": round(float(np.std(shares, ddof=1)), 4) if len(shares) > 1 else 0.0}  # fmt: skip
        if ref is not None and name != args.reference and g["codes"] == ref["codes"]:
            d = trained - np.mean(ref["trained"], axis=0)
            row["vs_reference"] = {"difference": round(float(d.mean()), 4),
                                   "se": round(float(d.std(ddof=1) / np.sqrt(len(d))), 4)}  # fmt: skip
        rows.append(row)
    result = {
        "kind": "token meaning", "version": 2, "dataset": "sample_data", "k": K, "reference": args.reference,
        "rows": rows, "date": date.today().isoformat(), "machine": machine(), "python": platform.python_version(),
    }  # fmt: skip
    write_json_atomic(args.out, result)
    print(f"| variant | codes | seeds | keyword among the {K} nearest words: as initialised | after training "
          f"| vs {args.reference} (same codes) |\n|---|---|---|---|---|---|")  # fmt: skip
    for r in sorted(rows, key=lambda r: (r["codes"], r["variant"])):
        vs = r.get("vs_reference")
        spread = f" (seed sd {r['seed_sd']:.3f})" if len(r["seeds"]) > 1 else ""
        diff = f"{vs['difference']:+.3f} ± {vs['se']:.3f}" if vs else ""
        print(f"| {r['variant']} | `{r['codes']}` | {', '.join(map(str, r['seeds']))} | {r['initial']:.3f} "
              f"| {r['trained']:.3f}{spread} | {diff} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
