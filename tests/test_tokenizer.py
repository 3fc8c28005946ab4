"""Codebook tokenizer: hand-computed codebooks, round trips, collisions, artifacts, cold start."""

import json
from dataclasses import asdict

import numpy as np
import pytest
import torch

from sidrec.embed import EmbedConfig, behavior_embeddings, fuse
from sidrec.errors import SidrecError
from sidrec.fitting import fit_tokenizer, separate_collisions
from sidrec.published import import_index
from sidrec.quantize import QuantizerConfig, balanced_assign, quantize_with, residual_kmeans
from sidrec.tokenizer import SIDTokenizer, TokenizerConfig, load_keywords, parse_sid


def test_hand_computed_two_level_codebook():
    # Level 1 centers 0.5 and 10.5; the residuals are then -0.5/+0.5 for every item.
    x = torch.tensor([[0.0], [1.0], [10.0], [11.0]])
    books, codes = residual_kmeans(x, QuantizerConfig(levels=2, codebook_size=2, kmeans_iters=10))
    assert sorted(books[0].flatten().tolist()) == [0.5, 10.5]
    assert sorted(books[1].flatten().tolist()) == [-0.5, 0.5]
    recon = books[0][codes[:, 0]] + books[1][codes[:, 1]]
    assert torch.allclose(recon, x)
    # items 0,1 share the level-1 code; 0 and 2 share the level-2 code
    assert codes[0, 0] == codes[1, 0] != codes[2, 0] == codes[3, 0]
    assert codes[0, 1] == codes[2, 1] != codes[1, 1] == codes[3, 1]


def test_quantize_with_fixed_books():
    books = [torch.tensor([[0.0], [10.0]]), torch.tensor([[-0.5], [0.5]])]
    x = torch.tensor([[0.4], [-0.4], [10.6], [9.4]])
    assert quantize_with(books, x).tolist() == [[0, 1], [0, 0], [1, 1], [1, 0]]


def test_balanced_assignment_respects_capacity():
    gen = torch.Generator().manual_seed(0)
    dist = torch.rand(50, 5, generator=gen)
    dist[:, 0] -= 1  # everyone prefers code 0
    codes = balanced_assign(dist, capacity=10)
    assert torch.bincount(codes, minlength=5).tolist() == [10] * 5


def test_separate_collisions_numbers_each_bucket():
    prefix = np.array([[1, 2], [1, 2], [0, 5], [1, 2], [0, 5]])
    assert separate_collisions(prefix)[:, -1].tolist() == [0, 1, 0, 2, 1]


def random_tokenizer(n=300, dim=16, method="rq-kmeans", balanced=False, seed=0):
    rng = np.random.default_rng(seed)
    # Few clusters and duplicates, so that prefix collisions are certain.
    centers = rng.normal(size=(5, dim))
    x = centers[rng.integers(0, 5, n)] + 0.01 * rng.normal(size=(n, dim))
    x[1] = x[0]
    config = TokenizerConfig(
        QuantizerConfig(method=method, levels=2, codebook_size=8, balanced=balanced, epochs=30, seed=seed),
        EmbedConfig(embedding="text"),
    )
    ids = [f"item{i}" for i in range(n)]
    return fit_tokenizer(ids, x.astype(np.float32), config), ids


@pytest.mark.parametrize("method,balanced", [("rq-kmeans", False), ("rq-kmeans", True), ("rq-vae", False)])
def test_round_trip_and_unique_sids(method, balanced):
    tok, ids = random_tokenizer(method=method, balanced=balanced)
    assert tok.stats["collision_rate_before_dedup"] > 0  # duplicates collide before the last level
    assert tok.stats["collision_rate"] == 0
    sids = [tok.encode(i) for i in ids]
    assert len(set(sids)) == len(ids)
    assert all(tok.decode(s) == i for s, i in zip(sids, ids, strict=True))
    assert all(tok.decode(parse_sid(s)) == i for s, i in zip(sids, ids, strict=True))
    assert len(tok.stats["utilization"]) == 3 and all(0 < u <= 1 for u in tok.stats["utilization"])


