"""Token keywords: c-TF-IDF picks what a class shares; descriptions; re-ranking."""

import numpy as np

from sidrec.keywords import KeywordConfig, describe, shared_category, token_keywords

TEXTS = [
    "waterproof tent for camping",
    "camping tent ultralight",
    "tent stakes aluminium camping",
    "espresso machine coffee",
    "coffee grinder burr",
    "milk frother coffee",
]
CATS = ["Outdoor > Tents"] * 3 + ["Kitchen > Coffee"] * 3
BRANDS = ["Acme", "Acme", "Zed", "Brew", "Brew", "Brew"]


def test_ctfidf_names_the_shared_word():
    codes = np.array([[0], [0], [0], [1], [1], [1]])
    kw = token_keywords(codes, TEXTS, CATS, BRANDS, None, KeywordConfig(min_df=1, ngram_max=1))
    assert set(kw) == {"<a_0>", "<a_1>"}
    assert kw["<a_0>"]["keywords"][:2] == ["camping", "tent"] or kw["<a_0>"]["keywords"][:2] == ["tent", "camping"]
    assert kw["<a_1>"]["keywords"][0] == "coffee"
    assert kw["<a_0>"]["n_items"] == 3
    assert "Outdoor > Tents (100%)" in kw["<a_0>"]["description"]
    assert "often Brew (100%)" in kw["<a_1>"]["description"]


def test_tokens_exist_for_every_code_in_use_at_every_level():
    codes = np.array([[0, 0], [0, 1], [1, 0], [1, 0], [2, 1], [2, 2]])
    kw = token_keywords(codes, TEXTS, CATS, BRANDS, None, KeywordConfig(min_df=1), separating_level=1)
    assert sorted(kw) == ["<a_0>", "<a_1>", "<a_2>", "<b_0>", "<b_1>", "<b_2>"]
    assert sum(v["n_items"] for t, v in kw.items() if v["level"] == 0) == len(TEXTS)
    assert "separating" in kw["<b_1>"]["description"]


def test_similarity_reranking_prefers_terms_near_the_centroid():
    # Two candidate terms with equal c-TF-IDF; the embedding says "tent" is what the items are.
    texts = ["tent blue", "tent blue"]
    vectors = {"tent": np.array([1.0, 0.0]), "blue": np.array([0.0, 1.0])}
    kw = token_keywords(
        np.array([[0], [0]]),
        texts,
        ["", ""],
        ["", ""],
        text_embeddings=np.array([[1.0, 0.1], [1.0, -0.1]]),
        config=KeywordConfig(min_df=1, ngram_max=1, similarity_weight=0.5),
        encode=lambda terms: np.stack([vectors[t] for t in terms]),
    )
    assert kw["<a_0>"]["keywords"] == ["tent", "blue"]


def test_shared_category_depth_and_share():
    assert shared_category(["A > B", "A > B", "A > C", "D"]) == ("A > B", 0.5)
    assert shared_category(["A > B", "A > C", "A > D", "E"]) == ("A", 0.75)
    assert shared_category(["", ""]) == ("", 0.0)
    assert describe(1, [], [""], [""]) == "1 item."


def test_words_spread_evenly_over_the_codes_are_filler_and_topical_words_are_not():
    """Eight codes of two items each. 'designed' is in every item (8 codes reached, as random placement would);
    'tent' is in the four items of codes 0 and 1 (2 codes reached, where random placement reaches about 3.3)."""
    from scipy.sparse import csr_matrix

    from sidrec.keywords import spread_terms

    codes = np.repeat(np.arange(8), 2)
    designed = np.ones(16)
    tent = np.r_[np.ones(4), np.zeros(12)]
    x = csr_matrix(np.stack([designed, tent], axis=1))
    # expected codes for f items: 8 * (1 - (7/8)^f): f=16 -> 7.76 (8 / 7.76 = 1.03 > 0.75); f=4 -> 3.31 (2 / 3.31 = 0.6)
    assert spread_terms(x, codes, ["designed", "tent"], KeywordConfig(min_spread_items=4)) == {"designed"}
    assert spread_terms(x, codes, ["designed", "tent"], KeywordConfig(min_spread_items=4, max_spread=0.5)) == {
        "designed",
        "tent",
    }
    assert spread_terms(x, codes, ["designed", "tent"], KeywordConfig(min_spread_items=20)) == set()


def test_filler_never_becomes_a_keyword_and_the_separating_level_has_none():
    texts = [f"{w} designed features" for w in ["tent", "tent", "tent", "kettle", "kettle", "kettle"]] * 2
    codes = np.array([[0, i] for i in range(3)] * 1 + [[1, i] for i in range(3)] + [[2, i] for i in range(3)]
                     + [[3, i] for i in range(3)])  # fmt: skip
    kw = token_keywords(codes, texts, [""] * 12, [""] * 12, None, KeywordConfig(min_df=1, min_spread_items=4),
                        separating_level=1)  # fmt: skip
    assert kw["<a_0>"]["keywords"][0] == "tent" and kw["<a_1>"]["keywords"][0] == "kettle"
    assert not any({"designed", "features"} & set(" ".join(v["keywords"]).split()) for v in kw.values())
    assert all(v["keywords"] == [] for v in kw.values() if v["level"] == 1)


def test_keyword_quality_counts_items_that_mention_their_tokens_keywords():
    from sidrec.keywords import keyword_quality

    texts = ["a tent", "a tent", "tarp only", "a kettle", "kettle", "a stove"]
    codes = np.array([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]])
    kw = {
        "<a_0>": {"level": 0, "code": 0, "keywords": ["tent"]},
        "<a_1>": {"level": 0, "code": 1, "keywords": ["kettle"]},
        "<b_0>": {"level": 1, "code": 0, "keywords": []},  # a separating level: left out
    }
    q = keyword_quality(kw, texts, codes)
    # own keywords: tent items 2 of 3, kettle items 2 of 3; the other token's keywords: no item mentions them
    assert q["levels"] == {"a": {"own": 0.6667, "random_token": 0.0, "items": 6}}
    assert (q["own"], q["random_token"]) == (0.6667, 0.0)


def test_non_latin_titles_get_keywords():
    texts = ["Σκηνή καμπινγκ αδιάβροχη", "Σκηνή καμπινγκ ελαφριά", "防水テント", "防水テント軽量"]
    codes = np.array([[0], [0], [1], [1]])
    kw = token_keywords(codes, texts, [""] * 4, [""] * 4, None, KeywordConfig(min_df=2, ngram_max=1))
    assert {"σκηνή", "καμπινγκ"} <= set(kw["<a_0>"]["keywords"])
    assert "防水" in kw["<a_1>"]["keywords"]
