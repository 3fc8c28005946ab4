"""The sample's shoppers: one purchase sequence per user, drawn over the catalogue (`sidrec.sample_catalogue`).

Each user's sequence mixes category interests (1-3 categories with Dirichlet weights), complement follow-ups
after a "main" product, brand loyalty within a category, long-tailed item popularity within a product type,
interest drift to a new category mid-sequence, and a little uniform noise; timestamps put complements hours
after their main product and organic purchases days apart. The probabilities are fields of `SampleConfig`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sidrec.sample_catalogue import CatalogueIndex, draw

if TYPE_CHECKING:
    from sidrec.sample import SampleConfig


def _sequence_lengths(config: SampleConfig, rng: np.random.Generator) -> np.ndarray:
    """min + negative-binomial extra (dispersion 2, so a longish tail), clipped at max."""
    extra_mean = config.mean_seq_len - config.min_seq_len
    if extra_mean <= 0:
        return np.full(config.n_users, config.min_seq_len, dtype=np.int64)
    dispersion = 2.0
    extra = rng.negative_binomial(dispersion, dispersion / (dispersion + extra_mean), size=config.n_users)
    return np.minimum(config.min_seq_len + extra, config.max_seq_len).astype(np.int64)


def _pick_from(
    candidates: np.ndarray | None, bought: np.ndarray, weights: np.ndarray, rng: np.random.Generator
) -> int | None:
    """A not-yet-bought candidate drawn by weight, or None when every candidate was bought."""
    if candidates is None:
        return None
    available = candidates[~bought[candidates]]
    if available.size == 0:
        return None
    return int(available[draw(weights[available], rng)])


def _pick_in_type(
    index: CatalogueIndex,
    ptype: int,
    bought: np.ndarray,
    brand_pref: dict[int, int],
    config: SampleConfig,
    rng: np.random.Generator,
    keep_type: bool,
) -> int:
    """An item of type ``ptype``, from the user's brand in that category with p_brand_loyalty.

    A loyal pick may fall back to another type of the same brand and category unless ``keep_type``.
    """
    cat = int(index.type_cat[ptype])
    brand = brand_pref.get(cat)
    pools: list[np.ndarray | None] = []
    if brand is not None and rng.random() < config.p_brand_loyalty:
        pools.append(index.type_brand_items.get((ptype, brand)))
        if not keep_type:
            pools.append(index.cat_brand_items.get((cat, brand)))
    pools += [index.type_items[ptype], index.cat_items[cat], np.arange(bought.size)]
    for pool in pools:
        item = _pick_from(pool, bought, index.item_pop, rng)
        if item is not None:
            return item
    raise ValueError("user bought every item in the catalogue")


def _initial_interests(index: CatalogueIndex, config: SampleConfig, rng: np.random.Generator) -> np.ndarray:
    n_cats = index.cat_weight.size
    n_interests = 1 + draw(np.asarray(config.interest_count_probs, dtype=float), rng)
    cats = rng.choice(n_cats, size=n_interests, replace=False, p=index.cat_weight / index.cat_weight.sum())
    interest = np.zeros(n_cats)
    interest[cats] = rng.dirichlet(np.full(n_interests, config.interest_concentration))
    return interest


def _drift(interest: np.ndarray, index: CatalogueIndex, config: SampleConfig, rng: np.random.Generator) -> np.ndarray:
    """Shift most of the interest mass to a category the user had no interest in."""
    fresh = index.cat_weight * (interest == 0)
    if fresh.sum() == 0:
        return interest
    shifted = interest * (1.0 - config.drift_strength)
    shifted[draw(fresh, rng)] += config.drift_strength
    return shifted


@dataclass
class Shopper:
    """A shopper's hidden state between purchases: what a model sees only through the items bought."""

    bought: np.ndarray  # item index -> bought already
    bought_types: np.ndarray  # product type -> bought already
    interest: np.ndarray  # category -> weight of the user's interest
    drift_at: int  # the purchase at which the interest drifts (-1: never)
    brand_pref: dict[int, int] = field(default_factory=dict)  # category -> brand of the first purchase there
    step: int = 0  # purchases made so far
    pending: int = 0  # complement picks still due after the last main product
    anchor: int = -1  # the main product's type those complements go with
    last_cat: int = -1  # category of the last purchase

    def copy(self) -> Shopper:
        return replace(
            self,
            bought=self.bought.copy(),
            bought_types=self.bought_types.copy(),
            interest=self.interest.copy(),
            brand_pref=dict(self.brand_pref),
        )


def _new_shopper(index: CatalogueIndex, config: SampleConfig, length: int, rng: np.random.Generator) -> Shopper:
    interest = _initial_interests(index, config, rng)
    drift_at = int(rng.integers(2, length - 1)) if length >= 4 and rng.random() < config.p_drift else -1
    return Shopper(
        bought=np.zeros(index.item_cat.size, dtype=bool),
        bought_types=np.zeros(index.type_cat.size, dtype=bool),
        interest=interest,
        drift_at=drift_at,
    )


