"""The app's views on hand-built cases: the roles in a beam tree, cached and live lists side by side, the overlap
histogram and a target's tokens."""

import numpy as np
import pytest

from sidrec.explore import beam_outcomes, beam_tree, overlap_counts, sid_prefixes, side_by_side, target_tokens
from sidrec.generate import Recommendation
from sidrec.tokenizer import SIDTokenizer, TokenizerConfig


@pytest.fixture
def tok():
    return SIDTokenizer(["x", "y", "z"], np.array([[0, 0], [0, 1], [1, 0]]), TokenizerConfig())


def search(final: list[tuple[str, float]], top: list[str]) -> Recommendation:
    """Two beams: '<a_0>' and '<a_1>' kept at level 1, then `final`; `top` are the returned SIDs."""
    return Recommendation([], top, [], beams=[[("<a_0>", -0.1), ("<a_1>", -1.0)], final])


def test_sid_prefixes_end_at_the_sid():
    assert sid_prefixes("<a_3><b_12>") == ["<a_3>", "<a_3><b_12>"]


def test_beam_tree_roles(tok):
    r = search([("<a_0><b_0>", -0.5), ("<a_0><b_1>", -0.7)], top=["<a_0><b_0>"])
    tree = beam_tree(r, tok)
    assert tree[["level", "prefix", "parent", "role"]].values.tolist() == [
        [1, "<a_0>", "", "on the path to a top-K item"],
        [1, "<a_1>", "", "pruned at a later level"],
        [2, "<a_0><b_0>", "<a_0>", "top-K item"],
        [2, "<a_0><b_1>", "<a_0>", "kept to the end, below the top-K"],
    ]
    assert tree.score.tolist() == [-0.1, -1.0, -0.5, -0.7]
    assert beam_outcomes(r, tok) == (2, 0, 0)


def test_unconstrained_beam_naming_no_item(tok):
    r = search([("<a_0><b_0>", -0.5), ("<a_1><b_1>", -0.7)], top=["<a_0><b_0>"])
    tree = beam_tree(r, tok).set_index("prefix")
    assert tree.loc["<a_1><b_1>", "role"] == "not a real item"
    assert tree.loc["<a_1>", "role"] == "kept to the end, below the top-K"
    assert beam_outcomes(r, tok) == (2, 1, 0)


def test_side_by_side_aligns_on_rank_and_marks_common_items():
    table = side_by_side(["a", "b", "c"], ["b", "d"], {"a": "Tent", "b": "Stove"})
    assert table["rank"].tolist() == [1, 2, 3]
    assert table["cached"].tolist() == ["Tent [a]", "✓ Stove [b]", " [c]"]
    assert table["live"].tolist()[:2] == ["✓ Stove [b]", " [d]"] and table["live"].isna().tolist()[2]


def test_overlap_counts_keep_empty_bins():
    counts = overlap_counts([1.0, 0.5, 1.0], 2)
    assert counts.to_dict("list") == {"overlap": [0.0, 0.5, 1.0], "users": [0, 1, 2]}
    assert overlap_counts([], 3)["users"].sum() == 0


@pytest.mark.parametrize(
    "diverged,fates",
    [
        (None, ["kept in the beams"] * 3),
        (0, ["left the beams here", "—", "—"]),
        (1, ["kept in the beams", "left the beams here", "—"]),
    ],
)
def test_target_tokens_say_where_the_prefix_left_the_beams(diverged, fates):
    keywords = {"<a_2>": {"keywords": ["tent", "camping"]}}
    table = target_tokens((2, 5, 0), diverged, keywords)
    assert table["token"].tolist() == ["<a_2>", "<b_5>", "<c_0>"]
    assert table["keywords"].tolist() == ["tent, camping", "", "(separating level: no meaning of its own)"]
    assert table["prefix"].tolist() == fates


def test_drill_down_counts_children_and_their_category_coherence():
    """Six items; under <a_0> the child <b_0> holds two tents (agree), <b_1> a tent and a stove (disagree)."""
    import pandas as pd

    from sidrec.explore import drill_down, prefix_tree

    ids = ["t1", "t2", "t3", "s1", "s2", "s3"]
    codes = np.array([[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1], [1, 0, 0], [1, 0, 1]])
    tok = SIDTokenizer(ids, codes, TokenizerConfig())
    cats = pd.Series(["Tent", "Tent", "Tent", "Stove", "Stove", "Stove"], index=ids)
    kw = {"<b_0>": {"keywords": ["tent", "dome"]}}
    root = drill_down(tok, (), cats, kw)
    assert root[["token", "items"]].values.tolist() == [["<a_0>", 4], ["<a_1>", 2]]
    # random pairs: 2 categories of 3 items -> 2 * 3 * 2 / (6 * 5) = 0.4
    assert root["baseline"].tolist() == pytest.approx([0.4, 0.4])
    # <a_0>: 3 tents and 1 stove -> 3 * 2 / (4 * 3) = 0.5; <a_1>: two stoves -> 1.0
    assert root["agreement"].tolist() == pytest.approx([0.5, 1.0])
    assert root["lift"].tolist() == pytest.approx([1.25, 2.5])
    under = drill_down(tok, (0,), cats, kw)
    assert under[["token", "items", "keywords"]].values.tolist() == [["<b_0>", 2, "tent, dome"], ["<b_1>", 2, ""]]
    assert under["agreement"].tolist() == pytest.approx([1.0, 0.0])
    assert len(drill_down(tok, (0, 1), cats, kw)) == 2  # the separating level: one child per item
    with pytest.raises(Exception, match="nothing below"):
        drill_down(tok, (0, 1, 0), cats, kw)
    tree = prefix_tree(tok, kw, depth=1, root=(0,))
    assert tree[["id", "parent", "items"]].values.tolist() == [
        ["<a_0>", "", 4],
        ["<a_0><b_0>", "<a_0>", 2],
        ["<a_0><b_1>", "<a_0>", 2],
    ]
    assert tree["items"].iloc[1:].sum() == tree["items"].iloc[0], "children add up to their parent"
