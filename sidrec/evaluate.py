"""Evaluation: the SID-LLM against popularity and SASRec on the same split, in one run.

Protocol (DESIGN.md): one target per user (leave-one-out, or the rows of a
dataset's own split), histories capped at 20 items, full ranking over all items
(constrained beam search, beams >= K), Recall@5/10 and NDCG@5/10 at item level.
Per-user results are kept for drill-down: the lists, the target's rank, and the
SID level at which the target's prefix fell out of the beams.

History rule (`exclude_history`, the default): no model may return an item the
user already has (under leave-one-out, every earlier item of the user's
sequence, not only the 20 the models read); with `exclude_history=False` every
model may repeat one. The result records the rule and, per model and metric, the
standard error over users.

Bounded runs (`max_users`): the first N users of the split are evaluated and SASRec is trained on those users'
sequences only (a preview that costs in proportion to N; the result records it); full comparisons use every user.
A SASRec tuned beforehand (`sasrec_dir`, see `sidrec.sasrec_grid`) was trained on every training user and is
used as it is; the result records its grid point and the grid.

Cold start (`cold`, see `sidrec.coldstart`): a seeded share of the items was withheld from everything the
models trained on; the SID-LLM's tokenizer places them by their text before the search, SASRec and popularity
are trained without them, and the text-similarity baseline ranks every item. The result adds the metrics of
test users whose target is a cold item and of the rest (`by_target`). With `cold_trained_on_all`, the same
report for models trained on every item: the reference the warm figures are compared with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from sidrec.baselines import Popularity, SASRec, SASRecConfig, TextSimilarity
from sidrec.coldstart import ColdConfig, by_target, cold_items, withhold
from sidrec.data import Dataset, Sample, Split, load_dataset, split_dataset
from sidrec.errors import SidrecError, one_of
from sidrec.metrics import KS, rank_of, standard_errors, summarize
from sidrec.placement import PlacementConfig
from sidrec.progress import ProgressFn
from sidrec.search_rules import NEW_ITEM_PLACES, PLACED_SCORES, check_placed_weight, history_rule

BASELINES = ("popularity", "sasrec", "text")  # what can run beside the model (text: nearest items by text)


@dataclass(frozen=True)
class EvalConfig:
    split: str = "test"  # test | valid
    num_beams: int = 20
    k: int = 10
    max_users: int = 0  # 0 = every user of the split
    batch_size: int = 16
    baselines: tuple[str, ...] = ("popularity", "sasrec")
    exclude_history: bool = True  # no model returns an item the user already has (False: repeats allowed)
    device: str = "auto"  # for the SID-LLM's search and SASRec (auto: CUDA, then MPS, then CPU)
    sasrec: SASRecConfig = field(default_factory=SASRecConfig)
    sasrec_dir: str | None = None  # a SASRec tuned by `sidrec sasrec` (sidrec.sasrec_grid) instead of training one
    cold: ColdConfig | None = None  # the cold-start protocol (sidrec.coldstart); None: every item was trained on
    cold_trained_on_all: bool = False  # with `cold`: the models saw every item; only the report is split
    placed_score: str = "cell"  # how the search scores the withheld items once placed (GenerateConfig)
    placed_weight: float = 1.0  # a placed item's probability times this (GenerateConfig)
    new_item_place: str = "gated"  # gated | off: a placed item may take a list's last place by its text
    new_item_top: int = 10  # > 0: only an item among the N nearest the history by text (GenerateConfig)
    score: str = "vocab"  # how the search scores an item (GenerateConfig.score)

    def __post_init__(self):
        if self.split not in ("test", "valid"):
            raise SidrecError(f"unknown split {self.split!r} (choose from test, valid)")
        unknown = [b for b in self.baselines if b not in BASELINES]
        if unknown:
            raise SidrecError(f"unknown baseline {unknown[0]!r} (choose from {', '.join(BASELINES)})")
        if self.k < max(KS):  # a shorter list would report Recall@10 of fewer than 10 items
            raise SidrecError(f"-k {self.k}: the metrics go to @{max(KS)}, so each list needs at least {max(KS)} items")
        if self.max_users < 0:
            raise SidrecError(f"--max-users {self.max_users}: must be 0 (every user) or more")
        if self.cold_trained_on_all and self.cold is None:
            raise SidrecError("cold_trained_on_all needs a cold-start config (--cold-items)")
        one_of(self.new_item_place, NEW_ITEM_PLACES, "new-item place")
        one_of(self.placed_score, PLACED_SCORES, "placed-item score")
        check_placed_weight(self.placed_weight)
        if self.new_item_top < 0:
            raise SidrecError(f"--new-item-top must be 0 (no check) or more, got {self.new_item_top}")
        from sidrec.generate import SCORES

        one_of(self.score, SCORES, "search score")


def divergence_level(target_sid_codes: tuple[int, ...], beams: list[list[tuple[str, float]]], sid_of) -> int | None:
    """First SID level whose kept beams do not contain the target's prefix (None: it survived every level)."""
    for level, kept in enumerate(beams):
        prefix = sid_of(target_sid_codes[: level + 1])
        if prefix not in {p for p, _ in kept}:
            return level
    return None


