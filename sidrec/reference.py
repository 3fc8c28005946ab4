"""The reference search: what peers do, `transformers` `generate` with beams and a trie callback.

Kept for parity and speed comparisons with `sidrec.generate.Recommender.recommend` (same lists on the
catalogue the model was trained on; `bench decode` times both in one run).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from sidrec import search_rules
from sidrec.generate import Recommendation, Recommender


@torch.no_grad()
def hf_generate(
    rec: Recommender, history: list[str], k: int = 10, num_beams: int = 20, exclude: list | None = None
) -> Recommendation:
    """What peers do: `generate` with num_beams and a prefix_allowed_tokens_fn over the trie.

    Follows the same history rule as `Recommender.recommend` (blocked trie states are not allowed). Items placed
    after training are scored by the model's own tokens here (no cell shares), so parity holds for the
    catalogue the model was trained on.
    """
    t0 = time.perf_counter()
    excluded = rec.excluded([history], [exclude or ()])
    blocked = search_rules.blocked_states(rec.trie, rec.sid_tok, excluded)
    blocked_sets = [set(b[0].tolist()) - {-2} for b in blocked] if blocked is not None else None
    prompt = rec.model_text(history)
    enc = {k: v.to(rec.device) for k, v in rec.llm_tok(prompt, add_special_tokens=False, return_tensors="pt").items()}
    start = enc["input_ids"].shape[1]
    code_of = {}  # LLM token id -> (level, code)
    for lv, ids in enumerate(rec.level_ids):
        for c, i in enumerate(ids.tolist()):
            if i >= 0:
                code_of[i] = (lv, c)

    def allowed(batch_id: int, input_ids: torch.Tensor) -> list[int]:
        codes = tuple(code_of[i][1] for i in input_ids[start:].tolist())
        if len(codes) >= rec.trie.n_levels:
            return [rec.llm_tok.eos_token_id]
        children = rec.trie.children(codes)
        if blocked_sets is not None:
            children = [c for c in children if rec.trie.state_of((*codes, c)) not in blocked_sets[len(codes)]]
        return [int(rec.level_ids[len(codes)][c]) for c in children if rec.level_ids[len(codes)][c] >= 0]

    out = rec.model.generate(
        **enc, num_beams=num_beams, num_return_sequences=num_beams, max_new_tokens=rec.trie.n_levels,
        prefix_allowed_tokens_fn=allowed, do_sample=False, length_penalty=0.0, early_stopping=True,
        output_scores=True, return_dict_in_generate=True, pad_token_id=rec.llm_tok.pad_token_id,
    )  # fmt: skip
    items, sids, scores = [], [], []
    for seq, s in zip(out.sequences[:, start:].tolist(), out.sequences_scores.tolist(), strict=True):
        head = seq[: rec.trie.n_levels]
        if len(head) < rec.trie.n_levels or any(i not in code_of for i in head) or not np.isfinite(s):
            continue  # a filler beam: fewer allowed SIDs than beams
        codes = [code_of[i][1] for i in head]
        iid = rec.sid_tok.decode(codes)
        if iid not in items:
            items.append(iid)
            sids.append(rec.sid_tok.sid_of_codes(codes))
            scores.append(float(s))
    return Recommendation(
        items[:k], sids[:k], scores[:k], [], {"total_ms": round((time.perf_counter() - t0) * 1000, 2)}
    )
