"""The cold-start protocol: a seeded share of the catalogue withheld from all training, entering by text alone.

A SID model can recommend an item nobody has bought yet: the item's text gives it a SID that the LLM already
reads and writes. To measure that, `cold_items` draws a fraction of the items (uniformly, seeded), and
`withhold` gives the dataset as training sees it under the protocol: the cold items' rows removed from the
item table and every interaction with them removed from the training sequences, the validation histories and
the behaviour signal, so the tokenizer, the behaviour embeddings, the LLM and SASRec never see them. The split
is the full dataset's (its valid and test targets stay held out; cold targets are dropped from validation), so
the full dataset's test users can be evaluated on the model afterwards: the cold items enter the tokenizer by
their text (`SIDTokenizer.add_items`) and test histories keep the cold items their users bought (they are in
the catalogue by then; SASRec, which has no row for them, skips them).

`by_target` reports every model's metrics separately for test users whose target is a cold item and for the
rest, each with standard errors over its users.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sidrec.data import MAX_HISTORY, Dataset, Sample, Split, prefix_samples, split_dataset
from sidrec.errors import SidrecError
from sidrec.metrics import standard_errors, summarize


@dataclass(frozen=True)
class ColdConfig:
    fraction: float = 0.05  # share of the catalogue withheld from training
    seed: int = 0

    def __post_init__(self):
        if not 0 < self.fraction < 1:
            raise SidrecError(f"the cold-item fraction must be between 0 and 1 (exclusive), got {self.fraction}")

    def describe(self) -> str:
        return f"{self.fraction:g} of the items withheld (seed {self.seed})"


def cold_items(ds: Dataset, config: ColdConfig) -> list[str]:
    """The withheld items, in catalogue order: round(fraction * n) of them (at least one, never all), drawn
    uniformly with the config's seed. Depends only on the item ids, so every command of a run draws the same.

    >>> import pandas as pd
    >>> ds = Dataset("d", "generic", pd.DataFrame(index=[f"i{n}" for n in range(40)]))
    >>> picked = cold_items(ds, ColdConfig(0.1, seed=3))
    >>> len(picked), picked == cold_items(ds, ColdConfig(0.1, seed=3)), picked == sorted(picked, key=ds.item_ids.index)
    (4, True, True)
    """
    n = len(ds.item_ids)
    if n < 2:
        raise SidrecError(f"{ds.name}: a cold-start run needs at least 2 items, the catalogue has {n}")
    size = min(max(1, round(config.fraction * n)), n - 1)
    rows = np.sort(np.random.default_rng(config.seed).choice(n, size=size, replace=False))
    return [ds.item_ids[r] for r in rows]


def _without(samples: list[Sample], cold: set[str]) -> list[Sample]:
    """Samples whose target is warm, their histories without cold items (those left with no history dropped)."""
    out = []
    for s in samples:
        history = tuple(i for i in s.history if i not in cold)
        if s.target not in cold and history:
            out.append(Sample(s.user_id, history, s.target))
    return out


def withhold(ds: Dataset, config: ColdConfig, max_history: int = MAX_HISTORY) -> Dataset:
    """The dataset as training sees it under the protocol (see the module docstring).

    Its split is the full dataset's with the cold items taken out (training sequences filtered before their
    prefixes are cut; valid and test samples with a cold target dropped, cold items removed from histories),
    so no valid or test target of the full dataset is ever trained on.
    """
    cold = set(cold_items(ds, config))
    full = split_dataset(ds)
    keep = lambda seq: [i for i in seq if i not in cold]  # noqa: E731
    train_sequences = {u: keep(s) for u, s in full.train_sequences.items()}
    split = Split(
        prefix_samples(train_sequences, max_history),
        _without(full.valid, cold),
        _without(full.test, cold),
        train_sequences,
        full.too_short_users,
        full.protocol,
    )
    index = ds.published_index
    return Dataset(
        ds.name,
        ds.layout,
        ds.items.drop(index=sorted(cold)),
        {u: keep(s) for u, s in ds.sequences.items()},
        {i: sid for i, sid in index.items() if i not in cold} if index else None,
        split,
        [*ds.notes, f"cold-start run: {config.describe()}, {len(cold)} items"],
    )


def by_target(lists: dict[str, list[list[str]]], targets: list[str], cold: set[str]) -> dict[str, dict]:
    """Per group of users ("cold": the target is a cold item, "warm": the rest): the number of users and, per
    model, the metrics and their standard errors (a group without users is left out).

    >>> r = by_target({"m": [["x"], ["y"]]}, ["x", "z"], cold={"x"})
    >>> r["cold"]["users"], r["cold"]["models"]["m"]["recall@5"], r["warm"]["models"]["m"]["recall@5"]
    (1, 1.0, 0.0)
    """
    out = {}
    for group, wanted in (("cold", True), ("warm", False)):
        rows = [n for n, t in enumerate(targets) if (t in cold) == wanted]
        if not rows:
            continue
        sub_targets = [targets[n] for n in rows]
        out[group] = {
            "users": len(rows),
            "models": {m: summarize([ls[n] for n in rows], sub_targets) for m, ls in lists.items()},
            "standard_errors": {m: standard_errors([ls[n] for n in rows], sub_targets) for m, ls in lists.items()},
        }
    return out


REFERENCE = "warm, trained on all items"  # the reference run's warm group, as `cold_warm_table` names it


def cold_warm_table(withheld: dict, reference: dict | None = None, metrics=("recall@10", "ndcg@10")) -> pd.DataFrame:
    """An evaluation of a cold-start run (and optionally the reference: models trained on every item, the report
    split by the same draw) as long rows: model, targets ("cold", "warm", REFERENCE), metric, value, standard
    error. A reference from another draw or dataset is refused.

    >>> run = {"dataset": "d", "cold_start": {"fraction": 0.1, "seed": 0}, "by_target": {"cold": {"users": 1,
    ...        "models": {"m": {"recall@10": 0.5}}, "standard_errors": {"m": {"recall@10": 0.1}}}}}
    >>> cold_warm_table(run, metrics=("recall@10",)).values.tolist()
    [['m', 'cold', 'recall@10', 0.5, 0.1]]
    """
    if "by_target" not in withheld:
        raise SidrecError("this evaluation is not of a cold-start run (evaluate --cold-items)")
    groups = dict(withheld["by_target"])
    if reference is not None:
        ours, theirs = withheld.get("cold_start", {}), reference.get("cold_start", {})
        same = [ours.get(k) for k in ("fraction", "seed")] == [theirs.get(k) for k in ("fraction", "seed")]
        if not same or reference.get("dataset") != withheld.get("dataset") or "warm" not in reference["by_target"]:
            raise SidrecError("the reference evaluation is of another dataset or another draw of cold items")
        groups[REFERENCE] = reference["by_target"]["warm"]
    rows = [
        (model, group, metric, values[metric], part["standard_errors"].get(model, {}).get(metric))
        for group, part in groups.items()
        for model, values in part["models"].items()
        for metric in metrics
        if metric in values
    ]
    return pd.DataFrame(rows, columns=["model", "targets", "metric", "value", "standard_error"])
