"""The prefix trie of item SIDs: which code may follow a prefix, as integer tables.

Level l holds the states reached after l codes (state 0 of level 0 is the root).
`step(l, states)` gives, for a batch of states, the next state for every code
of level l (-1 where the code is not allowed): one gather, no Python loop per
beam. Levels whose table would be small are dense (n_states x K int32); deeper,
larger ones are CSR (indptr, codes, next) expanded on the fly. A state at level
L (after the last code) maps to an item row.

New items (cold start) are added by extending the tables of the levels they
touch; nothing is refitted and the other levels are left as they are.

History exclusion: `blocked_states(rows)` lists, per depth, the states whose every
item is among `rows` (a user's history). A search that never enters such a state
keeps only beams that still lead to an item outside the history, so it returns K
items whenever K such items exist, with no over-generation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sidrec.errors import SidrecError

DENSE_LIMIT = 1 << 22  # cells: above this a level is stored as CSR


@dataclass
class Level:
    size: int  # codes at this level (K)
    n_states: int
    dense: torch.Tensor | None = None  # (n_states, K) next state or -1
    indptr: torch.Tensor | None = None  # (n_states + 1,)
    codes: torch.Tensor | None = None  # (nnz,)
    next: torch.Tensor | None = None  # (nnz,)


class PrefixTrie:
    """Built from the (n_items, L) code matrix of a tokenizer."""

    def __init__(self, codes: np.ndarray, sizes: list[int] | None = None):
        codes = np.asarray(codes, dtype=np.int64)
        if codes.ndim != 2 or len(codes) == 0:
            raise SidrecError("a trie needs a non-empty (items, levels) code matrix")
        self.n_levels = codes.shape[1]
        self.sizes = list(sizes) if sizes is not None else [int(codes[:, lv].max()) + 1 for lv in range(self.n_levels)]
        self._build(codes)

    def _build(self, codes: np.ndarray) -> None:
        self.codes = codes
        self.levels: list[Level] = []
        # state ids of every item's prefix at each depth: (n_items, L + 1)
        state = np.zeros((len(codes), self.n_levels + 1), dtype=np.int64)
        for lv in range(self.n_levels):
            pairs = state[:, lv] * self.sizes[lv] + codes[:, lv]
            uniq, inverse = np.unique(pairs, return_inverse=True)
            state[:, lv + 1] = inverse
            n_states = int(state[:, lv].max()) + 1
            self.levels.append(
                self._level(uniq // self.sizes[lv], uniq % self.sizes[lv], np.arange(len(uniq)), n_states, lv)
            )
        leaves = state[:, -1]
        if len(np.unique(leaves)) != len(codes):
            raise SidrecError("two items share a SID: the trie needs one-to-one codes")
        self.leaf_item = torch.full((int(leaves.max()) + 1,), -1, dtype=torch.long)
        self.leaf_item[torch.from_numpy(leaves)] = torch.arange(len(codes))
        self.item_state = state
        self._subtree: list[np.ndarray] | None = None

    def _level(self, src: np.ndarray, code: np.ndarray, dst: np.ndarray, n_states: int, lv: int) -> Level:
        k = self.sizes[lv]
        if n_states * k <= DENSE_LIMIT:
            table = torch.full((n_states, k), -1, dtype=torch.int32)
            table[torch.from_numpy(src), torch.from_numpy(code)] = torch.from_numpy(dst).int()
            return Level(k, n_states, dense=table)
        order = np.lexsort((code, src))
        indptr = np.zeros(n_states + 1, dtype=np.int64)
        np.add.at(indptr, src + 1, 1)
        return Level(
            k, n_states, indptr=torch.from_numpy(np.cumsum(indptr)), codes=torch.from_numpy(code[order]),
            next=torch.from_numpy(dst[order]).int(),
        )  # fmt: skip

    # ------------------------------------------------------------ queries
    def step(self, level: int, states: torch.Tensor) -> torch.Tensor:
        """(B, K) next-state table of `states` (B,) at `level`; -1 marks a code that is not allowed."""
        lv = self.levels[level]
        if lv.dense is not None:
            return lv.dense[states].long()
        out = torch.full((len(states), lv.size), -1, dtype=torch.long)
        starts, ends = lv.indptr[states], lv.indptr[states + 1]
        counts = ends - starts
        rows = torch.repeat_interleave(torch.arange(len(states)), counts)
        flat = torch.repeat_interleave(starts - torch.cumsum(counts, 0) + counts, counts) + torch.arange(
            int(counts.sum())
        )
        out[rows, lv.codes[flat]] = lv.next[flat].long()
        return out

    def items_of(self, leaf_states: torch.Tensor) -> torch.Tensor:
        """Item rows of states after the last level."""
        return self.leaf_item[leaf_states]

    def subtree_sizes(self) -> list[np.ndarray]:
        """Per depth d (0..L): the number of items under every state of that depth."""
        if self._subtree is None:
            self._subtree = [np.bincount(self.item_state[:, d]) for d in range(self.n_levels + 1)]
        return self._subtree

    def blocked_states(self, rows) -> list[list[int]]:
        """Per depth 1..L (list index d - 1): states all of whose items are in `rows` (item rows).

        >>> t = PrefixTrie(np.array([[0, 0], [0, 1], [1, 0]]))
        >>> t.blocked_states([0, 1])  # both items under code 0: its state is blocked too
        [[0], [0, 1]]
        >>> t.blocked_states([0])
        [[], [0]]
        """
        rows = np.unique(np.asarray(list(rows), dtype=np.int64))
        sizes = self.subtree_sizes()
        out = []
        for d in range(1, self.n_levels + 1):
            states, counts = np.unique(self.item_state[rows, d], return_counts=True)
            out.append(states[counts == sizes[d][states]].tolist())
        return out

    def state_of(self, prefix: tuple[int, ...]) -> int:
        """The state reached after `prefix` (-1 if it is not a prefix of any item)."""
        state = torch.tensor([0])
        for lv, c in enumerate(prefix):
            state = self.step(lv, state)[:, c]
            if int(state) < 0:
                return -1
        return int(state)

    def children(self, prefix: tuple[int, ...]) -> list[int]:
        """Codes allowed after a prefix (for display and tests); [] after a complete SID."""
        if len(prefix) >= self.n_levels:
            return []
        state = self.state_of(prefix)
        if state < 0:
            return []
        return torch.nonzero(self.step(len(prefix), torch.tensor([state]))[0] >= 0).flatten().tolist()

    def add(self, new_codes: np.ndarray) -> None:
        """Add items (rows of codes) after the existing ones; item rows continue the numbering.

        Walks each new path: existing edges are followed, missing ones get a new
        state at the next level (a row appended to a dense table, an edge merged
        into a CSR level). Other levels and states are untouched.
        """
        new_codes = np.asarray(new_codes, dtype=np.int64).reshape(-1, self.n_levels)
        for row in new_codes:
            state, path = 0, [0]
            for lv, code in enumerate(row.tolist()):
                level = self.levels[lv]
                if code >= level.size:  # e.g. a separating code one past the largest bucket so far
                    self._widen(lv, code + 1)
                nxt = int(self.step(lv, torch.tensor([state]))[0, code])
                if nxt < 0:
                    nxt = self._new_state(lv + 1)
                    self._set_edge(lv, state, code, nxt)
                state = nxt
                path.append(state)
            if state < len(self.leaf_item) and int(self.leaf_item[state]) >= 0:
                raise SidrecError(f"an item with codes {tuple(row.tolist())} exists already")
            if state >= len(self.leaf_item):
                self.leaf_item = torch.cat([self.leaf_item, torch.full((state + 1 - len(self.leaf_item),), -1)])
            self.leaf_item[state] = len(self.codes)
            self.codes = np.concatenate([self.codes, row[None]])
            self.item_state = np.concatenate([self.item_state, np.array([path])])
        self._subtree = None

    def _widen(self, lv: int, size: int) -> None:
        level = self.levels[lv]
        if level.dense is not None:
            pad = torch.full((level.n_states, size - level.size), -1, dtype=torch.int32)
            level.dense = torch.cat([level.dense, pad], dim=1)
        level.size = self.sizes[lv] = size

    def _new_state(self, depth: int) -> int:
        """A fresh state id at `depth` (the states of level `depth`, or leaves when depth == L)."""
        if depth == self.n_levels:
            return len(self.leaf_item)
        level = self.levels[depth]
        level.n_states += 1
        if level.dense is not None:
            level.dense = torch.cat([level.dense, torch.full((1, level.size), -1, dtype=torch.int32)])
        else:
            level.indptr = torch.cat([level.indptr, level.indptr[-1:]])
        return level.n_states - 1

    def _set_edge(self, lv: int, state: int, code: int, nxt: int) -> None:
        level = self.levels[lv]
        if level.dense is not None:
            level.dense[state, code] = nxt
            return
        at = int(level.indptr[state + 1])  # append at the end of the state's row
        level.codes = torch.cat([level.codes[:at], torch.tensor([code]), level.codes[at:]])
        level.next = torch.cat([level.next[:at], torch.tensor([nxt], dtype=level.next.dtype), level.next[at:]])
        level.indptr[state + 1 :] += 1

    def __len__(self) -> int:
        return len(self.codes)
