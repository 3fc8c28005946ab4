"""What a search may return, and how it scores items placed after training.

History: by default (`exclude_history`) a user never gets back an item already in
its history. The trie's blocked states (every item below them is in the history)
are masked at every level, so each kept beam still leads to a new item and K items
come back whenever K exist, with no over-generation. `exclude=` widens the set to
items the model does not read (e.g. the part of a long history before the last
`max_history` items). With `exclude_history=False` repeats are allowed, for
catalogues where people buy the same item again.

Items placed after training (cold start, `add_items`): a new item joins a cell that known items occupy
(`sidrec.placement`) and gets the next separating code, which the model never learned to write after that
cell. Since that code carries no meaning, the search does not ask the model for it (`placed_score`):
"cell" (default) scores a placed item as its whole cell (the model's probability of the cell's prefix), the
cell's known items as the model says; "share" gives a placed item an even share (1/n) of its cell's
probability, n the items in the cell, and the cell's known items the rest in the proportions the model gives
their separating codes; "mate" scores a placed item as the likeliest known item of its cell (a tie with it,
so a new item never outranks the best known item of its own cell). Cells without a placed item score exactly
as the model says, so a catalogue with nothing placed is ranked as before. "cell" was chosen on the validation
split; "mate" was measured against it on both catalogues and not adopted (BENCHMARKS.md, cold start).
`placed_weight` (0 < w <= 1) multiplies a placed item's probability under any rule: below 1 a new item enters a
list only when the model finds its cell that much likelier than the known items it would displace. 1 is the default,
kept on both validation splits: below it the sample's cold users lost their lead over text similarity.

A new item's place by its text (`new_item_place`, "gated" by default): after the search, the placed item whose
text is nearest the history's (cosine to the mean of the history items' unit text vectors) takes the list's last
place when it is nearer than the list's last item is and is also among the `new_item_top` items (10 by default;
0: no such check) of the whole catalogue, the user's excluded items left out, nearest the history by text, so that
the gate does not open more often as the catalogue holds more new items. It reads no label, and a catalogue with
nothing placed gets the search's lists unchanged. Chosen on the validation splits of the sample and of Scientific
over the search alone, the gate without the top-N check and giving new items the last places whatever the list
holds (BENCHMARKS.md, cold start).

This module holds the rules; `sidrec.generate` applies them in and after the beam search.
"""

from __future__ import annotations

import numpy as np
import torch

from sidrec.errors import SidrecError, one_of
from sidrec.tokenizer import SIDTokenizer
from sidrec.trie import PrefixTrie

PLACED_SCORES = ("cell", "share", "mate")


def history_rule(exclude_history: bool) -> str:
    """The name the evaluation and the cache record for a history rule."""
    return "exclude history" if exclude_history else "repeats allowed"


def excluded(histories: list[list[str]], exclude: list | None, exclude_history: bool) -> list[set[str]] | None:
    """Per user, the items the search must not return: its history and its `exclude` items (None: repeats allowed).

    >>> [sorted(s) for s in excluded([["a", "b"], ["c"]], [["z"], []], True)]
    [['a', 'b', 'z'], ['c']]
    >>> excluded([["a"]], None, False) is None
    True
    """
    if not exclude_history:
        return None
    extra = exclude if exclude is not None else [()] * len(histories)
    if len(extra) != len(histories):
        raise SidrecError(f"{len(extra)} exclusion sets for {len(histories)} histories")
    return [set(h) | set(x) for h, x in zip(histories, extra, strict=True)]


def blocked_states(
    trie: PrefixTrie, sid_tok: SIDTokenizer, excluded: list[set[str]] | None, device: torch.device | str = "cpu"
) -> list[torch.Tensor] | None:
    """Per level l: (U, m) trie states at depth l + 1 that the users may not enter, padded with -2."""
    if excluded is None:
        return None
    per_user = [trie.blocked_states(sid_tok.rows_of(ex)) for ex in excluded]
    out = []
    for level in range(trie.n_levels):
        lists = [b[level] for b in per_user]
        m = max(1, max(len(x) for x in lists))
        out.append(torch.tensor([x + [-2] * (m - len(x)) for x in lists], dtype=torch.long, device=device))
    return out


