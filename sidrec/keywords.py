"""What each SID token means: ranked keywords and a one-sentence description.

For token (level, code), the items carrying that code at that level (whatever
their prefix) form one class. Candidate keywords are the class's top terms by
class-based TF-IDF (term frequency in the class times log(1 + A / f_t), A the
mean class size in words, f_t the term's total count); they are re-ranked by
cosine similarity between the term's embedding and the class's mean item text
embedding, so that the list names what the items are rather than what is merely
frequent. The description is built from the class's shared category path,
dominant brand and top keywords: a statistical teacher, no LLM involved.

Used by SA-Init (token rows start as the mean of keyword embeddings) and by
TS-Align (token <-> description tasks). Nothing here fits codebooks.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sidrec.tokenizer import token

ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class KeywordConfig:
    candidates: int = 15  # top c-TF-IDF terms considered per token
    keep: int = 8  # keywords kept per token after re-ranking
    similarity_weight: float = 0.5  # share of the final score given to embedding similarity
    ngram_max: int = 2  # unigrams and bigrams ("sleeping bag")
    min_df: int = 2  # a term must occur in at least this many items


def _category_parts(path: str) -> list[str]:
    sep = ">" if ">" in path else ","
    return [p.strip() for p in path.split(sep) if p.strip()]


def shared_category(categories: Sequence[str], min_share: float = 0.5) -> tuple[str, float]:
    """Deepest category path held by at least `min_share` of the items, with its share.

    >>> shared_category(["A > B > C", "A > B > D", "A > E"])
    ('A > B', 0.667)
    """
    paths = [_category_parts(c) for c in categories if c.strip()]
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
    from sklearn.feature_extraction.text import CountVectorizer

    n = len(texts)
    vec = CountVectorizer(
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z\-]{2,}\b",
        ngram_range=(1, config.ngram_max),
        min_df=min(config.min_df, max(1, n // 2)),
        lowercase=True,
    )
    try:
        x = vec.fit_transform(texts)  # (n, V) counts
    except ValueError:  # no usable words at all
        x, vocab = csr_matrix((n, 0)), np.array([], dtype=object)
    else:
        vocab = vec.get_feature_names_out()

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
            top = np.argsort(-ctfidf[code], kind="stable")[: config.candidates]
            top = top[ctfidf[code, top] > 0]
            per_token.append((level, int(code), rows, [str(vocab[t]) for t in top], ctfidf[code, top]))
        if progress:
            progress((level + 1) / codes.shape[1] * 0.5, f"keywords: c-TF-IDF level {level + 1}/{codes.shape[1]}")

    term_vec: dict[str, np.ndarray] = {}
    if encode is not None and text_embeddings is not None:
        terms = sorted({t for *_, cands, _ in per_token for t in cands})
        if terms:
            term_vec = dict(zip(terms, encode(terms), strict=True))
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
