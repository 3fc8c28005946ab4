"""The top-K cache: round trip, staleness, refusal of another model, shards, resume."""

import sqlite3

import pytest

from sidrec.cache import TopKCache, build_cache, compare, merge_caches, rank_agreement
from sidrec.errors import SidrecError
from tests.tiny import IDS

HIST = {f"u{n}": [IDS[(n * 5) % 14], IDS[(n * 3 + 1) % 14]] for n in range(9)}


@pytest.fixture(scope="module")
def rec(rec_factory):
    return rec_factory(num_beams=6, top_k=5)


def test_round_trip_equals_live(rec, tmp_path):
    stats = build_cache(rec, HIST, tmp_path / "c.sqlite", "model-a", k=5, batch_size=4)
    assert stats["users_built"] == 9
    cache = TopKCache(tmp_path / "c.sqlite")
    for user, history in HIST.items():
        live = rec.recommend([history], k=5)[0]
        got = cache.get(user)
        assert got.items == live.items
        assert got.scores == pytest.approx(live.scores, abs=1e-4)
    assert cache.get("nobody") is None


def test_stale_after_a_new_interaction(rec, tmp_path):
    build_cache(rec, HIST, tmp_path / "c.sqlite", "model-a", k=5)
    cache = TopKCache(tmp_path / "c.sqlite")
    same = compare(cache, rec, "u1", HIST["u1"])
    assert not same["stale"] and same["overlap"] == 1.0 and same["rank_agreement"] == 1.0
    changed = compare(cache, rec, "u1", [*HIST["u1"], "i9"])
    assert changed["stale"] and changed["cached"] == same["cached"]


def test_refuses_another_model(rec, tmp_path):
    build_cache(rec, HIST, tmp_path / "c.sqlite", "model-a", k=5)
    with pytest.raises(SidrecError, match="built by another model"):
        build_cache(rec, HIST, tmp_path / "c.sqlite", "model-b", k=5)
    with pytest.raises(SidrecError, match="top-5"):
        TopKCache(tmp_path / "c.sqlite", "model-a", k=10)


def test_not_a_cache_file(tmp_path):
    (tmp_path / "x.sqlite").write_text("hello, not sqlite" * 100)
    with pytest.raises(SidrecError, match="not a sidrec cache"):
        TopKCache(tmp_path / "x.sqlite")


def test_shards_merge_to_one_build(rec, tmp_path):
    build_cache(rec, HIST, tmp_path / "one.sqlite", "model-a", k=5)
    parts = [tmp_path / f"p{i}.sqlite" for i in range(3)]
    for i, part in enumerate(parts):
        assert build_cache(rec, HIST, part, "model-a", k=5, shard=(i, 3))["users_built"] == 3
    assert merge_caches(parts, tmp_path / "merged.sqlite") == 9
    q = "SELECT user_id, items, history_hash FROM topk ORDER BY user_id"
    one = sqlite3.connect(tmp_path / "one.sqlite").execute(q).fetchall()
    merged = sqlite3.connect(tmp_path / "merged.sqlite").execute(q).fetchall()
    assert one == merged


def test_merge_refuses_mixed_models(rec, tmp_path):
    build_cache(rec, HIST, tmp_path / "a.sqlite", "model-a", k=5, shard=(0, 2))
    build_cache(rec, HIST, tmp_path / "b.sqlite", "model-b", k=5, shard=(1, 2))
    with pytest.raises(SidrecError, match="another model"):
        merge_caches([tmp_path / "a.sqlite", tmp_path / "b.sqlite"], tmp_path / "m.sqlite")


def test_interrupted_build_resumes(rec, tmp_path):
    path = tmp_path / "c.sqlite"
    build_cache(rec, {u: HIST[u] for u in list(HIST)[:4]}, path, "model-a", k=5)
    assert build_cache(rec, HIST, path, "model-a", k=5)["users_built"] == 5
    assert len(TopKCache(path)) == 9