def evaluate(
    model_dir: str | Path | None,
    data: str | Path,
    config: EvalConfig = EvalConfig(),
    progress: ProgressFn | None = None,
    tokenizer_dir: str | Path | None = None,
) -> dict:
    """Metrics per model, per-user rows for the SID-LLM, the number of users and the seconds taken.

    The model's SID tokenizer is `tokenizer_dir`, else the one its manifest names."""
    start = time.perf_counter()
    ds = load_dataset(data)
    split = split_dataset(ds)
    if "text" in config.baselines:
        ds.require_text("the text-similarity baseline")
    samples: list[Sample] = split.test if config.split == "test" else split.valid
    if not samples:
        raise SidrecError(f"{ds.name}: the {config.split} split is empty")
    if config.max_users:
        samples = samples[: config.max_users]
    histories = [list(s.history) for s in samples]
    targets = [s.target for s in samples]
    exclude = seen_items(samples, split) if config.exclude_history else None
    cold = set(cold_items(ds, config.cold)) if config.cold else set()
    withheld = bool(cold) and not config.cold_trained_on_all
    trained_on = withhold(ds, config.cold) if withheld else ds  # what the models were (and SASRec is) trained on
    trained_split = split_dataset(trained_on) if withheld else split
    per_user, timings, lists, lineage = [], {}, {}, {"data_fingerprint": ds.fingerprint()}
    sasrec_tuning: dict = {}
    placed: dict = {}

    if model_dir is not None:
        from sidrec.generate import GenerateConfig, Recommender
        from sidrec.llm import torch_threads
        from sidrec.model import model_fingerprint, tokenizer_dir_for

        torch_threads()
        gen = GenerateConfig(
            num_beams=config.num_beams, top_k=config.k, batch_size=config.batch_size,
            exclude_history=config.exclude_history, device=config.device, placed_score=config.placed_score,
            placed_weight=config.placed_weight,
            new_item_place=config.new_item_place, new_item_top=config.new_item_top, score=config.score,
        )  # fmt: skip
        rec = Recommender.from_dirs(model_dir, tokenizer_dir_for(model_dir, tokenizer_dir), gen)
        rec.sid_tok.require_catalogue(trained_on.fingerprint(), ds.name)
        lineage |= {  # the artifacts as saved (before any withheld item is placed), and how the search scored
            "model_fingerprint": model_fingerprint(model_dir),
            "tokenizer_fingerprint": rec.sid_tok.fingerprint(),
            "search_score": config.score,
        }
        if withheld:  # the cold items enter the catalogue by their text alone
            new = [i for i in ds.item_ids if i in cold]
            text = dict(zip(ds.item_ids, ds.item_text(rec.sid_tok.config.embed.max_description_chars), strict=True))
            rec.add_items(new, [text[i] for i in new])
            placed = {
                "placed": len(new),
                "unreachable": sum(rec.lacks_tokens(i) for i in new),
                "placement": PlacementConfig().cell,
                "placed_score": config.placed_score,
                "placed_weight": config.placed_weight,
                "new_item_place": config.new_item_place,
                "new_item_top": config.new_item_top,
            }
        t0 = time.perf_counter()
        recs = []
        chunk = max(config.batch_size, rec.batch_size)  # a GPU takes larger batches
        for b in range(0, len(histories), chunk):
            part = slice(b, b + chunk)
            recs += rec.recommend(histories[part], exclude=exclude[part] if exclude is not None else None)
            if progress:
                done = min(b + chunk, len(histories))
                progress(done / len(histories) * 0.8, f"SID-LLM: {done}/{len(histories)} users")
        timings["sid-llm_ms_per_user"] = round((time.perf_counter() - t0) * 1000 / len(histories), 1)
        lists["sid-llm"] = [r.items for r in recs]
        for s, r in zip(samples, recs, strict=True):
            codes = rec.sid_tok.codes_of(s.target) if s.target in rec.sid_tok else None
            per_user.append(
                {
                    "user_id": s.user_id,
                    "history": list(s.history),
                    "target": s.target,
                    "items": r.items,
                    "rank": rank_of(r.items, s.target),
                    "diverged_at_level": divergence_level(codes, r.beams, rec.sid_tok.sid_of_codes) if codes else 0,
                    **({"cold_target": s.target in cold} if cold else {}),
                }
            )
    if "popularity" in config.baselines:
        lists["popularity"] = Popularity(trained_split).recommend(histories, config.k, exclude)
    if "text" in config.baselines:
        if progress:
            progress(0.82, "text similarity: embedding the catalogue")
        embed = rec.sid_tok.config.embed if model_dir is not None else None  # as the model's tokenizer embeds text
        lists["text"] = text_similarity(ds, embed).recommend(histories, config.k, exclude)
    if "sasrec" in config.baselines:
        if config.sasrec_dir:  # tuned beforehand on all the training users, whatever `max_users` is
            from sidrec.sasrec_grid import check_belongs

            tuned = check_belongs(config.sasrec_dir, ds, config.cold if withheld else None, config.exclude_history)
            sasrec = SASRec.load(config.sasrec_dir, device=config.device)
            winner = next(row for row in tuned["grid"] if row["winner"])
            sasrec_tuning = {
                "sasrec_tuned": {"folder": str(config.sasrec_dir), "winner": winner, "grid": tuned["grid"]}
            }
        else:
            if progress:
                progress(0.85, "SASRec: training")
            sasrec = SASRec(trained_on.item_ids, replace(config.sasrec, device=config.device))
            fit = sasrec.fit(
                users_only(trained_split, {s.user_id for s in samples}) if config.max_users else trained_split,
                exclude_history=config.exclude_history,
            )
            timings["sasrec_train_seconds"] = fit["train_seconds"]
        lists["sasrec"] = sasrec.recommend(histories, config.k, exclude)
    models = {name: summarize(ls, targets) for name, ls in lists.items()}
    errors = {name: standard_errors(ls, targets) for name, ls in lists.items()}
    cold_report = {}
    if cold:
        cold_report = {
            "cold_start": {
                "fraction": config.cold.fraction,
                "seed": config.cold.seed,
                "items": len(cold),
                "trained_on_all": config.cold_trained_on_all,
                **placed,  # cold items given a SID from their text, and those the model has no token for
            },
            "by_target": by_target(lists, targets, cold),
        }
    if progress:
        progress(1.0, "done")
    return {
        "dataset": ds.name,
        "split": config.split,
        "protocol": split.protocol,
        "users": len(samples),
        "history_rule": history_rule(config.exclude_history),
        **({"bounded_to_users": config.max_users} if config.max_users else {}),
        **lineage,  # what was evaluated: the data, and the model and its tokenizer if any
        "seconds": round(time.perf_counter() - start, 1),
        "models": models,
        "standard_errors": errors,
        **cold_report,
        **sasrec_tuning,  # with `sasrec_dir`: which grid point SASRec is, and the grid
        "timings": timings,
        "per_user": per_user,
    }


