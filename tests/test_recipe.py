"""The recipe evidence table: per variant over seeds, set against the full recipe, with hand-computed values."""

import math

import pytest

from sidrec.ablation import recipe_display_rows, recipe_evidence, recipe_sentences, verdict
from sidrec.errors import SidrecError


def run(variant: str, seed: int, recall: float, se: float, **extra) -> dict:
    return {"variant": variant, "seed": seed, "metrics": {"recall@10": recall}, "standard_errors": {"recall@10": se},
            **extra}  # fmt: skip


RUNS = [
    run("full recipe", 0, 0.40, 0.010, steps=1000, valid_loss=1.4),
    run("full recipe", 1, 0.42, 0.012, steps=1000, valid_loss=1.3),
    run("without a", 0, 0.35, 0.010, steps=900),
    run("without b", 0, 0.405, 0.011),
    run("without a", 1, 0.33, 0.008, steps=900),
]


def test_means_spreads_and_differences_by_hand():
    table = recipe_evidence(RUNS, metrics=("recall@10",))
    rows = {r["variant"]: r for r in table["rows"]}
    assert [r["variant"] for r in table["rows"]] == ["full recipe", "without a", "without b"]
    full, a, b = rows["full recipe"], rows["without a"], rows["without b"]
    assert full["seeds"] == [0, 1] and full["steps"] == 1000 and full["valid_loss"] == pytest.approx(1.35)
    # mean 0.41, sample sd of (0.40, 0.42) = 0.02 / sqrt(2), mean standard error 0.011
    assert full["recall@10"] == {"mean": 0.41, "seed_sd": round(0.02 / math.sqrt(2), 4), "se": 0.011}
    assert "vs_reference" not in full
    assert a["recall@10"]["mean"] == 0.34 and a["recall@10"]["se"] == 0.009
    vs = a["vs_reference"]["recall@10"]
    assert vs["difference"] == pytest.approx(-0.07)
    assert vs["se"] == pytest.approx(round(math.sqrt(0.009**2 + 0.011**2), 4))
    assert vs["seed_spread"] == round(0.02 / math.sqrt(2), 4) and vs["verdict"] == "worse"
    # 0.005 apart with one standard error of about 0.015: level, whatever the sign
    assert b["vs_reference"]["recall@10"]["verdict"] == "level" and b["seeds"] == [0]


def test_verdict_needs_both_two_standard_errors_and_the_seed_spread():
    assert verdict(0.05, 0.02, 0.01) == "better"
    assert verdict(0.05, 0.03, 0.01) == "level"  # inside two standard errors
    assert verdict(0.05, 0.01, 0.06) == "level"  # inside the seed spread
    assert verdict(-0.05, 0.01, 0.01) == "worse"


def test_sentences_and_display_rows_follow_the_table():
    table = recipe_evidence(RUNS, metrics=("recall@10",))
    sentences = recipe_sentences(table)
    assert sentences == [
        "without a (2 seeds): worse than the full recipe on Recall@10 (-0.0700 ± 0.0142).",
        "without b (1 seed): level with the full recipe on Recall@10 (-0.0050 ± 0.0156).",
    ]
    rows = recipe_display_rows(table)
    assert rows[0]["Δ recall@10"] == "reference" and rows[0]["recall@10"] == "0.4100 ± 0.0110"
    assert rows[1]["Δ recall@10"] == "-0.0700 ± 0.0142 (worse)"


def test_refuses_tables_without_the_reference_or_with_a_seed_twice():
    with pytest.raises(SidrecError, match="no run of the reference recipe"):
        recipe_evidence([r for r in RUNS if r["variant"] != "full recipe"], metrics=("recall@10",))
    with pytest.raises(SidrecError, match="same seed"):
        recipe_evidence([*RUNS, run("without b", 0, 0.39, 0.01)], metrics=("recall@10",))


