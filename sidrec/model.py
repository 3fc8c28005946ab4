"""The aligned model artifact: what it was trained with, how it is saved, loaded and identified.

A model folder is a versioned artifact (kind "llm"): the LoRA adapter and the trained SID rows in safetensors,
the SID tokens it learned, its training log, and a manifest recording the `TrainConfig`, the base model and the
SID tokenizer it belongs to (by fingerprint, and by path when known). Search, caching and evaluation load models
through here and never import training (`sidrec.train`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from sidrec.artifacts import atomic_dir, damaged, read_manifest, write_json_atomic, write_manifest
from sidrec.errors import SidrecError
from sidrec.llm import INITS, add_sid_vocabulary, load_base
from sidrec.tasks import TaskConfig

KIND = "llm"
FORMAT_VERSION = 1
SAVE_DTYPES = ("float32", "float16")


@dataclass(frozen=True)
class TrainConfig:
    base: str = "smollm2-135m"  # embedded model name or a local Hugging Face folder
    init: str = "sa"  # sa | mean | random: how the SID rows start
    r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    learning_rate: float = 2e-3
    batch_size: int = 16
    grad_accum: int = 1
    max_steps: int = 300
    max_length: int = 192  # tokens per example; prompts are truncated from the left
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    eval_examples: int = 200  # sequential validation examples for the validation loss
    save_steps: int = 50
    logging_steps: int = 5
    seed: int = 0
    time_budget_s: float = 0.0  # stop (and save) after this many seconds; 0 = no limit
    eval_steps: int = 0  # validation loss every N optimizer steps, logged with the seconds spent (0 = at the end only)
    early_stopping_patience: int = 0  # stop after N validations without a better loss, keep the best (0 = off)
    bf16: bool = True  # autocast to bfloat16 where the hardware supports it
    # recompute each decoder layer's activations in the backward pass instead of keeping them: less memory for
    # more compute (BENCHMARKS.md, training memory)
    activation_checkpointing: bool = False
    device: str = "auto"  # auto (CUDA, then MPS, then CPU) | cpu | cuda | mps; `accelerate launch` decides per process
    # dtype of the saved adapter and SID rows: float16 halves the file but moved 13% of the demo's top-10
    # lists (BENCHMARKS.md, adapter precision), so float32 is the default
    save_dtype: str = "float32"  # float32 | float16
    tasks: TaskConfig = field(default_factory=TaskConfig)

    def __post_init__(self):
        if self.init not in INITS:
            raise SidrecError(f"unknown initialisation {self.init!r} (choose from {', '.join(INITS)})")
        if self.save_dtype not in SAVE_DTYPES:
            raise SidrecError(f"unknown save dtype {self.save_dtype!r} (choose from {', '.join(SAVE_DTYPES)})")
        for name in ("r", "lora_alpha", "batch_size", "grad_accum", "max_steps", "max_length", "logging_steps"):
            if getattr(self, name) < 1:
                raise SidrecError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise SidrecError(f"the learning rate must be positive, got {self.learning_rate}")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise SidrecError(f"the LoRA dropout is a probability below 1, got {self.lora_dropout}")
        if self.weight_decay < 0:
            raise SidrecError(f"the weight decay cannot be negative, got {self.weight_decay}")
        if self.early_stopping_patience and not self.eval_steps:
            raise SidrecError("early stopping needs a validation point every N steps (eval_steps, --eval-steps)")

    @staticmethod
    def from_dict(d: dict) -> TrainConfig:
        d = dict(d)
        t = dict(d.pop("tasks"))
        t = {
            k: tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v
            for k, v in t.items()
        }
        d["target_modules"] = tuple(d["target_modules"])
        t.setdefault("sequential_mode", "prefix")  # models saved before the sequence mode existed
        return TrainConfig(**d, tasks=TaskConfig(**t))


def lora_config(config: TrainConfig, sid_ids: list[int]):
    """LoRA on the configured projections, with the SID rows trainable: the same for training and loading."""
    from peft import LoraConfig

    return LoraConfig(
        r=config.r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        trainable_token_indices={"embed_tokens": sid_ids},
        task_type="CAUSAL_LM",
    )


def save_model(
    model,
    out: Path,
    config: TrainConfig,
    sid_tokens,
    tokenizer_fingerprint,
    metrics,
    history,
    tokenizer_dir=None,
    **extra,
) -> None:
    """Write the model artifact; `extra` goes into the manifest (a later stage's record, e.g. `preference`)."""
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    dtype = {"float16": torch.float16, "float32": torch.float32}[config.save_dtype]
    state, seen = {}, set()
    for k, v in get_peft_model_state_dict(model, save_embedding_layers=False).items():
        if v.data_ptr() in seen:  # a tied head shares the SID rows with the input embedding: keep one copy
            continue
        seen.add(v.data_ptr())
        state[k] = v.detach().to(dtype).contiguous()
    with atomic_dir(out, KIND) as tmp:
        save_file(state, str(tmp / "adapter.safetensors"))
        write_json_atomic(tmp / "sid_tokens.json", list(sid_tokens))
        write_json_atomic(tmp / "log.json", history)
        write_manifest(
            tmp,
            KIND,
            FORMAT_VERSION,
            asdict(config),
            tokenizer_fingerprint=tokenizer_fingerprint,
            tokenizer_dir=tokenizer_dir,
            metrics=metrics,
            **extra,
        )


def load_model(folder: str | Path, tokenizer_fingerprint: str | None = None):
    """(peft model in eval mode, LLM tokenizer, manifest). Refuses a model trained for another SID tokenizer."""
    from peft import get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file

    folder = Path(folder)
    manifest = read_manifest(folder, KIND, FORMAT_VERSION)
    with damaged(folder, KIND):
        trained_for = manifest["tokenizer_fingerprint"]
        config = TrainConfig.from_dict(manifest["config"])
        sid_tokens = json.loads((folder / "sid_tokens.json").read_text())
        state = {k: v.float() for k, v in load_file(str(folder / "adapter.safetensors")).items()}
    if tokenizer_fingerprint is not None and trained_for != tokenizer_fingerprint:
        raise SidrecError(
            f"{folder}: this model was trained with another SID tokenizer "
            f"({trained_for}, not {tokenizer_fingerprint}); retrain it or pick its tokenizer"
        )
    model, tokenizer = load_base(config.base)
    sid_ids = add_sid_vocabulary(model, tokenizer, sid_tokens)
    model = get_peft_model(model, lora_config(config, sid_ids))
    result = set_peft_model_state_dict(model, state)
    unexpected = getattr(result, "unexpected_keys", [])
    if unexpected:
        raise SidrecError(f"{folder}: adapter does not fit its base ({unexpected[0]} ...)")
    model.eval()
    return model, tokenizer, manifest


def model_fingerprint(folder: str | Path) -> str:
    """Identity of a trained model: a hash of its adapter tensors and manifest config."""
    import hashlib

    folder = Path(folder)
    manifest = read_manifest(folder, KIND, FORMAT_VERSION)
    with damaged(folder, KIND):
        h = hashlib.sha256((folder / "adapter.safetensors").read_bytes())
        h.update(json.dumps(manifest["config"], sort_keys=True).encode())
    return h.hexdigest()[:16]


def tokenizer_dir_for(model_dir: str | Path, explicit: str | Path | None = None) -> Path:
    """The SID tokenizer a model belongs to: given, recorded in the manifest, or the sibling `tokenizer/`; the first
    of these that holds the very codes the model was trained on, else the first that exists (loading the model with
    it then says that it was trained with another one)."""
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir, KIND, FORMAT_VERSION)
    if explicit and (Path(explicit) / "manifest.json").exists():  # what the user names is what is used
        return Path(explicit)
    candidates = [model_dir / manifest["tokenizer_dir"]] if manifest.get("tokenizer_dir") else []
    candidates.append(model_dir.parent / "tokenizer")
    found = [c for c in candidates if (c / "manifest.json").exists()]
    if not found:
        raise SidrecError(f"{model_dir}: cannot find its SID tokenizer; pass --tokenizer DIR")
    from sidrec.tokenizer import saved_fingerprint

    return next((c for c in found if saved_fingerprint(c) == manifest.get("tokenizer_fingerprint")), found[0])


def log_history(folder: str | Path) -> list[dict]:
    path = Path(folder) / "log.json"
    return json.loads(path.read_text()) if path.exists() else []


def perplexity(loss: float) -> float:
    return math.exp(loss) if loss < 50 else float("inf")