def text_similarity(ds: Dataset, embed=None) -> TextSimilarity:
    """The text-similarity baseline over every item of `ds`, its texts embedded with `embed` (an EmbedConfig;
    the default text encoder when None)."""
    from sidrec.embed import EmbedConfig, encode_texts

    config = embed or EmbedConfig()
    texts = ds.item_text(config.max_description_chars)
    return TextSimilarity(ds.item_ids, encode_texts(texts, config.text_model, config.batch_size))


def users_only(split: Split, users: set[str]) -> Split:
    """The split restricted to some users: what SASRec trains on when an evaluation is bounded to its first
    users (`max_users`), so that a preview costs in proportion to its size."""
    keep = lambda samples: [s for s in samples if s.user_id in users]  # noqa: E731
    sequences = {u: seq for u, seq in split.train_sequences.items() if u in users}
    return Split(keep(split.train), keep(split.valid), keep(split.test), sequences, 0, split.protocol)


def seen_items(samples: list[Sample], split) -> list[set[str]]:
    """Per sample, the items its user already has: the history, and under leave-one-out every earlier item
    of the user's sequence (its training sequence precedes the valid and test targets)."""
    loo = split.protocol == "leave-one-out"
    return [set(s.history) | (set(split.train_sequences.get(s.user_id, ())) if loo else set()) for s in samples]


