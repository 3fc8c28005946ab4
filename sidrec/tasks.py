"""Alignment tasks: the (prompt, response) texts that teach an LLM the SID tokens.

Five tasks, from LC-Rec-style alignment, Semantic Convergence and TS-Rec:

- sequential: purchase history as SIDs -> the next item's SID (the main task), in
  one of two modes. "sequence" (default): one example is a user's whole training
  sequence written as consecutive SIDs after a fixed prompt, with the loss on
  every item's SID after the first, so one forward pass teaches every next item
  of the user (as SASRec and HSTU train); sequences longer than the history cap
  are cut into overlapping windows, each item a target once. "prefix": every
  prefix of a sequence is its own (history -> next SID) example. Inference reads
  the mode a model was trained with (`recommendation_input`);
- textual: SID -> title, and title (+ a short description) -> SID;
- query: a need built from the item's product type and its tokens' keywords -> SID
  (never the item's exact title: that is the textual task);
- negative: (history, candidate SID) -> "yes" for the true next item, "no" for a
  sampled one (uniform, popularity-weighted, or hard: sharing the target's first token);
- ts_align: SID token -> what its items share (the keyword description), and back.

The default recipe (`DEFAULT_TASKS`) is every task but the negative one: on the sample, trained to
the same next-item signal over three seeds and for the same 1,000 steps, the recipe without it is
level with the recipe with it (BENCHMARKS.md, "The recipe, part by part"), so it costs steps and
buys nothing measurable. It stays one `--tasks` option away. Taking out TS-Align, or textual and
query, at the same step count costs the ranking (three seeds each): those keep the next-item task from overtraining.

Builders read only what training may see: `split.train`, `split.train_sequences`,
the item table, the tokenizer and the token keywords. An item that occurs only as a
valid/test target never appears in a training example; only `build_validation_set`
reads `split.valid`. Prompt phrasings live in `sidrec.prompts.TEMPLATES` and are drawn by
a seeded RNG per example, so the same inputs and seed give the same list; negatives come from
`sidrec.negatives`.

This module does not know the LLM: it does not apply a chat template, tokenize, or
place the loss (the training code wraps prompt/response and masks the prompt).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd

from sidrec.data import Split, train_items
from sidrec.errors import SidrecError
from sidrec.item_text import product_type, query_keywords, token_description, truncate
from sidrec.negatives import NEGATIVE_KINDS, NegativeSampler
from sidrec.prompts import (
    SEQUENCE_PROMPT,
    SEQUENTIAL_MODES,
    TEMPLATES,
    recommendation_input,
    sids_text,
)
from sidrec.tokenizer import SIDTokenizer, token

TASKS = ("sequential", "textual", "query", "negative", "ts_align")
DEFAULT_TASKS = ("sequential", "textual", "query", "ts_align")  # module docstring: why not "negative"
TEXT_TASKS = ("textual", "query", "ts_align")  # tasks built from item text or the keywords drawn from it


@dataclass(frozen=True)
class TaskConfig:
    tasks: tuple[str, ...] = DEFAULT_TASKS
    # Relative size of each task in the mix, as a multiple of the sequential task's count (sequential = 1.0).
    weights: tuple[tuple[str, float], ...] = (
        ("sequential", 1.0),
        ("textual", 0.3),
        ("query", 0.2),
        ("negative", 0.2),
        ("ts_align", 0.15),
    )
    max_history: int = 20  # items of history shown in sequential and negative prompts
    sequential_mode: str = "sequence"  # sequence | prefix (see the module docstring)
    negative_kinds: tuple[str, ...] = NEGATIVE_KINDS  # cycled over the training samples
    max_description_chars: int = 120  # short description in title->SID prompts
    seed: int = 0

    def __post_init__(self):
        unknown = [t for t in self.tasks if t not in TASKS]
        if unknown:
            raise SidrecError(f"unknown task {unknown[0]!r} (choose from {', '.join(TASKS)})")
        if len(set(self.tasks)) != len(self.tasks) or not self.tasks:
            raise SidrecError("tasks must be a non-empty list without repeats")
        weights = dict(self.weights)
        for t in self.tasks:
            if t not in weights:
                raise SidrecError(f"task {t!r} has no weight in the task mix")
            if weights[t] < 0:
                raise SidrecError(f"task {t!r} has a negative weight ({weights[t]})")
        bad = [k for k in self.negative_kinds if k not in NEGATIVE_KINDS]
        if bad or ("negative" in self.tasks and not self.negative_kinds):
            raise SidrecError(f"negative kinds must be some of {', '.join(NEGATIVE_KINDS)}, got {self.negative_kinds}")
        if self.max_history < 1:
            raise SidrecError(f"max_history must be at least 1, got {self.max_history}")
        if self.sequential_mode not in SEQUENTIAL_MODES:
            raise SidrecError(
                f"unknown sequential mode {self.sequential_mode!r} (choose from {', '.join(SEQUENTIAL_MODES)})"
            )


@dataclass(frozen=True)
class Example:
    task: str  # one of TASKS ("textual" covers both directions etc.)
    prompt: str
    response: str
    items: tuple[str, ...] = ()  # every item id whose SID or title appears in prompt or response (leakage checks)
    context: str = ""  # text after the formatted prompt that carries no loss (sequence mode: the first items' SIDs)
    eos: bool = True  # the response ends with EOS (not in sequence mode: a sequence goes on)
    targets: int = 0  # next-item targets whose loss the example carries (sequential task only)


# ---------------------------------------------------------------- small helpers


def _rng(config: TaskConfig, *parts: str) -> random.Random:
    """A generator seeded by the config seed and a purpose; str seeds hash stably (no PYTHONHASHSEED)."""
    return random.Random(":".join([str(config.seed), *parts]))


# ---------------------------------------------------------------- one example each


def _sequential(
    history: tuple[str, ...], target: str, tok: SIDTokenizer, config: TaskConfig, rng: random.Random
) -> Example:
    hist = tuple(history[-config.max_history :])
    prompt = rng.choice(TEMPLATES["sequential"]).format(history=sids_text(hist, tok))
    return Example("sequential", prompt, tok.encode(target), (*hist, target), targets=1)


def sequence_windows(n: int, cap: int) -> list[tuple[int, int, int]]:
    """(start, first_target, end) windows over a sequence of n items, at most cap + 1 items each.

    Every item after the first is the target of exactly one window, with at least cap // 2 items
    of context once the sequence is longer than the window.

    >>> sequence_windows(5, 20)
    [(0, 1, 5)]
    >>> sequence_windows(30, 20)  # items 1..20, then 21..29 with the 10 before them and more
    [(0, 1, 21), (9, 21, 30)]
    """
    if n < 2:
        return []
    stride = max(1, cap // 2)
    out, end = [], min(n, cap + 1)
    out.append((0, 1, end))
    while end < n:
        new_end = min(n, end + stride)
        out.append((max(0, new_end - cap - 1), end, new_end))
        end = new_end
    return out


def _sequence(seq: list[str], tok: SIDTokenizer, config: TaskConfig) -> list[Example]:
    """A user's training sequence as windows of consecutive SIDs, the loss on every target item."""
    out = []
    for start, first, end in sequence_windows(len(seq), config.max_history):
        context, targets = seq[start:first], seq[first:end]
        out.append(
            Example(
                "sequential", SEQUENCE_PROMPT, "".join(tok.encode(i) for i in targets), tuple(seq[start:end]),
                context="".join(tok.encode(i) for i in context), eos=False, targets=len(targets),
            )
        )  # fmt: skip
    return out


