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
