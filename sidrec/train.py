"""LoRA alignment of an LLM to SID tokens, and the model artifact.

The training loop is Hugging Face's Trainer (so `accelerate launch -m sidrec
llm train ...` runs data-parallel with no code change) with a loss of our own:
- batches are left-padded, so every response ends at the last position and the
  LM head is applied only to the last k positions (k = longest response + 1):
  the 49k-row head is not multiplied against prompt tokens that carry no loss;
- batches are grouped by length to avoid padding waste;
- the loss is the mean over response tokens; a per-task running loss is logged
  so the app can draw one curve per task;
- bfloat16 autocast where the CPU (or GPU) supports it.
LoRA (peft: r, lora_alpha, target_modules) adapts the attention and MLP
projections and the SID rows train through `trainable_token_indices`.

The output folder is a versioned artifact: adapter + SID rows in safetensors,
a manifest naming the tokenizer (by fingerprint), the base and the config.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from sidrec import device as devices
from sidrec.artifacts import atomic_dir, read_manifest, write_json_atomic, write_manifest
from sidrec.errors import SidrecError
from sidrec.llm import IGNORE, add_sid_vocabulary, encode_example, init_sid_rows, load_base, torch_threads
from sidrec.tasks import TASKS, Example, TaskConfig

KIND = "llm"
FORMAT_VERSION = 1
ProgressFn = Callable[[dict], None]


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


# ---------------------------------------------------------------- data


class ExampleDataset(torch.utils.data.Dataset):
    """Tokenized examples: input_ids, labels and the task index."""

    def __init__(self, examples: list[Example], tokenizer, max_length: int):
        self.rows = []
        for ex in examples:
            ids, labels = encode_example(tokenizer, ex.prompt, ex.response, max_length, ex.context, ex.eos)
            self.rows.append({"input_ids": ids, "labels": labels, "task": TASKS.index(ex.task), "targets": ex.targets})

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        return self.rows[i]

    @property
    def lengths(self) -> list[int]:
        return [len(r["input_ids"]) for r in self.rows]


@dataclass
class LeftPadCollator:
    """Left-pads a batch so every response ends at the last position."""

    pad_id: int

    def __call__(self, rows: list[dict]) -> dict:
        width = max(len(r["input_ids"]) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            n = len(r["input_ids"])
            ids[i, width - n :] = torch.tensor(r["input_ids"])
            labels[i, width - n :] = torch.tensor(r["labels"])
            mask[i, width - n :] = 1
        position_ids = (mask.cumsum(1) - 1).clamp_min(0)
        task = torch.tensor([r["task"] for r in rows])
        targets = torch.tensor([r.get("targets", 0) for r in rows])
        return {
            "input_ids": ids, "attention_mask": mask, "position_ids": position_ids, "labels": labels, "task": task,
            "targets": targets,
        }  # fmt: skip


LOSS_CHUNK = 512  # response tokens whose logits exist at once (each chunk's are recomputed in the backward pass)


def _final_norm(model):
    """The decoder's last normalisation (its output is what the LM head reads), or None if not found."""
    base = model.module if hasattr(model, "module") else model  # DDP
    base = base.get_base_model() if hasattr(base, "get_base_model") else base
    decoder = base.get_decoder() if hasattr(base, "get_decoder") else None
    return getattr(decoder, "norm", None)


