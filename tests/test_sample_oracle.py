"""The sample's oracle: its shopper states belong to the sequences the sample wrote, and its draws follow the
generator's rules."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sidrec.errors import SidrecError
from sidrec.sample import SampleConfig, generate_sample
from sidrec.sample_oracle import OracleConfig, next_pick_counts, oracle_lists, shopper_states

SMALL = SampleConfig(seed=3, n_items=300, n_users=150)


@pytest.fixture(scope="module")
def sequences() -> dict[str, list[str]]:
    _, interactions = generate_sample(SMALL)
    return interactions.groupby("user_id")["item_id"].apply(list).to_dict()


@pytest.mark.parametrize("before_last", [1, 2])
def test_states_hold_exactly_the_history_before_the_held_out_purchase(sequences, before_last):
    index, item_ids, states = shopper_states(SMALL, before_last)
    assert set(states) == set(sequences)
    for user, shopper in states.items():
        history = sequences[user][:-before_last]
        assert shopper.step == len(history)
        assert sorted(item_ids[i] for i in np.flatnonzero(shopper.bought)) == sorted(history)


def test_draws_never_repeat_a_purchase_and_leave_the_shopper_unchanged():
    index, _, states = shopper_states(SMALL, 1)
    shopper = next(iter(states.values()))
    before = shopper.copy()
    counts = next_pick_counts(shopper, index, SMALL, 300, np.random.default_rng(0))
    assert counts.sum() == 300
    assert counts[shopper.bought].sum() == 0
    assert shopper.step == before.step and np.array_equal(shopper.bought, before.bought)
    assert shopper.brand_pref == before.brand_pref and shopper.pending == before.pending


def test_a_shopper_owed_a_complement_always_gets_one_when_complements_are_certain():
    config = replace(SMALL, p_complement=1.0)
    index, _, states = shopper_states(config, 1)

    def exhausted(s):  # a complement type whose items were all bought sends the pick elsewhere
        return any(s.bought[index.type_items[t]].all() for t in index.complements[s.anchor])

    owed = [s for s in states.values() if s.pending > 0 and s.drift_at != s.step and not exhausted(s)]
    assert len(owed) >= 5, "the small sample has shoppers owed a complement"
    for shopper in owed[:5]:
        counts = next_pick_counts(shopper, index, config, 200, np.random.default_rng(1))
        types = set(index.item_type[np.flatnonzero(counts)].tolist())
        assert types <= set(index.complements[shopper.anchor].tolist())


def test_oracle_lists_are_k_unbought_items(sequences):
    lists = oracle_lists(SMALL, OracleConfig(draws=50, k=5))
    assert set(lists) == set(sequences)
    for user, items in lists.items():
        assert 1 <= len(items) <= 5 and len(set(items)) == len(items)
        assert not set(items) & set(sequences[user][:-1])


def test_oracle_config_rejects_empty_draws():
    with pytest.raises(SidrecError):
        OracleConfig(draws=0)
