"""Placing a new item from its text alone (cold start), and measuring how well that works.

A tokenizer fitted on fused embeddings (text ++ behaviour) has no behaviour vector for an item nobody has
bought yet. Two ways to give it one before the codebooks place it:

- "text": the behaviour part stays zero (the item is placed by its text alone);
- "neighbours": the behaviour part is imputed as the similarity-weighted mean of the behaviour parts of the
  `k` known items whose text is closest to the new item's, so that a new tent lands where tents people buy
  together already are.

Either way the codebooks then encode the embedding. With `cell="occupied"` (the default) the encoding is
restricted to prefixes that known items use (`quantize_within`): a new item joins the nearest cell that
already holds items, and the separating code tells it apart from them. An LLM trained to write known items'
SIDs gives a prefix nobody occupies almost no probability, so an item placed there (`cell="any"`, the
codebooks' own nearest codes) is in the catalogue but out of the model's reach; measured in BENCHMARKS.md.

`placement_agreement` re-places known items from their text alone (leaving each item out of its own
neighbours) and counts how often they get their own code, level by level (a prefix must match up to that
level), next to the ceiling: the same items re-placed from their exact stored embeddings (a balanced fit
assigns codes under capacity limits, which greedy placement cannot reproduce exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sidrec.errors import SidrecError

METHODS = ("text", "neighbours")
CELLS = ("occupied", "any")
CHUNK = 1024  # new items whose similarities to every known item are held at once


@dataclass(frozen=True)
class PlacementConfig:
    method: str = "neighbours"  # text | neighbours (see the module docstring)
    k: int = 10  # neighbours whose behaviour parts are averaged
    cell: str = "occupied"  # occupied | any (see the module docstring)

    def __post_init__(self):
        if self.method not in METHODS:
            raise SidrecError(f"unknown placement {self.method!r} (choose from {', '.join(METHODS)})")
        if self.cell not in CELLS:
            raise SidrecError(f"unknown placement cell {self.cell!r} (choose from {', '.join(CELLS)})")
        if self.k < 1:
            raise SidrecError(f"placement needs k >= 1 neighbours, got {self.k}")


def _l2(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n == 0, 1, n)


def split_fused(fused: np.ndarray, text_dim: int, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """(text, behaviour) parts of fused embeddings (sqrt(1-w) text ++ sqrt(w) behaviour), each L2-normalised.

    >>> t, b = split_fused(np.array([[0.8, 0.0, 0.0, 0.6]]), 2, 0.36)
    >>> t.tolist(), b.tolist()
    ([[1.0, 0.0]], [[0.0, 1.0]])
    """
    return _l2(fused[:, :text_dim]), _l2(fused[:, text_dim:])


def impute_behavior(
    new_text: np.ndarray, known_text: np.ndarray, known_behavior: np.ndarray, k: int, skip: np.ndarray | None = None
) -> np.ndarray:
    """Behaviour parts for new items: the mean of the behaviour parts of their `k` nearest known items by text
    cosine similarity, weighted by the (non-negative) similarity. `skip[i]` names a known row item i may not use
    (itself, when re-placing known items), or -1.

    >>> kt = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]); kb = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> impute_behavior(np.array([[1.0, 0.05]]), kt, kb, k=2).round(3).tolist()
    [[1.0, 0.0]]
    """
    known_text = _l2(known_text)
    out = np.empty((len(new_text), known_behavior.shape[1]), np.float64)
    for start in range(0, len(new_text), CHUNK):  # (chunk, N) similarities at a time, whatever the catalogue size
        rows = slice(start, start + CHUNK)
        sims = _l2(new_text[rows]) @ known_text.T
        if skip is not None:
            own = np.flatnonzero(skip[rows] >= 0)
            sims[own, skip[rows][own]] = -np.inf
        kk = min(k, sims.shape[1] - (1 if skip is not None else 0))
        top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
        w = np.clip(np.take_along_axis(sims, top, 1), 0, None) + 1e-6  # (chunk, k)
        out[rows] = np.einsum("nk,nkd->nd", w, known_behavior[top]) / w.sum(1, keepdims=True)
    return _l2(out)


def cold_fused(
    new_text: np.ndarray,
    known: np.ndarray | None,
    weight: float,
    config: PlacementConfig = PlacementConfig(),
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """Fused embeddings for new items from their text embeddings: behaviour zero ("text", or when no known
    embeddings are at hand) or imputed from their text neighbours among the `known` fused embeddings."""
    from sidrec.embed import fuse

    text_dim = new_text.shape[1]
    behavior_dim = (known.shape[1] if known is not None else text_dim) - text_dim
    if config.method == "text" or known is None or behavior_dim <= 0:
        dim = behavior_dim if known is not None else 0
        return fuse(new_text, np.zeros((len(new_text), max(dim, 0)), np.float32), weight)
    known_text, known_behavior = split_fused(known, text_dim, weight)
    behavior = impute_behavior(new_text, known_text, known_behavior, config.k, skip)
    return fuse(new_text, behavior.astype(np.float32), weight)


def replace_known(tok, known: np.ndarray, text: np.ndarray, config: PlacementConfig) -> np.ndarray:
    """First-L codes of every known item re-placed from its text alone (each left out of its own neighbours).
    known: the tokenizer's stored embeddings, one row per item in `tok.item_ids` order; text: their text
    embeddings, same order."""
    if tok.books is None:
        raise SidrecError("this tokenizer has no codebooks (an imported index): it cannot place new items")
    if tok.config.embed.embedding == "text":
        return tok.prefix_codes_for(text.astype(np.float32))
    skip = np.arange(len(text)) if config.method == "neighbours" else None
    return tok.prefix_codes_for(cold_fused(text, known, tok.config.embed.behavior_weight, config, skip))


def prefix_agreement(codes: np.ndarray, truth: np.ndarray) -> list[float]:
    """Per level, the share of rows whose codes equal the true ones up to that level.

    >>> prefix_agreement(np.array([[1, 2], [1, 3]]), np.array([[1, 2], [1, 2]]))
    [1.0, 0.5]
    """
    return [round(float(np.all(codes[:, : lv + 1] == truth[:, : lv + 1], axis=1).mean()), 4)
            for lv in range(truth.shape[1])]  # fmt: skip


def placement_agreement(tok, known: np.ndarray, text: np.ndarray, config: PlacementConfig) -> dict:
    """Per level, the share of known items that, re-placed from their text alone, get their own codes up to
    that level; with the ceiling (their exact stored embeddings re-placed). Arguments as in `replace_known`."""
    truth = tok.codes[:, : tok.n_levels - 1]
    placed = replace_known(tok, known, text, config)
    exact = tok.prefix_codes_for(known.astype(np.float32))
    return {"method": config.method, "k": config.k, "items": len(text),
            "agreement": prefix_agreement(placed, truth), "ceiling": prefix_agreement(exact, truth)}  # fmt: skip


def neighbours_of(tok, text: str, k: int = 10) -> list[tuple[str, float]]:
    """The `k` known items nearest to a new item's text (id and cosine similarity, nearest first), from the
    tokenizer's stored item embeddings; [] when it keeps none (an imported index)."""
    from sidrec.embed import encode_texts

    if tok.item_embeddings is None:
        return []
    cfg = tok.config.embed
    new = encode_texts([text], cfg.text_model, cfg.batch_size, use_cache=False)
    known = tok.item_embeddings
    if cfg.embedding == "behavior" or known.shape[1] < new.shape[1]:
        return []
    known_text = known if cfg.embedding == "text" else split_fused(known, new.shape[1], cfg.behavior_weight)[0]
    sims = (_l2(new) @ _l2(known_text).T)[0]
    top = np.argsort(-sims, kind="stable")[:k]
    return [(tok.item_ids[i], round(float(sims[i]), 4)) for i in top]