def test_fit_is_deterministic():
    a, _ = random_tokenizer(seed=3)
    b, _ = random_tokenizer(seed=3)
    assert np.array_equal(a.codes, b.codes)


def test_balanced_spreads_codes():
    plain, _ = random_tokenizer(balanced=False)
    balanced, _ = random_tokenizer(balanced=True)
    assert balanced.stats["entropy_bits"][0] >= plain.stats["entropy_bits"][0]
    assert np.bincount(balanced.codes[:, 0]).max() <= -(-300 // 8)


def test_parse_sid_rejects_garbage():
    assert parse_sid("<a_12><b_201><c_7>") == (12, 201, 7)
    for bad in ["<a_1><c_2>", "a_1", "<a_1>x", ""]:
        with pytest.raises(SidrecError):
            parse_sid(bad)


def test_decode_unknown_sid_raises():
    tok, _ = random_tokenizer()
    with pytest.raises(SidrecError, match="no item has SID"):
        tok.decode("<a_0><b_0><c_99>")
    with pytest.raises(SidrecError, match="unknown item"):
        tok.encode("nope")


@pytest.mark.parametrize("method", ["rq-kmeans", "rq-vae"])
def test_save_load_round_trip(tmp_path, method):
    tok, ids = random_tokenizer(method=method)
    tok.save(tmp_path / "tok", keywords={"<a_0>": {"keywords": ["x"]}})
    back = SIDTokenizer.load(tmp_path / "tok")
    assert back.item_ids == tok.item_ids and np.array_equal(back.codes, tok.codes)
    assert back.config == tok.config
    x = np.random.default_rng(1).normal(size=(7, 16)).astype(np.float32)
    assert np.array_equal(back.prefix_codes_for(x), tok.prefix_codes_for(x))
    manifest = json.loads((tmp_path / "tok" / "manifest.json").read_text())
    assert manifest["kind"] == "tokenizer" and manifest["format_version"] == 1
    assert not list(tmp_path.glob(".tok*")), "no temporary folder left behind"


def test_load_refuses_tampered_or_foreign_artifacts(tmp_path):
    tok, _ = random_tokenizer()
    tok.save(tmp_path / "tok")
    ids = json.loads((tmp_path / "tok" / "items.json").read_text())
    (tmp_path / "tok" / "items.json").write_text(json.dumps(ids[::-1]))
    with pytest.raises(SidrecError, match="fingerprint"):
        SIDTokenizer.load(tmp_path / "tok")
    with pytest.raises(SidrecError, match="not a sidrec tokenizer"):
        SIDTokenizer.load(tmp_path)


def test_failed_save_keeps_previous_artifact(tmp_path, monkeypatch):
    import sidrec.tokenizer as T

    tok, _ = random_tokenizer()
    tok.save(tmp_path / "tok")
    before = (tmp_path / "tok" / "manifest.json").read_text()

    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(T, "save_file", disk_full)
    with pytest.raises(OSError):
        tok.save(tmp_path / "tok")
    assert (tmp_path / "tok" / "manifest.json").read_text() == before
    assert SIDTokenizer.load(tmp_path / "tok").item_ids == tok.item_ids


def test_a_save_replaces_only_a_tokenizer_and_keeps_only_its_own_files(tmp_path):
    a, ids = random_tokenizer(seed=0)
    b, _ = random_tokenizer(seed=1)  # the same items, other codes
    assert b.item_ids == ids and a.fingerprint() != b.fingerprint()
    words = {"<a_0>": {"keywords": ["x"]}}
    a.save(tmp_path / "tok", keywords=words, embeddings=np.ones((len(ids), 4), np.float32))
    SIDTokenizer.load(tmp_path / "tok").save(tmp_path / "tok")  # the same tokenizer again keeps its files
    assert load_keywords(tmp_path / "tok") == words and (tmp_path / "tok" / "embeddings.safetensors").exists()
    b.save(tmp_path / "tok")  # another tokenizer: the old one's keywords and embeddings describe other codes
    assert load_keywords(tmp_path / "tok") == {} and not (tmp_path / "tok" / "embeddings.safetensors").exists()

    data = tmp_path / "data"
    data.mkdir()
    (data / "items.csv").write_text("item_id,title\n")
    with pytest.raises(SidrecError, match="not a sidrec tokenizer artifact"):
        b.save(data)
    assert [p.name for p in data.iterdir()] == ["items.csv"]
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "manifest.json").write_text(json.dumps({"kind": "llm"}))
    with pytest.raises(SidrecError, match=r"another kind of artifact \(llm, not tokenizer\)"):
        b.save(tmp_path / "model")
    (tmp_path / "empty").mkdir()
    b.save(tmp_path / "empty")
    assert SIDTokenizer.load(tmp_path / "empty").fingerprint() == b.fingerprint()


