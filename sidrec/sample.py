"""Deterministic synthetic online-store sample: a product catalogue and user purchase histories.

What it holds
    * ``generate_sample``: turns a :class:`SampleConfig` into two DataFrames in the project's generic
      dataset layout, ``items`` (item_id, title, description, brand, categories) and ``interactions``
      (user_id, item_id, timestamp), and ``write_sample``, which writes them as ``items.csv`` and
      ``interactions.csv``.
    * The store is a hand-written taxonomy: twelve top-level categories, their subcategories and
      product types, each type with its own vocabulary and links to "complement" types (tent ->
      sleeping bag, ...); brands are fictional, four to six per category.

What it does not hold
    * No loading, splitting, semantic-ID building or evaluation: the rest of the library reads the
      written CSV files like any other dataset in the generic layout.
    * No real products, brands or users; every name is invented.

All randomness comes from ``numpy.random.default_rng`` seeded by the config, so the same config gives
byte-identical files. The taxonomy is data (`sidrec/sample_taxonomy.json`, read by
`sidrec.sample_taxonomy`); the items are drawn by `sidrec.sample_catalogue` and the shoppers by
`sidrec.sample_users`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sidrec.artifacts import atomic_file
from sidrec.sample_catalogue import CATEGORY_SEPARATOR, build_catalogue
from sidrec.sample_taxonomy import Category, ProductType, Subcategory, complement_types, taxonomy, type_rows
from sidrec.sample_users import simulate_users

__all__ = [
    "Category",
    "ProductType",
    "SampleConfig",
    "Subcategory",
    "complement_types",
    "generate_sample",
    "taxonomy",
    "validate",
    "write_sample",
]


@dataclass(frozen=True)
class SampleConfig:
    """Knobs of the synthetic sample; the defaults give ~1000 items, 2000 users, ~19k interactions."""

    seed: int = 7  # every random draw derives from this seed
    n_items: int = 1000  # catalogue size; >= 800 keeps each category at ~60-150 items (hard floor: 2/type)
    n_users: int = 2000  # one purchase sequence per user; >= 1500 for the default sample
    min_seq_len: int = 5  # shortest user history
    max_seq_len: int = 20  # longest user history
    mean_seq_len: float = 9.8  # target mean length: min + negative-binomial extra, clipped at max
    interest_count_probs: tuple[float, ...] = (0.35, 0.45, 0.20)  # P(user has 1, 2, 3 category interests)
    interest_concentration: float = 1.0  # Dirichlet alpha of a user's weights over their interests
    p_stay_category: float = 0.45  # an organic pick stays in the last item's category (if an interest)
    p_complement: float = 0.65  # each of the 1-2 picks after a main product is one of its complements
    max_complement_run: int = 2  # at most this many complement picks follow a main product
    p_brand_loyalty: float = 0.6  # pick from the brand the user first bought in that category
    zipf_exponent: float = 1.2  # item popularity within its product type ~ 1 / rank ** exponent
    type_popularity_sigma: float = 0.7  # log-normal spread of product-type popularity
    main_type_boost: float = 2.0  # main product types are this much more likely to be picked organically
    p_drift: float = 0.3  # share of users whose interest shifts to a new category mid-sequence
    drift_strength: float = 0.8  # weight the new category takes after a drift
    p_noise: float = 0.05  # a pick is a uniformly random item from the whole catalogue
    start_timestamp: int = 1_672_531_200  # 2023-01-01 00:00:00 UTC, earliest first purchase
    start_window_days: int = 540  # first purchases are spread uniformly over this many days
    gap_days: float = 4.0  # median gap between organic purchases (log-normal)
    complement_gap_hours: float = 3.0  # median gap before a complement purchase (log-normal)


def validate(config: SampleConfig) -> None:
    n_types = len(type_rows())
    if config.n_items < 2 * n_types:
        raise ValueError(f"n_items must be at least {2 * n_types} (two items per product type)")
    if config.n_users < 1:
        raise ValueError("n_users must be positive")
    if not 1 <= config.min_seq_len <= config.max_seq_len <= config.n_items:
        raise ValueError("need 1 <= min_seq_len <= max_seq_len <= n_items")
    if config.max_complement_run < 1:
        raise ValueError("max_complement_run must be at least 1")
    probabilities = {
        "p_stay_category": config.p_stay_category,
        "p_complement": config.p_complement,
        "p_brand_loyalty": config.p_brand_loyalty,
        "p_drift": config.p_drift,
        "drift_strength": config.drift_strength,
        "p_noise": config.p_noise,
    }
    for name, value in probabilities.items():
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be within [0, 1], got {value}")
    counts = np.asarray(config.interest_count_probs, dtype=float)
    if counts.size == 0 or counts.size > len(taxonomy()) or (counts < 0).any() or counts.sum() <= 0:
        raise ValueError("interest_count_probs must be non-negative weights for 1..k interests")


def generate_sample(config: SampleConfig = SampleConfig()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """items, interactions

    ``items`` has columns item_id, title, description, brand, categories (sorted by item_id);
    ``interactions`` has user_id, item_id, timestamp (sorted by user, then strictly increasing time).
    """
    validate(config)
    catalogue_seed, user_seed = np.random.SeedSequence(config.seed).spawn(2)
    items, index = build_catalogue(config, np.random.default_rng(catalogue_seed))
    interactions = simulate_users(items, index, config, np.random.default_rng(user_seed))
    return items, interactions


def _write_csv_atomic(frame: pd.DataFrame, path: Path) -> None:
    with atomic_file(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")


def write_sample(out_dir: str | Path, config: SampleConfig = SampleConfig()) -> dict:
    """Writes items.csv and interactions.csv (atomically: write to a temp name in the same folder then
    os.replace), returns a small summary dict {items, users, interactions, categories}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items, interactions = generate_sample(config)
    _write_csv_atomic(items, out / "items.csv")
    _write_csv_atomic(interactions, out / "interactions.csv")
    top_level = items["categories"].str.split(CATEGORY_SEPARATOR, regex=False).str[0]
    return {
        "items": len(items),
        "users": int(interactions["user_id"].nunique()),
        "interactions": len(interactions),
        "categories": int(top_level.nunique()),
    }
