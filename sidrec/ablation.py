"""The recipe ablation: the same training steps from the same start for each variant of the recipe (SID-row
initialisation, task mix, tokenizer), with the validation loss and, optionally, Recall/NDCG@10 of each. The
`bench ablation` command and the Evaluate page's ablation table read it."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sidrec.bench import machine, train_inputs
from sidrec.data import load_dataset
from sidrec.errors import SidrecError
from sidrec.metrics import at_rank
from sidrec.tokenizer import SIDTokenizer, TokenizerConfig

# Every variant changes one thing of the full recipe (SA-Init, every task), the reference of the recipe table; the
# library's default recipe leaves out the negative task (sidrec.tasks), the "without negative" row.
ABLATIONS = {
    "full recipe (sa, all tasks)": {},
    "init mean": {"init": "mean"},
    "init random": {"init": "random"},
    "without ts_align": {"tasks": ("sequential", "textual", "query", "negative")},
    "without negative": {"tasks": ("sequential", "textual", "query", "ts_align")},
    "without query and textual": {"tasks": ("sequential", "negative", "ts_align")},
    "sequential only": {"tasks": ("sequential",)},
    "tokenizer: text embedding only": {"embed": {"embedding": "text"}},
    "tokenizer: rq-kmeans unbalanced": {"quantizer": {"balanced": False}},
    "tokenizer: rq-kmeans balanced": {"quantizer": {"balanced": True}},
    "tokenizer: rq-vae": {"quantizer": {"method": "rq-vae", "balanced": False}},
    "tokenizer: published index": {"published": True},
}


def changed_config(base: TokenizerConfig, change: dict) -> TokenizerConfig:
    """The tokenizer settings of a variant: the given tokenizer's, with the variant's change.

    >>> base = TokenizerConfig()
    >>> changed_config(base, ABLATIONS["tokenizer: rq-kmeans unbalanced"]).quantizer.balanced
    False
    >>> changed_config(base, ABLATIONS["tokenizer: rq-kmeans balanced"]) == base  # the default is balanced
    True
    """
    return replace(
        base,
        quantizer=replace(base.quantizer, **change.get("quantizer", {})),
        embed=replace(base.embed, **change.get("embed", {})),
    )


def changes_nothing(base: TokenizerConfig, change: dict) -> bool:
    """Whether a tokenizer variant asks for the settings the given tokenizer already has (the variant would be the
    full recipe again: "balanced" on a balanced tokenizer)."""
    if change.get("published") or not {"embed", "quantizer"} & set(change):
        return False
    return changed_config(base, change) == base


def variant_tokenizer(data: Path, tokenizer_dir: Path, change: dict, out: Path) -> Path:
    """The tokenizer a variant trains with: the given one, or one refitted/imported with the variant's change."""
    from sidrec.pipeline import fit_catalogue, import_published

    if not {"embed", "quantizer", "published"} & set(change):
        return tokenizer_dir
    ds = load_dataset(data)
    if change.get("published"):
        fit = import_published(ds)  # the index the folder ships (one clear line when it ships none, or several)
    else:
        fit = fit_catalogue(ds, changed_config(SIDTokenizer.load(tokenizer_dir).config, change))
    fit.save(out)
    return out


