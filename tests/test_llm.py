"""SID vocabulary, SA-Init, LoRA training and the model artifact, on a tiny random Llama built in code."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from sidrec.errors import SidrecError
from sidrec.llm import add_sid_vocabulary, encode_example, init_sid_rows, load_base
from sidrec.loss import response_loss
from sidrec.model import TrainConfig, load_model, log_history
from sidrec.tasks import Example
from sidrec.token_space import TokenRows, nearest_words
from sidrec.train import continuable_step, prepare_checkpoints, train
from tests.tiny import WORDS, tiny_base

SID_TOKENS = ["<a_0>", "<a_1>", "<b_0>", "<b_1>", "<c_0>"]
KEYWORDS = {
    "<a_0>": {"keywords": ["tent", "camping", "outdoor"]},
    "<a_1>": {"keywords": ["coffee", "grinder"]},
    "<b_0>": {"keywords": ["lamp"]},
    "<b_1>": {"keywords": []},
    "<c_0>": {"keywords": ["kitchen light"]},
}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return tiny_base(tmp_path_factory.mktemp("tiny"))


def examples(n=24):
    out = []
    for i in range(n):
        a, b = i % 2, (i // 2) % 2
        out.append(
            Example("sequential", f"purchase history <a_{a}><b_{b}><c_0> next item ?", f"<a_{1 - a}><b_{b}><c_0>")
        )
        out.append(Example("negative", f"purchase history <a_{a}><b_0><c_0> tent ?", "yes" if a else "no"))
    return out


def config(base, **kw):
    defaults = dict(
        base=base,
        max_steps=4,
        batch_size=4,
        learning_rate=5e-2,
        save_steps=1000,
        logging_steps=1,
        save_dtype="float32",
        bf16=False,
        eval_examples=8,
        warmup_ratio=0.0,
    )
    return TrainConfig(**{**defaults, **kw})


def test_sid_tokens_are_single_tokens(base):
    model, tok = load_base(base)
    ids = add_sid_vocabulary(model, tok, SID_TOKENS)
    assert tok("history <a_1><b_0><c_0> next", add_special_tokens=False)["input_ids"][1:4] == [ids[1], ids[2], ids[4]]
    assert model.get_input_embeddings().weight.shape[0] == len(tok)


def test_sa_init_is_the_rescaled_keyword_mean(base):
    model, tok = load_base(base)
    n_base = model.get_input_embeddings().weight.shape[0]
    emb0 = model.get_input_embeddings().weight[:n_base].detach().clone()
    ids = add_sid_vocabulary(model, tok, SID_TOKENS)
    init_sid_rows(model, tok, ids, [KEYWORDS[t]["keywords"] for t in SID_TOKENS], "sa", n_base_rows=n_base)
    emb = model.get_input_embeddings().weight.detach()
    norm = emb0.norm(dim=1).mean()
    kw = [tok.convert_tokens_to_ids(w) for w in ["tent", "camping", "outdoor"]]
    expected = emb0[kw].mean(0)
    assert torch.allclose(emb[ids[0]], expected * norm / expected.norm(), atol=1e-6)
    two_words = emb0[[tok.convert_tokens_to_ids("kitchen"), tok.convert_tokens_to_ids("light")]].mean(0)
    assert torch.allclose(emb[ids[4]], two_words * norm / two_words.norm(), atol=1e-6)
    # a token without keywords falls back to the rescaled mean row
    assert torch.allclose(emb[ids[3]].norm(), norm, atol=1e-5)
    assert torch.allclose(emb[:n_base], emb0), "original rows untouched"
    # tied head: the output rows are the same tensor
    assert torch.equal(model.get_output_embeddings().weight[ids[0]], emb[ids[0]])


def test_untied_head_rows_are_initialised_too(tmp_path):
    model, tok = load_base(tiny_base(tmp_path / "untied", tie=False))
    n_base = model.get_input_embeddings().weight.shape[0]
    head0 = model.get_output_embeddings().weight[:n_base].detach().clone()
    ids = add_sid_vocabulary(model, tok, SID_TOKENS)
    new = init_sid_rows(model, tok, ids, [["tent"]] * len(ids), "sa", n_base_rows=n_base)
    head = model.get_output_embeddings().weight.detach()
    target_norm = head0.norm(dim=1).mean()
    assert torch.allclose(head[ids].norm(dim=1), target_norm.expand(len(ids)), atol=1e-5)
    assert torch.allclose(head[ids[0]] / head[ids[0]].norm(), new[0] / new[0].norm(), atol=1e-6)


@pytest.mark.parametrize("mode", ["mean", "random"])
def test_ablation_inits(base, mode):
    model, tok = load_base(base)
    n_base = model.get_input_embeddings().weight.shape[0]
    ids = add_sid_vocabulary(model, tok, SID_TOKENS)
    rows = init_sid_rows(model, tok, ids, [KEYWORDS[t]["keywords"] for t in SID_TOKENS], mode, n_base_rows=n_base)
    same = torch.allclose(rows[0], rows[1])
    assert same if mode == "mean" else not same


def test_encode_example_puts_loss_on_the_response_only(base):
    _, tok = load_base(base)
    ids, labels = encode_example(tok, "purchase history tent", "yes")
    n_resp = 2  # "yes" + EOS
    assert labels[-n_resp:] == ids[-n_resp:] and all(x == -100 for x in labels[:-n_resp])
    assert ids[-1] == tok.eos_token_id


def test_training_moves_lora_and_sid_rows_not_the_base(base, tmp_path):
    ref, _ = load_base(base)
    metrics = train(examples(), examples(8), SID_TOKENS, KEYWORDS, "fp-1", tmp_path / "m", config(base))
    assert metrics["steps"] == 4 and np.isfinite(metrics["valid_loss"]) and metrics["tokens_per_second"] > 0
    model, tok, _ = load_model(tmp_path / "m", "fp-1")
    ref_params = dict(ref.named_parameters())
    moved_lora = 0
    for name, p in model.named_parameters():
        if "lora_B" in name:
            moved_lora += int(p.abs().sum() > 0)  # lora_B starts at zero
        plain = name.replace("base_model.model.", "").replace(".base_layer", "")
        if plain in ref_params and "embed_tokens" not in plain and "lm_head" not in plain:
            assert torch.equal(p, ref_params[plain]), f"base weight {plain} changed"
    assert moved_lora > 0
    ids = tok.convert_tokens_to_ids(SID_TOKENS)
    fresh, ftok = load_base(base)
    n_base = fresh.get_input_embeddings().weight.shape[0]
    fids = add_sid_vocabulary(fresh, ftok, SID_TOKENS)
    init_rows = init_sid_rows(
        fresh, ftok, fids, [KEYWORDS[t]["keywords"] for t in SID_TOKENS], "sa", n_base_rows=n_base
    )
    trained_rows = model.get_input_embeddings()(torch.tensor(ids)).detach()
    assert not torch.allclose(trained_rows, init_rows), "SID rows must train"
    base_rows = model.get_input_embeddings()(torch.arange(n_base)).detach()
    assert torch.equal(base_rows, ref.get_input_embeddings().weight[:n_base]), "original vocabulary rows frozen"


def test_save_load_identical_logits(base, tmp_path):
    train(examples(), examples(8), SID_TOKENS, KEYWORDS, "fp-1", tmp_path / "m", config(base, max_steps=2))
    a, tok, _ = load_model(tmp_path / "m")
    b, _, _ = load_model(tmp_path / "m")
    batch = tok(["purchase history <a_1><b_0><c_0> next item ?"], return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(a(**batch).logits, b(**batch).logits)


def test_wrong_tokenizer_or_damaged_model_is_refused_in_one_line(base, tmp_path):
    import json
    import shutil

    from sidrec.model import model_fingerprint

    train(examples(), examples(8), SID_TOKENS, KEYWORDS, "fp-1", tmp_path / "m", config(base, max_steps=1))
    with pytest.raises(SidrecError, match="another SID tokenizer"):
        load_model(tmp_path / "m", "fp-other")

    def damage(name: str, how) -> Path:
        copy = tmp_path / name
        shutil.copytree(tmp_path / "m", copy)
        how(copy)
        return copy

    def no_fingerprint(m):
        manifest = json.loads((m / "manifest.json").read_text())
        del manifest["tokenizer_fingerprint"]
        (m / "manifest.json").write_text(json.dumps(manifest))

    broken = [
        damage("no_sid_tokens", lambda m: (m / "sid_tokens.json").unlink()),
        damage("cut_adapter", lambda m: (m / "adapter.safetensors").write_bytes(b"\x00" * 7)),
        damage("no_fingerprint", no_fingerprint),
    ]
    for folder in broken:
        with pytest.raises(SidrecError, match="damaged llm artifact"):
            load_model(folder, "fp-1")
    (broken[0] / "adapter.safetensors").unlink()
    with pytest.raises(SidrecError, match="damaged llm artifact"):
        model_fingerprint(broken[0])


def test_training_never_replaces_a_folder_that_is_not_a_model(base, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "items.csv").write_text("item_id,title\nI1,a tent\n")
    with pytest.raises(SidrecError, match="not a sidrec llm artifact"):
        train(examples(), examples(8), SID_TOKENS, KEYWORDS, "fp-1", data, config(base, max_steps=1))
    assert [p.name for p in data.iterdir()] == ["items.csv"]
    assert not (tmp_path / "data-checkpoints").exists(), "refused before any training"


def test_same_seed_same_run(base, tmp_path):
    m1 = train(examples(), examples(8), SID_TOKENS, KEYWORDS, "fp", tmp_path / "a", config(base, max_steps=2))
    m2 = train(examples(), examples(8), SID_TOKENS, KEYWORDS, "fp", tmp_path / "b", config(base, max_steps=2))
    assert m1["valid_loss"] == m2["valid_loss"]


def test_last_k_loss_equals_full_logits_loss(base):
    from sidrec.loss import ExampleDataset, LeftPadCollator

    model, tok = load_base(base)
    ds = ExampleDataset(examples(4), tok, 64)
    batch = LeftPadCollator(tok.pad_token_id)([ds[i] for i in range(len(ds))])
    batch.pop("task")
    with torch.no_grad():
        fast, _, _ = response_loss(model, batch)
        full = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], position_ids=batch["position_ids"]
        ).logits
        ref = torch.nn.functional.cross_entropy(
            full[:, :-1].reshape(-1, full.shape[-1]), batch["labels"][:, 1:].reshape(-1)
        )
    assert torch.allclose(fast, ref, atol=1e-5)


@pytest.mark.slow
def test_embedded_smollm2_loads_and_reads_sid_tokens():
    """The real embedded model: converted from GGUF once (cached), SID tokens are single ids, logits are finite."""
    model, tok = load_base("smollm2-135m")
    assert type(model).__name__ == "LlamaForCausalLM" and len(tok) == 49152
    ids = add_sid_vocabulary(model, tok, ["<a_12>", "<b_201>", "<c_7>", "<d_0>"])
    enc = tok("History: <a_12><b_201><c_7><d_0>", add_special_tokens=False)["input_ids"]
    assert enc[-4:] == ids
    n_base = 49152
    init_sid_rows(model, tok, ids, [["cable", "adapter"]] * 4, "sa", n_base_rows=n_base)
    with torch.no_grad():
        logits = model(torch.tensor([enc])).logits
    assert logits.shape == (1, len(enc), len(tok)) and torch.isfinite(logits).all()


def test_cli_llm_train_end_to_end(base, tmp_path, capsys):
    import json

    from sidrec.cli import main
    from sidrec.sample import SampleConfig, write_sample

    data = tmp_path / "data"
    write_sample(data, SampleConfig(n_items=300, n_users=150))
    assert (
        main(["tokenizer", "fit", str(data), "--out", str(tmp_path / "tok"), "--codebook-size", "16", "--quiet"]) == 0
    )
    args = ["llm", "train", str(data), "--tokenizer", str(tmp_path / "tok"), "--out", str(tmp_path / "llm"),
            "--base", base, "--batch-size", "4", "--save-steps", "1", "--json"]  # fmt: skip
    assert main([*args, "--max-steps", "2"]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"train_loss", "valid_loss", "tokens_per_second"} <= set(metrics) and metrics["steps"] == 2
    manifest = json.loads((tmp_path / "llm" / "manifest.json").read_text())
    assert manifest["kind"] == "llm" and manifest["config"]["base"] == base
    # --resume continues from the last checkpoint: a 4-step budget runs steps 3 and 4 only
    assert main([*args, "--max-steps", "4", "--resume"]) == 0
    resumed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert resumed["steps"] == 4 and resumed["resumed_from_step"] == 2
    # resuming the finished run at the same budget changes nothing: no fifth step, the same artifact
    adapter = (tmp_path / "llm" / "adapter.safetensors").read_bytes()
    assert main([*args, "--max-steps", "4", "--resume"]) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["steps"] == 4 and again["resumed_from_step"] == 4
    assert (tmp_path / "llm" / "adapter.safetensors").read_bytes() == adapter
    # the preference stage writes a new model from this one and leaves it as it was
    prefer = ["llm", "prefer", str(tmp_path / "llm"), str(data), "--negatives", "2", "--beams", "4", "--max-users", "6",
              "--batch-size", "3", "--eval-examples", "4", "--eval-steps", "1", "--quiet", "--json"]  # fmt: skip
    assert main([*prefer, "--out", str(tmp_path / "llm")]) == 2  # never over the model it starts from
    assert "another --out" in capsys.readouterr().err
    assert main([*prefer, "--out", str(tmp_path / "preferred")]) == 0
    stage = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert stage["examples"] == 6 and stage["steps"] == 2 and stage["valid_loss_before"] == again["valid_loss"]
    preferred = json.loads((tmp_path / "preferred" / "manifest.json").read_text())
    source = json.loads((tmp_path / "llm" / "manifest.json").read_text())
    assert preferred["config"] == source["config"] and preferred["preference"]["config"]["negatives"] == 2
    assert (tmp_path / "llm" / "adapter.safetensors").read_bytes() == adapter
    assert main(["recommend", str(tmp_path / "preferred"), "--history", stage_history(data), "-k", "3"]) == 0
    # a second stage on the preferred model keeps the first one's record
    prefer[2] = str(tmp_path / "preferred")
    assert main([*prefer, "--out", str(tmp_path / "twice")]) == 0
    twice = json.loads((tmp_path / "twice" / "manifest.json").read_text())["preference"]
    assert twice["from_model"] == str(tmp_path / "preferred") and twice["earlier"] == preferred["preference"]


def stage_history(data) -> str:
    from sidrec.data import load_dataset

    return next(iter(load_dataset(data).sequences.values()))[0]


def test_token_space_recovers_init_and_finds_the_keyword_word(base, tmp_path):
    from sidrec.token_space import nearest_words, token_map, trained_rows

    train(examples(), examples(8), SID_TOKENS, KEYWORDS, "fp-1", tmp_path / "m", config(base, max_steps=2))
    rows = trained_rows(tmp_path / "m", KEYWORDS, "fp-1")
    assert rows.initial.shape == rows.trained.shape == (len(SID_TOKENS), 32)
    # <b_0>'s only keyword is "lamp": its SA-Init row is the rescaled "lamp" row, so "lamp" is its nearest word
    assert nearest_words(rows, rows.initial[2:3], k=1) == [["lamp"]]
    points = token_map(rows, KEYWORDS)
    assert (points["kind"] == "initial").sum() == (points["kind"] == "trained").sum() == len(SID_TOKENS)
    assert "tent" in set(points.loc[points["kind"] == "keyword", "label"])


def test_nearest_words_hand_made_rows(tmp_path):
    _, tok = load_base(tiny_base(tmp_path / "tiny"))
    n_base = len(tok)
    ids = {w: tok.convert_tokens_to_ids(w) for w in WORDS}
    d = 8
    matrix = torch.zeros(n_base + 2, d)
    matrix[:n_base, 2:] = torch.randn(n_base, d - 2, generator=torch.Generator().manual_seed(0))  # orthogonal to e0, e1
    matrix[ids["tent"]] = torch.eye(d)[0]
    matrix[ids["stove"]] = torch.eye(d)[0] + torch.eye(d)[1]  # 45 degrees from "tent"
    matrix[ids["lamp"]] = -torch.eye(d)[0]  # opposite
    matrix[n_base] = 3 * torch.eye(d)[0]  # a SID row: "tent", scaled (cosine ignores the norm)
    matrix[n_base + 1] = torch.eye(d)[1]
    rows = TokenRows([], matrix[n_base:].numpy(), None, matrix[:n_base].numpy(), tok)
    near = nearest_words(rows, matrix[n_base:].numpy(), k=3)
    assert near[0][:2] == ["tent", "stove"]
    assert near[1][0] == "stove"
    assert "lamp" not in near[0] and len(near[0]) == 3
    assert not {"<pad>", "<unk>", "</s>"} & {w for words in near for w in words}, "special tokens are no words"


def test_nearest_words_strips_space_marks_and_skips_empty_tokens():
    class Tok:
        vocab = ["Ġ", "Ġtent", "tent", "▁stove", "lamp"]
        all_special_ids = []

        def convert_ids_to_tokens(self, i):
            return self.vocab[i]

    vocab = np.array([[1.0, 0.0], [0.99, 0.1], [0.98, 0.2], [0.9, 0.4], [0.0, 1.0]], np.float32)
    rows = TokenRows([], vocab[:0], None, vocab, Tok())
    assert nearest_words(rows, np.array([[1.0, 0.0]], np.float32), k=3) == [["tent", "stove", "lamp"]]


def test_nearest_words_ignore_a_direction_every_row_shares_and_skip_fragments():
    class Tok:
        vocab = ["tent", "stove", "Ã", "lamp", "<file_sep>", "cable"]
        all_special_ids = []
        added_tokens_decoder = {4: "<file_sep>"}

        def convert_ids_to_tokens(self, i):
            return self.vocab[i]

        def convert_tokens_to_string(self, tokens):  # a lone byte of a two-byte character decodes to U+FFFD
            return "".join("\ufffd" if t == "Ã" else t for t in tokens)

    vocab = np.array([[1, 0, 0], [0.8, 0.6, 0], [0.95, 0.05, 0], [-1, 0, 0], [0.99, 0, 0.1], [0, 0, 1]], np.float32)
    query = np.array([[1.0, 0.1, 0]], np.float32)
    plain = nearest_words(TokenRows([], vocab[:0], None, vocab, Tok()), query, k=3)
    assert plain == [["tent", "stove", "cable"]]  # not the fragment "Ã", not the added "<file_sep>"
    # the same offset added to every row and to the query leaves the neighbours as they were
    offset = np.array([20.0, -5.0, 7.0], np.float32)
    moved = TokenRows([], vocab[:0], None, vocab + offset, Tok())
    assert nearest_words(moved, query + offset, k=3) == plain


def test_keyword_hits_by_hand():
    from sidrec.token_space import keyword_hits

    class Tok:
        vocab = ["Ġtent", "stove", "lamp", "cable"]
        all_special_ids = []

        def convert_ids_to_tokens(self, i):
            return self.vocab[i]

    vocab = np.eye(4, dtype=np.float32)
    # <a_0> starts at "tent" and trains towards "cable"; <a_1> starts at "lamp" and stays; <b_0> has no keywords
    initial = np.array([[1, 0, 0, 0.1], [0, 0, 1, 0], [0, 1, 0, 0]], np.float32)
    trained = np.array([[0.1, 0, 0, 1], [0, 0.2, 1, 0], [0, 1, 0, 0]], np.float32)
    keywords = {
        "<a_0>": {"level": 0, "keywords": ["camping tent"]},
        "<a_1>": {"level": 0, "keywords": ["lamp", "stove"]},
        "<b_0>": {"level": 1, "keywords": []},
    }
    rows = TokenRows(["<a_0>", "<a_1>", "<b_0>"], initial, trained, vocab, Tok())
    hits = keyword_hits(rows, keywords, k=1)
    assert hits.to_dict("list") == {
        "token": ["<a_0>", "<a_1>"], "level": [0, 0], "initial": [True, True], "trained": [False, True]
    }  # fmt: skip
    # with two nearest words "tent" is still within reach of the trained <a_0> (0.1 against 0 for the rest)
    assert keyword_hits(rows, keywords, k=2)["trained"].tolist() == [True, True]
    rows.trained = None
    assert list(keyword_hits(rows, keywords, k=1).columns) == ["token", "level", "initial"]


@pytest.mark.parametrize("tie", [True, False])
def test_merged_lora_gives_the_trained_logits(tmp_path, tie):
    """Inference merges the adapter and the trained SID rows into the base: same logits, tied head or not."""
    folder = tiny_base(tmp_path / "base", tie=tie)
    cfg = config(folder, max_steps=3)
    train(examples(), examples(8), SID_TOKENS, KEYWORDS, "fp-1", tmp_path / "m", cfg)
    model, tok, _ = load_model(tmp_path / "m")
    batch = tok(["purchase history <a_1><b_0><c_0> next item ? <a_0><b_1>"], return_tensors="pt")
    with torch.no_grad():
        before = model(**batch).logits
        after = model.merge_and_unload()(**batch).logits
    assert torch.allclose(before, after, atol=1e-5)


def test_config_round_trip_and_models_from_before_the_sequence_mode():
    from dataclasses import asdict

    from sidrec.tasks import TaskConfig

    for mode in ("sequence", "prefix"):
        cfg = TrainConfig(tasks=TaskConfig(sequential_mode=mode))
        assert TrainConfig.from_dict(asdict(cfg)) == cfg
    old = asdict(TrainConfig())
    del old["tasks"]["sequential_mode"]  # a manifest written before the mode existed: per-prefix prompts
    assert TrainConfig.from_dict(old).tasks.sequential_mode == "prefix"
    with pytest.raises(SidrecError, match="sequential mode"):
        TaskConfig(sequential_mode="sliding")


def test_validation_curve_and_early_stopping_keep_the_best_step(base, tmp_path, monkeypatch):
    from safetensors.torch import load_file

    import sidrec.train as train_module

    real = train_module.evaluate_loss
    fake = iter([1.0, 2.0])  # step 2 is the best, step 4 is worse: patience 1 stops there

    def scripted(*args, **kwargs):
        return next(fake, None) or real(*args, **kwargs)

    monkeypatch.setattr(train_module, "evaluate_loss", scripted)
    seq = [Example("sequential", "purchase history", "<a_0><b_0><c_0><a_1><b_1><c_0>", targets=2)] * 24
    cfg = config(base, max_steps=10, eval_steps=2, early_stopping_patience=1)
    a = train(seq, examples(8), SID_TOKENS, KEYWORDS, "fp-1", tmp_path / "a", cfg)
    assert a["steps"] == 4 and a["best_step"] == 2
    assert a["next_item_targets"] == 4 * 4 * 2  # 4 steps of 4 examples with 2 targets each
    points = [h for h in log_history(tmp_path / "a") if "valid_loss" in h]
    assert [(h["step"], h["valid_loss"]) for h in points] == [(2, 1.0), (4, 2.0)]
    assert points[0]["train_seconds"] <= points[1]["train_seconds"]
    monkeypatch.setattr(train_module, "evaluate_loss", real)
    calls = iter(range(100))
    b = train(
        seq,
        examples(8),
        SID_TOKENS,
        KEYWORDS,
        "fp-1",
        tmp_path / "b",
        replace(cfg, eval_steps=0, early_stopping_patience=0),
        should_stop=lambda: next(calls) >= 1,
    )  # fmt: skip  (stops after step 2, same schedule)
    assert b["steps"] == 2
    ta, tb = (load_file(str(tmp_path / run / "adapter.safetensors")) for run in ("a", "b"))
    assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)


@pytest.mark.parametrize("tie", [True, False])
def test_chunked_response_loss_equals_full_logits_in_value_and_gradient(tmp_path, tie, monkeypatch):
    """With LoRA and trained SID rows (tied head or not): the chunked loss and its gradients match full logits."""
    import sidrec.loss as loss_module
    from sidrec.loss import ExampleDataset, LeftPadCollator, _response_loss_from_logits
    from sidrec.train import prepare_model

    folder = tiny_base(tmp_path / "base", tie=tie)
    model, tok, _ = prepare_model(config(folder), SID_TOKENS, KEYWORDS)
    with torch.no_grad():  # move the adapter and the SID rows off their initial values
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.05)
    monkeypatch.setattr(loss_module, "LOSS_CHUNK", 5)  # several chunks, one of them partial
    ds = ExampleDataset(examples(6), tok, 64)
    batch = LeftPadCollator(tok.pad_token_id)([ds[i] for i in range(len(ds))])
    batch.pop("task"), batch.pop("targets")
    results = []
    for fn in (response_loss, _response_loss_from_logits):
        model.zero_grad()
        loss, sums, counts = fn(model, batch)
        loss.backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad and p.grad is not None}
        results.append((loss.detach(), sums, counts, grads))
    (a, sa, ca, ga), (b, sb, cb, gb) = results
    assert torch.allclose(a, b, atol=1e-5) and torch.allclose(sa, sb, atol=1e-4) and torch.equal(ca, cb)
    assert ga.keys() == gb.keys() and len(ga) > 0
    for name in ga:
        assert torch.allclose(ga[name], gb[name], atol=1e-5), name


def test_sa_init_without_any_keyword_is_refused(base):
    """SA-Init starts a token from its keywords: with none at all (no keywords.json) it refuses instead of
    silently starting from the mean."""
    model, tok = load_base(base)
    ids = add_sid_vocabulary(model, tok, SID_TOKENS)
    with pytest.raises(SidrecError, match="no token has any"):
        init_sid_rows(model, tok, ids, [[] for _ in SID_TOKENS], "sa")
    init_sid_rows(model, tok, ids, [[] for _ in SID_TOKENS], "mean")  # the other inits need no keywords


def test_checkpoints_belong_to_the_tokenizer_they_were_trained_on(base, tmp_path):
    out, ckpt = tmp_path / "m", tmp_path / "m-checkpoints"

    def run(fingerprint, steps, resume=False):
        cfg = config(base, max_steps=steps, save_steps=steps)
        return train(examples(), examples(8), SID_TOKENS, KEYWORDS, fingerprint, out, cfg, resume=resume)

    run("fp-1", 4)
    assert [p.name for p in ckpt.glob("checkpoint-*")] == ["checkpoint-4"]
    adapter = (out / "adapter.safetensors").read_bytes()
    # resuming another tokenizer's checkpoints would train every SID row on codes that now mean something else
    with pytest.raises(SidrecError, match="another tokenizer"):
        run("fp-2", 6, resume=True)
    assert (out / "adapter.safetensors").read_bytes() == adapter
    # starting over clears them before the first step: a run stopped before its first save must not leave the
    # old checkpoint under its own record, where the next resume would pick it up
    prepare_checkpoints(ckpt, "fp-2", resume=False)
    assert not list(ckpt.glob("checkpoint-*"))
    assert run("fp-2", 2, resume=True)["resumed_from_step"] == 0
    assert run("fp-2", 3, resume=True)["resumed_from_step"] == 2


def test_a_resumed_run_trains_as_the_uninterrupted_one(base, tmp_path):
    """Stopped in its second epoch and resumed, a run sees the batches, in the order, that the same run left alone
    sees: each epoch's order is the seed's draw for that epoch, whether the sampler was made then or earlier."""
    import itertools

    cfg = config(base, max_steps=10)  # 24 examples in batches of 4: 6 steps an epoch

    def run(out, resume=False, stop_at=None):
        losses = {}
        calls = itertools.count(1)  # asked once a step
        stop = None if stop_at is None else (lambda: next(calls) >= stop_at)
        train(examples(12), examples(8), SID_TOKENS, KEYWORDS, "fp", out, cfg, resume=resume,
              progress=lambda log: losses.update({log["step"]: log["loss"]} if "loss" in log else {}),
              should_stop=stop)  # fmt: skip
        return losses

    whole = run(tmp_path / "whole")
    first = run(tmp_path / "parts", stop_at=8)
    assert max(first) == 8 and all(first[s] == pytest.approx(whole[s], abs=1e-6) for s in first)
    # the stopped model says where it can go on from, for these codes only; a finished one cannot
    assert continuable_step(tmp_path / "parts", "fp") == 8 and continuable_step(tmp_path / "parts", "fp-2") is None
    assert continuable_step(tmp_path / "whole", "fp") is None
    rest = run(tmp_path / "parts", resume=True)
    assert sorted(rest) == [9, 10]
    assert [rest[s] for s in rest] == pytest.approx([whole[s] for s in rest], abs=1e-6)
    assert continuable_step(tmp_path / "parts", "fp") is None
