"""SASRec's loss on target positions only; the grid keeps the point that won on validation; a tuned SASRec is
used by the evaluation only with the data, withheld items and history rule it was tuned on."""

import json

import pytest
import torch
from torch import nn

from sidrec.baselines import SASRec, SASRecConfig, SASRecNet, evaluate_lists
from sidrec.cli import main
from sidrec.coldstart import ColdConfig
from sidrec.data import leave_one_out, load_dataset, split_dataset
from sidrec.errors import SidrecError
from sidrec.sample import SampleConfig, write_sample
from sidrec.sasrec_grid import GridConfig, check_belongs, save_tuned, tune


def cyclic(n_users=40, n_items=10, length=8):
    return {f"u{u}": [f"i{(u + t) % n_items}" for t in range(length)] for u in range(n_users)}


def test_loss_on_target_positions_equals_the_padded_cross_entropy():
    torch.manual_seed(0)
    net = SASRecNet(12, SASRecConfig(hidden=8, max_len=5, dropout=0.0)).eval()
    batch = torch.tensor([[0, 0, 0, 3, 4, 5], [1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 7, 8]])  # left-padded windows
    inp, tgt = batch[:, :-1], batch[:, 1:]
    logits = net(inp) @ net.item.weight.T  # (B, T, n+1): every position scored, padding ignored by the loss
    padded = nn.functional.cross_entropy(logits.reshape(-1, 13), tgt.reshape(-1), ignore_index=0)
    assert net.loss(inp, tgt).item() == pytest.approx(padded.item(), rel=1e-6)


def test_training_windows_by_hand():
    model = SASRec(["a", "b", "c", "d", "e"], SASRecConfig(hidden=8, max_len=2))
    # indices a=1 ... e=5; a 5-item sequence gives the windows ending at its last item and two items earlier
    # (3 items each: 2 inputs and their shifted targets), a 1-item sequence none
    assert model.windows([list("abcde"), ["a"], list("bd")]).tolist() == [[3, 4, 5], [1, 2, 3], [0, 2, 4]]


def test_early_stopping_waits_for_min_epochs():
    # a learning rate of 0: validation never beats epoch 1, so patience 2 is spent at epoch 3
    split = leave_one_out(cyclic())
    items = [f"i{i}" for i in range(10)]
    for min_epochs, epochs in ((0, 3), (6, 6), (20, 10)):
        config = SASRecConfig(hidden=8, max_epochs=10, patience=2, min_epochs=min_epochs, lr=0.0)
        fit = SASRec(items, config).fit(split)
        assert (fit["epochs"], fit["best_epoch"]) == (epochs, 1)
        assert fit["stopped"] == ("early" if epochs < 10 else "at max_epochs")


def test_the_grid_keeps_the_winner_at_its_best_epoch():
    split = leave_one_out(cyclic())
    base = SASRecConfig(hidden=16, max_epochs=8, patience=3, min_epochs=0, batch_size=16, lr=5e-3)
    grid = GridConfig(hidden=(16,), dropout=(0.0, 0.5), max_len=(3, 6), base=base)
    model, rows = tune([f"i{i}" for i in range(10)], split, grid)
    assert [(r["dropout"], r["max_len"]) for r in rows] == [(0.0, 3), (0.0, 6), (0.5, 3), (0.5, 6)]
    for r in rows:  # patience 3: stopped early exactly when 3 epochs followed the best one
        assert r["stopped"] == ("early" if r["epochs"] - r["best_epoch"] == 3 else "at max_epochs")
        assert r["stopped"] == "early" or r["epochs"] == 8
    (winner,) = [r for r in rows if r["winner"]]
    assert winner["best_valid_ndcg@10"] == max(r["best_valid_ndcg@10"] for r in rows)
    assert (model.config.dropout, model.config.max_len) == (winner["dropout"], winner["max_len"])
    # the model returned is the winner as it stopped: its validation score is the one the grid recorded
    valid = split.valid[:2000]
    hist = [list(s.history) for s in valid]
    lists = model.recommend(hist, exclude=[set(h) for h in hist])
    assert evaluate_lists(lists, valid)["ndcg@10"] == pytest.approx(winner["best_valid_ndcg@10"], abs=1e-4)


