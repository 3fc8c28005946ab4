"""What each SID token means: ranked keywords and a one-sentence description.

For token (level, code), the items carrying that code at that level (whatever
their prefix) form one class. Terms are Unicode words (any script; runs of
Chinese, Japanese or Korean characters give character bigrams) and their
n-grams. Words that the catalogue spreads evenly over the first-level codes
(product-copy filler such as "designed" or "features": found in about as many
codes as items placed at random would be) are learned from the catalogue and
dropped. Candidate keywords are the class's top terms by class-based TF-IDF
(term frequency in the class times log(1 + A / f_t), A the mean class size in
words, f_t the term's total count); they are re-ranked by cosine similarity
between the term's embedding and the class's mean item text embedding, so that
the list names what the items are rather than what is merely frequent. The
separating level carries no meaning and gets no keywords. The description is
built from the class's shared category path, dominant brand and top keywords: a
statistical teacher, no LLM involved. `keyword_quality` measures how often a
token's own items mention its keywords, against another token's keywords.

Used by SA-Init (token rows start as the mean of keyword embeddings) and by
TS-Align (token <-> description tasks). Nothing here fits codebooks.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sidrec.data import category_path
from sidrec.progress import ProgressFn
from sidrec.tokenizer import token


@dataclass(frozen=True)
class KeywordConfig:
    candidates: int = 15  # top c-TF-IDF terms considered per token
    keep: int = 8  # keywords kept per token after re-ranking
    similarity_weight: float = 0.5  # share of the final score given to embedding similarity
    ngram_max: int = 2  # unigrams and bigrams ("sleeping bag")
    min_df: int = 2  # a term must occur in at least this many items
    max_spread: float = 0.75  # drop a term found in more first-level codes than this share of random placement's
    min_spread_items: int = 5  # ... judged only for terms of at least this many items


_WORD = re.compile(r"[^\W\d_](?:[\w'\-]*[^\W_])?")  # starts with a letter, any script
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def terms(text: str, ngram_max: int = 2, stop_words: frozenset[str] = frozenset()) -> list[str]:
    """Lower-cased words of three letters or more (any script; CJK runs as character bigrams), stop words
    removed, then their n-grams up to `ngram_max`.

    >>> terms("Zelt für 2 Personen, wasserdicht", stop_words=frozenset({"für"}))
    ['zelt', 'personen', 'wasserdicht', 'zelt personen', 'personen wasserdicht']
    >>> terms("Σκηνή καμπινγκ", ngram_max=1), terms("防水テント", ngram_max=1)
    (['σκηνή', 'καμπινγκ'], ['防水', '水テ', 'テン', 'ント'])
    """
    words: list[str] = []
    for w in _WORD.findall(text.lower()):
        if _CJK.search(w):
            words += [w[i : i + 2] for i in range(len(w) - 1)] or [w]
        elif len(w) >= 3 and w not in stop_words:
            words.append(w)
    out = list(words)
    for n in range(2, ngram_max + 1):
        out += [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    return out


def spread_terms(x, codes: np.ndarray, vocab: Sequence[str], config: KeywordConfig) -> set[str]:
    """Terms the catalogue spreads evenly over the codes `codes` (one per item): found in more than
    `config.max_spread` of the distinct codes that as many items placed at random would reach
    (sum over codes of 1 - (1 - p_c)^f, p_c the code's share of items, f the term's item count).
    A topical word gathers in a few codes; product-copy filler is everywhere. x: (items, terms) counts.
    """
    n = codes.shape[0]
    if n == 0 or x.shape[1] == 0:
        return set()
    present = (x > 0).astype(np.float64).tocsc()
    df = np.asarray(present.sum(0)).ravel()
    k = int(codes.max()) + 1
    share = np.bincount(codes, minlength=k) / n
    share = share[share > 0]
    member = np.zeros((k, n))
    member[codes, np.arange(n)] = 1.0
    reached = np.asarray(((member @ present) > 0).sum(0)).ravel()  # codes holding the term
    expected = (1 - (1 - share[:, None]) ** df[None, :]).sum(0)
    spread = reached / np.maximum(expected, 1e-9)
    return {str(vocab[i]) for i in np.flatnonzero((df >= config.min_spread_items) & (spread > config.max_spread))}


def shared_category(categories: Sequence[str], min_share: float = 0.5) -> tuple[str, float]:
    """Deepest category path held by at least `min_share` of the items, with its share.

    >>> shared_category(["A > B > C", "A > B > D", "A > E"])
    ('A > B', 0.667)
    """
    paths = [category_path(c) for c in categories if c.strip()]
    if not paths:
        return "", 0.0
    best, best_share = "", 0.0
    for depth in range(1, max(len(p) for p in paths) + 1):
        counts = Counter(" > ".join(p[:depth]) for p in paths if len(p) >= depth)
        prefix, n = counts.most_common(1)[0]
        share = n / len(categories)
        if share < min_share:
            break
        best, best_share = prefix, round(share, 3)
    return best, best_share


def describe(n_items: int, keywords: Sequence[str], categories: Sequence[str], brands: Sequence[str]) -> str:
    """One sentence on what a token's items share.

    >>> describe(3, ["tent", "waterproof"], ["Outdoor > Tents"] * 3, ["Acme", "Acme", "Zed"])
    '3 items, mostly Outdoor > Tents (100%), often Acme (67%), about tent, waterproof.'
    """
    parts = [f"{n_items} item{'s' if n_items != 1 else ''}"]
    cat, share = shared_category(categories)
    if cat:
        parts.append(f"mostly {cat} ({share:.0%})")
    brand_counts = Counter(b for b in brands if b)
    if brand_counts:
        brand, n = brand_counts.most_common(1)[0]
        if n / n_items >= 0.5 and n > 1:
            parts.append(f"often {brand} ({n / n_items:.0%})")
    if keywords:
        parts.append("about " + ", ".join(keywords[:4]))
    return ", ".join(parts) + "."


def token_keywords(
    codes: np.ndarray,
    texts: Sequence[str],
    categories: Sequence[str],
    brands: Sequence[str],
    text_embeddings: np.ndarray | None,
    config: KeywordConfig = KeywordConfig(),
    encode: Callable[[list[str]], np.ndarray] | None = None,
    separating_level: int | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, dict]:
    """{token: {level, code, n_items, keywords, scores, description}} for every code in use.

    codes: (n_items, L) codes; texts/categories/brands: one per item.
    text_embeddings (n_items, d) and `encode` (terms -> (m, d), same space)
    enable the re-ranking; without them the c-TF-IDF order is kept.
    """
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    n = len(texts)
    vec = CountVectorizer(
        analyzer=lambda text: terms(text, config.ngram_max, ENGLISH_STOP_WORDS),
        min_df=min(config.min_df, max(1, n // 2)),
    )
    try:
        x = vec.fit_transform(texts)  # (n, V) counts
    except ValueError:  # no usable words at all
        x, vocab = csr_matrix((n, 0)), np.array([], dtype=object)
    else:
        vocab = vec.get_feature_names_out()
    if len(vocab) and codes.shape[0]:  # product-copy filler, learned from how the catalogue spreads it
        filler = spread_terms(x, codes[:, 0], vocab, config)
        keep = np.array([t not in filler and not any(w in filler for w in t.split()) for t in vocab])
        x, vocab = x[:, keep], vocab[keep]

    per_token: list[tuple[int, int, np.ndarray, list[str], np.ndarray]] = []
    for level in range(codes.shape[1]):
        col = codes[:, level]
        k = int(col.max()) + 1
        member = csr_matrix((np.ones(n), (col, np.arange(n))), shape=(k, n))  # (K, n)
        class_counts = np.asarray((member @ x).todense(), dtype=np.float64)  # (K, V)
        words_per_class = class_counts.sum(1, keepdims=True)
        tf = class_counts / np.maximum(words_per_class, 1)
        avg_words = words_per_class[words_per_class > 0].mean() if (words_per_class > 0).any() else 1.0
        idf = np.log(1 + avg_words / np.maximum(class_counts.sum(0), 1))
        ctfidf = tf * idf  # (K, V)
        for code in np.unique(col):
            rows = np.flatnonzero(col == code)
            if level == separating_level:  # no shared meaning: no keywords
                per_token.append((level, int(code), rows, [], np.zeros(0)))
                continue
            top = np.argsort(-ctfidf[code], kind="stable")[: config.candidates]
            top = top[ctfidf[code, top] > 0]
            per_token.append((level, int(code), rows, [str(vocab[t]) for t in top], ctfidf[code, top]))
        if progress:
            progress((level + 1) / codes.shape[1] * 0.5, f"keywords: c-TF-IDF level {level + 1}/{codes.shape[1]}")

    term_vec: dict[str, np.ndarray] = {}
    if encode is not None and text_embeddings is not None:
        candidates = sorted({t for *_, cands, _ in per_token for t in cands})
        if candidates:
            term_vec = dict(zip(candidates, encode(candidates), strict=True))
    if progress:
        progress(0.9, "keywords: re-ranking by embedding similarity")

    out = {}
    for level, code, rows, cands, scores in per_token:
        ranked = list(zip(cands, scores / scores.max() if len(scores) else scores, strict=True))
        if term_vec and len(cands):
            centroid = text_embeddings[rows].mean(0)
            centroid = centroid / (np.linalg.norm(centroid) or 1.0)
            sims = np.array([float(term_vec[t] @ centroid) for t in cands])
            w = config.similarity_weight
            ranked = [(t, (1 - w) * s + w * sim) for (t, s), sim in zip(ranked, sims, strict=True)]
            ranked.sort(key=lambda ts: -ts[1])
        ranked = _drop_redundant(ranked)[: config.keep]
        keywords = [t for t, _ in ranked]
        cats = [categories[i] for i in rows]
        brs = [brands[i] for i in rows]
        if level == separating_level:
            description = (
                f"{len(rows)} items; separating code {code}: tells apart items whose earlier codes "
                "collide, so it carries no shared meaning."
            )
        else:
            description = describe(len(rows), keywords, cats, brs)
        out[token(level, code)] = {
            "level": level,
            "code": code,
            "n_items": int(len(rows)),
            "keywords": keywords,
            "scores": [round(float(s), 4) for _, s in ranked],
            "description": description,
        }
    if progress:
        progress(1.0, "keywords: done")
    return out


def keyword_quality(
    keywords: dict[str, dict], texts: Sequence[str], item_codes: np.ndarray, top: int = 5, seed: int = 0
) -> dict:
    """How well keywords name their tokens: the share of items whose own text contains one of their token's top
    `top` keywords, against the same share with the keywords of another token of the same level drawn at random
    (the baseline), per level and over all levels. Separating-level tokens (no keywords) are left out.

    item_codes: (n_items, L) codes in the order of `texts`.
    """
    rng = np.random.default_rng(seed)
    lowered = [f" {' '.join(terms(t, ngram_max=1))} " for t in texts]

    def mentions(row: int, words: list[str]) -> bool:
        return any(f" {w} " in lowered[row] for w in words)

    per_level = {}
    for level in range(item_codes.shape[1]):
        toks = {k["code"]: k["keywords"][:top] for k in keywords.values() if k["level"] == level and k["keywords"]}
        if not toks:
            continue
        codes = sorted(toks)
        rows = [r for r in range(len(texts)) if int(item_codes[r, level]) in toks]
        if len(codes) < 2 or not rows:
            continue
        own = np.mean([mentions(r, toks[int(item_codes[r, level])]) for r in rows])
        other = []
        for r in rows:
            c = int(item_codes[r, level])
            pick = codes[rng.integers(len(codes) - 1)]
            pick = codes[-1] if pick == c else pick  # any code but its own
            other.append(mentions(r, toks[pick]))
        per_level[chr(97 + level)] = {"own": round(float(own), 4), "random_token": round(float(np.mean(other)), 4),
                                      "items": len(rows)}  # fmt: skip
    items = sum(v["items"] for v in per_level.values()) or 1
    return {
        "own": round(sum(v["own"] * v["items"] for v in per_level.values()) / items, 4),
        "random_token": round(sum(v["random_token"] * v["items"] for v in per_level.values()) / items, 4),
        "top": top,
        "levels": per_level,
    }


def _drop_redundant(ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Drop a unigram already inside a higher-ranked bigram and vice versa.

    >>> _drop_redundant([("sleeping bag", 1.0), ("sleeping", 0.9), ("tent", 0.8)])
    [('sleeping bag', 1.0), ('tent', 0.8)]
    """
    kept: list[tuple[str, float]] = []
    for term, score in ranked:
        words = set(re.split(r"\s+", term))
        if any(words <= set(k.split()) or set(k.split()) <= words for k, _ in kept):
            continue
        kept.append((term, score))
    return kept