def test_cold_start_prefix_matches_nearest_codes(monkeypatch):
    tok, ids = random_tokenizer()
    # An item whose embedding equals an existing item's gets that item's prefix and a fresh last code.
    import sidrec.tokenizer as T

    row = np.array(tok.prefix_codes_for(np.zeros((1, 16), np.float32), occupied=True))
    monkeypatch.setattr(T, "encode_texts", lambda texts, *a, **k: np.zeros((len(texts), 16), np.float32))
    sids = tok.add_items(["new1", "new2"], ["a", "b"])
    assert parse_sid(sids[0])[:2] == tuple(row[0]) == parse_sid(sids[1])[:2]
    assert sids[0] != sids[1] and tok.decode(sids[1]) == "new2"
    with pytest.raises(SidrecError, match="already has a SID"):
        tok.add_items(["new1"], ["a"])


@pytest.mark.parametrize("method", ["rq-kmeans", "rq-vae"])
def test_new_items_join_occupied_cells_and_keep_codes_already_there(method):
    tok, _ = random_tokenizer(n=40, method=method)  # 40 items, 64 cells: many cells nobody occupies
    x = np.random.default_rng(1).normal(size=(200, 16)).astype(np.float32)  # far from the five clusters
    free, within = tok.prefix_codes_for(x), tok.prefix_codes_for(x, occupied=True)
    known = set(map(tuple, tok.codes[:, :-1].tolist()))
    assert all(tuple(r) in known for r in within.tolist())
    reached = np.array([tuple(r) in known for r in free.tolist()])
    assert (~reached).any()  # the unrestricted codes leave some items in cells nobody occupies
    # greedy over a subset that holds the overall nearest code picks that code: occupied cells are kept
    assert np.array_equal(within[reached], free[reached])


def test_import_uses_the_index_as_given_and_resolves_a_collision_in_its_last_level():
    ids = ["x", "y", "z", "w"]
    given = {"x": ["<a_1>", "<b_2>"], "y": ["<a_1>", "<b_2>"], "z": ["<a_0>", "<b_7>"], "w": ["<a_1>", "<b_0>"]}
    tok = import_index(ids, given)
    assert tok.stats["collision_rate_before_dedup"] == 0.25 and tok.stats["collisions_resolved"] == "in the last level"
    assert tok.n_levels == 2 and tok.separating_level is None  # no level appended
    assert [tok.encode(i) for i in "xzw"] == ["".join(given[i]) for i in "xzw"] and tok.stats["sids_as_given"] == 3
    assert tok.encode("y") == "<a_1><b_1>"  # the lowest b code free under <a_1> (codes 0..7: the index's space)
    with pytest.raises(SidrecError, match="no codebooks"):
        tok.prefix_codes_for(np.zeros((1, 4), np.float32))


def test_import_appends_a_separating_level_only_when_the_last_level_is_full():
    # under <a_0> both b codes of a 2-code space are taken: the collision cannot be resolved in place
    given = {"x": ["<a_0>", "<b_0>"], "y": ["<a_0>", "<b_0>"], "z": ["<a_0>", "<b_1>"]}
    tok = import_index(list(given), given)
    assert tok.stats["collisions_resolved"] == "separating level appended" and tok.separating_level == 2
    assert [tok.encode(i) for i in given] == ["<a_0><b_0><c_0>", "<a_0><b_0><c_1>", "<a_0><b_1><c_0>"]
    assert tok.stats["sids_as_given"] == 0


