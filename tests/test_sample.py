"""The synthetic sample generator: determinism, well-formed files, and learnable sequence structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sidrec.sample import SampleConfig, complement_types, generate_sample, taxonomy, write_sample

SMALL = SampleConfig(seed=3, n_items=300, n_users=150)


@pytest.fixture(scope="module")
def default_sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_sample()


@pytest.fixture(scope="module")
def small_sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_sample(SMALL)


def _annotated(items: pd.DataFrame, interactions: pd.DataFrame) -> pd.DataFrame:
    """Interactions with top category, product type and brand of each item, plus the user's next item."""
    path = items.set_index("item_id")["categories"].str.split(" > ")
    brand = items.set_index("item_id")["brand"]
    frame = interactions.assign(
        top=interactions["item_id"].map(path.str[0]),
        type=interactions["item_id"].map(path.str[-1]),
        brand=interactions["item_id"].map(brand),
    )
    following = frame.groupby("user_id")[["top", "type"]].shift(-1)
    return frame.assign(next_top=following["top"], next_type=following["type"])


# --- determinism -----------------------------------------------------------------------------------


def test_same_config_gives_equal_frames(small_sample):
    items, interactions = generate_sample(SMALL)
    pd.testing.assert_frame_equal(items, small_sample[0])
    pd.testing.assert_frame_equal(interactions, small_sample[1])


def test_other_seed_gives_other_sample(small_sample):
    items, interactions = generate_sample(SampleConfig(seed=4, n_items=300, n_users=150))
    assert not items.equals(small_sample[0])
    assert not interactions.equals(small_sample[1])


def test_write_sample_is_byte_identical_and_atomic(tmp_path):
    first = write_sample(tmp_path / "a", SMALL)
    second = write_sample(tmp_path / "b", SMALL)
    again = write_sample(tmp_path / "a", SMALL)  # overwrites in place
    assert first == second == again
    assert first == {"items": 300, "users": 150, "interactions": first["interactions"], "categories": 12}
    for name in ("items.csv", "interactions.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["interactions.csv", "items.csv"]
    items = pd.read_csv(tmp_path / "a" / "items.csv", dtype=str, keep_default_na=False)
    interactions = pd.read_csv(tmp_path / "a" / "interactions.csv", dtype={"user_id": str, "item_id": str})
    assert len(items) == first["items"] and len(interactions) == first["interactions"]
    assert interactions["user_id"].nunique() == first["users"]


# --- well-formed catalogue and sequences ------------------------------------------------------------


@pytest.mark.parametrize("which", ["default_sample", "small_sample"])
def test_items_are_well_formed(which, request):
    items, _ = request.getfixturevalue(which)
    assert list(items.columns) == ["item_id", "title", "description", "brand", "categories"]
    assert items["item_id"].is_unique
    assert items["item_id"].str.fullmatch(r"I\d{4}").all()
    assert items["item_id"].is_monotonic_increasing
    assert items["title"].is_unique
    assert (items[["title", "description", "brand", "categories"]] != "").all().all()
    path = items["categories"].str.split(" > ")
    assert (path.str.len() == 3).all()
    # every description names its product type, so text embeddings can group items by type
    assert all(ptype in text for ptype, text in zip(path.str[-1], items["description"], strict=True))


@pytest.mark.parametrize("which", ["default_sample", "small_sample"])
def test_interactions_are_well_formed(which, request):
    items, interactions = request.getfixturevalue(which)
    assert list(interactions.columns) == ["user_id", "item_id", "timestamp"]
    assert pd.api.types.is_integer_dtype(interactions["timestamp"])
    assert interactions["user_id"].str.fullmatch(r"U\d{4}").all()
    assert interactions["item_id"].isin(items["item_id"]).all()
    assert interactions["user_id"].is_monotonic_increasing
    gaps = interactions.groupby("user_id")["timestamp"].diff().dropna()
    assert (gaps > 0).all()
    assert not interactions.duplicated(["user_id", "item_id"]).any()
    lengths = interactions.groupby("user_id").size()
    assert lengths.min() >= 5 and lengths.max() <= 20


def test_default_size_and_shape(default_sample):
    items, interactions = default_sample
    lengths = interactions.groupby("user_id").size()
    assert len(items) == 1000 and len(lengths) == 2000
    assert 18_000 <= len(interactions) <= 22_000
    assert 9.0 <= lengths.mean() <= 10.0
    assert lengths.min() == 5 and lengths.max() == 20
    per_category = items["categories"].str.split(" > ").str[0].value_counts()
    assert len(per_category) >= 10
    assert per_category.between(60, 150).all()


def test_taxonomy_shape():
    assert len(taxonomy()) >= 10
    owners: dict[str, list[str]] = {}
    for category in taxonomy():
        assert 2 <= len(category.subcategories) <= 4
        assert 4 <= len(category.brands) <= 8
        for brand in category.brands:
            owners.setdefault(brand, []).append(category.name)
    assert any(len(cats) == 2 for cats in owners.values())
    names = [pt.name for c in taxonomy() for s in c.subcategories for pt in s.types]
    assert len(names) == len(set(names))
    assert all(comp in names for comps in complement_types().values() for comp in comps)


def test_too_small_catalogue_is_rejected():
    with pytest.raises(ValueError, match="n_items"):
        generate_sample(SampleConfig(n_items=100))


# --- learnable structure ----------------------------------------------------------------------------


def test_next_item_usually_stays_in_category(default_sample):
    frame = _annotated(*default_sample).dropna(subset=["next_top"])
    rate = (frame["top"] == frame["next_top"]).mean()
    share = frame["top"].value_counts(normalize=True)
    chance = float((share**2).sum())
    assert rate > 0.5
    assert rate > 3 * chance


def test_complements_follow_main_products(default_sample):
    complements = complement_types()
    frame = _annotated(*default_sample)
    type_share = frame["type"].value_counts(normalize=True)
    after_main = frame[frame["type"].isin(list(complements)) & frame["next_type"].notna()]
    pairs = zip(after_main["type"], after_main["next_type"], strict=True)
    hits = [nxt in complements[main] for main, nxt in pairs]
    base = [float(type_share.reindex(list(complements[main])).fillna(0).sum()) for main in after_main["type"]]
    assert len(hits) > 1000
    assert np.mean(hits) > 0.3
    assert np.mean(hits) > 5 * np.mean(base)


def test_users_repeat_brands_within_a_category(default_sample):
    frame = _annotated(*default_sample)
    first_brand = frame.groupby(["user_id", "top"])["brand"].transform("first")
    repeat = frame[frame.groupby(["user_id", "top"]).cumcount() > 0]
    same = (repeat["brand"] == first_brand[repeat.index]).mean()
    brand_share = frame.groupby("top")["brand"].value_counts(normalize=True)
    firsts = zip(repeat["top"], first_brand[repeat.index], strict=True)
    chance = float(np.mean([brand_share[(top, brand)] for top, brand in firsts]))
    assert same > chance + 0.2


def test_popularity_is_long_tailed(default_sample):
    _, interactions = default_sample
    counts = interactions["item_id"].value_counts()
    top_decile = counts.iloc[: len(counts) // 10].sum() / len(interactions)
    assert 0.2 < top_decile < 0.6