def test_an_interrupted_grid_resumes_from_its_saved_points(tmp_path, monkeypatch):
    split = leave_one_out(cyclic())
    items = [f"i{i}" for i in range(10)]
    grid = GridConfig(hidden=(16,), dropout=(0.0, 0.5), max_len=(4,), base=SASRecConfig(hidden=16, max_epochs=3))
    model, rows = tune(items, split, grid, work=tmp_path, key={"data": "a"})
    assert len(list(tmp_path.iterdir())) == 2  # one saved model per point

    def refit(*args, **kwargs):
        raise AssertionError("a saved point was fitted again")

    monkeypatch.setattr(SASRec, "fit", refit)
    again, rows_again = tune(items, split, grid, work=tmp_path, key={"data": "a"})
    assert rows_again == rows and again.config == model.config
    hist = [list(s.history) for s in split.test]
    assert again.recommend(hist) == model.recommend(hist)
    with pytest.raises(AssertionError, match="fitted again"):  # another split behind the same folder: fitted anew
        tune(items, split, grid, work=tmp_path, key={"data": "b"})


def test_an_empty_grid_says_so():
    with pytest.raises(SidrecError, match="at least one value"):
        GridConfig(hidden=()).points()


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """A sample catalogue and a SASRec tuned on it by the command line (a one-point grid, two epochs)."""
    root = tmp_path_factory.mktemp("grid")
    write_sample(root / "d", SampleConfig(n_items=300, n_users=60))
    assert main(["sasrec", str(root / "d"), "--out", str(root / "s"), "--hidden", "16", "--dropout", "0.1",
                 "--max-len", "8", "--device", "cpu", "--quiet", "--json"]) == 0  # fmt: skip
    return root


def test_a_tuned_sasrec_belongs_only_to_what_it_was_tuned_on(tuned, tmp_path):
    ds = load_dataset(tuned / "d")
    metrics = check_belongs(tuned / "s", ds, None, exclude_history=True)
    assert [(r["hidden"], r["dropout"], r["max_len"], r["winner"]) for r in metrics["grid"]] == [(16, 0.1, 8, True)]
    with pytest.raises(SidrecError, match="withheld"):
        check_belongs(tuned / "s", ds, ColdConfig(0.1), exclude_history=True)
    with pytest.raises(SidrecError, match="history rule"):
        check_belongs(tuned / "s", ds, None, exclude_history=False)
    write_sample(tmp_path / "other", SampleConfig(n_items=300, n_users=60, seed=1))
    with pytest.raises(SidrecError, match="other data"):
        check_belongs(tuned / "s", load_dataset(tmp_path / "other"), None, exclude_history=True)
    plain = SASRec(ds.item_ids, SASRecConfig(hidden=8))
    plain.save(tmp_path / "plain")  # saved by SASRec.save alone: nothing to check it against
    with pytest.raises(SidrecError, match="fingerprint"):
        check_belongs(tmp_path / "plain", ds, None, exclude_history=True)


def test_the_evaluation_uses_the_tuned_sasrec_as_saved(tuned, capsys):
    out = tuned / "evaluation.json"
    args = ["evaluate", "-", str(tuned / "d"), "--no-llm", "--device", "cpu", "--quiet"]
    assert main([*args, "--sasrec", str(tuned / "s"), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["sasrec_tuned"]["winner"]["hidden"] == 16 and "sasrec_train_seconds" not in result["timings"]
    ds = load_dataset(tuned / "d")
    split = split_dataset(ds)
    hist = [list(s.history) for s in split.test]
    from sidrec.evaluate import seen_items

    lists = SASRec.load(tuned / "s").recommend(hist, exclude=seen_items(split.test, split))
    assert result["models"]["sasrec"] == evaluate_lists(lists, split.test)
    capsys.readouterr()
    assert main([*args, "--sasrec", str(tuned / "s"), "--allow-repeats"]) == 2
    assert capsys.readouterr().err.count("\n") == 1  # one line, no traceback
    assert main([*args, "--sasrec", str(tuned / "s"), "--baselines", "popularity"]) == 2


def test_a_config_from_another_version_is_one_clear_error(tuned, tmp_path):
    import shutil

    shutil.copytree(tuned / "s", tmp_path / "s")
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    manifest["config"]["attention"] = "flash"  # a setting this version does not have
    (tmp_path / "s" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SidrecError, match="cannot read"):
        SASRec.load(tmp_path / "s")


def test_saving_again_keeps_what_it_was_tuned_on(tuned, tmp_path):
    ds = load_dataset(tuned / "d")
    model = SASRec.load(tuned / "s", device="cpu")
    save_tuned(model, [{"hidden": 16, "winner": True}], tmp_path / "again", ds, ColdConfig(0.1, seed=2), True)
    assert check_belongs(tmp_path / "again", ds, ColdConfig(0.1, seed=2), True)["cold_start"] == {
        "fraction": 0.1,
        "seed": 2,
    }