def bench_ablation(
    data: Path,
    tokenizer_dir: Path,
    steps: int = 40,
    variants: list[str] | None = None,
    users: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Per variant, the same number of training steps from the same start: validation loss on the held-out
    next items and, when `users` > 0, Recall/NDCG@10 by constrained beam search on that many test users."""
    from sidrec.evaluate import EvalConfig, evaluate
    from sidrec.llm import torch_threads
    from sidrec.model import TrainConfig
    from sidrec.tasks import TASKS, TaskConfig
    from sidrec.train import train

    torch_threads()
    unknown = [v for v in variants or [] if v not in ABLATIONS]
    if unknown:
        raise SidrecError(f"unknown ablation variant {unknown[0]!r}; choose from {', '.join(ABLATIONS)}")
    base = SIDTokenizer.load(tokenizer_dir)  # the settings variants change, and the codes the table names
    rows = []
    for name in variants or list(ABLATIONS):
        change = ABLATIONS[name]
        if change.get("published") and not load_dataset(data).index_files:
            continue  # only datasets that ship a published index
        if changes_nothing(base.config, change):
            continue  # the given tokenizer has this setting already: the full recipe's row
        if progress:
            progress(f"{name}: training {steps} steps")
        task_config = replace(TaskConfig(), tasks=change.get("tasks", TASKS))
        with tempfile.TemporaryDirectory() as tmp:
            tok_dir = variant_tokenizer(data, tokenizer_dir, change, Path(tmp) / "tokenizer")
            tok, keywords, train_examples, valid_examples = train_inputs(data, tok_dir, task_config)
            config = TrainConfig(
                max_steps=steps, save_steps=10_000, init=change.get("init", "sa"), tasks=task_config, eval_examples=200
            )
            m = train(
                train_examples, valid_examples, tok.tokens(), keywords, tok.fingerprint(), Path(tmp) / "m", config,
                tokenizer_dir=tok_dir,
            )  # fmt: skip
            row = {"variant": name, "valid_loss": m["valid_loss"], "train_loss": m["train_loss"], "steps": m["steps"]}
            if users:
                if progress:
                    progress(f"{name}: evaluating {users} users")
                result = evaluate(Path(tmp) / "m", data, EvalConfig(max_users=users, baselines=()))
                metrics = result["models"]["sid-llm"]
                row.update({k: metrics[k] for k in ("recall@10", "ndcg@10")})
        rows.append(row)
    return {
        "machine": machine(), "date": time.strftime("%Y-%m-%d"), "dataset": str(data), "steps": steps,
        "users": users, "rows": rows,
        "tokenizer_fingerprint": base.fingerprint(),  # the codes every row starts from
    }  # fmt: skip


# ---------------------------------------------------------------- the recipe, part by part, over seeds

RECIPE_METRICS = ("recall@10", "ndcg@10")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _sd(values: list[float]) -> float:
    """Sample standard deviation (0 for a single value)."""
    if len(values) < 2:
        return 0.0
    m = _mean(values)
    return (sum((v - m) ** 2 for v in values) / (len(values) - 1)) ** 0.5


def verdict(difference: float, se: float, spread: float) -> str:
    """ "better" or "worse" only when a difference exceeds both two standard errors and the seed-to-seed spread.

    >>> verdict(-0.044, 0.015, 0.008), verdict(-0.0045, 0.015, 0.008), verdict(0.02, 0.005, 0.03)
    ('worse', 'level', 'level')
    """
    if abs(difference) <= 2 * se or abs(difference) <= spread:
        return "level"
    return "better" if difference > 0 else "worse"


def paired_se(runs: list[dict], reference: list[dict], metric: str) -> float | None:
    """Standard error over users of the difference between two recipes, each user's value averaged over the
    recipe's seeds: the same users ranked by both, so what every model finds easy or hard cancels out. None
    unless every run carries "ranks" for the same users.

    >>> a = [{"ranks": {"u": 1, "v": None}}]
    >>> b = [{"ranks": {"u": None, "v": None}}, {"ranks": {"u": 1, "v": 1}}]
    >>> paired_se(a, b, "recall@10")  # per user 1 - 0.5 and 0 - 0.5: sd 0.7071 over 2 users
    0.5
    """
    users = set(reference[0].get("ranks") or ()) if reference else set()
    if not users or any(set(r.get("ranks") or ()) != users for r in [*runs, *reference]):
        return None

    def mean_value(group: list[dict], user: str) -> float:
        return _mean([at_rank(metric, r["ranks"][user]) for r in group])

    return _sd([mean_value(runs, u) - mean_value(reference, u) for u in sorted(users)]) / len(users) ** 0.5


def recipe_evidence(
    runs: list[dict], reference: str = "full recipe", metrics: tuple[str, ...] = RECIPE_METRICS
) -> dict:
    """Per variant of the recipe, its runs over seeds summarised and set against the reference recipe.

    A run: {"variant", "seed", "metrics": {m: value}, "standard_errors": {m: se over users}} and optionally
    "steps", "next_item_targets", "valid_loss", and "ranks" ({user: the target's 1-based rank or None}). Per
    variant and metric: the mean over seeds, their standard deviation ("seed_sd"), the mean standard error over
    users ("se"); against the reference: the difference of means, its standard error, the larger of the two seed
    spreads, and a `verdict` ("level" unless the difference exceeds two standard errors and the seed spread).
    The standard error is paired (`paired_se`) when every run of both has ranks for the same users, else
    unpaired (sqrt(se_v^2 + se_ref^2)); "paired" says which. Variants keep the order of their first run; the
    reference comes first.
    """
    by_variant: dict[str, list[dict]] = {}
    for run in runs:
        by_variant.setdefault(run["variant"], []).append(run)
    if reference not in by_variant:
        raise SidrecError(f"no run of the reference recipe {reference!r} among {', '.join(by_variant) or 'no runs'}")
    for name, group in by_variant.items():
        seeds = [r["seed"] for r in group]
        if len(set(seeds)) != len(seeds):
            raise SidrecError(f"{name!r} has two runs with the same seed")

    def summary(group: list[dict]) -> dict:
        out = {"seeds": sorted(r["seed"] for r in group)}
        for key in ("steps", "next_item_targets", "valid_loss"):
            values = [r[key] for r in group if r.get(key) is not None]
            if values:
                out[key] = round(_mean(values), 4) if key == "valid_loss" else round(_mean(values))
        for m in metrics:
            values = [r["metrics"][m] for r in group]
            out[m] = {
                "mean": round(_mean(values), 4),
                "seed_sd": round(_sd(values), 4),
                "se": round(_mean([r["standard_errors"][m] for r in group]), 4),
            }
        return out

    ref = summary(by_variant[reference])
    rows = [{"variant": reference, **ref}]
    for name, group in by_variant.items():
        if name == reference:
            continue
        row = {"variant": name, **summary(group), "vs_reference": {}}
        for m in metrics:
            d = row[m]["mean"] - ref[m]["mean"]
            paired = paired_se(group, by_variant[reference], m)
            se = paired if paired is not None else (row[m]["se"] ** 2 + ref[m]["se"] ** 2) ** 0.5
            spread = max(row[m]["seed_sd"], ref[m]["seed_sd"])
            row["vs_reference"][m] = {
                "difference": round(d, 4), "se": round(se, 4), "paired": paired is not None,
                "seed_spread": round(spread, 4), "verdict": verdict(d, se, spread),
            }  # fmt: skip
        rows.append(row)
    return {"kind": "recipe evidence", "version": 1, "reference": reference, "metrics": list(metrics), "rows": rows}


def recipe_sentences(table: dict) -> list[str]:
    """One plain sentence per variant of a `recipe_evidence` table: how it compares with the reference recipe.

    >>> vs = {"recall@10": {"difference": -0.05, "se": 0.015, "seed_spread": 0.008, "verdict": "worse"}}
    >>> row = {"variant": "without x", "seeds": [0, 1], "vs_reference": vs}
    >>> recipe_sentences({"reference": "full recipe", "metrics": ["recall@10"], "rows": [row]})
    ['without x (2 seeds): worse than the full recipe on Recall@10 (-0.0500 ± 0.0150).']
    """
    out = []
    for row in table["rows"]:
        vs = row.get("vs_reference")
        if not vs:
            continue
        parts = []
        for m in table["metrics"]:
            v = vs[m]
            name = m.replace("recall", "Recall").replace("ndcg", "NDCG")
            against = "" if parts else (" with" if v["verdict"] == "level" else " than") + f" the {table['reference']}"
            paired = ", paired" if v.get("paired") else ""
            parts.append(f"{v['verdict']}{against} on {name} ({v['difference']:+.4f} ± {v['se']:.4f}{paired})")
        seeds = len(row["seeds"])
        out.append(f"{row['variant']} ({seeds} seed{'s' if seeds > 1 else ''}): " + ", ".join(parts) + ".")
    return out


def recipe_display_rows(table: dict) -> list[dict]:
    """A `recipe_evidence` table as flat rows for display: means ± standard error, differences and verdicts."""
    out = []
    for row in table["rows"]:
        flat = {"variant": row["variant"], "seeds": ", ".join(map(str, row["seeds"])), "steps": row.get("steps")}
        for m in table["metrics"]:
            s = row[m]
            flat[m] = f"{s['mean']:.4f} ± {s['se']:.4f}"
            vs = row.get("vs_reference", {}).get(m)
            if vs:
                paired = ", paired" if vs.get("paired") else ""
                flat[f"Δ {m}"] = f"{vs['difference']:+.4f} ± {vs['se']:.4f} ({vs['verdict']}{paired})"
            else:
                flat[f"Δ {m}"] = "reference"
        flat["valid loss"] = row.get("valid_loss")
        out.append(flat)
    return out