def _chunk_loss(head, hidden: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cross_entropy(head(hidden).float(), target, reduction="none")


def response_loss(model, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mean loss over response tokens, per-example loss sums (B,), per-example token counts (B,)).

    The model runs through its own forward (so data-parallel wrappers see it), keeping one
    position's logits; the final hidden states are taken at the normalisation the LM head reads,
    and the 49k-row head is applied to the response positions alone, in chunks of LOSS_CHUNK rows
    whose logits are recomputed in the backward pass instead of stored: peak memory no longer
    grows with batch x response length x vocabulary.
    """
    labels = batch["labels"]  # (B, T)
    norm = _final_norm(model)
    if norm is None:  # an unfamiliar architecture: the plain route through full logits
        return _response_loss_from_logits(model, batch)
    captured = {}
    handle = norm.register_forward_hook(lambda module, args, out: captured.__setitem__("h", out))
    try:
        model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], position_ids=batch["position_ids"],
            logits_to_keep=1,
        )  # fmt: skip
    finally:
        handle.remove()
    hidden = captured["h"][:, :-1]  # (B, T-1, d): position t predicts token t+1
    target = labels[:, 1:]
    valid = target != IGNORE
    rows = valid.nonzero(as_tuple=True)[0]
    h, t = hidden[valid], target[valid]  # (N, d), (N,)
    head = (model.module if hasattr(model, "module") else model).get_output_embeddings()
    from torch.utils.checkpoint import checkpoint

    parts = []
    for i in range(0, len(t), LOSS_CHUNK):
        hh, tt = h[i : i + LOSS_CHUNK], t[i : i + LOSS_CHUNK]
        if torch.is_grad_enabled():
            parts.append(checkpoint(_chunk_loss, head, hh, tt, use_reentrant=False))
        else:
            parts.append(_chunk_loss(head, hh, tt))
    per_token = torch.cat(parts) if parts else hidden.new_zeros(0, dtype=torch.float32)
    n = labels.shape[0]
    sums = torch.zeros(n, dtype=per_token.dtype, device=per_token.device).index_add(0, rows, per_token)
    counts = torch.bincount(rows, minlength=n)
    return per_token.sum() / counts.sum().clamp_min(1), sums.detach(), counts.detach()


def _response_loss_from_logits(model, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The same loss from the last k positions' full logits (k = longest response + 1)."""
    labels = batch["labels"]  # (B, T)
    has_label = labels != IGNORE
    first = has_label.float().argmax(1)  # (B,) first response position
    k = int((labels.shape[1] - first).max().item()) + 1
    k = min(k, labels.shape[1])
    out = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        position_ids=batch["position_ids"],
        logits_to_keep=k,
    )
    logits = out.logits[:, :-1].float()  # (B, k-1, V): predictions for the last k-1 tokens
    target = labels[:, -(k - 1) :]  # (B, k-1)
    per_token = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=IGNORE, reduction="none"
    ).view(target.shape)
    valid = target != IGNORE
    sums = (per_token * valid).sum(1)
    counts = valid.sum(1)
    return sums.sum() / counts.sum().clamp_min(1), sums.detach(), counts.detach()


# ---------------------------------------------------------------- trainer


