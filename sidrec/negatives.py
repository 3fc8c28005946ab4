"""Negative items for the yes/no judgement task: items a user did not interact with, among those training sees."""

from __future__ import annotations

import random
from collections import Counter

from sidrec.data import Split, train_items
from sidrec.tokenizer import SIDTokenizer

NEGATIVE_KINDS = ("uniform", "popular", "hard")


class NegativeSampler:
    """Draws items a user did not interact with, among the items training sees.

    uniform: any such item; popular: weighted by training interaction counts;
    hard: sharing the target's first SID token (uniform when none is left).
    """

    def __init__(self, split: Split, tok: SIDTokenizer, tries: int = 50):
        counts = Counter(i for seq in split.train_sequences.values() for i in seq)
        self.universe = train_items(split)
        self.cum_weights = []
        total = 0
        for iid in self.universe:
            total += counts[iid]
            self.cum_weights.append(total)
        self.by_first: dict[int, list[str]] = {}
        for iid in self.universe:
            self.by_first.setdefault(tok.codes_of(iid)[0], []).append(iid)
        self.tok = tok
        self.tries = tries

    def sample(self, kind: str, target: str, exclude: set[str], rng: random.Random) -> str | None:
        """One negative for `target`, never in `exclude` nor the target; None if every item is excluded."""
        if kind == "hard":
            group = [i for i in self.by_first.get(self.tok.codes_of(target)[0], []) if i not in exclude and i != target]
            if group:
                return rng.choice(group)
        for _ in range(self.tries):  # rejection sampling: users see a tiny share of the catalogue
            if kind == "popular":
                iid = rng.choices(self.universe, cum_weights=self.cum_weights)[0]
            else:
                iid = rng.choice(self.universe)
            if iid not in exclude and iid != target:
                return iid
        rest = [i for i in self.universe if i not in exclude and i != target]
        return rng.choice(rest) if rest else None