def metrics_table(models: dict[str, dict[str, float]]) -> pd.DataFrame:
    """An evaluation's {model: {metric: value}} as one row per model (the SID-LLM first) and one column per metric
    (recall@5, recall@10, ndcg@5, ndcg@10, those present)."""
    order = [f"{m}@{k}" for m in ("recall", "ndcg") for k in KS]
    frame = pd.DataFrame.from_dict(models, orient="index")
    frame = frame.loc[sorted(frame.index, key=lambda name: name != "sid-llm")]
    return frame[[m for m in order if m in frame.columns]].rename_axis("model").reset_index()


def claim(result: dict, metric: str = "ndcg@10") -> str:
    """One sentence on which model leads on `metric`, made only when the lead exceeds one standard error of the
    difference (sqrt(se_a^2 + se_b^2)); otherwise the leaders are named as level.

    >>> r = {"models": {"a": {"ndcg@10": 0.30}, "b": {"ndcg@10": 0.20}},
    ...      "standard_errors": {"a": {"ndcg@10": 0.01}, "b": {"ndcg@10": 0.01}}}
    >>> claim(r)
    'On NDCG@10, a leads b by 0.1000 (one standard error of the difference: 0.0141).'
    >>> r["models"]["b"]["ndcg@10"] = 0.29
    >>> claim(r)
    'On NDCG@10, a and b are level: 0.0100 apart, within one standard error (0.0141).'
    >>> del r["standard_errors"]["b"]["ndcg@10"]
    >>> claim(r)
    'On NDCG@10, a scores highest; without standard errors this may be noise.'
    """
    models = {m: v[metric] for m, v in result.get("models", {}).items() if metric in v}
    errors = result.get("standard_errors", {})
    name = metric.replace("ndcg", "NDCG").replace("recall", "Recall")
    if len(models) < 2:
        return f"On {name}, there is nothing to compare."
    first, second = sorted(models, key=models.get, reverse=True)[:2]
    if any(metric not in errors.get(m, {}) for m in (first, second)):
        return f"On {name}, {first} scores highest; without standard errors this may be noise."
    gap = models[first] - models[second]
    se = (errors[first][metric] ** 2 + errors[second][metric] ** 2) ** 0.5
    if gap > se:
        return f"On {name}, {first} leads {second} by {gap:.4f} (one standard error of the difference: {se:.4f})."
    return f"On {name}, {first} and {second} are level: {gap:.4f} apart, within one standard error ({se:.4f})."
