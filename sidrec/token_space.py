"""The SID tokens inside the LLM's own input-embedding space.

Where does `<b_201>` sit: among "cable, connector, adapter", or nowhere in
particular? This module gathers the SID rows as initialised (SA-Init, recomputed
exactly from the tokenizer's keywords) and after training, the vocabulary rows,
the embeddings of the keywords (mean of their sub-token rows, as SA-Init uses
them), and the nearest vocabulary words of any row. It trains nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sidrec.llm import add_sid_vocabulary, init_sid_rows, load_base


def level_tokens(model, base, llm_tok, sizes: list[int], device) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per SID level: the LLM token id of every code (-1 where the LLM has no such token), and (K_l, d) the rows
    that score them (the output head's, or for tied embeddings the input module's, which applies trained SID-row
    deltas)."""
    from sidrec.tokenizer import token

    vocab = llm_tok.get_vocab()
    out_emb = base.get_output_embeddings()
    tied = getattr(base.config, "tie_word_embeddings", False)
    level_ids, level_rows = [], []
    for lv, size in enumerate(sizes):
        ids = torch.tensor([vocab.get(token(lv, c), -1) for c in range(size)], device=device)
        safe = ids.clamp_min(0)
        with torch.no_grad():
            rows = model.get_input_embeddings()(safe) if tied else getattr(out_emb, "base_layer", out_emb).weight[safe]
        level_ids.append(ids)
        level_rows.append(rows.float())
    return level_ids, level_rows


@dataclass
class TokenRows:
    tokens: list[str]
    initial: np.ndarray  # (n, d) SID rows as initialised, before training
    trained: np.ndarray | None  # (n, d) after training (None without a trained model)
    vocab: np.ndarray  # (V, d) the original vocabulary's input rows
    tokenizer: object


@torch.no_grad()
def initial_rows(base: str, tokens: list[str], keywords: dict, init: str = "sa", seed: int = 0) -> TokenRows:
    """SID rows as training starts from them (SA-Init is deterministic; random uses the seed)."""
    model, tokenizer = load_base(base)
    n_base = model.get_input_embeddings().weight.shape[0]
    ids = add_sid_vocabulary(model, tokenizer, tokens)
    kws = [keywords.get(t, {}).get("keywords", []) for t in tokens]
    rows = init_sid_rows(model, tokenizer, ids, kws, init, n_base_rows=min(n_base, min(ids)), seed=seed)
    vocab = model.get_input_embeddings().weight[: min(ids)].numpy().copy()
    return TokenRows(list(tokens), rows.numpy(), None, vocab, tokenizer)


@torch.no_grad()
def trained_rows(model_dir: str | Path, keywords: dict, tokenizer_fingerprint: str | None = None) -> TokenRows:
    """Initial and trained SID rows of a model artifact."""
    from sidrec.model import TrainConfig, load_model

    model, tokenizer, manifest = load_model(model_dir, tokenizer_fingerprint)
    config = TrainConfig.from_dict(manifest["config"])
    tokens = json.loads((Path(model_dir) / "sid_tokens.json").read_text())
    ids = tokenizer.convert_tokens_to_ids(tokens)
    emb = model.get_input_embeddings()
    trained = emb(torch.tensor(ids)).float().numpy()
    start = initial_rows(config.base, tokens, keywords, config.init, config.seed)
    start.trained = trained
    return start


def keyword_vectors(rows: TokenRows, words: list[str]) -> np.ndarray:
    """Each keyword as the mean of its sub-token rows (what SA-Init averages)."""
    out = []
    n_base = rows.vocab.shape[0]
    for w in words:
        ids = [i for i in rows.tokenizer(" " + w, add_special_tokens=False)["input_ids"] if i < n_base]
        out.append(rows.vocab[ids].mean(0) if ids else np.zeros(rows.vocab.shape[1], np.float32))
    return np.array(out, dtype=np.float32).reshape(len(words), rows.vocab.shape[1])


