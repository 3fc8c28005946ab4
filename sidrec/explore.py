"""Views for people: 2-D maps, the SID prefix tree and token tables of a tokenizer; the beam tree of one search;
cached and live lists side by side; a target's tokens in an evaluation.

Pure functions returning numpy arrays and DataFrames; plotting is the caller's.
The UMAP projection is cached on disk by a hash of its input, so a second visit
costs a file read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sidrec.artifacts import atomic_file
from sidrec.embed import cache_dir
from sidrec.errors import SidrecError
from sidrec.tokenizer import SIDTokenizer, token

if TYPE_CHECKING:
    from sidrec.generate import Recommendation

# The part a prefix kept by the beam search plays in the outcome; see beam_tree.
BEAM_ROLES = (
    "pruned at a later level",
    "kept to the end, below the top-K",
    "not a real item",
    "on the path to a top-K item",
    "top-K item",
)


@dataclass(frozen=True)
class ProjectionConfig:
    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "cosine"
    seed: int = 0


def umap_2d(x: np.ndarray, config: ProjectionConfig = ProjectionConfig()) -> np.ndarray:
    """(n, 2) UMAP coordinates of x, cached on disk by content hash."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    key = hashlib.sha256(x.tobytes() + repr((x.shape, config)).encode()).hexdigest()[:24]
    path = cache_dir() / "umap" / f"{key}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    if len(x) < 4:  # too few points for a neighbour graph; lay them on a line
        out = np.stack([np.arange(len(x), dtype=np.float32), np.zeros(len(x), np.float32)], 1)
    else:
        import umap

        reducer = umap.UMAP(
            n_neighbors=min(config.n_neighbors, len(x) - 1),
            min_dist=config.min_dist,
            metric=config.metric,
            random_state=config.seed,
            n_jobs=1,
        )
        out = reducer.fit_transform(x).astype(np.float32)
    with atomic_file(path) as tmp:
        np.save(tmp, out, allow_pickle=False)
    return out


def prefix_tree(tok: SIDTokenizer, keywords: dict[str, dict], depth: int = 2, root: Sequence[int] = ()) -> pd.DataFrame:
    """Rows (id, parent, label, items, keywords) of the SID prefix tree under the prefix `root` (codes of its first
    levels), `depth` levels down; the root itself is a row (parent "") unless it is the empty prefix.

    >>> # an item with codes (3, 7, 0) contributes to nodes '<a_3>' and '<a_3><b_7>'
    """
    start = len(root)
    depth = max(1, min(depth, tok.n_levels - start))
    under = np.all(tok.codes[:, :start] == np.asarray(root, dtype=tok.codes.dtype), axis=1)
    codes = tok.codes[under]
    rows = []
    if start:
        node = "".join(token(lv, c) for lv, c in enumerate(root))
        rows.append(
            {
                "id": node,
                "parent": "",
                "label": token(start - 1, root[-1]),
                "items": len(codes),
                "keywords": ", ".join(keywords.get(token(start - 1, root[-1]), {}).get("keywords", [])[:3]),
            }
        )
    for d in range(start + 1, start + depth + 1):
        prefixes, counts = np.unique(codes[:, :d], axis=0, return_counts=True)
        for prefix, count in zip(prefixes.tolist(), counts.tolist(), strict=True):
            node = "".join(token(lv, c) for lv, c in enumerate(prefix))
            parent = "".join(token(lv, c) for lv, c in enumerate(prefix[:-1]))
            last = token(d - 1, prefix[-1])
            kws = keywords.get(last, {}).get("keywords", [])[:3]
            rows.append({"id": node, "parent": parent, "label": last, "items": count, "keywords": ", ".join(kws)})
    return pd.DataFrame(rows, columns=["id", "parent", "label", "items", "keywords"])


