"""The preference stage (`sidrec.preference`): its loss by hand, its scores against the search's, its negatives,
and a few real steps on the tiny Llama."""

import math

import pytest
import torch

from sidrec.data import Sample
from sidrec.errors import SidrecError
from sidrec.generate import GenerateConfig, Recommender
from sidrec.model import TrainConfig
from sidrec.preference import CandidateScorer, PreferenceConfig, find_negatives, prefer, s_dpo_loss
from sidrec.train import prepare_model
from tests.tiny import IDS, make_sid_tok, tiny_base

HISTORIES = [("i0", "i5"), ("i9", "i1", "i12"), ("i3",), ("i7", "i8", "i2", "i4"), ("i13", "i6")]


@pytest.fixture
def rec(tmp_path):
    sid_tok = make_sid_tok()
    cfg = TrainConfig(base=tiny_base(tmp_path / "base"), init="random", r=4, lora_alpha=8, bf16=False)
    model, llm_tok, _ = prepare_model(cfg, sid_tok.tokens(), {})
    with torch.no_grad():  # LoRA starts as a no-op; give it a direction so the test sees its gradients matter
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.02)
    return Recommender(model, llm_tok, sid_tok, GenerateConfig(num_beams=8, top_k=4, device="cpu"))


def test_loss_by_hand():
    # two negatives with log-ratio gaps (to the target's) of 0.5 and -1.0, beta 2: softplus(log(e^1 + e^-2))
    policy = torch.tensor([[-1.0, -1.5, -4.0]])
    reference = torch.tensor([[-2.0, -3.0, -4.0]])  # ratios: target +1, negatives +1.5 and 0
    expected = math.log(1 + math.exp(1.0) + math.exp(-2.0))
    assert float(s_dpo_loss(policy, reference, 2.0)[0]) == pytest.approx(expected, rel=1e-6)
    # no change from the reference: log(1 + n), whatever the scores
    assert float(s_dpo_loss(reference, reference, 0.7)[0]) == pytest.approx(math.log(3))


def test_candidate_scores_are_the_search_scores(rec):
    recs = rec.recommend([list(h) for h in HISTORIES], k=4)
    scored = CandidateScorer(rec)(rec.model, HISTORIES, [r.items for r in recs])  # (5, 4)
    expected = torch.tensor([r.scores for r in recs])
    assert torch.allclose(scored, expected, atol=1e-4)


def test_negatives_are_the_best_items_that_are_neither_the_target_nor_bought(rec):
    samples = [Sample("u", h, t) for h, t in zip(HISTORIES, ["i2", "i3", "i4", "i5", "i9"], strict=True)]
    best = rec.recommend([list(s.history) for s in samples], k=4)
    negatives = find_negatives(rec, samples, 3)
    for s, z, r in zip(samples, negatives, best, strict=True):
        assert len(z) == 3 and s.target not in z and not set(z) & set(s.history)
        assert z == [i for i in r.items if i != s.target][:3]  # in the search's order


def test_a_few_steps_raise_the_target_over_its_negatives_and_leave_the_base_alone(rec):
    samples = [Sample(f"u{n}", h, IDS[(3 * n + 2) % len(IDS)]) for n, h in enumerate(HISTORIES)]
    samples = [s for s in samples if s.target not in s.history]
    frozen = {n: p.detach().clone() for n, p in rec.model.named_parameters() if not p.requires_grad}
    score = CandidateScorer(rec)
    negatives = find_negatives(rec, samples, 3)
    cands = [[s.target, *z] for s, z in zip(samples, negatives, strict=True)]
    histories = [s.history for s in samples]
    with torch.no_grad():
        before = score(rec.model, histories, cands)
    config = PreferenceConfig(negatives=3, num_beams=8, learning_rate=2e-2, batch_size=2, epochs=6, eval_steps=0,
                              eval_examples=0, bf16=False, seed=1)  # fmt: skip
    metrics = prefer(rec, rec.model, samples, [], config)
    with torch.no_grad():
        after = score(rec.model, histories, cands)
    assert s_dpo_loss(after, before, 1.0).mean() < math.log(1 + 3) - 0.1  # the margins grew
    assert metrics["steps"] == 6 * 3 and metrics["kept_step"] == metrics["steps"]
    for n, p in rec.model.named_parameters():
        if n in frozen:
            assert torch.equal(p, frozen[n]), n


@pytest.mark.parametrize("keep_by", ["target_loss", "preference_loss"])
def test_validation_keeps_the_best_step_and_can_keep_the_start(rec, keep_by):
    samples = [Sample(f"u{n}", h, IDS[(3 * n + 2) % len(IDS)]) for n, h in enumerate(HISTORIES)]
    samples = [s for s in samples if s.target not in s.history]
    start = {n: p.detach().clone() for n, p in rec.model.named_parameters() if p.requires_grad}
    # a huge learning rate: some steps are worse than others (and than the start) on validation
    config = PreferenceConfig(negatives=3, num_beams=8, learning_rate=5.0, batch_size=2, epochs=2, eval_steps=1,
                              eval_examples=5, bf16=False, keep_by=keep_by)  # fmt: skip
    metrics = prefer(rec, rec.model, samples, samples, config)
    measure = f"valid_{keep_by}"
    values = {h["step"]: h[measure] for h in metrics["log"] if measure in h}
    assert sorted(values) == list(range(metrics["steps"] + 1))  # every step validated, and the start
    assert metrics["kept_step"] == min(values, key=values.get)
    assert metrics[measure] == values[metrics["kept_step"]]
    kept_start = all(torch.equal(p, start[n]) for n, p in rec.model.named_parameters() if p.requires_grad)
    assert kept_start == (metrics["kept_step"] == 0)


def test_settings_and_output_folder_are_checked(tmp_path):
    with pytest.raises(SidrecError, match="beams"):
        PreferenceConfig(negatives=8, num_beams=5)
    with pytest.raises(SidrecError, match="beta"):
        PreferenceConfig(beta=0)
    with pytest.raises(SidrecError, match="keep-by"):
        PreferenceConfig(keep_by="recall")
    from sidrec.pipeline import prefer_llm

    with pytest.raises(SidrecError, match="another --out"):
        prefer_llm(None, tmp_path / "m", tmp_path / "m")


def test_a_merged_copy_as_reference_agrees_with_the_model_at_the_start(rec):
    import copy

    merged = Recommender(copy.deepcopy(rec.model).merge_and_unload(), rec.llm_tok, rec.sid_tok, rec.config)
    samples = [Sample(f"u{n}", h, IDS[(3 * n + 2) % len(IDS)]) for n, h in enumerate(HISTORIES)]
    samples = [s for s in samples if s.target not in s.history]
    config = PreferenceConfig(negatives=3, num_beams=8, batch_size=2, epochs=1, eval_steps=0, eval_examples=5)
    metrics = prefer(merged, rec.model, samples, samples, config)
    assert metrics["log"][0]["valid_preference_loss"] == pytest.approx(math.log(1 + 3), abs=1e-4)