def nearest_words(rows: TokenRows, vectors: np.ndarray, k: int = 8) -> list[list[str]]:
    """The k vocabulary words whose rows are closest to each vector: cosine after the mean vocabulary row is
    taken from both, so the direction every row shares (which draws rare and control tokens to any mean of
    word rows, SA-Init's included) does not decide the neighbours.

    Tokens are shown as text (byte-level marks such as 'Ġ' decoded, '▁' stripped); special and added tokens,
    tokens with no letter or digit or that are a fragment of a character, and repeats ("tent" after "Ġtent")
    are skipped.
    """
    centre = rows.vocab.mean(axis=0)
    vocab, v = rows.vocab - centre, vectors - centre
    vocab = vocab / np.maximum(np.linalg.norm(vocab, axis=1, keepdims=True), 1e-8)
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-8)
    tokenizer = rows.tokenizer
    skip = set(getattr(tokenizer, "all_special_ids", [])) | set(getattr(tokenizer, "added_tokens_decoder", {}))
    to_text = getattr(tokenizer, "convert_tokens_to_string", None)
    out = []
    for row in v @ vocab.T:  # (V,) similarities of one vector
        words: list[str] = []
        for i in np.argsort(-row, kind="stable"):
            if int(i) in skip:
                continue
            raw = tokenizer.convert_ids_to_tokens(int(i)) or ""
            w = (to_text([raw]) if to_text else raw).lstrip("Ġ▁").strip()
            if any(ch.isalnum() for ch in w) and "\ufffd" not in w and w not in words:
                words.append(w)
            if len(words) == k:
                break
        out.append(words)
    return out


def keyword_hits(rows: TokenRows, keywords: dict, k: int = 8) -> pd.DataFrame:
    """Does each SID token's row mean its keywords? Per token that has keywords (separating codes have none): its
    level, and whether a word of its keywords is among the k nearest vocabulary words of its row as initialised
    ("initial") and after training ("trained", when there is a trained model). SA-Init starts every row at its
    keywords, so "initial" is high by design; "trained" says how much of that meaning training kept or built."""
    words = {t: {w for kw in keywords.get(t, {}).get("keywords", []) for w in kw.lower().split()} for t in rows.tokens}
    keep = [n for n, t in enumerate(rows.tokens) if words[t]]
    out = pd.DataFrame({
        "token": [rows.tokens[n] for n in keep],
        "level": [keywords[rows.tokens[n]].get("level", -1) for n in keep],
    })  # fmt: skip
    for kind, matrix in (("initial", rows.initial), ("trained", rows.trained)):
        if matrix is not None:
            near = nearest_words(rows, matrix[keep], k) if keep else []
            out[kind] = [bool({w.lower() for w in ws} & words[t]) for ws, t in zip(near, out["token"], strict=True)]
    return out


def token_map(rows: TokenRows, keywords: dict, keywords_per_token: int = 3) -> pd.DataFrame:
    """Points to project together: SID rows (initial, trained) and their keywords.

    Columns: kind (initial | trained | keyword), label, level, keywords, description, vector.
    """
    records = []
    for kind, matrix in (("initial", rows.initial), ("trained", rows.trained)):
        if matrix is None:
            continue
        for t, vec in zip(rows.tokens, matrix, strict=True):
            info = keywords.get(t, {})
            records.append(
                {
                    "kind": kind,
                    "label": t,
                    "level": info.get("level", -1),
                    "keywords": ", ".join(info.get("keywords", [])[:5]),
                    "description": info.get("description", ""),
                    "vector": vec.astype(np.float32),
                }  # fmt: skip
            )
    words = sorted({w for t in rows.tokens for w in keywords.get(t, {}).get("keywords", [])[:keywords_per_token]})
    for w, vec in zip(words, keyword_vectors(rows, words), strict=True):
        records.append({"kind": "keyword", "label": w, "level": -1, "keywords": w, "description": "", "vector": vec})
    return pd.DataFrame(records)
