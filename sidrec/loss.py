"""Batches and the loss: tokenized examples, left-padded batches, and the loss on response tokens alone.

Batches are left-padded, so every response ends at the last position. The loss is the mean over response
tokens; the final hidden states are read at the normalisation the LM head reads and the head is applied to the
response positions alone, in chunks whose logits are recomputed in the backward pass (`response_loss`), so the
49k-row head is never multiplied against prompt tokens that carry no loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sidrec.llm import IGNORE, encode_example
from sidrec.tasks import TASKS, Example


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
