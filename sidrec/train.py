"""LoRA alignment of an LLM to SID tokens: the training loop.

The loop is Hugging Face's Trainer (so `accelerate launch -m sidrec llm train ...` runs data-parallel with no
code change) with the loss of `sidrec.loss` (response tokens only, left-padded batches); batches are grouped by
length to avoid padding waste; a per-task running loss is logged so the app can draw one curve per task; bfloat16
autocast where the CPU (or GPU) supports it. LoRA (peft: r, lora_alpha, target_modules) adapts the attention and
MLP projections and the SID rows train through `trainable_token_indices`. Validation loss against training
seconds, early stopping, a time budget and a stop request are callbacks. The result is saved as the model
artifact of `sidrec.model`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import torch

from sidrec import device as devices
from sidrec.artifacts import check_replaceable, read_manifest, write_json_atomic
from sidrec.errors import SidrecError
from sidrec.llm import add_sid_vocabulary, init_sid_rows, load_base, torch_threads
from sidrec.loss import ExampleDataset, LeftPadCollator, evaluate_loss, response_loss
from sidrec.model import FORMAT_VERSION, KIND, TrainConfig, lora_config, save_model
from sidrec.parallel import any_process
from sidrec.tasks import TASKS, Example

LogFn = Callable[[dict], None]  # training reports records: step, losses, seconds


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
    progress: LogFn | None,
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
            if not config.time_budget_s and should_stop is None:
                return
            over = config.time_budget_s and time.perf_counter() - self.start - paused() > config.time_budget_s
            self.stop_requested = self.stop_requested or (should_stop is not None and bool(should_stop()))
            if any_process(bool(over or self.stop_requested), args.device):  # every process stops at this step
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

    def __init__(self, config: TrainConfig, valid_ds, pad_id: int, progress: LogFn | None):
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
                    if any_process(outer.validate(model, state), args.device):
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
                self.best_state = trainable_state(model)
            return False
        self.bad += 1
        return bool(self.config.early_stopping_patience) and self.bad >= self.config.early_stopping_patience

    def restore_best(self, model, step: int) -> bool:
        """Put the best validated tensors back when they are not those of `step`, the last one; True if so."""
        if self.best_state is None or self.best_step == step:
            return False
        load_trainable_state(model, self.best_state)
        return True


def trainable_state(model) -> dict[str, torch.Tensor]:
    """A copy of the tensors that train (LoRA and SID rows), to put back with `load_trainable_state`."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def load_trainable_state(model, state: dict[str, torch.Tensor]) -> None:
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in state.items():
            params[name].copy_(value)


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
    config: TrainConfig | None = None,
    resume: bool = False,
    progress: LogFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    tokenizer_dir: str | Path | None = None,
) -> dict:
    """Fine-tune and save the artifact to `out`; checkpoints go to `out`-checkpoints. Returns metrics.

    `tokenizer_dir`, when given, is recorded (relative to `out`) so that the model finds its tokenizer.
    """
    from transformers import TrainingArguments, set_seed

    config = config or TrainConfig()
    out = Path(out)
    check_replaceable(out, KIND)  # before the training, not after it
    if resume and (done := finished_run(out, config, tokenizer_fingerprint)) is not None:
        return done  # resuming a finished run changes nothing
    torch_threads()
    set_seed(config.seed)
    model, tokenizer, sid_ids = prepare_model(config, sid_tokens, keywords)
    train_ds = ExampleDataset(train_examples, tokenizer, config.max_length)
    valid_ds = ExampleDataset(valid_examples[: config.eval_examples], tokenizer, config.max_length)
    ckpt = checkpoint_dir(out)
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
    prepare_checkpoints(ckpt, tokenizer_fingerprint, resume, writer=args.should_save)
    checkpoints = saved_checkpoints(ckpt) if resume else []
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
        "resumed_from_step": checkpoint_step(checkpoints[-1]) if checkpoints else 0,
        "bf16": use_bf16,
    }
    metrics["processes"] = trainer.args.world_size
    hint = os.path.relpath(Path(tokenizer_dir).resolve(), out.resolve()) if tokenizer_dir else None
    if trainer.is_world_process_zero():  # data-parallel runs write one artifact
        save_model(trainer.model, out, config, sid_tokens, tokenizer_fingerprint, metrics, history, hint)
    trainer.accelerator.wait_for_everyone()
    return metrics


RUN_RECORD = "run.json"  # beside the checkpoints: the codes they were trained on


def checkpoint_dir(out: str | Path) -> Path:
    """Where a run into `out` keeps its checkpoints: beside it, `out`-checkpoints."""
    out = Path(out)
    return out.with_name(out.name + "-checkpoints")


def checkpoint_step(folder: Path) -> int:
    return int(folder.name.split("-")[1])


def saved_checkpoints(ckpt: Path) -> list[Path]:
    """The checkpoint folders in `ckpt`, by step."""
    return sorted(ckpt.glob("checkpoint-*"), key=checkpoint_step)