def _next_item(history: tuple[str, ...], target: str, tok: SIDTokenizer, config: TaskConfig) -> Example:
    """History -> one target in the model's sequential format, without EOS (validation: the SID tokens only)."""
    prompt, context = recommendation_input(history, tok, config.max_history, config.sequential_mode)
    hist = tuple(history[-config.max_history :])
    return Example("sequential", prompt, tok.encode(target), (*hist, target), context=context, eos=False, targets=1)


def _sid_to_title(iid: str, items: pd.DataFrame, tok: SIDTokenizer, rng: random.Random) -> Example:
    prompt = rng.choice(TEMPLATES["textual_sid_to_title"]).format(sid=tok.encode(iid))
    return Example("textual", prompt, " ".join(str(items.at[iid, "title"]).split()), (iid,))


def _title_to_sid(iid: str, items: pd.DataFrame, tok: SIDTokenizer, config: TaskConfig, rng: random.Random) -> Example:
    title = " ".join(str(items.at[iid, "title"]).split()).rstrip(".")
    description = truncate(str(items.at[iid, "description"]), config.max_description_chars)
    prompt = rng.choice(TEMPLATES["textual_title_to_sid"]).format(title=title, description=description)
    return Example("textual", " ".join(prompt.split()), tok.encode(iid), (iid,))


