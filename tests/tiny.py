"""Tiny models and catalogues built in code, shared by the tests: a random Llama with a word-level vocabulary
(`tiny_base`) and a ragged 14-item SID tree (`CODES`, `IDS`, `make_sid_tok`). Fixtures over them are in
conftest.py."""

import torch

from sidrec.published import import_index

WORDS = "purchase history next item answer yes no tent stove camping coffee grinder kitchen outdoor light lamp".split()


def tiny_base(folder, tie=True):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<pad>", "<unk>", "</s>", *WORDS, "?", ":", ",", "."])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Punctuation()])
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", eos_token="</s>")
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=tie,
        pad_token_id=0,
        eos_token_id=2,
        bos_token_id=2,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    hf_tok.save_pretrained(folder)
    return str(folder)


# 14 items, 3 levels of (3, 3, 2) codes: a ragged tree
CODES = [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 2, 0), (0, 2, 1), (1, 0, 0), (1, 1, 0), (1, 1, 1),
         (1, 2, 0), (2, 0, 0), (2, 0, 1), (2, 1, 0), (2, 2, 0), (2, 2, 1)]  # fmt: skip
IDS = [f"i{n}" for n in range(len(CODES))]


def make_sid_tok():
    index = {iid: [f"<{'abc'[lv]}_{c}>" for lv, c in enumerate(codes)] for iid, codes in zip(IDS, CODES, strict=True)}
    return import_index(IDS, index)