def test_same_history_decoded_once(rec, tmp_path, monkeypatch):
    twins = {**HIST, "twin-a": HIST["u2"], "twin-b": HIST["u2"]}
    decoded = []
    real = rec.recommend
    monkeypatch.setattr(rec, "recommend", lambda hs, **kw: decoded.extend(hs) or real(hs, **kw))
    assert build_cache(rec, twins, tmp_path / "c.sqlite", "model-a", k=5, batch_size=4)["users_built"] == 11
    assert len(decoded) == 9
    cache = TopKCache(tmp_path / "c.sqlite")
    assert cache.get("twin-a").items == cache.get("twin-b").items == cache.get("u2").items


def test_rank_agreement_hand_cases():
    assert rank_agreement(["a", "b", "c"], ["a", "b", "c"]) == 1.0
    assert rank_agreement(["a", "b", "c"], ["c", "b", "a"]) == 0.0
    assert rank_agreement(["a", "b"], ["x", "y"]) == 1.0


def test_cached_lists_hold_no_item_the_user_has(rec, rec_factory, tmp_path):
    everything = {u: [*h, IDS[(n * 7 + 2) % 14]] for n, (u, h) in enumerate(HIST.items())}  # one older item each
    build_cache(rec, HIST, tmp_path / "c.sqlite", "model-a", k=5, exclude={u: set(s) for u, s in everything.items()})
    cache = TopKCache(tmp_path / "c.sqlite")
    assert cache.meta["history_rule"] == "exclude history"
    for user, seen in everything.items():
        assert len(cache.get(user).items) == 5 and not set(cache.get(user).items) & set(seen)
    cache.close()
    repeats = rec_factory(num_beams=6, top_k=5, exclude_history=False)
    with pytest.raises(SidrecError, match="history rule"):
        build_cache(repeats, HIST, tmp_path / "c.sqlite", "model-a", k=5)


def forget(path, key: str) -> None:
    """Make `path` a file from before the cache recorded `key`."""
    legacy = TopKCache(path)
    with legacy.conn:
        legacy.conn.execute("DELETE FROM meta WHERE key = ?", (key,))
    legacy.close()


def test_a_cache_holds_lists_of_one_search_score(rec, rec_factory, tmp_path):
    build_cache(rec, HIST, tmp_path / "c.sqlite", "model-a", k=5)
    assert TopKCache(tmp_path / "c.sqlite").meta["search_score"] == "vocab"
    level = rec_factory(num_beams=6, top_k=5, score="level")
    with pytest.raises(SidrecError, match="search score 'vocab', not 'level'"):
        build_cache(level, HIST, tmp_path / "c.sqlite", "model-a", k=5)
    # a file written before the score was recorded holds the only score there was then
    forget(tmp_path / "c.sqlite", "search_score")
    with pytest.raises(SidrecError, match="search score 'vocab', not 'level'"):
        build_cache(level, HIST, tmp_path / "c.sqlite", "model-a", k=5)
    build_cache(level, HIST, tmp_path / "new.sqlite", "model-a", k=5)  # a new file takes any score
    assert TopKCache(tmp_path / "new.sqlite").meta["search_score"] == "level"


def test_a_cache_records_its_beams_and_the_live_side_searches_with_them(rec, rec_factory, tmp_path):
    wide = rec_factory(num_beams=12, top_k=5)
    build_cache(wide, HIST, tmp_path / "c.sqlite", "model-a", k=5)
    cache = TopKCache(tmp_path / "c.sqlite")
    assert cache.num_beams == 12
    # compared through a recommender set to 6 beams, the live list is the 12-beam search's: the cached one
    assert all(compare(cache, rec, u, h)["overlap"] == 1.0 for u, h in HIST.items())
    cache.close()
    with pytest.raises(SidrecError, match="num beams '12', not '6'"):
        build_cache(rec, HIST, tmp_path / "c.sqlite", "model-a", k=5)
    forget(tmp_path / "c.sqlite", "num_beams")
    build_cache(rec, {"u-new": HIST["u1"]}, tmp_path / "c.sqlite", "model-a", k=5)
    assert TopKCache(tmp_path / "c.sqlite").num_beams is None, "older lists' beams are unknown: not recorded"
