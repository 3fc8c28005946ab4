"""Prefix trie and constrained beam search on a tiny random Llama built in code."""

from dataclasses import replace

import numpy as np
import pytest
import torch

import sidrec.trie as trie_module
from sidrec.errors import SidrecError
from sidrec.generate import GenerateConfig
from sidrec.reference import hf_generate
from sidrec.trie import PrefixTrie
from tests.tiny import CODES, IDS

TEXT = np.ones((1, 8), np.float32)  # a placed item's text vector, where a test places items by hand

HISTORIES = [["i0", "i5"], ["i13"], ["i2", "i3", "i4", "i9"], ["i7"]]


def test_trie_children_and_leaves():
    trie = PrefixTrie(np.array(CODES))
    assert trie.children(()) == [0, 1, 2]
    assert trie.children((1,)) == [0, 1, 2] and trie.children((1, 2)) == [0] and trie.children((0, 2)) == [0, 1]
    assert trie.children((1, 0, 0)) == []
    state = torch.tensor([0])
    for lv, c in enumerate(CODES[7]):
        state = trie.step(lv, state)[:, c]
    assert int(trie.items_of(state)) == 7


def test_csr_levels_answer_like_dense(monkeypatch):
    dense = PrefixTrie(np.array(CODES))
    monkeypatch.setattr(trie_module, "DENSE_LIMIT", 0)
    csr = PrefixTrie(np.array(CODES))
    assert csr.levels[2].dense is None
    for lv in range(3):
        states = torch.arange(dense.levels[lv].n_states)
        assert torch.equal(dense.step(lv, states), csr.step(lv, states))


@pytest.mark.parametrize("dense_limit", [trie_module.DENSE_LIMIT, 0])
def test_trie_add_extends_without_rebuild(monkeypatch, dense_limit):
    monkeypatch.setattr(trie_module, "DENSE_LIMIT", dense_limit)
    trie = PrefixTrie(np.array(CODES))
    untouched = trie.levels[0]
    trie.add(np.array([[1, 2, 1], [0, 1, 2]]))  # a new leaf under an old prefix; a new separating code
    assert trie.levels[0] is untouched
    assert trie.children((1, 2)) == [0, 1] and trie.children((0, 1)) == [0, 2]
    all_codes = [*CODES, (1, 2, 1), (0, 1, 2)]
    rebuilt = PrefixTrie(np.array(all_codes))
    prefixes = {c[:d] for c in all_codes for d in range(4)}
    assert all(trie.children(p) == rebuilt.children(p) for p in prefixes)
    for row, codes in enumerate(all_codes):  # every path ends at its own item row
        state = torch.tensor([0])
        for lv, c in enumerate(codes):
            state = trie.step(lv, state)[:, c]
        assert int(trie.items_of(state)) == row
    with pytest.raises(SidrecError, match="exists already"):
        trie.add(np.array([[0, 0, 0]]))


def test_every_result_is_a_real_item_unique_and_sorted(rec_factory):
    rec = rec_factory(num_beams=6, top_k=5)
    for r in rec.recommend(HISTORIES):
        assert len(r.items) == 5 and len(set(r.items)) == 5
        assert all(rec.sid_tok.encode(i) == s for i, s in zip(r.items, r.sids, strict=True))
        assert r.scores == sorted(r.scores, reverse=True) and all(np.isfinite(r.scores))
        assert len(r.timings["step_ms"]) == 3 and len(r.beams) == 3


def test_same_input_same_output(rec_factory):
    a, b = rec_factory(num_beams=6, top_k=5), rec_factory(num_beams=6, top_k=5)
    assert [r.items for r in a.recommend(HISTORIES)] == [r.items for r in b.recommend(HISTORIES)]


def test_batching_users_equals_one_at_a_time(rec_factory):
    batched = rec_factory(num_beams=6, top_k=5, batch_size=4).recommend(HISTORIES)
    single = rec_factory(num_beams=6, top_k=5, batch_size=1).recommend(HISTORIES)
    for b, s in zip(batched, single, strict=True):
        assert b.items == s.items
        assert np.allclose(b.scores, s.scores, atol=1e-4)


@pytest.mark.parametrize("beams,k", [(6, 5), (14, 10), (3, 3)])
def test_identical_to_the_reference_generate(rec_factory, beams, k):
    rec = rec_factory(num_beams=beams, top_k=k, score="vocab")
    for history in HISTORIES:
        ours = rec.recommend([history])[0]
        ref = hf_generate(rec, history, k=k, num_beams=beams)
        assert ours.items == ref.items
        assert np.allclose(ours.scores, ref.scores, atol=1e-4)


