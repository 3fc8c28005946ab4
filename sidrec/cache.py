"""The pre-computed top-K cache (Semantic Convergence's cached inference).

One SQLite file: per user the top-K items and scores, a hash of the history
they were computed from, and when. The file names the model that built it (its
fingerprint) and refuses rows from another model. Building goes in batches with
progress, skips users already present (so an interrupted build resumes), and
can be split into shards (users i, i+n, i+2n, ...) that merge into one file.

Lookups are a primary-key read on an open connection. `compare` puts a cached
list next to a live one: overlap@K, rank agreement, both latencies, staleness.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sidrec.errors import SidrecError
from sidrec.progress import ProgressFn

FORMAT_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS topk (
    user_id TEXT PRIMARY KEY,
    items TEXT NOT NULL,          -- JSON list of item ids, best first
    scores TEXT NOT NULL,         -- JSON list of floats
    history_hash TEXT NOT NULL,
    built_at REAL NOT NULL
);
"""


def history_hash(history: list[str]) -> str:
    """A short hash of a history, order included.

    >>> history_hash(["a", "b"]) == history_hash(["a", "b"]) != history_hash(["b", "a"])
    True
    """
    return hashlib.sha256("\0".join(history).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Cached:
    items: list[str]
    scores: list[float]
    history_hash: str
    built_at: float


class TopKCache:
    """An open cache file bound to one model fingerprint."""

    def __init__(self, path: str | Path, model_fingerprint: str | None = None, k: int | None = None):
        self.path = Path(path)
        if model_fingerprint is None and not self.path.exists():
            raise SidrecError(f"{self.path}: no such cache")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, check_same_thread=False)
            self.conn.executescript(SCHEMA)
            meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as e:
            raise SidrecError(f"{self.path}: not a sidrec cache ({e})") from None
        if not meta:
            if model_fingerprint is None:
                raise SidrecError(f"{self.path}: empty cache without a model")
            meta = {"format_version": str(FORMAT_VERSION), "model_fingerprint": model_fingerprint, "k": str(k or 10)}
            with self.conn:
                self.conn.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
        if meta.get("format_version") != str(FORMAT_VERSION):
            raise SidrecError(f"{self.path}: cache format {meta.get('format_version')} is not supported")
        if model_fingerprint is not None and meta["model_fingerprint"] != model_fingerprint:
            raise SidrecError(
                f"{self.path}: built by another model ({meta['model_fingerprint']}, not {model_fingerprint}); "
                "use a new file or rebuild"
            )
        if k is not None and int(meta["k"]) != k:
            raise SidrecError(f"{self.path}: holds top-{meta['k']} lists, not top-{k}")
        self.meta = meta

    @property
    def model_fingerprint(self) -> str:
        return self.meta["model_fingerprint"]

    @property
    def num_beams(self) -> int | None:
        """The beams of the search that built the lists (None: a file from before it was recorded)."""
        return int(self.meta["num_beams"]) if "num_beams" in self.meta else None

    @property
    def k(self) -> int:
        return int(self.meta["k"])

    def claim(self, key: str, value: str, before: str | None = None) -> None:
        """Record a search setting the lists follow ("history_rule", "search_score", "num_beams"); refuse lists
        made under another value than the file's. `before`: the value lists had before the file recorded it."""
        held = self.meta.get(key) or (before if before is not None and len(self) else None)
        if held is not None and held != value:
            what = key.replace("_", " ")
            raise SidrecError(f"{self.path}: built with {what} {held!r}, not {value!r}; use a new file")
        if key not in self.meta:
            with self.conn:
                self.conn.execute("INSERT INTO meta VALUES (?, ?)", (key, value))
            self.meta[key] = value

    def put_many(self, rows: list[tuple[str, list[str], list[float], str]]) -> None:
        now = time.time()
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO topk VALUES (?, ?, ?, ?, ?)",
                [(u, json.dumps(i), json.dumps([round(s, 5) for s in sc]), h, now) for u, i, sc, h in rows],
            )

    def get(self, user_id: str) -> Cached | None:
        row = self.conn.execute(
            "SELECT items, scores, history_hash, built_at FROM topk WHERE user_id = ?", (user_id,)
        ).fetchone()
        if row is None:
            return None
        return Cached(json.loads(row[0]), json.loads(row[1]), row[2], row[3])

    def users(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT user_id FROM topk")}

    def __len__(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM topk").fetchone()[0]

    def close(self) -> None:
        self.conn.close()


def shard_users(users: list[str], shard: tuple[int, int] = (0, 1)) -> list[str]:
    """Users of shard i of n: every n-th user of the sorted list, starting at i.

    >>> shard_users(["c", "a", "b", "d"], (1, 2))
    ['b', 'd']
    """
    i, n = shard
    if not 0 <= i < n:
        raise SidrecError(f"shard {i}/{n}: need 0 <= i < n")
    return sorted(users)[i::n]


def build_cache(
    recommender,
    histories: dict[str, list[str]],
    path: str | Path,
    model_fingerprint: str,
    k: int = 10,
    shard: tuple[int, int] = (0, 1),
    batch_size: int = 16,
    progress: ProgressFn | None = None,
    exclude: dict[str, set[str]] | None = None,
) -> dict:
    """Fill the cache with top-k lists for the shard's users, skipping those already there.

    `exclude` names, per user, more items it already has than its (capped) history; the
    recommender's history rule decides whether any of them may come back.
    Users with the same history (and exclusions) are decoded once, and batches hold histories of
    similar length (prompts padded to the longest in a batch cost the padding too)."""
    cache = TopKCache(path, model_fingerprint, k)
    try:
        cache.claim("history_rule", recommender.history_rule)
        cache.claim("search_score", recommender.config.score, before="vocab")  # the only score before it was recorded
        if cache.num_beams is not None or not len(cache):  # a file from before it was recorded: its beams unknown
            cache.claim("num_beams", str(recommender.config.num_beams))
    except SidrecError:
        cache.close()
        raise
    cached = cache.users()
    todo = [u for u in shard_users(list(histories), shard) if u not in cached]
    extra = exclude or {}
    by_history: dict[tuple[str, str], list[str]] = {}
    for u in todo:
        key = (history_hash(histories[u]), history_hash(sorted(extra.get(u, ()))))
        by_history.setdefault(key, []).append(u)
    groups = sorted(by_history.values(), key=lambda users: len(histories[users[0]]))
    start = time.perf_counter()
    done = 0
    batch_size = max(batch_size, recommender.batch_size)  # a GPU takes larger batches
    for b in range(0, len(groups), batch_size):
        batch = groups[b : b + batch_size]
        recs = recommender.recommend(
            [histories[users[0]] for users in batch], k=k, exclude=[extra.get(users[0], set()) for users in batch]
        )
        rows = [(u, r.items, r.scores, history_hash(histories[u])) for users, r in zip(batch, recs, strict=True)
                for u in users]  # fmt: skip
        cache.put_many(rows)
        done += len(rows)
        if progress:
            progress(done / len(todo), f"cache: {done}/{len(todo)} users")
    seconds = time.perf_counter() - start
    stats = {"users_built": done, "users_in_cache": len(cache), "seconds": round(seconds, 2),
             "users_per_second": round(done / seconds, 2) if seconds > 0 else None}  # fmt: skip
    cache.close()
    return stats


def merge_caches(parts: list[str | Path], out: str | Path) -> int:
    """Merge shard files built by one model into `out`; returns the number of users."""
    if not parts:
        raise SidrecError("nothing to merge")
    first = TopKCache(parts[0])
    target = TopKCache(out, first.model_fingerprint, first.k)
    for part in parts:
        src = TopKCache(part, first.model_fingerprint, first.k)  # refuses another model
        for key in ("history_rule", "search_score", "num_beams"):  # refuses parts made under other search settings
            if key in src.meta:
                target.claim(key, src.meta[key])
        rows = src.conn.execute("SELECT user_id, items, scores, history_hash, built_at FROM topk").fetchall()
        with target.conn:
            target.conn.executemany("INSERT OR REPLACE INTO topk VALUES (?, ?, ?, ?, ?)", rows)
        src.close()
    n = len(target)
    target.close()
    first.close()
    return n


def rank_agreement(a: list[str], b: list[str]) -> float:
    """Share of pairs of common items that both lists order the same way (1.0 if fewer than 2 in common).

    >>> rank_agreement(["x", "y", "z"], ["x", "z", "y"])
    0.6666666666666666
    """
    common = [i for i in a if i in b]
    pairs = [(p, q) for n, p in enumerate(common) for q in common[n + 1 :]]
    if not pairs:
        return 1.0
    pos = {i: n for n, i in enumerate(b)}
    return sum(pos[p] < pos[q] for p, q in pairs) / len(pairs)


def compare(cache: TopKCache, recommender, user_id: str, history: list[str], exclude=()) -> dict:
    """Cached versus live for one user: both lists, overlap@K, rank agreement, latencies, staleness.

    `exclude`: items the user has beyond `history` (the live search follows the recommender's history rule)."""
    t0 = time.perf_counter()
    cached = cache.get(user_id)
    cached_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    live = recommender.recommend([history], k=cache.k, num_beams=cache.num_beams, exclude=[set(exclude)])[0]
    live_ms = (time.perf_counter() - t0) * 1000
    cached_items = cached.items if cached else []
    return {
        "user_id": user_id,
        "cached": cached_items,
        "live": live.items,
        "live_scores": live.scores,
        "overlap": len(set(cached_items) & set(live.items)) / cache.k if cached else 0.0,
        "rank_agreement": rank_agreement(cached_items, live.items) if cached else 0.0,
        "cached_ms": cached_ms,
        "live_ms": live_ms,
        "in_cache": cached is not None,
        "stale": cached is not None and cached.history_hash != history_hash(history),
    }
