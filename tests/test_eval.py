"""Metrics on hand-computed cases; SASRec learns a learnable sequence; no leakage into baselines."""

import math

import pytest

from sidrec.baselines import Popularity, SASRec, SASRecConfig, evaluate_lists
from sidrec.data import leave_one_out
from sidrec.evaluate import metrics_table
from sidrec.metrics import ndcg_at, rank_of, recall_at, recall_curve, summarize


@pytest.mark.parametrize(
    "rank,recall5,ndcg5",
    [(1, 1.0, 1.0), (3, 1.0, 1 / math.log2(4)), (None, 0.0, 0.0), (6, 0.0, 0.0)],
)
def test_metrics_hand_cases(rank, recall5, ndcg5):
    ranked = [f"x{i}" for i in range(1, 11)]
    target = f"x{rank}" if rank else "absent"
    assert rank_of(ranked, target) == rank
    assert recall_at(ranked, target, 5) == recall5
    assert ndcg_at(ranked, target, 5) == pytest.approx(ndcg5)


def test_summary_averages_over_queries():
    lists = [["a", "b"], ["b", "a"], ["c", "d"]]
    out = summarize(lists, ["a", "a", "z"], ks=(1, 2))
    assert out["recall@1"] == round(1 / 3, 4) and out["recall@2"] == round(2 / 3, 4)
    assert out["ndcg@2"] == round((1 + 1 / math.log2(3)) / 3, 4)


def cyclic(n_users=60, n_items=10, length=8):
    return {f"u{u}": [f"i{(u + t) % n_items}" for t in range(length)] for u in range(n_users)}


def test_sasrec_learns_a_cycle_in_seconds():
    split = leave_one_out(cyclic())
    model = SASRec(
        [f"i{i}" for i in range(10)],
        SASRecConfig(hidden=32, max_epochs=60, patience=10, min_epochs=0, dropout=0.0, batch_size=16, lr=5e-3),
    )
    model.fit(split)  # early stopping under the history rule, as in the evaluation
    histories = [list(s.history) for s in split.test]
    metrics = evaluate_lists(model.recommend(histories, k=10, exclude=[set(h) for h in histories]), split.test)
    assert metrics["recall@5"] >= 0.95 and metrics["ndcg@10"] >= 0.9


def test_popularity_counts_training_only():
    seqs = {"u1": ["a", "b", "c", "z"], "u2": ["a", "b", "d", "z"], "u3": ["a", "c", "e", "z"]}
    split = leave_one_out(seqs)
    pop = Popularity(split)
    # "z" is every user's test target: it must not be the most popular item (it is never seen in training)
    assert "z" not in pop.ranked and pop.ranked[0] == "a"


def test_sasrec_vocabulary_statistics_never_see_test_targets():
    seqs = cyclic()
    seqs["u_extra"] = ["i1", "i2", "i3", "only_test"]
    split = leave_one_out(seqs)
    seen = {i for s in split.train_sequences.values() for i in s}
    assert "only_test" not in seen  # what SASRec and popularity learn from


def test_sasrec_save_load_same_lists(tmp_path):
    split = leave_one_out(cyclic())
    model = SASRec([f"i{i}" for i in range(10)], SASRecConfig(hidden=16, max_epochs=2))
    model.fit(split)
    model.save(tmp_path / "s")
    back = SASRec.load(tmp_path / "s")
    histories = [list(s.history) for s in split.test]
    assert back.recommend(histories) == model.recommend(histories)


def test_recall_curve_from_ranks_agrees_with_the_summary():
    lists = [["a", "b", "c"], ["b", "c", "a"], ["c", "b", "x"], ["x", "y", "z"]]
    targets = ["a", "a", "b", "a"]
    ranks = [rank_of(lst, t) for lst, t in zip(lists, targets, strict=True)]
    assert ranks == [1, 3, 2, None]
    assert recall_curve(ranks, [1, 2, 3]) == [0.25, 0.5, 0.75]
    assert recall_curve(ranks, [2])[0] == summarize(lists, targets, ks=(2,))["recall@2"]


def test_metrics_table_puts_the_sid_llm_first():
    table = metrics_table({"popularity": {"ndcg@5": 0.1, "recall@5": 0.2}, "sid-llm": {"recall@5": 0.4}})
    assert table.columns.tolist() == ["model", "recall@5", "ndcg@5"]
    assert table["model"].tolist() == ["sid-llm", "popularity"]
    assert table["recall@5"].tolist() == [0.4, 0.2]


