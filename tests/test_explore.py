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
    assert table["keywords"].tolist() == ["tent, camping", "", ""]
    assert table["prefix"].tolist() == fates
