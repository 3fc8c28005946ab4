"""Alignment tasks: no leakage of held-out targets, hand-computed mix sizes, determinism.

A tiny hand-made catalogue (12 items, 5 users) split leave-one-out, a tokenizer
imported from a hand-made 2-level index (its collisions get a separating level),
and a small keywords dict.
"""

import random
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from sidrec.data import leave_one_out
from sidrec.errors import SidrecError
from sidrec.fitting import separate_collisions
from sidrec.item_text import truncate
from sidrec.negatives import NegativeSampler
from sidrec.prompts import TEMPLATES
from sidrec.quantize import QuantizerConfig
from sidrec.tasks import (
    TASKS,
    Example,
    TaskConfig,
    build_training_set,
    build_validation_set,
    examples_for_user,
    mix,
    task_examples,
)
from sidrec.tokenizer import SIDTokenizer, TokenizerConfig

NAMES = ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo", "Hazel", "Ivy", "Juniper", "Kauri", "Larch"]
KINDS = ["Tent", "Stove", "Lantern"]
FEATURES = ["waterproof", "ultralight", "folding"]


def _items() -> pd.DataFrame:
    rows = []
    for k, name in enumerate(NAMES):
        kind, feat = KINDS[k % 3], FEATURES[k % 3]
        rows.append(
            {
                "item_id": f"I{k}",
                "title": f"{name} {kind}",
                "description": f"A {feat} {kind.lower()} for camping trips, tested on long trails in every weather.",
                "brand": "",
                "categories": f"Outdoor > Camping > {kind}",
            }
        )
    return pd.DataFrame(rows).set_index("item_id")


ITEMS = _items()
# Item k has codes (k % 3, k % 2): items 0 and 6 collide, etc., so a separating level <c_n> is appended, as a
# fitted tokenizer does.
TOK = SIDTokenizer(
    list(ITEMS.index),
    separate_collisions(np.array([[k % 3, k % 2] for k in range(12)])),
    TokenizerConfig(QuantizerConfig(levels=2, codebook_size=3)),
)
SEQUENCES = {
    "u1": ["I0", "I1", "I2", "I3", "I8", "I9"],
    "u2": ["I1", "I4", "I5", "I10"],
    "u3": ["I2", "I4", "I6", "I0", "I11", "I8"],
    "u4": ["I0", "I1", "I2", "I3", "I4", "I5", "I6", "I0", "I1", "I2", "I3", "I4", "I10", "I11"],
    "u5": ["I7", "I3"],  # too short for valid/test: all of it trains
}
SPLIT = leave_one_out(SEQUENCES)
HELD_OUT_ONLY = {"I8", "I9", "I10", "I11"}  # valid/test targets that no training sequence holds


def _keywords() -> dict:
    out = {}
    for tok_str in TOK.tokens():
        level, code = "abc".index(tok_str[1]), int(tok_str[3:-1])
        if level == 2:
            desc = f"3 items; separating code {code}: tells apart colliding items, so it carries no shared meaning."
            kws = ["camping"]
        elif level == 0:
            kws = [FEATURES[code], KINDS[code].lower(), "trails"]
            desc = f"4 items, mostly Outdoor > Camping > {KINDS[code]} (100%), about {', '.join(kws)}."
        else:
            kws = ["weather", "camping trips"]
            desc = f"6 items, mostly Outdoor > Camping (100%), about {', '.join(kws)}."
        out[tok_str] = {"level": level, "code": code, "n_items": 4, "keywords": kws, "description": desc}
    return out


KEYWORDS = _keywords()


class _Forbidden(list):
    """Stands in for split.valid/test: any read fails, proving builders never look."""

    def _fail(self, *a, **k):
        raise AssertionError("a training builder read held-out samples")

    __iter__ = __len__ = __getitem__ = __bool__ = _fail


def _train_only_split():
    return type(SPLIT)(SPLIT.train, _Forbidden(), _Forbidden(), SPLIT.train_sequences)


def test_fixture_is_what_the_tests_assume():
    assert TOK.n_levels == 3 and TOK.config.quantizer.levels == 2  # a separating level was appended
    train_items = {i for seq in SPLIT.train_sequences.values() for i in seq}
    held = {s.target for s in [*SPLIT.valid, *SPLIT.test]}
    assert held - train_items == HELD_OUT_ONLY