def token_table(keywords: dict[str, dict], level: int | None = None) -> pd.DataFrame:
    """One row per token: level, code, items, keywords, description; sorted by level then code."""
    rows = [
        {
            "token": t,
            "level": k["level"],
            "code": k["code"],
            "items": k["n_items"],
            "keywords": ", ".join(k["keywords"]),
            "description": k["description"],
        }
        for t, k in keywords.items()
        if level is None or k["level"] == level
    ]
    df = pd.DataFrame(rows, columns=["token", "level", "code", "items", "keywords", "description"])
    return df.sort_values(["level", "code"]).reset_index(drop=True)


def items_frame(tok: SIDTokenizer, items: pd.DataFrame) -> pd.DataFrame:
    """Catalogue items with their SID and one column per level's code (for colouring and search)."""
    ids = [i for i in items.index if i in tok]
    codes = np.array([tok.codes_of(i) for i in ids])
    df = pd.DataFrame(
        {"item_id": ids, "title": items.loc[ids, "title"].to_numpy(), "sid": [tok.encode(i) for i in ids]}
    )
    for level in range(codes.shape[1]):
        df[f"level_{level}"] = [token(level, c) for c in codes[:, level]]
    return df


def pair_agreement(labels) -> float:
    """Chance that two different items drawn from `labels` share a label (nan below two items).

    >>> round(pair_agreement(["A", "A", "B"]), 4)  # 1 of the 3 pairs agree
    0.3333
    """
    counts = pd.Series(list(labels)).value_counts().to_numpy(dtype=np.float64)
    n = counts.sum()
    return float((counts * (counts - 1)).sum() / (n * (n - 1))) if n >= 2 else float("nan")


def drill_down(tok: SIDTokenizer, prefix: Sequence[int], categories: pd.Series, keywords: dict[str, dict]):
    """The codes one level below `prefix` (codes of its first levels; () for the root): one row per child with
    its token, item count, top keywords and category coherence, most items first.

    Coherence: how much more often two items of the child share a category than two items drawn at random from
    the whole catalogue (`baseline`); `lift` = agreement / baseline, 1 for a code no better than chance.
    `categories`: item_id -> category string.
    """
    level = len(prefix)
    if level >= tok.n_levels:
        raise SidrecError(f"a SID has {tok.n_levels} levels; there is nothing below {len(prefix)} codes")
    under = np.all(tok.codes[:, :level] == np.asarray(prefix, dtype=tok.codes.dtype), axis=1)
    ids = np.asarray(tok.item_ids, dtype=object)
    cats = categories.reindex(ids).fillna("").to_numpy()
    baseline = pair_agreement(cats)
    rows = []
    for code in np.unique(tok.codes[under, level]).tolist():
        members = under & (tok.codes[:, level] == code)
        t = token(level, code)
        agreement = pair_agreement(cats[members])
        rows.append({
            "token": t, "code": code, "items": int(members.sum()),
            "keywords": ", ".join(keywords.get(t, {}).get("keywords", [])[:4]),
            "agreement": agreement, "baseline": baseline,
            "lift": agreement / baseline if baseline > 0 else float("nan"),
        })  # fmt: skip
    return pd.DataFrame(rows).sort_values(["items", "code"], ascending=[False, True]).reset_index(drop=True)


# ---------------------------------------------------------------- one beam search


def sid_prefixes(sid: str) -> list[str]:
    """Every prefix of a SID, shortest first.

    >>> sid_prefixes("<a_1><b_2><c_3>")
    ['<a_1>', '<a_1><b_2>', '<a_1><b_2><c_3>']
    """
    return [sid[: n + 1] for n, ch in enumerate(sid) if ch == ">"]


def is_item(tok: SIDTokenizer, sid: str) -> bool:
    """Whether a full SID names an item of the tokenizer."""
    try:
        tok.decode(sid)
    except SidrecError:
        return False
    return True