def _query(iid: str, items: pd.DataFrame, tok: SIDTokenizer, keywords: dict, rng: random.Random) -> Example | None:
    """A need -> SID; None when the item has neither a category nor a fitting keyword."""
    product = product_type(str(items.at[iid, "categories"]))
    kws = query_keywords(iid, items, tok, keywords)
    chosen = rng.sample(kws, min(len(kws), rng.choice((1, 2)))) if kws else []
    if not product and not chosen:
        return None
    if not product:  # no category: the keywords carry the need alone
        product, chosen = chosen[0], chosen[1:]
    if chosen:
        need = rng.choice(TEMPLATES["query_need"]).format(product=product, keywords=", ".join(chosen))
    else:
        need = rng.choice(TEMPLATES["query_need_plain"]).format(product=product)
    title = " ".join(str(items.at[iid, "title"]).split())
    if title and title.lower() in need.lower():  # guard: the exact title is the textual task's
        return None
    return Example("query", rng.choice(TEMPLATES["query"]).format(need=need), tok.encode(iid), (iid,))


def _judgement(
    history: tuple[str, ...], candidate: str, yes: bool, tok: SIDTokenizer, config: TaskConfig, rng: random.Random
) -> Example:
    hist = tuple(history[-config.max_history :])
    prompt = rng.choice(TEMPLATES["negative"]).format(history=sids_text(hist, tok), candidate=tok.encode(candidate))
    return Example("negative", prompt, "yes" if yes else "no", (*hist, candidate))


def _ts_align(tok_str: str, info: dict, rng: random.Random) -> list[Example]:
    description = token_description(info)
    if not description:
        return []
    return [
        Example("ts_align", rng.choice(TEMPLATES["ts_align_token_to_text"]).format(token=tok_str), description),
        Example("ts_align", rng.choice(TEMPLATES["ts_align_text_to_token"]).format(description=description), tok_str),
    ]


# ---------------------------------------------------------------- task sets


def task_examples(
    task: str, split: Split, items: pd.DataFrame, tok: SIDTokenizer, keywords: dict, config: TaskConfig
) -> list[Example]:
    """One task's natural set, before mixing. Reads only what training may see."""
    rng = _rng(config, task)
    if task == "sequential" and config.sequential_mode == "sequence":
        return [ex for seq in split.train_sequences.values() for ex in _sequence(seq, tok, config)]
    if task == "sequential":
        return [_sequential(s.history, s.target, tok, config, rng) for s in split.train]
    if task == "textual":
        out = []
        for iid in train_items(split):
            if str(items.at[iid, "title"]).strip():  # an item without a title has nothing to align
                out += [_sid_to_title(iid, items, tok, rng), _title_to_sid(iid, items, tok, config, rng)]
        return out
    if task == "query":
        found = (_query(iid, items, tok, keywords, rng) for iid in train_items(split))
        return [ex for ex in found if ex is not None]
    if task == "negative":
        sampler = NegativeSampler(split, tok)
        seen = {u: set(seq) for u, seq in split.train_sequences.items()}
        out = []
        for n, s in enumerate(split.train):
            kind = config.negative_kinds[n % len(config.negative_kinds)]
            neg = sampler.sample(kind, s.target, seen.get(s.user_id, set()) | set(s.history), rng)
            if neg is not None:  # one yes and one no per sample: balanced by construction
                out += [_judgement(s.history, s.target, True, tok, config, rng)]
                out += [_judgement(s.history, neg, False, tok, config, rng)]
        return out
    if task == "ts_align":
        sep = tok.separating_level
        out = []
        for tok_str, info in keywords.items():
            if info.get("level") != sep:
                out += _ts_align(tok_str, info, rng)
        return out
    raise SidrecError(f"unknown task {task!r} (choose from {', '.join(TASKS)})")