@pytest.mark.parametrize("task", TASKS)
def test_builders_read_no_held_out_sample_and_mention_no_held_out_item(task):
    examples = task_examples(task, _train_only_split(), ITEMS, TOK, KEYWORDS, TaskConfig())
    assert examples and all(ex.task == task for ex in examples)
    for ex in examples:
        text = ex.prompt + " " + ex.context + " " + ex.response
        for iid in HELD_OUT_ONLY:
            assert iid not in ex.items
            assert TOK.encode(iid) not in text
            assert ITEMS.at[iid, "title"] not in text
        for iid in ex.items:
            assert TOK.encode(iid) in text or ITEMS.at[iid, "title"] in text  # `items` names what is shown


def test_training_set_mentions_no_held_out_item():
    examples = build_training_set(_train_only_split(), ITEMS, TOK, KEYWORDS, TaskConfig(tasks=TASKS))
    assert {ex.task for ex in examples} == set(TASKS)
    mentioned = {i for ex in examples for i in ex.items}
    assert not mentioned & HELD_OUT_ONLY
    held_sids = {TOK.encode(i) for i in HELD_OUT_ONLY}
    assert not any(sid in ex.prompt + ex.context + ex.response for ex in examples for sid in held_sids)


def test_sequential_targets_the_sample_and_caps_history():
    config = TaskConfig(max_history=3, sequential_mode="prefix")
    examples = task_examples("sequential", SPLIT, ITEMS, TOK, KEYWORDS, config)
    held = {(s.user_id, s.target) for s in [*SPLIT.valid, *SPLIT.test]}
    assert len(examples) == len(SPLIT.train)
    for ex, sample in zip(examples, SPLIT.train, strict=True):
        assert ex.response == TOK.encode(sample.target)
        assert (sample.user_id, sample.target) not in held
        history = sample.history[-3:]
        assert ex.items == (*history, sample.target)
        assert " ".join(TOK.encode(i) for i in history) in ex.prompt
        assert ex.prompt.count("<a_") == len(history) <= 3
    assert any(len(s.history) > 3 for s in SPLIT.train)  # the cap was exercised


@pytest.mark.parametrize("cap", [3, 20])
def test_sequence_mode_makes_every_training_item_after_the_first_a_target_once(cap):
    config = TaskConfig(max_history=cap)  # the default mode: whole sequences
    total = 0
    for user, full in SEQUENCES.items():
        split = leave_one_out({user: full})
        seq = split.train_sequences[user]
        examples = task_examples("sequential", split, ITEMS, TOK, KEYWORDS, config)
        total += len(examples)
        targets = []
        for ex in examples:
            assert ex.prompt == "Purchases in order:" and not ex.eos and ex.context
            window = list(ex.items)
            assert len(window) <= cap + 1
            # context and response are the window's SIDs back to back, the context first
            assert ex.context + ex.response == "".join(TOK.encode(i) for i in window)
            targets += window[ex.context.count("<a_") :]
        assert targets == seq[1:]  # every training item but the first, once, in order
    assert total < len(SPLIT.train)  # fewer forward passes than one per prefix


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sequence", "prefix"])
def test_training_and_inference_read_the_same_tokens(mode):
    """With the real BPE tokenizer: the input before a target is exactly what inference feeds for its history."""
    from transformers import AutoTokenizer

    from sidrec.llm import base_path, encode_example, model_input
    from sidrec.prompts import recommendation_input

    tok = AutoTokenizer.from_pretrained(base_path("smollm2-135m"))
    tok.add_tokens(TOK.tokens())
    config = TaskConfig(max_history=20, sequential_mode=mode)
    seq = SEQUENCES["u4"][:-2]  # its training sequence
    examples = task_examples("sequential", leave_one_out({"u4": SEQUENCES["u4"]}), ITEMS, TOK, KEYWORDS, config)
    if mode == "prefix":
        examples = examples[-1:]  # the longest prefix: history seq[:-1], target seq[-1]
    (ex,) = examples
    ids, labels = encode_example(tok, ex.prompt, ex.response, 512, ex.context, ex.eos)
    first_label = next(n for n, x in enumerate(labels) if x != -100)
    per_item = TOK.n_levels
    targets = range(1, len(seq)) if mode == "sequence" else [len(seq) - 1]
    for n, t in enumerate(targets):
        at = first_label + n * per_item  # where target t's SID starts
        inference = tok(model_input(*recommendation_input(seq[:t], TOK, 20, mode)), add_special_tokens=False)
        assert ids[:at] == inference["input_ids"]
        assert tok.decode(ids[at : at + per_item]) == TOK.encode(seq[t])
        assert all(x != -100 for x in labels[at : at + per_item])