def test_allowed_scores_are_a_distribution_over_the_real_items(rec_factory):
    # 14 beams hold every item: renormalised over real continuations, the items' probabilities sum to one, and
    # the items under a first-level code share exactly that code's probability among the three
    allowed = rec_factory(num_beams=14, top_k=14, exclude_history=False, score="allowed")
    vocab = rec_factory(num_beams=14, top_k=14, exclude_history=False, score="vocab")
    for history in HISTORIES:
        a, v = allowed.recommend([history])[0], vocab.recommend([history])[0]
        assert sorted(a.items) == sorted(IDS) and a.scores == sorted(a.scores, reverse=True)
        assert np.exp(a.scores).sum() == pytest.approx(1.0, abs=1e-5)
        assert np.exp(v.scores).sum() < 0.99  # a random model puts mass on other tokens and on codes no item has
        first = dict(a.beams[0])  # level a: each code's renormalised log-probability
        assert np.exp(list(first.values())).sum() == pytest.approx(1.0, abs=1e-5)
        for code, logp in first.items():
            under = [s for sid, s in zip(a.sids, a.scores, strict=True) if sid.startswith(code)]
            assert np.log(np.exp(under).sum()) == pytest.approx(logp, abs=1e-5)


@pytest.mark.parametrize("batch_size", [1, 4])
def test_shared_prompt_cache_equals_per_beam_copies(rec_factory, batch_size):
    shared = rec_factory(num_beams=6, top_k=5, batch_size=batch_size)
    copied = rec_factory(num_beams=6, top_k=5, batch_size=batch_size, shared_prefix=False)
    assert shared.shared_prefix and not copied.shared_prefix
    for a, b in zip(shared.recommend(HISTORIES), copied.recommend(HISTORIES), strict=True):
        assert a.items == b.items
        assert np.allclose(a.scores, b.scores, atol=1e-5)
        assert [[s for s, _ in lv] for lv in a.beams] == [[s for s, _ in lv] for lv in b.beams]


def test_state_without_children_raises(rec_factory):
    rec = rec_factory(num_beams=6, top_k=5)
    rec.trie.levels[1].dense[:] = -1  # corrupt: no level-1 state has a child
    with pytest.raises(SidrecError, match="without children"):
        rec.recommend([["i0"]])


def test_unconstrained_reports_invalid_sids(rec_factory):
    rec = rec_factory(num_beams=14, top_k=10)
    r = rec.recommend([["i0"]], constrained=False)[0]
    # 27 code paths exist, 14 are items: a random model's top-14 paths include non-items
    assert r.invalid > 0 and all(i in IDS for i in r.items)


def test_unknown_history_item_is_refused(rec_factory):
    with pytest.raises(SidrecError, match="unknown item 'nope'"):
        rec_factory().recommend([["nope"]], k=5, num_beams=6)


def test_cold_start_item_becomes_recommendable(rec_factory, monkeypatch):
    import sidrec.tokenizer as T

    rec = rec_factory(num_beams=20, top_k=15)
    # give the imported index a way to place a text: here, next to i8's prefix (1, 2)
    monkeypatch.setattr(T.SIDTokenizer, "_place", lambda self, texts, placement=None: (np.array([[1, 2, 1]]), TEXT))
    rec.add_items(["new"], ["a new lamp"])
    r = rec.recommend([["i0"]])[0]
    assert "new" in r.items and rec.sid_tok.encode("new") == "<a_1><b_2><c_1>"


@pytest.mark.parametrize("separating_code", [1, 5])  # 5: a code the model has no token for
@pytest.mark.parametrize("rule,placed_share,known_share", [("cell", 1.0, 1.0), ("share", 0.5, 0.5)])
@pytest.mark.parametrize("weight", [1.0, 0.1])
def test_placed_item_is_scored_by_its_cell(
    rec_factory, monkeypatch, separating_code, rule, placed_share, known_share, weight
):
    import sidrec.tokenizer as T

    before = rec_factory(num_beams=20, top_k=14).recommend([["i0"]])[0]
    rec = rec_factory(num_beams=20, top_k=15, placed_score=rule, placed_weight=weight)
    monkeypatch.setattr(
        T.SIDTokenizer, "_place", lambda self, texts, placement=None: (np.array([[1, 2, separating_code]]), TEXT)
    )
    rec.add_items(["new"], ["a new lamp"])  # joins i8's cell (1, 2): n = 2 items, one placed
    assert not rec.lacks_tokens("new") and rec.placed_items() == ["new"] and rec.cell_mates("new") == ["i8"]
    after = rec.recommend([["i0"]])[0]
    old, new = dict(zip(before.items, before.scores, strict=True)), dict(zip(after.items, after.scores, strict=True))
    cell = dict(after.beams[1])["<a_1><b_2>"]  # the cell's score: its first two codes
    assert new["new"] == pytest.approx(cell + np.log(placed_share * weight), abs=1e-5)  # whatever it says of c_1
    assert new["i8"] == pytest.approx(old["i8"] + np.log(known_share), abs=1e-5)
    assert all(new[i] == pytest.approx(old[i], abs=1e-5) for i in old if i != "i8")  # other cells: as before