def continuable_step(out: str | Path, tokenizer_fingerprint: str) -> int | None:
    """The step from which the model saved in `out` can go on to its `max_steps`, or None.

    It can when its run stopped before them (stopped by its user or its time budget; early stopping ends a run),
    was trained on these codes, and saved a checkpoint at the step it stopped at: `train(..., resume=True)` with
    the model's own config then trains the remaining steps as the run left alone would have.
    """
    try:
        manifest = read_manifest(out, KIND, FORMAT_VERSION)
        config = TrainConfig.from_dict(manifest["config"])
        steps = int(manifest.get("metrics", {}).get("steps", 0))
    except (SidrecError, KeyError, TypeError, ValueError):
        return None
    if (
        manifest.get("tokenizer_fingerprint") != tokenizer_fingerprint
        or config.early_stopping_patience
        or not 0 < steps < config.max_steps
    ):
        return None
    ckpt = checkpoint_dir(out)
    saved = saved_checkpoints(ckpt)
    if not saved or checkpoint_step(saved[-1]) != steps or checkpoints_made_with(ckpt) != tokenizer_fingerprint:
        return None
    return steps


def checkpoints_made_with(ckpt: Path) -> str:
    """The tokenizer fingerprint recorded beside the checkpoints in `ckpt`; "unreadable" when there is none."""
    try:
        return json.loads((ckpt / RUN_RECORD).read_text()).get("tokenizer_fingerprint")
    except (OSError, ValueError, AttributeError):
        return "unreadable"


def prepare_checkpoints(ckpt: Path, tokenizer_fingerprint: str, resume: bool, writer: bool = True) -> None:
    """Make the checkpoint folder this run's, or refuse to resume one that is not.

    A checkpoint holds the rows of the SID tokens of the tokenizer it was trained with; resumed on another
    tokenizer's codes it would go on training with every token meaning something else, so resuming checks the
    tokenizer fingerprint recorded beside the checkpoints (folders from before the record resume as they are).
    A run that starts over removes the checkpoints of the run before at once: stopped before its first save, it
    would otherwise leave them under its own record, and the next resume would pick them up. `writer` is the
    process that saves (one per data-parallel run); the others only check.
    """
    record = ckpt / RUN_RECORD
    old = saved_checkpoints(ckpt)
    if resume and old and record.exists():
        if (made_with := checkpoints_made_with(ckpt)) != tokenizer_fingerprint:
            raise SidrecError(
                f"the checkpoints in {ckpt} were trained on another tokenizer ({made_with}, not "
                f"{tokenizer_fingerprint}): train without resuming to start over, or move that folder away"
            )
    if not writer:
        return
    if not resume:
        for folder in old:
            shutil.rmtree(folder)
    ckpt.mkdir(parents=True, exist_ok=True)
    write_json_atomic(record, {"tokenizer_fingerprint": tokenizer_fingerprint})


def finished_run(out: Path, config: TrainConfig, tokenizer_fingerprint: str) -> dict | None:
    """The saved metrics when `out` already holds this run finished: the same config and tokenizer, and
    `max_steps` steps done (a run stopped early or by its user is not finished); else None."""
    try:
        manifest = read_manifest(out, KIND, FORMAT_VERSION)
        same = TrainConfig.from_dict(manifest["config"]) == config
    except (SidrecError, KeyError, TypeError):
        return None
    metrics = manifest.get("metrics", {})
    if not same or manifest.get("tokenizer_fingerprint") != tokenizer_fingerprint or metrics.get("stopped"):
        return None
    return {**metrics, "resumed_from_step": metrics["steps"]} if metrics.get("steps", 0) >= config.max_steps else None


def _length_grouped_sampler(trainer, dataset: ExampleDataset, config: TrainConfig):
    """Group examples of similar length into batches (less padding), in a seeded random order.

    Epoch e's order is the seed's (e + 1)-th draw, whether the sampler has drawn epochs 0 to e - 1 itself or was
    made at a resume in epoch e: `set_epoch` (called by the trainer before each epoch) replays the earlier draws,
    so a run stopped and resumed sees the batches the same run left alone sees.
    """
    from transformers.trainer_pt_utils import LengthGroupedSampler

    class EpochReplaySampler(LengthGroupedSampler):
        def set_epoch(self, epoch: int) -> None:
            self.generator.manual_seed(config.seed)
            for _ in range(epoch):
                list(super().__iter__())  # the draws of the epochs before

    def sampler(*args, **kwargs):
        # grouped by the global batch: N processes of batch b see the order one process of batch N * b sees
        gen = torch.Generator().manual_seed(config.seed)
        size = config.batch_size * config.grad_accum * trainer.args.world_size
        return EpochReplaySampler(size, lengths=dataset.lengths, generator=gen)

    return sampler
