"""What saving the adapter in float16 costs: the saved model against its float32 training checkpoint.

    python benchmarks/adapter_precision.py models/sample/llm models/sample/llm-checkpoints/checkpoint-450 sample_data

Loads the saved model (float16 tensors, read back as float32) twice: as saved, and with the float32
tensors of the checkpoint written over it. Compares next-token log-probabilities over the SID
tokens on the same test prompts, and the top-10 lists of constrained beam search. Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
from peft import set_peft_model_state_dict
from safetensors.torch import load_file

from sidrec.bench import _eval_histories, machine
from sidrec.generate import GenerateConfig, Recommender
from sidrec.llm import format_prompt, torch_threads
from sidrec.model import load_model, tokenizer_dir_for
from sidrec.prompts import recommendation_prompt
from sidrec.tokenizer import SIDTokenizer


def main(model_dir: str, checkpoint: str, data: str, users: int = 30) -> dict:
    torch_threads()
    sid_tok = SIDTokenizer.load(tokenizer_dir_for(model_dir))
    histories = _eval_histories(Path(data), users)
    saved, llm_tok, _ = load_model(model_dir, sid_tok.fingerprint())
    full, _, _ = load_model(model_dir, sid_tok.fingerprint())
    state = load_file(str(Path(checkpoint) / "adapter_model.safetensors"))
    state = {k: v for k, v in state.items() if "lora_" in k or "trainable_tokens_delta" in k}
    set_peft_model_state_dict(full, state)
    sid_ids = [llm_tok.convert_tokens_to_ids(t) for t in sid_tok.tokens()]
    prompts = [format_prompt(recommendation_prompt(h, sid_tok, 20)) for h in histories]
    diffs = []
    with torch.inference_mode():
        for p in prompts:
            enc = llm_tok(p, add_special_tokens=False, return_tensors="pt")
            a = torch.log_softmax(saved(**enc).logits[0, -1].float(), -1)[sid_ids]
            b = torch.log_softmax(full(**enc).logits[0, -1].float(), -1)[sid_ids]
            diffs.append(float((a - b).abs().max()))
    config = GenerateConfig()
    lists_saved = [
        r.items for r in Recommender(saved.merge_and_unload(), llm_tok, sid_tok, config).recommend(histories)
    ]
    lists_full = [r.items for r in Recommender(full.merge_and_unload(), llm_tok, sid_tok, config).recommend(histories)]
    return {
        "machine": machine(), "date": time.strftime("%Y-%m-%d"), "users": len(histories),
        "max_abs_logprob_diff": round(max(diffs), 5), "mean_max_abs_logprob_diff": round(sum(diffs) / len(diffs), 5),
        "top10_lists_identical": round(sum(x == y for x, y in zip(lists_saved, lists_full, strict=True)) / users, 3),
        "top1_identical": round(sum(x[0] == y[0] for x, y in zip(lists_saved, lists_full, strict=True)) / users, 3),
    }  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