def purchase(
    shopper: Shopper, index: CatalogueIndex, config: SampleConfig, rng: np.random.Generator
) -> tuple[int, bool]:
    """The shopper's next item index and whether it was a complement follow-up; updates the shopper."""
    s = shopper
    if s.step == s.drift_at:
        s.interest = _drift(s.interest, index, config, rng)
        s.pending = 0
    complement = s.pending > 0 and rng.random() < config.p_complement
    if complement:
        options = index.complements[s.anchor]
        weights = index.type_weight[options] * np.where(s.bought_types[options], 0.2, 1.0)
        ptype = int(options[draw(weights, rng)])
        item = _pick_in_type(index, ptype, s.bought, s.brand_pref, config, rng, keep_type=True)
        s.pending -= 1
    else:
        s.pending = 0
        if rng.random() < config.p_noise:
            item = int(rng.choice(np.flatnonzero(~s.bought)))
        else:
            stay = s.last_cat >= 0 and s.interest[s.last_cat] > 0 and rng.random() < config.p_stay_category
            cat = s.last_cat if stay else draw(s.interest, rng)
            cat_types = index.cat_types[cat]
            ptype = int(cat_types[draw(index.type_weight[cat_types], rng)])
            item = _pick_in_type(index, ptype, s.bought, s.brand_pref, config, rng, keep_type=False)
        item_type = int(index.item_type[item])
        if index.complements[item_type].size:
            s.pending, s.anchor = 1 + int(rng.integers(config.max_complement_run)), item_type
    s.bought[item] = True
    s.bought_types[index.item_type[item]] = True
    s.last_cat = int(index.item_cat[item])
    s.brand_pref.setdefault(s.last_cat, int(index.item_brand[item]))
    s.step += 1
    return item, complement


def _simulate_user(
    index: CatalogueIndex,
    config: SampleConfig,
    length: int,
    rng: np.random.Generator,
    keep_before: tuple[int, ...] = (),
) -> tuple[list[int], list[bool], dict[int, Shopper]]:
    """One user's item indices in purchase order, whether each was a complement follow-up, and copies of the
    shopper's state before the k-th purchase from the end for each k in `keep_before` (1: before the last)."""
    shopper = _new_shopper(index, config, length, rng)
    items: list[int] = []
    follow_ups: list[bool] = []
    states: dict[int, Shopper] = {}
    for step in range(length):
        if length - step in keep_before:
            states[length - step] = shopper.copy()
        item, complement = purchase(shopper, index, config, rng)
        items.append(item)
        follow_ups.append(complement)
    return items, follow_ups, states


def _timestamps(follow_ups: list[bool], config: SampleConfig, rng: np.random.Generator) -> np.ndarray:
    """Strictly increasing unix seconds: days between organic purchases, hours before follow-ups."""
    n = len(follow_ups)
    start = config.start_timestamp + int(rng.integers(config.start_window_days * 86_400))
    organic = rng.lognormal(math.log(config.gap_days * 86_400), 1.0, size=n)
    quick = rng.lognormal(math.log(config.complement_gap_hours * 3_600), 1.0, size=n)
    gaps = np.maximum(np.rint(np.where(follow_ups, quick, organic)), 60).astype(np.int64)
    gaps[0] = 0
    return start + np.cumsum(gaps)


def simulated(
    index: CatalogueIndex, config: SampleConfig, rng: np.random.Generator, keep_before: tuple[int, ...] = ()
) -> Iterator[tuple[list[int], np.ndarray, dict[int, Shopper]]]:
    """Every user in order: item indices, timestamps, and the shopper states asked for (see `_simulate_user`).
    The draws are the same whatever `keep_before` is, so the states belong to the sequences `simulate_users` wrote.
    """
    lengths = _sequence_lengths(config, rng)
    for u in range(config.n_users):
        seq, follow_ups, states = _simulate_user(index, config, int(lengths[u]), rng, keep_before)
        yield seq, _timestamps(follow_ups, config, rng), states


def user_ids(config: SampleConfig) -> list[str]:
    width = max(4, len(str(config.n_users)))
    return [f"U{u + 1:0{width}d}" for u in range(config.n_users)]


def simulate_users(
    items: pd.DataFrame,
    index: CatalogueIndex,
    config: SampleConfig,
    rng: np.random.Generator,
) -> pd.DataFrame:
    item_ids = items["item_id"].to_numpy()
    user_col: list[str] = []
    item_col: list[str] = []
    time_col: list[np.ndarray] = []
    for user, (seq, times, _) in zip(user_ids(config), simulated(index, config, rng), strict=True):
        user_col += [user] * len(seq)
        item_col += item_ids[seq].tolist()
        time_col.append(times)
    return pd.DataFrame(
        {"user_id": user_col, "item_id": item_col, "timestamp": np.concatenate(time_col).astype(np.int64)}
    )