def beam_tree(r: Recommendation, tok: SIDTokenizer) -> pd.DataFrame:
    """One row per prefix kept at each level: level (1-based), prefix, parent, score and its role (BEAM_ROLES).

    A prefix is a "top-K item" or "on the path to a top-K item"; else "pruned at a later level" if no final beam
    grew from it; else, at the last level, "not a real item" (unconstrained search only); else "kept to the end,
    below the top-K".
    """
    top = set(r.sids)
    to_top = {p for sid in top for p in sid_prefixes(sid)}
    to_end = {p for sid, _ in (r.beams[-1] if r.beams else []) for p in sid_prefixes(sid)}
    rows = []
    for lv, kept in enumerate(r.beams):
        for prefix, score in kept:
            if prefix in top:
                role = "top-K item"
            elif prefix in to_top:
                role = "on the path to a top-K item"
            elif prefix not in to_end:
                role = "pruned at a later level"
            elif lv == len(r.beams) - 1 and not is_item(tok, prefix):
                role = "not a real item"
            else:
                role = "kept to the end, below the top-K"
            parent = prefix[: prefix.rfind("<")]
            rows.append({"level": lv + 1, "prefix": prefix, "parent": parent, "score": score, "role": role})
    return pd.DataFrame(rows, columns=["level", "prefix", "parent", "score", "role"])


def beam_outcomes(r: Recommendation, tok: SIDTokenizer) -> tuple[int, int, int]:
    """(final beams, beams naming no item, beams naming an item a better beam named), counted before any dedup."""
    final = r.beams[-1] if r.beams else []
    items = [tok.decode(sid) for sid, _ in final if is_item(tok, sid)]
    return len(final), len(final) - len(items), len(items) - len(set(items))


# ---------------------------------------------------------------- cached and live


def side_by_side(cached: list[str], live: list[str], titles: dict[str, str]) -> pd.DataFrame:
    """Rank, then the cached and the live list as "title [id]", aligned on rank (None where a list is shorter);
    a "✓ " marks an item that is in the other list too."""

    def column(items: list[str], other: list[str]) -> pd.Series:
        return pd.Series([f"{'✓ ' if i in other else ''}{titles.get(i, '')} [{i}]" for i in items], dtype=object)

    table = pd.DataFrame({"cached": column(cached, live), "live": column(live, cached)})
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


def overlap_counts(overlaps: list[float], k: int) -> pd.DataFrame:
    """Users per overlap value 0, 1/k, ..., 1, zeros kept.

    >>> overlap_counts([1.0, 0.5, 1.0], 2).to_dict("list")
    {'overlap': [0.0, 0.5, 1.0], 'users': [0, 1, 2]}
    """
    common = pd.Series(overlaps, dtype=float).mul(k).round().astype(int).value_counts()
    common = common.reindex(range(k + 1), fill_value=0)
    return pd.DataFrame({"overlap": [n / k for n in common.index], "users": common.tolist()})


# ---------------------------------------------------------------- an evaluated user


def target_tokens(codes: tuple[int, ...], diverged_at: int | None, keywords: dict[str, dict]) -> pd.DataFrame:
    """A target's SID tokens with their keywords and what became of its prefix at each level of the search
    (`diverged_at`: the 0-based level where it left the beams, None if it never did). The last level separates
    items that share every other code and carries no keywords."""
    rows = []
    for lv, code in enumerate(codes):
        t = token(lv, code)
        if diverged_at is None or lv < diverged_at:
            fate = "kept in the beams"
        else:
            fate = "left the beams here" if lv == diverged_at else "—"
        words = ", ".join(keywords.get(t, {}).get("keywords", [])[:6])
        if lv == len(codes) - 1 and not words:
            words = "(separating level: no meaning of its own)"
        rows.append({"level": lv + 1, "token": t, "keywords": words, "prefix": fate})
    return pd.DataFrame(rows, columns=["level", "token", "keywords", "prefix"])


def walkthrough_user(sequences: dict[str, list[str]], tok=None, max_history: int = 20) -> tuple[str, list[str]] | None:
    """The user a walkthrough follows: the first with at least 3 items whose whole history the tokenizer knows
    (any, without one), with their last `max_history` items (as the cache reads them); None if there is none.

    >>> walkthrough_user({"a": ["x", "y"], "b": ["x", "y", "z", "w"]}, max_history=3)
    ('b', ['y', 'z', 'w'])
    """
    for user, seq in sequences.items():
        if len(seq) >= 3 and (tok is None or all(i in tok for i in seq)):
            return user, seq[-max_history:]
    return None