def test_behavior_embeddings_never_see_held_out_targets():
    from sidrec.data import leave_one_out

    ids = ["a", "b", "c", "d", "e"]
    # "d" and "e" only ever occur as valid/test targets: they must stay zero (cold) rows.
    split = leave_one_out({"u1": ["a", "b", "c", "d", "e"], "u2": ["b", "a", "c", "e", "d"], "u3": ["c", "b", "a"]})
    emb = behavior_embeddings(ids, split.train_sequences, dim=3, window=2)
    assert np.allclose(emb[3:], 0)
    assert not np.allclose(emb[:3], 0, atol=1e-3)
    assert np.array_equal(emb, behavior_embeddings(ids, split.train_sequences, dim=3, window=2))


def test_fuse_weights_similarities():
    t = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    b = np.array([[1.0, 0.0], [1.0, 0.0]], np.float32)
    f = fuse(t, b, 0.25)
    # cos_fused = 0.75 * cos_text + 0.25 * cos_behavior = 0.75 * 0 + 0.25 * 1
    assert f[0] @ f[1] == pytest.approx(0.25)
    assert np.allclose(np.linalg.norm(f, axis=1), 1.0)


def test_int8_text_embeddings_stay_close_to_float32_and_are_cached_apart():
    import numpy as np

    from sidrec.embed import EmbedConfig, encode_texts
    from sidrec.errors import SidrecError

    texts = ["Ultralight 2-Person Backpacking Tent, Waterproof, Olive", "Burr Coffee Grinder, 40 Settings, Black",
             "Noise Cancelling Wireless Headphones, Bluetooth 5.3, Sand"]  # fmt: skip
    full = encode_texts(texts, precision="float32")
    int8 = encode_texts(texts, precision="int8")
    assert not np.array_equal(full, int8), "a different arithmetic, not the float32 result from the cache"
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-4)
    cosines = (full * int8).sum(1)
    assert cosines.min() > 0.95, cosines
    with pytest.raises(SidrecError, match="unknown text precision"):
        EmbedConfig(text_precision="fp8")


@pytest.mark.parametrize("embedding", ["text", "fused"])
def test_text_embeddings_cover_fitted_and_added_items(monkeypatch, embedding):
    """The fitted items' text vectors come back from their stored embeddings (for a fused tokenizer: the text half
    of text ++ behaviour, whatever its weight), the added items' from their own text, all of unit length."""
    from dataclasses import replace

    import sidrec.tokenizer as T
    from sidrec.embed import fuse, l2_rows

    tok, ids = random_tokenizer(n=40)
    rng = np.random.default_rng(3)
    known_text = rng.normal(size=(40, 8 if embedding == "fused" else 16)).astype(np.float32)
    new_text = rng.normal(size=(2, known_text.shape[1])).astype(np.float32)
    if embedding == "fused":
        tok.config = replace(tok.config, embed=replace(tok.config.embed, embedding="fused", behavior_weight=0.3))
        tok.item_embeddings = fuse(known_text, rng.normal(size=(40, 8)), 0.3)  # 16 columns, as the codebooks
    else:
        tok.item_embeddings = known_text
    assert (tok.text_embeddings() is None) == (embedding == "fused")  # a fused one learns the text width on adding
    monkeypatch.setattr(T, "encode_texts", lambda texts, *a, **k: new_text[: len(texts)])
    tok.add_items(["new1", "new2"], ["a", "b"])
    text = tok.text_embeddings()
    assert text.shape == (42, known_text.shape[1])
    assert np.allclose(text[:40], l2_rows(known_text), atol=1e-6) and np.allclose(text[40:], l2_rows(new_text))