def test_validation_set_targets_are_exactly_the_valid_targets():
    examples = build_validation_set(SPLIT, TOK)
    assert [ex.response for ex in examples] == [TOK.encode(s.target) for s in SPLIT.valid]
    assert [ex.items for ex in examples] == [(*s.history, s.target) for s in SPLIT.valid]
    subset = build_validation_set(SPLIT, TOK, max_examples=2)
    assert len(subset) == 2 and all(ex in examples for ex in subset)


@pytest.mark.parametrize("kinds", [("uniform",), ("popular",), ("hard",), ("uniform", "popular", "hard")])
def test_negatives_are_balanced_and_never_seen_by_the_user(kinds):
    examples = task_examples("negative", SPLIT, ITEMS, TOK, KEYWORDS, TaskConfig(negative_kinds=kinds))
    assert Counter(ex.response for ex in examples) == {"yes": len(SPLIT.train), "no": len(SPLIT.train)}
    universe = {i for seq in SPLIT.train_sequences.values() for i in seq}
    for (yes, no), sample in zip(zip(examples[::2], examples[1::2], strict=True), SPLIT.train, strict=True):
        assert (yes.response, no.response) == ("yes", "no")
        assert yes.items[-1] == sample.target and TOK.encode(sample.target) in yes.prompt
        negative = no.items[-1]
        assert negative in universe
        assert negative != sample.target and negative not in SPLIT.train_sequences[sample.user_id]
        if kinds == ("hard",):
            same_first = [
                i
                for i in universe - set(SPLIT.train_sequences[sample.user_id])
                if TOK.codes_of(i)[0] == TOK.codes_of(sample.target)[0]
            ]
            if same_first:
                assert TOK.codes_of(negative)[0] == TOK.codes_of(sample.target)[0]


def test_negative_sampler_hand_cases():
    sampler = NegativeSampler(SPLIT, TOK)
    rng = random.Random(0)
    # I3 has first code 0; the unseen items sharing it among training items: I0, I6 (I3 itself is the target).
    draws = {sampler.sample("hard", "I3", {"I0"}, rng) for _ in range(50)}
    assert draws == {"I6"}
    # Everything excluded: nothing to draw.
    assert sampler.sample("uniform", "I3", set(sampler.universe), rng) is None
    # Popularity: I2 (5 training interactions) is drawn far more often than I7 (1).
    counts = Counter(sampler.sample("popular", "I0", set(), rng) for _ in range(3000))
    assert counts["I2"] > 2 * counts["I7"]


def test_ts_align_covers_every_meaningful_token_both_ways():
    examples = task_examples("ts_align", SPLIT, ITEMS, TOK, KEYWORDS, TaskConfig())
    meaningful = {t for t, info in KEYWORDS.items() if info["level"] < TOK.n_levels - 1}
    to_text = {ex.prompt for ex in examples if ex.response not in KEYWORDS}
    to_token = {ex.response for ex in examples if ex.response in KEYWORDS}
    assert to_token == meaningful
    assert {t for t in meaningful if any(t in p for p in to_text)} == meaningful
    assert not any("<c_" in ex.prompt + ex.response for ex in examples)  # separating level skipped
    assert len(examples) == 2 * len(meaningful)
    assert all(not ex.items for ex in examples)
    # Item counts are stripped: the description says what items share, not how many there are.
    assert all(not ex.response[0].isdigit() for ex in examples if ex.response not in KEYWORDS)


def test_query_names_the_product_never_the_title():
    examples = task_examples("query", SPLIT, ITEMS, TOK, KEYWORDS, TaskConfig())
    assert len(examples) == len({i for seq in SPLIT.train_sequences.values() for i in seq})
    for ex in examples:
        (iid,) = ex.items
        assert ex.response == TOK.encode(iid)
        assert ITEMS.at[iid, "title"] not in ex.prompt
        assert ITEMS.at[iid, "categories"].split(" > ")[-1].lower() in ex.prompt


