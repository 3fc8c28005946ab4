"""The cold-start protocol: withheld items never reach training, enter by text, and are reported apart."""

import json

import pytest

from sidrec.coldstart import ColdConfig, by_target, cold_items, withhold
from sidrec.data import load_dataset, split_dataset
from sidrec.errors import SidrecError


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from sidrec.sample import SampleConfig, write_sample

    folder = tmp_path_factory.mktemp("cold") / "data"
    write_sample(folder, SampleConfig(n_items=300, n_users=150))
    return folder


def test_withheld_items_reach_no_training_input(data):
    ds = load_dataset(data)
    config = ColdConfig(0.1, seed=1)
    cold = set(cold_items(ds, config))
    assert len(cold) == 30
    warm = withhold(ds, config)
    full, split = split_dataset(ds), split_dataset(warm)
    assert not cold & set(warm.item_ids) and len(warm.item_ids) == 270
    assert all(not cold & set(seq) for seq in warm.sequences.values())
    for s in split.train + split.valid:
        assert s.target not in cold and not cold & set(s.history)
    # the training sequences are the full split's, less the cold items: no valid or test target enters training
    assert split.train_sequences == {u: [i for i in seq if i not in cold] for u, seq in full.train_sequences.items()}
    # every warm valid sample is a full one with the cold items taken out of its history
    full_valid = {s.user_id: s for s in full.valid}
    assert len(split.valid) == sum(s.target not in cold for s in full.valid)
    for s in split.valid:
        assert s.target == full_valid[s.user_id].target
        assert s.history == tuple(i for i in full_valid[s.user_id].history if i not in cold)
    assert warm.fingerprint() != ds.fingerprint()


def test_the_draw_depends_on_the_seed_and_the_fraction_is_checked(data):
    ds = load_dataset(data)
    assert cold_items(ds, ColdConfig(0.1, seed=0)) != cold_items(ds, ColdConfig(0.1, seed=1))
    for bad in (0.0, 1.0, -0.2):
        with pytest.raises(SidrecError, match="between 0 and 1"):
            ColdConfig(bad)


def test_by_target_splits_users_and_their_metrics():
    lists = {"m": [["c1", "x"], ["w1"], ["x"]]}
    r = by_target(lists, ["c1", "w1", "w2"], cold={"c1", "c2"})
    assert (r["cold"]["users"], r["warm"]["users"]) == (1, 2)
    assert r["cold"]["models"]["m"]["recall@5"] == 1.0 and r["warm"]["models"]["m"]["recall@5"] == 0.5
    assert r["warm"]["standard_errors"]["m"]["recall@5"] == 0.5  # values 1, 0: sd 0.7071, se 0.7071 / sqrt(2)


def test_cold_start_run_end_to_end(data, tmp_path, capsys):
    from sidrec.cli import main
    from tests.tiny import tiny_base

    cold = ["--cold-items", "0.1", "--cold-seed", "2"]
    tok, llm = tmp_path / "tok", tmp_path / "llm"
    assert main(["tokenizer", "fit", str(data), "--out", str(tok), "--codebook-size", "16", "--quiet", *cold]) == 0
    train = ["llm", "train", str(data), "--tokenizer", str(tok), "--out", str(llm), "--base", tiny_base(tmp_path / "b"),
             "--batch-size", "4", "--max-steps", "2"]  # fmt: skip
    assert main(train) == 2, "a tokenizer fitted for a cold-start run is refused without the same draw"
    assert "fitted on another catalogue" in capsys.readouterr().err
    assert main([*train, *cold]) == 0
    capsys.readouterr()

    out = tmp_path / "eval.json"
    assert main(["evaluate", str(llm), str(data), "--beams", "10", "--out", str(out), "--quiet", *cold]) == 0
    result = json.loads(out.read_text())
    withheld = set(cold_items(load_dataset(data), ColdConfig(0.1, seed=2)))
    assert result["cold_start"]["items"] == result["cold_start"]["placed"] == len(withheld) == 30
    # placed into occupied cells and scored as their cell: every code the search asks the model for has a token
    assert result["cold_start"]["placement"] == "occupied" and result["cold_start"]["placed_score"] == "cell"
    assert result["cold_start"]["unreachable"] == 0
    from sidrec.tokenizer import SIDTokenizer

    assert result["tokenizer_fingerprint"] == SIDTokenizer.load(tok).fingerprint(), "the artifact as saved"
    groups = result["by_target"]
    assert groups["cold"]["users"] + groups["warm"]["users"] == result["users"]
    assert groups["cold"]["users"] == sum(u["target"] in withheld for u in result["per_user"]) > 0
    assert set(result["models"]) == {"sid-llm", "popularity", "sasrec", "text"}
    for name in ("sasrec", "popularity"):  # trained without the cold items, they can never return one
        assert groups["cold"]["models"][name]["recall@10"] == 0.0
    assert all(u["cold_target"] == (u["target"] in withheld) for u in result["per_user"])

    assert main(["evaluate", str(llm), str(data), "--quiet"]) == 2, "the full catalogue is not what it was trained on"
    assert "fitted on another catalogue" in capsys.readouterr().err
    assert main(["cache", "build", str(llm), str(data), "--out", str(tmp_path / "c.sqlite"), "--quiet"]) == 2
    assert "fitted on another catalogue" in capsys.readouterr().err and not (tmp_path / "c.sqlite").exists()
    assert main(["evaluate", str(llm), str(data), "--quiet", "--cold-trained-on-all", *cold]) == 2
    capsys.readouterr()
    assert main(["evaluate", "-", str(data), "--no-llm", "--cold-trained-on-all", "--quiet"]) == 2
    assert "give --cold-items too" in capsys.readouterr().err
