"""Preference alignment on the model's own best guesses (S-DPO): a second stage after `sidrec.train`.

Next-item training teaches the model the target's tokens one by one; it never compares the target with the
items the model itself would rank above it. This stage does, with the softmax DPO loss of S-DPO (Chen et al.,
2024): for a history h, its true next item y and n negatives z_1..z_n,

    loss = softplus(log sum_j exp(beta * (d(z_j) - d(y))))    with d(x) = log pi(x | h) - log pi_ref(x | h),

where pi is the model being trained, pi_ref the model the stage starts from, and log pi(x | h) the sum of the
log-probabilities of x's SID tokens, exactly the score the search ranks by (`GenerateConfig.score = "vocab"`).
With one negative it is DPO; at the start (pi = pi_ref) it is log(n + 1). The negatives are
hard: the items the starting model's own constrained search ranks highest for h, the target and the user's
history left out (so they are what stands between the target and the top of a list). `sft_weight` adds the
target's mean token loss, so the target's own probability cannot fall while the margins grow.

Examples come from the training split only: per user, the last `positions` items of the training sequence, each
with the items before it as history. The stage's own validation (the preference loss and the share of
negatives ranked below the target, on the split's last `eval_examples` validation users with negatives found
the same way) chooses the step that is kept: by default the one where the target's own token loss is lowest.

A candidate's log-probability is computed with one pass over the prompt and the candidates' tokens read against
its cache (`sidrec.shared_prefix`), so n + 1 candidates cost one prompt, not n + 1.

This module trains a loaded model in place and returns its log; loading, data and saving are
`sidrec.pipeline.prefer_llm`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from sidrec import device as devices
from sidrec import shared_prefix
from sidrec.data import Sample
from sidrec.errors import SidrecError, one_of
from sidrec.progress import ProgressFn
from sidrec.train import load_trainable_state, trainable_state

KEEP_BY = ("target_loss", "preference_loss")


@dataclass(frozen=True)
class PreferenceConfig:
    negatives: int = 8  # per example: the starting model's best items that are neither the target nor bought
    num_beams: int = 20  # beam width of the search that finds them (at least negatives + 1)
    beta: float = 1.0  # scale of the log-ratios to the starting model (S-DPO's beta)
    sft_weight: float = 1.0  # + this x the target's mean token loss (0: the preference loss alone)
    learning_rate: float = 1e-4  # peak; linear warm-up, then linear decay to zero
    warmup_ratio: float = 0.05
    batch_size: int = 8  # examples per step, each with its 1 + negatives candidates
    epochs: int = 1
    positions: int = 1  # per user, the last N items of the training sequence are targets
    max_users: int = 0  # train on the first N users' examples only (0: every user)
    eval_examples: int = 200  # the validation split's last N users: the stage's own validation
    eval_steps: int = 25  # validate every N steps and keep the best (0: at the end only)
    # what "best" means on the stage's validation users: "target_loss", the target's own mean token loss (as
    # next-item training stops early), or "preference_loss", the S-DPO loss against the starting model's guesses,
    # which on the sample went on falling while the ranking got worse (BENCHMARKS.md)
    keep_by: str = "target_loss"
    logging_steps: int = 5
    seed: int = 0
    # autocast to bfloat16 where the hardware supports it; off by default, so that the trained model's scores and
    # the reference's (float32, the search's precision) agree to rounding at the start
    bf16: bool = False
    device: str = "auto"

    def __post_init__(self):
        for name in ("negatives", "num_beams", "batch_size", "epochs", "positions", "logging_steps"):
            if getattr(self, name) < 1:
                raise SidrecError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.num_beams < self.negatives + 1:
            raise SidrecError(
                f"the search needs at least negatives + 1 beams ({self.negatives + 1}), got {self.num_beams}"
            )
        if not self.beta > 0:
            raise SidrecError(f"beta must be positive, got {self.beta}")
        if not self.learning_rate > 0:
            raise SidrecError(f"the learning rate must be positive, got {self.learning_rate}")
        one_of(self.keep_by, KEEP_BY, "keep-by measure")
        if min(self.sft_weight, self.eval_examples, self.eval_steps, self.max_users) < 0:
            raise SidrecError("sft_weight, eval_examples, eval_steps and max_users cannot be negative")


def s_dpo_loss(policy: torch.Tensor, reference: torch.Tensor, beta: float) -> torch.Tensor:
    """Per-example S-DPO loss; column 0 of the (B, 1 + n) log-probabilities is the target.

    >>> round(float(s_dpo_loss(torch.zeros(1, 5), torch.zeros(1, 5), 1.0)[0]), 4)  # log(1 + 4)
    1.6094
    >>> p, r = torch.tensor([[-1.0, -2.0]]), torch.tensor([[-2.0, -2.0]])  # DPO: -log sigmoid(beta * 1)
    >>> round(float(s_dpo_loss(p, r, 2.0)[0]), 4) == round(-math.log(1 / (1 + math.exp(-2.0))), 4)
    True
    """
    d = policy - reference  # (B, 1 + n)
    return torch.nn.functional.softplus(torch.logsumexp(beta * (d[:, 1:] - d[:, :1]), dim=1))  # (B,)


def last_items(train_sequences: dict[str, list[str]], positions: int = 1, max_users: int = 0) -> list[Sample]:
    """Per user (the first `max_users`, 0: all), the last `positions` training items as targets, each with every
    item before it as history.

    >>> last_items({"u": ["a", "b", "c"], "v": ["x"]}, positions=2)
    [Sample(user_id='u', history=('a', 'b'), target='c'), Sample(user_id='u', history=('a',), target='b')]
    """
    out = []
    users = list(train_sequences.items())
    for user, seq in users[:max_users] if max_users else users:
        for p in range(1, positions + 1):
            if len(seq) - p >= 1:
                out.append(Sample(user, tuple(seq[: len(seq) - p]), seq[len(seq) - p]))
    return out


def find_negatives(recommender, samples: list[Sample], n: int, progress: ProgressFn | None = None) -> list[list[str]]:
    """The recommender's best n items for each history that are not its target (nor, by the search's history
    rule, any item the user already has)."""
    out: list[list[str]] = []
    step = max(1, recommender.batch_size) * 8
    for start in range(0, len(samples), step):
        part = samples[start : start + step]
        recs = recommender.recommend([list(s.history) for s in part], k=n + 1)
        out += [[i for i in r.items if i != s.target][:n] for r, s in zip(recs, part, strict=True)]
        if progress is not None:
            progress(
                min(1.0, (start + len(part)) / len(samples)), f"negatives for {start + len(part)} of {len(samples)}"
            )
    return out


class CandidateScorer:
    """log pi(x | h) of candidate items, as the search scores them, with gradients: one pass over each prompt and
    every candidate's SID tokens read against that prompt's cache."""

    def __init__(self, recommender):
        self.rec = recommender
        self.sid_ids: dict[str, list[int]] = {}

    def ids(self, item_id: str) -> list[int]:
        if item_id not in self.sid_ids:
            sid = self.rec.sid_tok.encode(item_id)
            self.sid_ids[item_id] = self.rec.llm_tok(sid, add_special_tokens=False)["input_ids"]
        return self.sid_ids[item_id]

    def __call__(self, model, histories: list[tuple[str, ...]], candidates: list[list[str]]) -> torch.Tensor:
        """(U, W) log-probabilities; every history has the same number W of candidates."""
        rec, dev = self.rec, self.rec.device
        width = len(candidates[0])
        if any(len(c) != width for c in candidates):
            raise SidrecError("every example needs the same number of candidates")
        tokens = torch.tensor([[self.ids(i) for i in c] for c in candidates], device=dev)  # (U, W, L)
        tokens = tokens.view(-1, tokens.shape[-1])  # (N, L), N = U * W
        prompts = [rec.model_text(list(h)) for h in histories]
        enc = rec.llm_tok(prompts, add_special_tokens=False, padding=True, padding_side="left", return_tensors="pt")
        mask = enc["attention_mask"].to(dev)  # (U, T)
        pos = (mask.cumsum(1) - 1).clamp_min(0)
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        decoder = base.get_decoder()
        out = decoder(input_ids=enc["input_ids"].to(dev), attention_mask=mask, position_ids=pos, use_cache=True)
        hidden = [out.last_hidden_state[:, -1].repeat_interleave(width, 0)]  # (N, d): predicts the first token
        last = pos[:, -1].repeat_interleave(width, 0)  # (N,)
        if tokens.shape[1] > 1:
            if not shared_prefix.supports(decoder):
                raise SidrecError(f"preference training needs a Llama-family model, not {type(decoder).__name__}")
            cache = shared_prefix.SharedPrefixCache(out.past_key_values, mask)
            for level in range(tokens.shape[1] - 1):
                hidden.append(shared_prefix.step(decoder, cache, tokens[:, level], last + 1 + level))
        h = torch.stack(hidden, 1)  # (N, L, d)
        logits = base.get_output_embeddings()(h).float()  # (N, L, V)
        logp = torch.log_softmax(logits, -1).gather(-1, tokens[..., None])[..., 0]  # (N, L)
        return logp.sum(-1).view(len(histories), width)  # (U, W)


def _examples(samples: list[Sample], negatives: list[list[str]], n: int) -> tuple[list[Sample], list[list[str]]]:
    """The examples with a full set of n negatives (a catalogue smaller than the history allows fewer)."""
    kept = [(s, [s.target, *z]) for s, z in zip(samples, negatives, strict=True) if len(z) == n]
    return [s for s, _ in kept], [c for _, c in kept]


def prefer(
    recommender,
    model,
    train_samples: list[Sample],
    valid_samples: list[Sample],
    config: PreferenceConfig = PreferenceConfig(),
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """Train `model` (a peft model, not merged) in place; returns the stage's metrics and log.

    `recommender` holds the starting model (the same weights as `model` before the first step; a merged copy
    searches and scores faster, and `model` itself will do): its search finds the negatives and it scores the
    reference log-probabilities, both before any step. Its config must allow `config.negatives + 1` beams, and
    the history rule stays on.
    """
    dev = recommender.device
    model.to(dev)
    torch.manual_seed(config.seed)
    report = progress or (lambda frac, msg: None)
    t0 = time.perf_counter()
    found = find_negatives(
        recommender, train_samples + valid_samples, config.negatives, lambda f, m: report(0.3 * f, m)
    )  # fmt: skip
    train_s, train_c = _examples(train_samples, found[: len(train_samples)], config.negatives)
    valid_s, valid_c = _examples(valid_samples, found[len(train_samples) :], config.negatives)
    if not train_s:
        raise SidrecError("no training example has enough negatives: the catalogue is too small for this stage")
    negatives_seconds = time.perf_counter() - t0
    score = CandidateScorer(recommender)
    autocast = devices.autocast_dtype(dev, config.bf16)

    def forward(net, histories, candidates) -> torch.Tensor:
        with torch.autocast(dev.type, dtype=autocast or torch.float32, enabled=autocast is not None):
            return score(net, histories, candidates)

    @torch.no_grad()
    def scored(net, samples, cands, progress_from: float | None = None) -> torch.Tensor:
        net.eval()
        rows = []
        for i in range(0, len(samples), 32):
            rows.append(forward(net, [s.history for s in samples[i : i + 32]], cands[i : i + 32]))
            if progress_from is not None:
                report(progress_from + 0.05 * (i + 32) / len(samples), "scoring the candidates with the starting model")
        return torch.cat(rows).float() if rows else torch.zeros(0, config.negatives + 1)

    ref_train, ref_valid = scored(recommender.model, train_s, train_c, 0.3), scored(recommender.model, valid_s, valid_c)

    @torch.no_grad()
    def validate() -> dict:
        if not valid_s:
            return {}
        pol = scored(model, valid_s, valid_c)
        loss = s_dpo_loss(pol, ref_valid, config.beta).mean().item()
        return {
            "valid_target_loss": round(-pol[:, 0].mean().item() / len(score.ids(valid_s[0].target)), 4),
            "valid_preference_loss": round(loss, 4),
            # the share of the starting model's best guesses that the target now outranks
            "valid_target_above_negatives": round(float((pol[:, :1] > pol[:, 1:]).float().mean()), 4),
        }

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    per_epoch = math.ceil(len(train_s) / config.batch_size)
    total = per_epoch * config.epochs
    warm = max(1, int(config.warmup_ratio * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm))
    )
    gen = torch.Generator().manual_seed(config.seed)

    measure = f"valid_{config.keep_by}"
    log: list[dict] = [{"step": 0, **validate()}]
    best = (log[0].get(measure, math.inf), 0, trainable_state(model) if valid_s else None)
    window: list[tuple[float, float, float]] = []
    step, stopped, t_train = 0, False, time.perf_counter()
    for _ in range(config.epochs):
        order = torch.randperm(len(train_s), generator=gen).tolist()
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size]
            model.train()
            pol = forward(model, [train_s[i].history for i in idx], [train_c[i] for i in idx])  # (B, 1 + n)
            pref = s_dpo_loss(pol, ref_train[idx], config.beta).mean()
            n_tokens = len(score.ids(train_s[idx[0]].target))
            sft = -pol[:, 0].mean() / n_tokens
            loss = pref + config.sft_weight * sft
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            above = float((pol[:, :1] > pol[:, 1:]).float().mean())
            window.append((pref.item(), sft.item(), above))
            if step % config.logging_steps == 0 or step == total:
                p, s, a = (sum(x) / len(window) for x in zip(*window, strict=True))
                log.append({"step": step, "preference_loss": round(p, 4), "target_token_loss": round(s, 4),
                            "target_above_negatives": round(a, 4), "lr": sched.get_last_lr()[0]})  # fmt: skip
                window = []
                report(0.35 + 0.65 * step / total, f"step {step}/{total} preference loss {p:.3f}")
            if config.eval_steps and step % config.eval_steps == 0 and step < total:
                log.append({"step": step, **validate()})
                if log[-1].get(measure, math.inf) < best[0]:
                    best = (log[-1][measure], step, trainable_state(model))
                if measure in log[-1]:
                    report(0.35 + 0.65 * step / total, f"step {step}/{total} validation {log[-1][measure]:.3f}")
            if should_stop is not None and should_stop():
                stopped = True
                break
        if stopped:
            break
    train_seconds = time.perf_counter() - t_train
    log.append({"step": step, **validate()})
    kept = step
    if best[2] is not None and log[-1].get(measure, math.inf) >= best[0]:
        load_trainable_state(model, best[2])  # an earlier step (step 0: the starting model) was better
        kept = best[1]
    model.eval()
    final = next((h for h in reversed(log) if h["step"] == kept and measure in h), {})
    return {
        "examples": len(train_s),
        "valid_examples": len(valid_s),
        "steps": step,
        "kept_step": kept,
        "stopped": stopped,
        "negatives_seconds": round(negatives_seconds, 1),
        "train_seconds": round(train_seconds, 1),
        "bf16": autocast is not None,
        **{k: v for k, v in final.items() if k != "step"},
        "log": log,
    }
