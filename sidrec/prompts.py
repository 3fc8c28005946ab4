"""The text a model reads: every task's prompt phrasings, and the exact input of a next-item search.

Shared by the task builders (`sidrec.tasks`, training) and the search (`sidrec.generate`, inference),
so that inference reads exactly the format training wrote. Two sequential formats exist
(`SEQUENTIAL_MODES`): "sequence" writes a history as SIDs back to back after one fixed prompt
(`SEQUENCE_PROMPT`); "prefix" uses the first sequential phrasing with the SIDs spaced.
"""

from __future__ import annotations

from sidrec.errors import SidrecError
from sidrec.tokenizer import SIDTokenizer

SEQUENTIAL_MODES = ("sequence", "prefix")
SEQUENCE_PROMPT = "Purchases in order:"  # the one phrasing of the sequence mode: inference must read it as trained

# Several short phrasings per task (and direction). Every prompt token costs training
# time on a CPU, so they stay terse; the variety keeps the model from fitting one wording.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "sequential": (
        "Purchase history: {history} Next item?",
        "User bought: {history} What next?",
        "History: {history} Predict the next item.",
        "Items so far: {history} Next purchase?",
    ),
    "textual_sid_to_title": (
        "Title of {sid}?",
        "What is {sid}?",
        "Name the item {sid}.",
    ),
    "textual_title_to_sid": (
        "Item: {title}. {description} SID?",
        "Which SID is {title}? {description}",
        "SID for: {title}. {description}",
    ),
    # The need itself; a product type and, where any fit the item, a few keywords.
    "query_need": (
        "Looking for {product} ({keywords}).",
        "I need {product}: {keywords}.",
        "Shopping for {product}, {keywords}.",
        "Any {product} with {keywords}?",
    ),
    "query_need_plain": (
        "Looking for {product}.",
        "I need {product}.",
        "Shopping for {product}.",
    ),
    "query": (
        "{need} Which item?",
        "{need} Recommend one.",
        "{need} SID?",
    ),
    "negative": (
        "History: {history} Candidate: {candidate} Buy next? yes/no",
        "Purchase history: {history} Would they buy {candidate} next? yes/no",
        "User bought: {history} Is {candidate} the next item? yes/no",
    ),
    "ts_align_token_to_text": (
        "What do {token} items share?",
        "Describe {token}.",
        "Meaning of {token}?",
    ),
    "ts_align_text_to_token": (
        "Which token means: {description}",
        "Token for: {description}",
        "{description} Which token?",
    ),
}


def sids_text(item_ids: tuple[str, ...] | list[str], tok: SIDTokenizer) -> str:
    """Items as their SIDs, space-separated (the prefix format)."""
    return " ".join(tok.encode(i) for i in item_ids)


def recommendation_prompt(history: tuple[str, ...] | list[str], tok: SIDTokenizer, max_history: int = 20) -> str:
    """The prefix mode's prompt at inference: the first phrasing, the last `max_history` items."""
    hist = tuple(history)[-max_history:]
    if not hist:
        raise SidrecError("a recommendation needs at least one item in the history")
    return TEMPLATES["sequential"][0].format(history=sids_text(hist, tok))


def recommendation_input(
    history: tuple[str, ...] | list[str], tok: SIDTokenizer, max_history: int = 20, mode: str = "sequence"
) -> tuple[str, str]:
    """(prompt, context) a model trained in `mode` reads before writing the next SID.

    The model's input is the formatted prompt followed by the context: in sequence mode the fixed
    prompt and the last `max_history` SIDs written back to back, exactly as training wrote them.
    """
    if mode == "prefix":
        return recommendation_prompt(history, tok, max_history), ""
    if mode != "sequence":
        raise SidrecError(f"unknown sequential mode {mode!r} (choose from {', '.join(SEQUENTIAL_MODES)})")
    hist = tuple(history)[-max_history:]
    if not hist:
        raise SidrecError("a recommendation needs at least one item in the history")
    return SEQUENCE_PROMPT, "".join(tok.encode(i) for i in hist)
