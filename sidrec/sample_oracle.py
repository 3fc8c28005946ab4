"""The sample's ceiling: how well its own generator would recommend.

The sample's shoppers (`sidrec.sample_users`) buy by a hidden state: their category interests and its drift,
the complement picks still due after a main product, the brand they first bought in each category. A
recommender sees only the items bought. The oracle sees the state too: it draws the shopper's next purchase
`draws` times from that state with the generator's own code and ranks items by how often they came up. Knowing
more never hurts the best ranking, so no model that reads only the history can beat the oracle's expected
Recall/NDCG@k on the held-out purchases: its figures bound what any recommender can reach on the sample (up to
the noise of a finite number of draws, which `draws` sets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sidrec.errors import SidrecError
from sidrec.sample import SampleConfig, validate
from sidrec.sample_catalogue import CatalogueIndex, build_catalogue
from sidrec.sample_users import Shopper, purchase, simulated, user_ids


@dataclass(frozen=True)
class OracleConfig:
    draws: int = 4000  # next purchases drawn per shopper; the list ranks items by their counts
    seed: int = 0  # of those draws (the sample's own seed is SampleConfig.seed)
    k: int = 10  # list length

    def __post_init__(self):
        if self.draws < 1 or self.k < 1:
            raise SidrecError(f"the oracle needs draws >= 1 and k >= 1, got {self.draws} and {self.k}")


def shopper_states(config: SampleConfig, before_last: int) -> tuple[CatalogueIndex, list[str], dict[str, Shopper]]:
    """The catalogue index, its item ids, and every shopper's state before their `before_last`-th purchase from
    the end (1: before the last, the leave-one-out test target; 2: the validation target), replaying exactly the
    draws `generate_sample(config)` makes. Users with fewer purchases are left out."""
    validate(config)
    catalogue_seed, user_seed = np.random.SeedSequence(config.seed).spawn(2)
    items, index = build_catalogue(config, np.random.default_rng(catalogue_seed))
    states = {
        user: kept[before_last]
        for user, (_, _, kept) in zip(
            user_ids(config), simulated(index, config, np.random.default_rng(user_seed), (before_last,)), strict=True
        )
        if before_last in kept
    }
    return index, items["item_id"].tolist(), states


def next_pick_counts(
    shopper: Shopper, index: CatalogueIndex, config: SampleConfig, draws: int, rng: np.random.Generator
) -> np.ndarray:
    """How often each item index came up in `draws` independent next purchases from `shopper` (left unchanged)."""
    counts = np.zeros(index.item_cat.size, dtype=np.int64)
    for _ in range(draws):
        item, _ = purchase(shopper.copy(), index, config, rng)
        counts[item] += 1
    return counts


def top_k(counts: np.ndarray, k: int) -> list[int]:
    """The k most frequent indices among those drawn at least once, most frequent first (ties: lower index).

    >>> top_k(np.array([0, 3, 1, 3, 0]), 2), top_k(np.array([0, 3, 1, 3, 0]), 9)
    ([1, 3], [1, 3, 2])
    """
    order = np.lexsort((np.arange(counts.size), -counts))
    return [int(i) for i in order[:k] if counts[i] > 0]


def oracle_lists(
    config: SampleConfig = SampleConfig(), oracle: OracleConfig = OracleConfig(), before_last: int = 1, progress=None
) -> dict[str, list[str]]:
    """{user: the oracle's top-k item ids for their `before_last`-th purchase from the end}.
    `progress(done, total)` is called after each user."""
    index, item_ids, states = shopper_states(config, before_last)
    rng = np.random.default_rng(oracle.seed)
    lists = {}
    for n, (user, shopper) in enumerate(states.items(), 1):
        counts = next_pick_counts(shopper, index, config, oracle.draws, rng)
        lists[user] = [item_ids[i] for i in top_k(counts, oracle.k)]
        if progress is not None:
            progress(n, len(states))
    return lists