def _make_trainer_class():
    from transformers import Trainer

    class AlignTrainer(Trainer):
        """Trainer with the response-only, last-k-positions loss and per-task running losses."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.task_sums = torch.zeros(len(TASKS), dtype=torch.float64)
            self.task_counts = torch.zeros(len(TASKS), dtype=torch.float64)
            self.tokens_seen = 0
            self.targets_seen = 0

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            task = inputs.pop("task")
            targets = inputs.pop("targets", None)
            loss, sums, counts = response_loss(model, inputs)
            if model.training:
                self.targets_seen += int(targets.sum()) if targets is not None else 0
                self.task_sums.index_add_(0, task.cpu(), sums.cpu().double())
                self.task_counts.index_add_(0, task.cpu(), counts.cpu().double())
                self.tokens_seen += int(inputs["attention_mask"].sum())
            return (loss, None) if return_outputs else loss

        def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
            with torch.no_grad():
                loss = self.compute_loss(model, dict(inputs))
            return loss.detach(), None, None

        def log(self, logs, *args, **kwargs):
            if "loss" in logs:
                for i, name in enumerate(TASKS):
                    if self.task_counts[i] > 0:
                        logs[f"loss_{name}"] = round(float(self.task_sums[i] / self.task_counts[i]), 4)
                self.task_sums.zero_()
                self.task_counts.zero_()
            super().log(logs, *args, **kwargs)

    return AlignTrainer


def _budget_callback(
    config: TrainConfig,
    progress: ProgressFn | None,
    should_stop: Callable[[], bool] | None,
    paused: Callable[[], float] = lambda: 0.0,
):
    from transformers import TrainerCallback

    class Budget(TrainerCallback):
        """Progress reports, the time budget (training time: `paused()` seconds of validation do not count)
        and a stop request: stop and save at the next step."""

        def __init__(self):
            self.start = time.perf_counter()
            self.stop_requested = False

        def on_step_end(self, args, state, control, **kwargs):
            over = config.time_budget_s and time.perf_counter() - self.start - paused() > config.time_budget_s
            self.stop_requested = self.stop_requested or (should_stop is not None and bool(should_stop()))
            if over or self.stop_requested:
                control.should_training_stop = True
                control.should_save = True

        def on_log(self, args, state, control, logs=None, **kwargs):
            if progress is not None and logs:
                progress({"step": state.global_step, "max_steps": state.max_steps, **logs})

    return Budget()


class Validation:
    """Validation loss every `eval_steps` steps against the training seconds (validation time excluded),
    logged into the trainer's history (so a resumed run keeps its curve); early stopping keeps the best
    trainable tensors in memory and puts them back at the end."""

    def __init__(self, config: TrainConfig, valid_ds, pad_id: int, progress: ProgressFn | None):
        from transformers import TrainerCallback

        self.config, self.valid_ds, self.pad_id, self.progress = config, valid_ds, pad_id, progress
        self.trainer = None
        self.best, self.best_step, self.best_state, self.bad = float("inf"), 0, None, 0
        self.eval_seconds = 0.0
        self.start = time.perf_counter()
        self.offsets: tuple[float, int] | None = None
        outer = self

        class Callback(TrainerCallback):
            def on_step_end(self, args, state, control, model=None, **kwargs):
                if outer.config.eval_steps and state.global_step % outer.config.eval_steps == 0:
                    if outer.validate(model, state):
                        control.should_training_stop = True
                        control.should_save = True

        self.callback = Callback()

    def validate(self, model, state) -> bool:
        """Log one validation point; True when early stopping says stop."""
        t0 = time.perf_counter()
        loss = evaluate_loss(model, self.valid_ds, self.pad_id, self.config.batch_size)
        self.eval_seconds += time.perf_counter() - t0
        if self.offsets is None:  # a resumed run continues the curve of the run before it
            before = [h for h in state.log_history if "train_seconds" in h]
            self.offsets = (before[-1]["train_seconds"], before[-1]["targets_seen"]) if before else (0.0, 0)
        entry = {
            "step": state.global_step,
            "valid_loss": round(loss, 4),
            "train_seconds": round(self.offsets[0] + time.perf_counter() - self.start - self.eval_seconds, 1),
            "targets_seen": self.offsets[1] + (self.trainer.targets_seen if self.trainer is not None else 0),
        }
        state.log_history.append(entry)
        if self.progress is not None:
            self.progress({**entry, "max_steps": state.max_steps})
        if loss < self.best:
            self.best, self.best_step, self.bad = loss, state.global_step, 0
            if self.config.early_stopping_patience:
                self.best_state = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
            return False
        self.bad += 1
        return bool(self.config.early_stopping_patience) and self.bad >= self.config.early_stopping_patience

    def restore_best(self, model, step: int) -> bool:
        """Put the best validated tensors back when they are not those of `step`, the last one; True if so."""
        if self.best_state is None or self.best_step == step:
            return False
        params = dict(model.named_parameters())
        with torch.no_grad():
            for name, value in self.best_state.items():
                params[name].copy_(value)
        return True


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


def prepare_model(config: TrainConfig, sid_tokens: list[str], keywords: dict):
    """Base model + SID vocabulary + initialised rows + LoRA. Returns (peft_model, tokenizer, sid_ids)."""
    from peft import get_peft_model

    model, tokenizer = load_base(config.base)
    n_base = model.get_input_embeddings().weight.shape[0]
    sid_ids = add_sid_vocabulary(model, tokenizer, sid_tokens)
    kws = [keywords.get(t, {}).get("keywords", []) for t in sid_tokens]
    init_sid_rows(model, tokenizer, sid_ids, kws, config.init, n_base_rows=min(n_base, min(sid_ids)), seed=config.seed)
    return get_peft_model(model, lora_config(config, sid_ids)), tokenizer, sid_ids


def train(
    train_examples: list[Example],
    valid_examples: list[Example],
    sid_tokens: list[str],
    keywords: dict,
    tokenizer_fingerprint: str,
    out: str | Path,
    config: TrainConfig = TrainConfig(),
    resume: bool = False,
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    tokenizer_dir: str | Path | None = None,
) -> dict:
    """Fine-tune and save the artifact to `out`; checkpoints go to `out`-checkpoints. Returns metrics.

    `tokenizer_dir`, when given, is recorded (relative to `out`) so that the model finds its tokenizer.
    """
    from transformers import TrainingArguments, set_seed

    out = Path(out)
    torch_threads()
    set_seed(config.seed)
    model, tokenizer, sid_ids = prepare_model(config, sid_tokens, keywords)
    train_ds = ExampleDataset(train_examples, tokenizer, config.max_length)
    valid_ds = ExampleDataset(valid_examples[: config.eval_examples], tokenizer, config.max_length)
    ckpt = out.with_name(out.name + "-checkpoints")
    device = devices.pick(config.device)
    devices.enable_fast_matmul(device)
    use_bf16 = config.bf16 and devices.bf16_native(device)
    args = TrainingArguments(
        output_dir=str(ckpt),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=int(config.warmup_ratio * config.max_steps),
        max_steps=config.max_steps,
        logging_steps=config.logging_steps,
        save_steps=config.save_steps,
        save_total_limit=1,
        eval_strategy="no",
        remove_unused_columns=False,
        report_to=[],
        seed=config.seed,
        data_seed=config.seed,
        bf16=use_bf16,
        gradient_checkpointing=config.activation_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False} if config.activation_checkpointing else None,
        use_cpu=device.type == "cpu",
        dataloader_num_workers=0,
        disable_tqdm=progress is not None,
    )
    validation = Validation(config, valid_ds, tokenizer.pad_token_id, progress)
    budget = _budget_callback(config, progress, should_stop, lambda: validation.eval_seconds)
    trainer = _make_trainer_class()(
        model=model,
        args=args,
        train_dataset=train_ds,
        data_collator=LeftPadCollator(tokenizer.pad_token_id),
        callbacks=[budget, validation.callback],
    )
    validation.trainer = trainer
    trainer._get_train_sampler = _length_grouped_sampler(trainer, train_ds, config)
    checkpoints = sorted(ckpt.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1])) if resume else []
    has_ckpt = bool(checkpoints)
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=True if has_ckpt else None)
    seconds = time.perf_counter() - start - validation.eval_seconds
    restored = validation.restore_best(trainer.model, trainer.state.global_step)
    if restored:
        valid_loss = validation.best
    elif budget.stop_requested:  # stopped by its user: saved at once, validated only if it was at this step
        at_step = [h["valid_loss"] for h in trainer.state.log_history
                   if "valid_loss" in h and h.get("step") == trainer.state.global_step]  # fmt: skip
        valid_loss = at_step[-1] if at_step else None
    else:
        valid_loss = evaluate_loss(trainer.model, valid_ds, tokenizer.pad_token_id, config.batch_size)
    history = [h for h in trainer.state.log_history if "loss" in h or "valid_loss" in h]
    train_logs = [h for h in history if "loss" in h]
    # the run's mean loss and the counters over every process (each process saw its share of the batches)
    totals = trainer.accelerator.reduce(
        torch.tensor([result.training_loss, trainer.tokens_seen, trainer.targets_seen], dtype=torch.float64,
                     device=trainer.args.device), reduction="sum",
    )  # fmt: skip
    world = trainer.args.world_size
    trainer.tokens_seen, trainer.targets_seen = int(totals[1]), int(totals[2])
    metrics = {
        "train_loss": round(float(totals[0]) / world, 4),
        "train_loss_last_window": round(float(train_logs[-1]["loss"]), 4) if train_logs else None,
        "valid_loss": None if valid_loss is None else round(valid_loss, 4),
        "stopped": budget.stop_requested,
        "steps": trainer.state.global_step,
        "best_step": validation.best_step if restored else trainer.state.global_step,
        "train_seconds": round(seconds, 1),
        "tokens_per_second": round(trainer.tokens_seen / max(seconds, 1e-9), 1),
        "next_item_targets": trainer.targets_seen,
        "next_item_targets_per_second": round(trainer.targets_seen / max(seconds, 1e-9), 2),
        "sequential_mode": config.tasks.sequential_mode,
        "examples": len(train_ds),
        "resumed_from_step": int(checkpoints[-1].name.split("-")[1]) if checkpoints else 0,
        "bf16": use_bf16,
    }
    metrics["processes"] = trainer.args.world_size
    hint = os.path.relpath(Path(tokenizer_dir).resolve(), out.resolve()) if tokenizer_dir else None
    if trainer.is_world_process_zero():  # data-parallel runs write one artifact
        save_model(trainer.model, out, config, sid_tokens, tokenizer_fingerprint, metrics, history, hint)
    trainer.accelerator.wait_for_everyone()
    return metrics


def _length_grouped_sampler(trainer, dataset: ExampleDataset, config: TrainConfig):
    """Group examples of similar length into batches (less padding), in a seeded random order."""
    from transformers.trainer_pt_utils import LengthGroupedSampler

    def sampler(*args, **kwargs):
        # grouped by the global batch: N processes of batch b see the order one process of batch N * b sees
        gen = torch.Generator().manual_seed(config.seed)
        size = config.batch_size * config.grad_accum * trainer.args.world_size
        return LengthGroupedSampler(size, lengths=dataset.lengths, generator=gen)

    return sampler


@torch.no_grad()
def evaluate_loss(model, dataset: ExampleDataset, pad_id: int, batch_size: int = 16) -> float:
    """Mean response-token loss over a dataset (no dropout, no autocast)."""
    if len(dataset) == 0:
        return float("nan")
    was_training = model.training
    model.eval()
    collate = LeftPadCollator(pad_id)
    total, count = 0.0, 0
    order = sorted(range(len(dataset)), key=lambda i: len(dataset[i]["input_ids"]))
    for start in range(0, len(order), batch_size):
        batch = collate([dataset[i] for i in order[start : start + batch_size]])
        batch.pop("task")
        batch.pop("targets")
        device = next(model.parameters()).device
        _, sums, counts = response_loss(model, {k: v.to(device) for k, v in batch.items()})
        total += float(sums.sum())
        count += int(counts.sum())
    model.train(was_training)
    return total / max(count, 1)


# ---------------------------------------------------------------- artifact


def save_model(
    model, out: Path, config: TrainConfig, sid_tokens, tokenizer_fingerprint, metrics, history, tokenizer_dir=None
) -> None:
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    dtype = {"float16": torch.float16, "float32": torch.float32}[config.save_dtype]
    state, seen = {}, set()
    for k, v in get_peft_model_state_dict(model, save_embedding_layers=False).items():
        if v.data_ptr() in seen:  # a tied head shares the SID rows with the input embedding: keep one copy
            continue
        seen.add(v.data_ptr())
        state[k] = v.detach().to(dtype).contiguous()
    with atomic_dir(out) as tmp:
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
        )


def load_model(folder: str | Path, tokenizer_fingerprint: str | None = None):
    """(peft model in eval mode, LLM tokenizer, manifest). Refuses a model trained for another SID tokenizer."""
    from peft import get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file

    folder = Path(folder)
    manifest = read_manifest(folder, KIND, FORMAT_VERSION)
    if tokenizer_fingerprint is not None and manifest["tokenizer_fingerprint"] != tokenizer_fingerprint:
        raise SidrecError(
            f"{folder}: this model was trained with another SID tokenizer "
            f"({manifest['tokenizer_fingerprint']}, not {tokenizer_fingerprint}); retrain it or pick its tokenizer"
        )
    config = TrainConfig.from_dict(manifest["config"])
    sid_tokens = json.loads((folder / "sid_tokens.json").read_text())
    model, tokenizer = load_base(config.base)
    sid_ids = add_sid_vocabulary(model, tokenizer, sid_tokens)
    model = get_peft_model(model, lora_config(config, sid_ids))
    state = {k: v.float() for k, v in load_file(str(folder / "adapter.safetensors")).items()}
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
    h = hashlib.sha256((folder / "adapter.safetensors").read_bytes())
    h.update(json.dumps(manifest["config"], sort_keys=True).encode())
    return h.hexdigest()[:16]


def tokenizer_dir_for(model_dir: str | Path, explicit: str | Path | None = None) -> Path:
    """The SID tokenizer a model belongs to: given, recorded in the manifest, or the sibling `tokenizer/`."""
    model_dir = Path(model_dir)
    candidates = [Path(explicit)] if explicit else []
    manifest = read_manifest(model_dir, KIND, FORMAT_VERSION)
    if manifest.get("tokenizer_dir"):
        candidates.append(model_dir / manifest["tokenizer_dir"])
    candidates.append(model_dir.parent / "tokenizer")
    for c in candidates:
        if (c / "manifest.json").exists():
            return c
    raise SidrecError(f"{model_dir}: cannot find its SID tokenizer; pass --tokenizer DIR")


def log_history(folder: str | Path) -> list[dict]:
    path = Path(folder) / "log.json"
    return json.loads(path.read_text()) if path.exists() else []


def perplexity(loss: float) -> float:
    return math.exp(loss) if loss < 50 else float("inf")
