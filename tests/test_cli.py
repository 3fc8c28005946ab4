"""The command line end to end on small data: fit, show, and clear failures."""

import json

import pytest

from sidrec.cli import main
from sidrec.sample import SampleConfig, write_sample


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    write_sample(folder, SampleConfig(n_items=300, n_users=150))
    return folder


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def fitted(small, tmp_path_factory):
    out = tmp_path_factory.mktemp("tok") / "tokenizer"
    code = main(["tokenizer", "fit", str(small), "--out", str(out), "--codebook-size", "16", "--quiet", "--json"])
    assert code == 0
    return out


def test_fit_reports_the_promised_fields(small, tmp_path, capsys):
    out = tmp_path / "tok"
    assert main(["tokenizer", "fit", str(small), "--out", str(out), "--codebook-size", "16", "--quiet", "--json"]) == 0
    stats = last_json(capsys)
    for key in ("collision_rate_before_dedup", "collision_rate", "utilization", "fit_seconds", "entropy_bits"):
        assert key in stats
    assert stats["collision_rate"] == 0
    assert len(stats["utilization"]) == 4 and stats["items"] == 300
    assert (out / "manifest.json").exists() and (out / "keywords.json").exists()


def test_show_item_and_sid_are_inverse(fitted, capsys):
    assert main(["tokenizer", "show", str(fitted), "--item", "I0001", "--json"]) == 0
    sid = last_json(capsys)["sid"]
    assert main(["tokenizer", "show", str(fitted), "--sid", sid, "--json"]) == 0
    assert last_json(capsys)["item_id"] == "I0001"


def test_show_names_the_codes_by_the_fingerprint_saved_with_them(fitted, capsys):
    """What a model and a cache record of their tokenizer: computed from the codes as loaded, it is the one saved."""
    from sidrec.tokenizer import saved_fingerprint

    assert main(["tokenizer", "show", str(fitted), "--json"]) == 0
    summary = last_json(capsys)
    assert summary["fingerprint"] == saved_fingerprint(fitted) and len(summary["fingerprint"]) == 16
    assert summary["items"] == 300 and summary["levels"] == 4


def test_show_token_has_keywords(fitted, capsys):
    assert main(["tokenizer", "show", str(fitted), "--token", "<a_0>", "--json"]) == 0
    info = last_json(capsys)
    assert info["keywords"] and info["description"].endswith(".")


def test_unknown_item_is_one_line_status_2(fitted, capsys):
    assert main(["tokenizer", "show", str(fitted), "--item", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: unknown item 'nope'"


def test_show_refuses_a_folder_that_is_not_a_tokenizer(tmp_path, capsys):
    assert main(["tokenizer", "show", str(tmp_path)]) == 2
    assert "not a sidrec tokenizer artifact" in capsys.readouterr().err


def test_bench_ablation_writes_the_table_the_app_reads(tmp_path, monkeypatch, capsys):
    result = {"steps": 2, "rows": [{"variant": "default (sa, all tasks)", "valid_loss": 2.0, "steps": 2}]}
    monkeypatch.setattr("sidrec.ablation.bench_ablation", lambda data, tokenizer, steps, **kw: result)
    out = tmp_path / "ws" / "ablation.json"
    argv = ["bench", "ablation", str(tmp_path), "--tokenizer", str(tmp_path), "--steps", "2", "--out", str(out)]
    assert main([*argv, "--json"]) == 0
    assert json.loads(out.read_text()) == result == last_json(capsys)


def test_command_line_defaults_are_the_configs_defaults(tmp_path):
    """Options are read from the dataclasses: with no option given, the configs built are the default ones."""
    from sidrec.cli import build_parser
    from sidrec.commands import tokenizer_config_from_args, train_config_from_args
    from sidrec.model import TrainConfig
    from sidrec.tokenizer import TokenizerConfig

    parser = build_parser()
    fit = parser.parse_args(["tokenizer", "fit", "d", "--out", str(tmp_path / "t")])
    assert tokenizer_config_from_args(fit) == TokenizerConfig()
    train = parser.parse_args(["llm", "train", "d", "--tokenizer", "t", "--out", str(tmp_path / "m")])
    assert train_config_from_args(train) == TrainConfig()


@pytest.mark.parametrize(
    "args, message",
    [
        (["tokenizer", "fit", "{data}", "--out", "{tmp}/t", "--behavior-weight", "1.5"], "between 0 and 1"),
        (["tokenizer", "fit", "{data}", "--out", "{tmp}/t", "--codebook-size", "1"], "at least 2 codes"),
        (["tokenizer", "fit", "{data}", "--out", "{tmp}/t", "--embedding", "behavior", "--first-level", "text"],
         "no text part"),
        (["tokenizer", "fit", "{data}", "--out", "{tmp}/t", "--method", "rq-vae", "--first-level", "text"],
         "needs rq-kmeans"),
        (["llm", "train", "{data}", "--tokenizer", "{tok}", "--out", "{tmp}/m", "--early-stopping", "2"],
         "early stopping needs a validation point"),
        (["llm", "train", "{data}", "--tokenizer", "{tok}", "--out", "{tmp}/m", "--max-steps", "0"],
         "max_steps must be at least 1"),
        (["llm", "train", "{data}", "--tokenizer", "{tok}", "--out", "{tmp}/m", "--lora-dropout", "1"],
         "probability below 1"),
        (["llm", "train", "{data}", "--tokenizer", "{tok}", "--out", "{tmp}/m", "--weight-decay", "-0.1"],
         "cannot be negative"),
        (["llm", "train", "{data}", "--tokenizer", "{tok}", "--out", "{tok}"],
         "another kind of artifact (tokenizer, not llm)"),
        (["sasrec", "{data}", "--out", "{tok}"], "another kind of artifact (tokenizer, not sasrec)"),
    ],
)  # fmt: skip
def test_bad_settings_are_refused_before_any_work(small, fitted, tmp_path, capsys, args, message):
    argv = [a.format(data=small, tmp=tmp_path, tok=fitted) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not any(tmp_path.iterdir()), "nothing was written"


def test_an_output_folder_of_other_files_is_left_as_it_was(small, capsys):
    before = {p.name: p.read_bytes() for p in small.iterdir()}
    assert main(["tokenizer", "fit", str(small), "--out", str(small), "--quiet"]) == 2
    assert "is not a sidrec tokenizer artifact (it holds other files)" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in small.iterdir()} == before