def placed_shares(
    trie: PrefixTrie, n_trained: int, placed_score: str, weight: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per item row: whether it was placed (rows from `n_trained` on), and the log share of its cell's
    probability it takes (placed) or keeps on top of the model's separating-code score (known).
    "cell" and "mate": 1 and 1; "share": 1/n and (n - m)/n, for a cell of n items, m of them placed.
    A placed item's share is then multiplied by `weight` (0 < weight <= 1; see `placed_weight`)."""
    one_of(placed_score, PLACED_SCORES, "placed-item score")
    check_placed_weight(weight)
    cell = trie.item_state[:, trie.n_levels - 1]  # the state before the separating code
    placed = np.arange(len(cell)) >= n_trained
    if placed_score == "share":
        n = np.bincount(cell)[cell]
        m = np.bincount(cell, weights=placed)[cell]
        share = np.where(placed, 1.0 / n, (n - m) / n)
    else:
        share = np.ones(len(cell))
    share = np.where(placed, share * weight, share)
    return placed, np.log(share).astype(np.float32)


def check_placed_weight(weight: float) -> float:
    """The placed items' weight, refused unless 0 < weight <= 1 (0 would end beams whose cell holds nothing else
    the user may get, and K items must come back whenever K exist)."""
    if not 0 < weight <= 1:
        raise SidrecError(f"placed-item weight must be more than 0 and at most 1, got {weight}")
    return weight


def placed_logp(
    logp: torch.Tensor, allowed: torch.Tensor, placed: torch.Tensor, log_share: torch.Tensor, placed_score: str
) -> torch.Tensor:
    """The separating level's scores (beams x codes) with the placed items scored by the rule: "cell" and "share"
    give a placed item its log share of the cell's probability (the prefix's score is added by the search) and
    a known item its own score plus its log share; "mate" gives a placed item the score of the likeliest known
    item the beam's cell holds plus its log share (its weight's log), and known items their own.

    >>> logp, allowed = torch.tensor([[-1.0, -3.0, -9.0]]), torch.tensor([[True, True, True]])
    >>> placed, share = torch.tensor([[False, False, True]]), torch.tensor([[0.0, 0.0, -2.0]])
    >>> [placed_logp(logp, allowed, placed, share, rule).tolist() for rule in ("mate", "cell")]
    [[[-1.0, -3.0, -3.0]], [[-1.0, -3.0, -2.0]]]
    """
    if placed_score == "mate":
        known = allowed & ~placed
        best = logp.masked_fill(~known, float("-inf")).amax(1, keepdim=True)
        return torch.where(placed, best + log_share, logp)
    return torch.where(placed, log_share, logp + log_share)


def cell_mates(sid_tok: SIDTokenizer, item_id: str) -> list[str]:
    """The other items whose SID differs from this one's in the separating code only (its cell)."""
    codes = sid_tok.codes
    row = sid_tok.rows_of([item_id])[0]
    same = np.flatnonzero((codes[:, :-1] == codes[row, :-1]).all(1))
    return [sid_tok.item_ids[r] for r in same if r != row]


NEW_ITEM_PLACES = ("gated", "off")


def new_item_place(
    histories: list[list[int]], lists: list[list[int]], blocked: list[set[int]], text: np.ndarray, placed: np.ndarray,
    k: int, top: int = 0,
) -> list[int | None]:  # fmt: skip
    """Per user, the placed item (a row) that takes its list's last place, or None: the placed item whose text is
    nearest the history's (the mean of its items' unit text vectors), not in the list nor blocked, when its text
    is closer to the history than the text of the list's k-th item is and, with `top` > 0, when fewer than `top`
    items of the whole catalogue (blocked items left out) are closer. Only full lists (k items) change.

    >>> text = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6], [0.6, 0.8], [0.28, 0.96]])  # rows 2, 3 were placed
    >>> histories, lists, blocked = [[0], [1], [1]], [[4, 1], [4, 3], [3, 4]], [set(), {2}, set()]
    >>> new_item_place(histories, lists, blocked, text, np.array([2, 3]), k=2)  # nearer than row 1; none; 0.6 < 0.96
    [2, None, None]
    >>> new_item_place(histories, lists, blocked, text, np.array([2, 3]), k=2, top=1)  # row 0 is nearer than row 2
    [None, None, None]
    >>> new_item_place(histories, lists, [{0}, {2}, set()], text, np.array([2, 3]), k=2, top=1)  # unless blocked
    [2, None, None]
    """
    if top < 0:
        raise SidrecError(f"new-item top must be 0 (no check) or more, got {top}")
    out: list[int | None] = []
    for h, ranked, no in zip(histories, lists, blocked, strict=True):
        candidates = [r for r in placed.tolist() if r not in no and r not in ranked]
        if len(ranked) < k or not candidates or not h:
            out.append(None)
            continue
        query = text[h].mean(0)
        sims = text[candidates] @ query
        best = int(np.argmax(sims))
        chosen = candidates[best] if sims[best] > text[ranked[k - 1]] @ query else None
        if chosen is not None and top:
            near = text @ query
            nearer = near > near[chosen]
            nearer[list(no)] = False
            chosen = chosen if int(nearer.sum()) < top else None
        out.append(chosen)
    return out
