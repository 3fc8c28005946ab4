"""Cold-start placement: a new item's behaviour part imputed from its text neighbours lands it with them."""

import numpy as np
import pytest
import torch

from sidrec.embed import EmbedConfig, fuse
from sidrec.errors import SidrecError
from sidrec.placement import PlacementConfig, cold_fused, placement_agreement
from sidrec.tokenizer import SIDTokenizer, TokenizerConfig

# Two groups: A bought together (behaviour [1, 0]), B bought together (behaviour [0, 1]); their texts differ.
TEXT = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]], np.float32)
BEHAVIOR = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], np.float32)
KNOWN = fuse(TEXT, BEHAVIOR, 0.5)
# one codebook whose two codes differ only in the behaviour part: text alone cannot tell them apart
BOOK = torch.tensor([[0.5, 0.5, 0.707, 0.0], [0.5, 0.5, 0.0, 0.707]])


def tokenizer() -> SIDTokenizer:
    config = TokenizerConfig(embed=EmbedConfig(embedding="fused", behavior_weight=0.5))
    tok = SIDTokenizer(["a1", "a2", "b1", "b2"], np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), config, books=[BOOK])
    tok.item_embeddings = KNOWN
    return tok


def test_neighbours_give_a_new_item_the_behaviour_of_its_text_twins():
    new_text = np.array([[0.05, 0.95]], np.float32)  # reads like a B item
    imputed = cold_fused(new_text, KNOWN, 0.5, PlacementConfig("neighbours", k=2))
    assert imputed[0, 2:].tolist() == pytest.approx([0.0, 0.5**0.5], abs=1e-6)  # B's, scaled by sqrt(w)
    assert tokenizer().prefix_codes_for(imputed).tolist() == [[1]]
    text_only = cold_fused(new_text, KNOWN, 0.5, PlacementConfig("text"))
    assert text_only[0, 2:].tolist() == [0.0, 0.0]


def test_agreement_counts_known_items_that_get_their_own_code_back():
    tok = tokenizer()
    with_neighbours = placement_agreement(tok, KNOWN, TEXT, PlacementConfig("neighbours", k=1))
    assert with_neighbours["agreement"] == [1.0] and with_neighbours["ceiling"] == [1.0]
    text_only = placement_agreement(tok, KNOWN, TEXT, PlacementConfig("text"))
    assert text_only["agreement"] == [0.5]  # a tie between the two codes goes to code 0: the A items only


def test_bad_placement_settings_are_refused():
    with pytest.raises(SidrecError, match="unknown placement"):
        PlacementConfig("magic")
    with pytest.raises(SidrecError, match="k >= 1"):
        PlacementConfig("neighbours", k=0)


def test_imputation_in_chunks_equals_all_at_once(monkeypatch):
    import sidrec.placement as placement

    skip = np.arange(len(TEXT))
    whole = placement.cold_fused(TEXT, KNOWN, 0.5, PlacementConfig("neighbours", k=2), skip)
    monkeypatch.setattr(placement, "CHUNK", 1)
    assert np.array_equal(placement.cold_fused(TEXT, KNOWN, 0.5, PlacementConfig("neighbours", k=2), skip), whole)
