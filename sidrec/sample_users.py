"""The sample's shoppers: one purchase sequence per user, drawn over the catalogue (`sidrec.sample_catalogue`).

Each user's sequence mixes category interests (1-3 categories with Dirichlet weights), complement follow-ups
after a "main" product, brand loyalty within a category, long-tailed item popularity within a product type,
interest drift to a new category mid-sequence, and a little uniform noise; timestamps put complements hours
after their main product and organic purchases days apart. The probabilities are fields of `SampleConfig`.
"""

from __future__ import annotations

import math
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


def _simulate_user(
    index: CatalogueIndex, config: SampleConfig, length: int, rng: np.random.Generator
) -> tuple[list[int], list[bool]]:
    """One user's item indices in purchase order, and whether each was a complement follow-up."""
    bought = np.zeros(index.item_cat.size, dtype=bool)
    bought_types = np.zeros(index.type_cat.size, dtype=bool)
    interest = _initial_interests(index, config, rng)
    drift_at = int(rng.integers(2, length - 1)) if length >= 4 and rng.random() < config.p_drift else -1
    brand_pref: dict[int, int] = {}  # category -> brand of the user's first purchase there
    items: list[int] = []
    follow_ups: list[bool] = []
    pending, anchor, last_cat = 0, -1, -1
    for step in range(length):
        if step == drift_at:
            interest = _drift(interest, index, config, rng)
            pending = 0
        complement = pending > 0 and rng.random() < config.p_complement
        if complement:
            options = index.complements[anchor]
            weights = index.type_weight[options] * np.where(bought_types[options], 0.2, 1.0)
            ptype = int(options[draw(weights, rng)])
            item = _pick_in_type(index, ptype, bought, brand_pref, config, rng, keep_type=True)
            pending -= 1
        else:
            pending = 0
            if rng.random() < config.p_noise:
                item = int(rng.choice(np.flatnonzero(~bought)))
            else:
                stay = last_cat >= 0 and interest[last_cat] > 0 and rng.random() < config.p_stay_category
                cat = last_cat if stay else draw(interest, rng)
                cat_types = index.cat_types[cat]
                ptype = int(cat_types[draw(index.type_weight[cat_types], rng)])
                item = _pick_in_type(index, ptype, bought, brand_pref, config, rng, keep_type=False)
            item_type = int(index.item_type[item])
            if index.complements[item_type].size:
                pending, anchor = 1 + int(rng.integers(config.max_complement_run)), item_type
        bought[item] = True
        bought_types[index.item_type[item]] = True
        last_cat = int(index.item_cat[item])
        brand_pref.setdefault(last_cat, int(index.item_brand[item]))
        items.append(item)
        follow_ups.append(complement)
    return items, follow_ups


def _timestamps(follow_ups: list[bool], config: SampleConfig, rng: np.random.Generator) -> np.ndarray:
    """Strictly increasing unix seconds: days between organic purchases, hours before follow-ups."""
    n = len(follow_ups)
    start = config.start_timestamp + int(rng.integers(config.start_window_days * 86_400))
    organic = rng.lognormal(math.log(config.gap_days * 86_400), 1.0, size=n)
    quick = rng.lognormal(math.log(config.complement_gap_hours * 3_600), 1.0, size=n)
    gaps = np.maximum(np.rint(np.where(follow_ups, quick, organic)), 60).astype(np.int64)
    gaps[0] = 0
    return start + np.cumsum(gaps)


def simulate_users(
    items: pd.DataFrame,
    index: CatalogueIndex,
    config: SampleConfig,
    rng: np.random.Generator,
) -> pd.DataFrame:
    lengths = _sequence_lengths(config, rng)
    width = max(4, len(str(config.n_users)))
    item_ids = items["item_id"].to_numpy()
    user_col: list[str] = []
    item_col: list[str] = []
    time_col: list[np.ndarray] = []
    for u in range(config.n_users):
        seq, follow_ups = _simulate_user(index, config, int(lengths[u]), rng)
        user_col += [f"U{u + 1:0{width}d}"] * len(seq)
        item_col += item_ids[seq].tolist()
        time_col.append(_timestamps(follow_ups, config, rng))
    return pd.DataFrame(
        {"user_id": user_col, "item_id": item_col, "timestamp": np.concatenate(time_col).astype(np.int64)}
    )