def mix(per_task: dict[str, list[Example]], config: TaskConfig) -> list[Example]:
    """Size each task relative to the sequential one and shuffle them together.

    N is the sequential count (the largest natural set when sequential is not
    configured or empty); each task gets round(weight * N) examples: a sample
    without replacement from its natural set when that is large enough, else
    every example k times plus a sample of the rest (with replacement, but
    spread evenly). Deterministic for a seed. E.g. 10 sequential examples and
    weight 0.3 give 3 textual ones.
    """
    weights = dict(config.weights)
    sizes = {t: len(per_task.get(t, [])) for t in config.tasks}
    n = sizes.get("sequential", 0) or max(sizes.values(), default=0)
    out: list[Example] = []
    for task in config.tasks:
        pool = per_task.get(task, [])
        want = round(weights[task] * n)
        if not pool or want == 0:
            continue
        rng = _rng(config, "mix", task)
        copies, rest = divmod(want, len(pool))
        out += pool * copies + [pool[i] for i in sorted(rng.sample(range(len(pool)), rest))]
    _rng(config, "mix").shuffle(out)
    return out


def build_training_set(
    split: Split, items: pd.DataFrame, tok: SIDTokenizer, keywords: dict, config: TaskConfig = TaskConfig()
) -> list[Example]:
    """Every configured task built from the training data, mixed by the configured weights."""
    return mix({t: task_examples(t, split, items, tok, keywords, config) for t in config.tasks}, config)


def build_validation_set(
    split: Split, tok: SIDTokenizer, config: TaskConfig = TaskConfig(), max_examples: int | None = None
) -> list[Example]:
    """The sequential task over `split.valid` (history -> valid target), for validation loss only.

    In the format inference reads (the configured sequential mode), the loss on the target's SID
    tokens alone (no EOS), so both modes' validation losses measure the same thing.
    With `max_examples`, a seeded subset of those examples, in split order.
    """
    examples = [_next_item(s.history, s.target, tok, config) for s in split.valid]
    if max_examples is not None and max_examples < len(examples):
        examples = [
            examples[i] for i in sorted(_rng(config, "valid-subset").sample(range(len(examples)), max_examples))
        ]
    return examples


def examples_for_user(
    user_id: str, split: Split, items: pd.DataFrame, tok: SIDTokenizer, keywords: dict, config: TaskConfig
) -> dict[str, Example]:
    """One example of every configured task around a user's training history (for display).

    Built on the user's last training step (history -> last training item); a task
    that cannot be built for this user (e.g. sequential with a single training item)
    is left out of the dict.
    """
    if user_id not in split.train_sequences:
        raise SidrecError(f"unknown user {user_id!r} (not in the training data)")
    seq = split.train_sequences[user_id]
    if not seq:
        return {}
    rng = _rng(config, "user", user_id)
    history, last = tuple(seq[:-1][-config.max_history :]), seq[-1]
    out: dict[str, Example] = {}
    for task in config.tasks:
        ex: Example | None = None
        if task == "sequential" and config.sequential_mode == "sequence" and history:
            ex = _sequence(list(seq), tok, config)[-1]
        elif task == "sequential" and history:
            ex = _sequential(history, last, tok, config, rng)
        elif task == "textual":
            ex = (
                _sid_to_title(last, items, tok, rng)
                if rng.random() < 0.5
                else _title_to_sid(last, items, tok, config, rng)
            )
        elif task == "query":
            ex = _query(last, items, tok, keywords, rng)
        elif task == "negative" and history:
            kind = rng.choice(config.negative_kinds)
            neg = NegativeSampler(split, tok).sample(kind, last, set(seq), rng)
            yes = neg is None or rng.random() < 0.5
            ex = _judgement(history, last if yes else neg, yes, tok, config, rng)
        elif task == "ts_align":
            first = token(0, tok.codes_of(last)[0])
            pair = _ts_align(first, keywords.get(first, {}), rng) if first in keywords else []
            ex = rng.choice(pair) if pair else None
        if ex is not None:
            out[task] = ex
    return out