@pytest.mark.parametrize("weight", [1.0, 0.1])
def test_a_placed_item_scored_as_its_mate_ties_with_the_likeliest_known_item_of_its_cell(
    rec_factory, monkeypatch, weight
):
    import sidrec.tokenizer as T

    before = rec_factory(num_beams=20, top_k=14).recommend([["i0"]])[0]
    rec = rec_factory(num_beams=20, top_k=15, placed_score="mate", placed_weight=weight)
    monkeypatch.setattr(T.SIDTokenizer, "_place", lambda self, texts, placement=None: (np.array([[1, 2, 5]]), TEXT))
    rec.add_items(["new"], ["a new lamp"])  # joins i8's cell (1, 2), a code the model has no token for
    after = rec.recommend([["i0"]])[0]
    old, new = dict(zip(before.items, before.scores, strict=True)), dict(zip(after.items, after.scores, strict=True))
    assert new["new"] == pytest.approx(old["i8"] + np.log(weight), abs=1e-5)  # i8: the cell's one known item
    assert all(new[i] == pytest.approx(old[i], abs=1e-5) for i in old)  # every known item: as before


@pytest.mark.parametrize("weight", [0.0, -0.5, 1.5, float("nan")])
def test_a_placed_weight_outside_0_to_1_is_refused(weight):
    from sidrec.evaluate import EvalConfig

    for config in (GenerateConfig, EvalConfig):
        with pytest.raises(SidrecError, match="placed-item weight must be more than 0 and at most 1"):
            config(placed_weight=weight)


# ---------------------------------------------------------------- the history rule

PREFIX_0 = ["i0", "i1", "i2", "i3", "i4"]  # every item under code 0 at level a


def test_history_covering_a_whole_prefix_still_gives_k_new_items(rec_factory):
    rec = rec_factory(num_beams=9, top_k=9)
    r = rec.recommend([PREFIX_0])[0]
    assert len(r.items) == 9 and not set(r.items) & set(PREFIX_0)  # exactly the 9 items left
    assert all(not s.startswith("<a_0>") for s, _ in r.beams[0])  # the blocked prefix never enters the beams


def test_exclusion_is_the_exhaustive_ranking_without_the_history(rec_factory):
    # 14 beams hold every item: the search is exhaustive, so the rule must equal filtering the full ranking
    free = rec_factory(num_beams=14, top_k=14, exclude_history=False)
    ruled = rec_factory(num_beams=14, top_k=14)
    for history in HISTORIES:
        everything = free.recommend([history])[0]
        assert len(everything.items) == 14
        kept = [i for i in everything.items if i not in history]
        r = ruled.recommend([history])[0]
        assert r.items == kept
        assert np.allclose(r.scores, [s for i, s in zip(everything.items, everything.scores, strict=True)
                                      if i not in history], atol=1e-4)  # fmt: skip


def test_extra_exclusions_and_repeats(rec_factory):
    rec = rec_factory(num_beams=14, top_k=10)
    r = rec.recommend([["i7"]], exclude=[set(PREFIX_0)])[0]
    assert not set(r.items) & {"i7", *PREFIX_0} and len(r.items) == 8  # 14 - 6 items exist
    with pytest.raises(SidrecError, match="exclusion sets"):
        rec.recommend([["i7"], ["i8"]], exclude=[set()])


@pytest.mark.parametrize("beams,k", [(6, 5), (9, 9)])
def test_reference_generate_follows_the_same_rule(rec_factory, beams, k):
    rec = rec_factory(num_beams=beams, top_k=k)
    for history in [PREFIX_0, ["i5", "i6", "i7", "i8"], ["i13", "i12"]]:
        ours = rec.recommend([history])[0]
        ref = hf_generate(rec, history, k=k, num_beams=beams)
        assert ours.items == ref.items and not set(ours.items) & set(history)
        assert np.allclose(ours.scores, ref.scores, atol=1e-4)