def test_first_level_on_leading_coordinates_ignores_the_rest():
    # Leading coordinate: {0, 1} vs {10, 11}; the trailing one sets item 1 far apart from the other three.
    x = torch.tensor([[0.0, 0.0], [1.0, 100.0], [10.0, 0.0], [11.0, 0.0]])
    _, on_all = residual_kmeans(x, QuantizerConfig(levels=2, codebook_size=2, kmeans_iters=10, balanced=False))
    assert on_all[0, 0] == on_all[2, 0] == on_all[3, 0] != on_all[1, 0]  # on every coordinate, item 1 is alone
    books, codes = residual_kmeans(
        x, QuantizerConfig(levels=2, codebook_size=2, kmeans_iters=10, balanced=False, lead_dims=1)
    )
    assert codes[0, 0] == codes[1, 0] != codes[2, 0] == codes[3, 0]  # the leading coordinate alone decides
    # each first-level codeword is its items' mean over every coordinate: (0.5, 50) and (10.5, 0)
    assert sorted(books[0].tolist()) == [[0.5, 50.0], [10.5, 0.0]]
    # greedy encoding with the same lead gives every item back its first code; on every coordinate, item 0
    # (0, 0) would be nearer (10.5, 0) than (0.5, 50)
    assert torch.equal(quantize_with(books, x, lead_dims=1)[:, 0], codes[:, 0])
    assert quantize_with(books, x)[0, 0] == codes[2, 0]


def test_first_level_text_on_a_fused_embedding_leads_on_its_text_part(tmp_path):
    rng = np.random.default_rng(0)
    text, behavior = rng.normal(size=(60, 6)), rng.normal(size=(60, 4))
    config = TokenizerConfig(
        QuantizerConfig(levels=2, codebook_size=4, balanced=False),
        EmbedConfig(embedding="fused", behavior_dim=4),
        first_level="text",
    )
    tok = fit_tokenizer([f"i{n}" for n in range(60)], fuse(text, behavior, 0.5), config)
    assert tok.config.quantizer.lead_dims == 6
    assert tok.config.first_level == "text"
    # the first code is a function of the text alone: any behaviour part re-places an item in its first cell
    other = fuse(text, rng.normal(size=(60, 4)), 0.5)
    assert (tok.prefix_codes_for(other)[:, 0] == tok.codes[:, 0]).all()
    tok.save(tmp_path / "t")  # the saved artifact places the same way
    again = SIDTokenizer.load(tmp_path / "t")
    assert again.config == tok.config and np.array_equal(again.prefix_codes_for(other), tok.prefix_codes_for(other))


def test_first_level_text_round_trips_and_old_manifests_read_as_embedding(tmp_path):
    config = TokenizerConfig(first_level="text")
    assert TokenizerConfig.from_dict(json.loads(json.dumps(asdict(config)))) == config
    old = asdict(TokenizerConfig())
    del old["first_level"]
    assert TokenizerConfig.from_dict(old).first_level == "embedding"
    with pytest.raises(SidrecError, match="behaviour-only"):
        TokenizerConfig(embed=EmbedConfig(embedding="behavior"), first_level="text")
    with pytest.raises(SidrecError, match="rq-kmeans"):
        TokenizerConfig(QuantizerConfig(method="rq-vae"), first_level="text")
    with pytest.raises(SidrecError, match="unknown first level"):
        TokenizerConfig(first_level="title")


@pytest.mark.parametrize("balanced", [False, True])
def test_ablation_leaves_out_the_tokenizer_variant_the_tokenizer_already_is(tmp_path, balanced):
    from sidrec.ablation import ABLATIONS, changes_nothing

    tok, _ = random_tokenizer(n=60, balanced=balanced)
    tok.save(tmp_path / "tok")
    base = SIDTokenizer.load(tmp_path / "tok").config  # as saved and read back, the way the ablation reads it
    own, other = ("balanced", "unbalanced") if balanced else ("unbalanced", "balanced")
    assert changes_nothing(base, ABLATIONS[f"tokenizer: rq-kmeans {own}"])
    assert not changes_nothing(base, ABLATIONS[f"tokenizer: rq-kmeans {other}"])
    assert not changes_nothing(base, ABLATIONS["tokenizer: rq-vae"])
    assert not changes_nothing(base, ABLATIONS["init mean"])  # not a tokenizer variant
