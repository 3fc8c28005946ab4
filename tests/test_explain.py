"""Explanations name the SID prefixes a recommended item shares with the history, never the separating level."""

import json

import numpy as np

from sidrec.cli import main
from sidrec.explain import explain
from sidrec.tokenizer import SIDTokenizer, TokenizerConfig

KW = {"<a_4>": {"keywords": ["tent", "camping", "outdoor"]}, "<a_9>": {"keywords": ["kettle"]}}


def tok() -> SIDTokenizer:
    ids = ["h1", "h2", "h3", "new", "far", "twin"]
    codes = [[4, 1, 0], [4, 2, 0], [7, 1, 0], [4, 1, 1], [9, 0, 0], [7, 1, 1]]
    return SIDTokenizer(ids, np.array(codes), TokenizerConfig())


def test_the_deepest_shared_prefix_and_who_shares_it():
    e = explain(tok(), KW, "new", ["h1", "h2", "h3"])
    assert [(s["prefix"], s["history_items"]) for s in e.shared] == [("<a_4>", ["h1", "h2"]), ("<a_4><b_1>", ["h1"])]
    assert e.shared[0]["keywords"] == ["tent", "camping", "outdoor"]


def test_the_separating_level_is_never_a_shared_meaning():
    # "twin" and h3 share every code but the separating one: two levels shared, not three
    e = explain(tok(), KW, "twin", ["h3"])
    assert [s["prefix"] for s in e.shared] == ["<a_7>", "<a_7><b_1>"]
    assert e.sentence == "Shares <a_7> with 1 history item, <a_7><b_1> with 1."


def test_no_shared_code_says_so_with_the_items_meaning():
    e = explain(tok(), KW, "far", ["h1", "h2", "far"])  # the item itself in the history is not a reason
    assert e.shared == []
    assert e.sentence == "Shares no code with the history; <a_9> (kettle) is new ground for this user."


def test_recommend_json_explains_every_item(capsys):
    assert main(["recommend", "models/sample/llm", "--history", "I0217,I0343", "-k", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(out["items"]) == 3
    for x in out["items"]:
        assert x["why"]["item_id"] == x["item_id"] and x["why"]["sentence"].startswith("Shares ")
        assert all(s["prefix"] and set(s["history_items"]) <= {"I0217", "I0343"} for s in x["why"]["shared"])