def test_paired_standard_error_when_every_run_has_ranks_for_the_same_users():
    # four users; the reference finds u1 and u2 at ranks 1 and 3, the variant finds u1 and u3 at rank 1
    both = {"ndcg@10": 0.4}
    ref = run("full recipe", 0, 0.5, 0.25, ranks={"u1": 1, "u2": 3, "u3": None, "u4": None})
    var = run("without a", 0, 0.5, 0.25, ranks={"u1": 1, "u2": None, "u3": 1, "u4": 12})
    for r in (ref, var):
        r["metrics"] |= both
        r["standard_errors"] |= {"ndcg@10": 0.2}
    vs = recipe_evidence([ref, var], metrics=("recall@10", "ndcg@10"))["rows"][1]["vs_reference"]
    # recall differences per user 0, -1, 1, 0: mean 0, sample sd sqrt(2/3), over sqrt(4) users
    assert vs["recall@10"]["paired"] and vs["recall@10"]["se"] == round(math.sqrt(2 / 3) / 2, 4)
    # NDCG: 0, -0.5, 1, 0 (rank 3 is 1/log2(4) = 0.5): mean 0.125, sd sqrt((0.125^2 * 2 + 0.625^2 + 0.875^2) / 3)
    d = [0.0, -0.5, 1.0, 0.0]
    sd = math.sqrt(sum((x - 0.125) ** 2 for x in d) / 3)
    assert vs["ndcg@10"]["se"] == round(sd / 2, 4)
    # one run without ranks, or ranks over other users: the unpaired standard error, said so
    for other in ({}, {"ranks": {"u1": 1}}):
        bare = {k: v for k, v in var.items() if k != "ranks"} | other
        unpaired = recipe_evidence([ref, bare], metrics=("recall@10",))["rows"][1]["vs_reference"]["recall@10"]
        assert not unpaired["paired"] and unpaired["se"] == round(math.sqrt(2) * 0.25, 4)
    table = recipe_evidence([ref, var], metrics=("recall@10",))
    assert recipe_sentences(table) == [
        f"without a (1 seed): level with the full recipe on Recall@10 (+0.0000 ± {math.sqrt(2 / 3) / 2:.4f}, paired)."
    ]
    rows = recipe_display_rows(table)
    assert rows[1]["Δ recall@10"] == f"+0.0000 ± {round(math.sqrt(2 / 3) / 2, 4):.4f} (level, paired)"


def _recipe_table():
    """benchmarks/recipe_table.py, loaded as a module (benchmarks/ is not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "recipe_table.py"
    spec = importlib.util.spec_from_file_location("recipe_table", path)
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    return table


def test_benchmark_table_names_a_longer_schedule_apart_from_the_full_recipe():
    """benchmarks/recipe_table.py: a full-task run on another schedule is its own variant, not a second seed 0."""
    table = _recipe_table()
    assert table.variant(None, None) == "full recipe"
    assert table.variant(None, 2000) == "full recipe, 2,000-step schedule"
    assert table.variant("sequential-textual", 730) == "without query and negative and ts_align"
    assert table.variant("sequential", None) == "sequential only, equal steps"
    assert table.variant("sequential", 541, "mean") == "sequential only, mean init"
    parsed = {
        name: table.RUN.match(f"evaluate_sample_{name}.json").groups()[1:]
        for name in (
            "seed0",
            "seed1_sequential_541steps",
            "seed0_init-random",
            "seed2_sequential-textual_init-mean_730steps",
        )
    }
    assert parsed == {
        "seed0": ("0", None, None, None, None),
        "seed1_sequential_541steps": ("1", "sequential", None, None, "541"),
        "seed0_init-random": ("0", None, "random", None, None),
        "seed2_sequential-textual_init-mean_730steps": ("2", "sequential-textual", "mean", None, "730"),
    }
    rows = [run(table.variant(None, None), 0, 0.40, 0.01), run(table.variant(None, 2000), 0, 0.35, 0.01)]
    assert [r["variant"] for r in recipe_evidence(rows, metrics=("recall@10",))["rows"]] == [
        "full recipe",
        "full recipe, 2,000-step schedule",
    ]


def test_benchmark_table_names_a_tokenizer_variant_by_what_its_tokenizer_changes():
    """recipe_repeat.sh TOK=...: the run's tokenizer is the variant's last word, never a task or a second seed."""
    table = _recipe_table()
    default = "sequential-textual-query-ts_align"
    groups = table.RUN.match(f"evaluate_sample_seed1_{default}_tok-rqvae.json").groups()
    assert groups == (f"seed1_{default}_tok-rqvae", "1", default, None, "rqvae", None)
    assert table.variant(default, None, tok="rqvae") == "the default recipe, RQ-VAE tokenizer"
    assert table.variant(default, None) == "without negative, equal steps: the default recipe"
    assert table.variant(None, None, tok="text") == "full recipe, text-only tokenizer"
    assert table.variant(None, None, tok="pq") == "full recipe, pq tokenizer"  # a name it does not know, as it is
    assert table.variant("sequential", 541, "mean", "unbalanced") == (
        "sequential only, unbalanced k-means tokenizer, mean init"
    )
    assert table.RUN.match("evaluate_sample_seed0_tok-text_init-mean.json") is None  # recipe_repeat.sh's order only


def test_benchmark_table_sets_every_run_against_another_reference():
    """recipe_table.py --reference: the chosen variant comes first and every difference is taken from it."""
    table = _recipe_table()
    against_b = recipe_evidence(RUNS, reference="without b", metrics=("recall@10",))
    text = table.markdown(against_b).splitlines()
    assert "vs without b, Recall@10" in text[0]
    assert text[2].startswith("| without b | 0 |")
    # full recipe 0.41 (se 0.011) against 0.405 (se 0.011): +0.005 ± sqrt(2) * 0.011, unpaired
    full = next(line for line in text if line.startswith("| full recipe |"))
    assert "+0.0050 ± 0.0156: **level**" in full