def test_textual_has_both_directions_per_training_item():
    examples = task_examples("textual", SPLIT, ITEMS, TOK, KEYWORDS, TaskConfig(max_description_chars=30))
    train_items = {i for seq in SPLIT.train_sequences.values() for i in seq}
    to_title = {ex.items[0] for ex in examples if ex.response == ITEMS.at[ex.items[0], "title"]}
    to_sid = {ex.items[0] for ex in examples if ex.response == TOK.encode(ex.items[0])}
    assert to_title == to_sid == train_items and len(examples) == 2 * len(train_items)
    for ex in examples:
        if ex.response.startswith("<"):
            assert ITEMS.at[ex.items[0], "title"] in ex.prompt and "…" in ex.prompt


def _fake(task: str, n: int) -> list[Example]:
    return [Example(task, f"{task} prompt {i}", f"{task} response {i}") for i in range(n)]


def test_mix_sizes_follow_the_weights():
    per_task = {"sequential": _fake("sequential", 20), "textual": _fake("textual", 5), "query": _fake("query", 1)}
    per_task |= {"negative": _fake("negative", 40), "ts_align": _fake("ts_align", 2)}
    mixed = mix(per_task, TaskConfig(tasks=TASKS))
    # 20 sequential; textual 0.3 * 20 = 6; query 0.2 * 20 = 4; negative 4; ts_align 0.15 * 20 = 3.
    counts = Counter(ex.task for ex in mixed)
    assert counts == {"sequential": 20, "textual": 6, "query": 4, "negative": 4, "ts_align": 3}
    assert Counter(ex.prompt for ex in mixed if ex.task == "query") == {"query prompt 0": 4}  # with replacement
    assert set(per_task["textual"]) <= set(mixed)  # oversampled: every example at least once
    assert len({ex for ex in mixed if ex.task == "negative"}) == 4  # undersampled: without replacement
    assert set(per_task["sequential"]) <= set(mixed)
    # Without sequential, N is the largest natural set (40 negatives): 0.3 * 40 = 12 textual.
    no_seq = mix(per_task, TaskConfig(tasks=("textual", "negative")))
    assert Counter(ex.task for ex in no_seq) == {"textual": 12, "negative": 8}


def test_mix_is_deterministic_and_seeded():
    per_task = {t: _fake(t, 30) for t in TASKS}
    first = mix(per_task, TaskConfig(seed=0))
    assert first == mix(per_task, TaskConfig(seed=0))
    other = mix(per_task, TaskConfig(seed=1))
    assert other != first and len(other) == len(first)


def test_training_set_is_deterministic():
    a = build_training_set(SPLIT, ITEMS, TOK, KEYWORDS, TaskConfig(seed=3))
    assert a == build_training_set(SPLIT, ITEMS, TOK, KEYWORDS, TaskConfig(seed=3))
    assert a != build_training_set(SPLIT, ITEMS, TOK, KEYWORDS, TaskConfig(seed=4))


def test_examples_for_user():
    config = TaskConfig()
    shown = examples_for_user("u1", _train_only_split(), ITEMS, TOK, KEYWORDS, config)
    assert set(shown) == set(config.tasks)
    assert all(ex.task == task for task, ex in shown.items())
    assert shown["sequential"].response.endswith(TOK.encode("I3"))  # the user's last training item
    prefix = examples_for_user("u1", SPLIT, ITEMS, TOK, KEYWORDS, TaskConfig(sequential_mode="prefix"))
    assert prefix["sequential"].response == TOK.encode("I3")
    assert not {i for ex in shown.values() for i in ex.items} & HELD_OUT_ONLY
    assert shown == examples_for_user("u1", SPLIT, ITEMS, TOK, KEYWORDS, config)
    only_two = examples_for_user("u2", SPLIT, ITEMS, TOK, KEYWORDS, TaskConfig(tasks=("query", "ts_align")))
    assert set(only_two) == {"query", "ts_align"}
    with pytest.raises(SidrecError, match="unknown user"):
        examples_for_user("nobody", SPLIT, ITEMS, TOK, KEYWORDS, config)


def test_config_rejects_bad_values():
    with pytest.raises(SidrecError, match="unknown task"):
        TaskConfig(tasks=("sequential", "poetry"))
    with pytest.raises(SidrecError, match="no weight"):
        TaskConfig(weights=(("sequential", 1.0),))
    with pytest.raises(SidrecError, match="negative kinds"):
        TaskConfig(negative_kinds=("random",))


def test_templates_and_truncate():
    assert all(len(v) >= 2 for v in TEMPLATES.values())
    assert truncate("Sleeps two, packs small and sets up fast.", 20) == "Sleeps two, packs…"
    assert truncate("short", 20) == "short"