def test_batched_search_with_the_rule_equals_one_at_a_time(rec_factory):
    histories = [PREFIX_0, *HISTORIES]
    batched = rec_factory(num_beams=6, top_k=5, batch_size=5).recommend(histories)
    single = rec_factory(num_beams=6, top_k=5, batch_size=1).recommend(histories)
    assert [r.items for r in batched] == [r.items for r in single]


def test_warming_up_changes_no_list(rec_factory):
    cold, warmed = rec_factory(num_beams=6, top_k=5), rec_factory(num_beams=6, top_k=5)
    assert warmed.warm() > 0
    assert [r.items for r in cold.recommend(HISTORIES)] == [r.items for r in warmed.recommend(HISTORIES)]


def test_a_placed_item_takes_the_last_place_only_when_its_text_is_closer_than_the_last_items(rec_factory, monkeypatch):
    """Text vectors set by hand: a placed item nearer the history than the k-th item replaces it (and is named);
    a farther one, or one in the history, leaves the list as the search made it."""
    import sidrec.tokenizer as T

    rec = rec_factory(num_beams=6, top_k=3)
    history = ["i0", "i1"]
    kept = {sid for sid, _ in rec.recommend([history])[0].beams[1]}  # the cells the search reaches
    cell = next(c[:2] for c in CODES if rec.sid_tok.sid_of_codes(c[:2]) not in kept)  # one it does not
    monkeypatch.setattr(T.SIDTokenizer, "_place", lambda self, texts, placement=None: (np.array([[*cell, 5]]), TEXT))
    rec.add_items(["new"], ["a new lamp"])
    rec._text = None  # the tiny tokenizer has no text vectors of its own: the search alone
    plain = rec.recommend([history])[0]
    assert "new" not in plain.items and plain.by_text is None
    text = np.zeros((len(rec.sid_tok), 2), np.float32)
    text[:, 1] = 1.0  # every known item alike
    text[rec.sid_tok.rows_of(history)] = [1.0, 0.0]
    text[rec.sid_tok.rows_of(["new"])] = [0.6, 0.8]  # closer to the history (0.6) than any list item (0)
    rec._text = text
    placed = rec.recommend([history])[0]
    assert placed.by_text == "new" and placed.items == [*plain.items[:2], "new"]
    assert placed.sids[2] == rec.sid_tok.encode("new") and placed.scores == plain.scores
    text[rec.sid_tok.rows_of(["new"])] = [0.0, -1.0]  # farther than the list's last item
    assert rec.recommend([history])[0].items == plain.items
    text[rec.sid_tok.rows_of(["new"])] = [1.0, 0.0]
    assert rec.recommend([[*history, "new"]])[0].by_text is None  # in the history: never returned
    assert rec_factory(new_item_place="off").config.new_item_place == "off"
    with pytest.raises(SidrecError, match="unknown new-item place"):
        rec_factory(new_item_place="always")


def test_the_gate_with_a_top_opens_only_for_an_item_among_the_catalogues_nearest_by_text(rec_factory, monkeypatch):
    """new_item_top = N: the placed item must also be among the N items nearest the history by text, the
    history's own items (which the search may not return) left out; a negative N is refused."""
    import sidrec.tokenizer as T

    rec = rec_factory(num_beams=6, top_k=3)
    history = ["i0", "i1"]
    kept = {sid for sid, _ in rec.recommend([history])[0].beams[1]}
    cell = next(c[:2] for c in CODES if rec.sid_tok.sid_of_codes(c[:2]) not in kept)
    monkeypatch.setattr(T.SIDTokenizer, "_place", lambda self, texts, placement=None: (np.array([[*cell, 5]]), TEXT))
    rec.add_items(["new"], ["a new lamp"])
    rec._text = None
    plain = rec.recommend([history])[0]
    outsider = next(i for i in IDS if i not in plain.items and i not in history)
    text = np.zeros((len(rec.sid_tok), 2), np.float32)
    text[:, 1] = 1.0
    text[rec.sid_tok.rows_of(history)] = [1.0, 0.0]  # nearest of all, but never returned
    text[rec.sid_tok.rows_of([outsider])] = [0.8, 0.6]  # one known item nearer the history than the new one
    text[rec.sid_tok.rows_of(["new"])] = [0.6, 0.8]
    rec._text = text
    for top, by_text in [(0, "new"), (1, None), (2, "new")]:
        rec.config = replace(rec.config, new_item_top=top)
        assert rec.recommend([history])[0].by_text == by_text, top
    with pytest.raises(SidrecError, match="new_item_top"):
        rec_factory(new_item_top=-1)
    from sidrec.evaluate import EvalConfig

    with pytest.raises(SidrecError, match="--new-item-top"):
        EvalConfig(new_item_top=-1)
