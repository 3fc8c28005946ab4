"""Views of a tokenizer for people: 2-D maps, the SID prefix tree, token tables.

Pure functions returning numpy arrays and DataFrames; plotting is the caller's.
The UMAP projection is cached on disk by a hash of its input, so a second visit
costs a file read.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sidrec.embed import cache_dir
from sidrec.tokenizer import SIDTokenizer, token


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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, out, allow_pickle=False)
    os.replace(tmp, path)
    return out


def prefix_tree(tok: SIDTokenizer, keywords: dict[str, dict], depth: int = 2) -> pd.DataFrame:
    """Rows (id, parent, label, items, keywords) of the SID prefix tree down to `depth` levels.

    >>> # an item with codes (3, 7, 0) contributes to nodes '<a_3>' and '<a_3><b_7>'
    """
    depth = max(1, min(depth, tok.n_levels))
    rows = []
    for d in range(1, depth + 1):
        prefixes, counts = np.unique(tok.codes[:, :d], axis=0, return_counts=True)
        for prefix, count in zip(prefixes.tolist(), counts.tolist(), strict=True):
            node = "".join(token(lv, c) for lv, c in enumerate(prefix))
            parent = "".join(token(lv, c) for lv, c in enumerate(prefix[:-1]))
            last = token(d - 1, prefix[-1])
            kws = keywords.get(last, {}).get("keywords", [])[:3]
            rows.append({"id": node, "parent": parent, "label": last, "items": count, "keywords": ", ".join(kws)})
    return pd.DataFrame(rows)


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