def test_baselines_follow_the_history_rule():
    split = leave_one_out(cyclic())
    model = SASRec([f"i{i}" for i in range(10)], SASRecConfig(hidden=16, max_epochs=2))
    model.fit(split)
    histories = [list(s.history) for s in split.test]
    seen = [set(h) for h in histories]  # 7 of the 10 items each
    for rec in (model, Popularity(split)):
        free = rec.recommend(histories, k=3, exclude=None)
        ruled = rec.recommend(histories, k=3, exclude=seen)
        assert all(len(r) == 3 and not set(r) & s for r, s in zip(ruled, seen, strict=True))  # 3 items are left
        assert any(set(f) & s for f, s in zip(free, seen, strict=True))  # without the rule, repeats do come back
    # popularity keeps its order among the items that are left
    pop = Popularity(split)
    assert pop.recommend([["x"]], k=4, exclude=[{pop.ranked[1]}])[0] == [pop.ranked[i] for i in (0, 2, 3, 4)]


def test_with_fewer_items_left_than_k_every_baseline_returns_a_shorter_list():
    import numpy as np

    from sidrec.baselines import TextSimilarity

    items = [f"i{i}" for i in range(10)]
    split = leave_one_out(cyclic())
    sasrec = SASRec(items, SASRecConfig(hidden=16, max_epochs=1))
    sasrec.fit(split)
    text = TextSimilarity(items, np.eye(10, dtype=np.float32))
    for rec in (sasrec, Popularity(split), text):  # never an excluded item, nor padding, to fill the list
        assert rec.recommend([items[:9]], k=3, exclude=[set(items[:9])]) == [["i9"]]


def test_seen_items_cover_the_whole_earlier_sequence():
    from sidrec.evaluate import seen_items

    seqs = {"u": [f"i{t}" for t in range(30)]}
    split = leave_one_out(seqs, max_history=20)
    (test,) = split.test
    assert len(test.history) == 20 and seen_items([test], split)[0] == {f"i{t}" for t in range(29)}
    (valid,) = split.valid
    assert seen_items([valid], split)[0] == {f"i{t}" for t in range(28)}


def test_standard_errors_hand_case():
    from sidrec.metrics import standard_errors

    lists = [["a"], ["b"], ["a"], ["a"]]  # recall@1: 1, 0, 1, 1 -> mean 0.75, sd 0.5, se 0.25
    assert standard_errors(lists, ["a", "a", "a", "a"], ks=(1,))["recall@1"] == 0.25


@pytest.mark.parametrize(
    "field,message", [({"k": 5}, "at least 10 items"), ({"max_users": -3}, "must be 0 \\(every user\\) or more")]
)
def test_evaluation_settings_that_would_misreport_are_refused(field, message):
    from sidrec.errors import SidrecError
    from sidrec.evaluate import EvalConfig

    with pytest.raises(SidrecError, match=message):
        EvalConfig(**field)


def test_evaluate_runs_the_baselines_it_is_asked_for(tmp_path, capsys):
    import json

    from sidrec.cli import main
    from sidrec.sample import SampleConfig, write_sample

    write_sample(tmp_path / "d", SampleConfig(n_items=300, n_users=60))
    assert main(["evaluate", "-", str(tmp_path / "d"), "--no-llm", "--baselines", "popularity", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(out["models"]) == ["popularity"]
    assert main(["evaluate", "-", str(tmp_path / "d"), "--no-llm", "--baselines", "bm25"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --baselines: unknown baseline 'bm25' (choose from popularity, sasrec, text, or none)"]


def test_a_bounded_evaluation_trains_sasrec_on_its_users_only():
    from sidrec.data import leave_one_out
    from sidrec.evaluate import users_only

    split = leave_one_out({"u1": list("abcde"), "u2": list("fghij"), "u3": list("klmno")})
    part = users_only(split, {"u1", "u3"})
    assert part.train_sequences == {"u1": list("abc"), "u3": list("klm")}
    assert {s.user_id for s in part.train + part.valid + part.test} == {"u1", "u3"}
    assert len(part.train) == 4 and [s.target for s in part.valid] == ["d", "n"]
