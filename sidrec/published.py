"""Published SID indexes (`<Name>.index.json`: item -> ['<a_1>', '<b_2>', ...]) imported as tokenizers.

An index is used as given: every item keeps the file's tokens, except where two items share all of them.
Such a collision is resolved inside the index's own last level when it can be (`separate_in_last_level`: the
second and later items of a bucket take the lowest last-level codes no item under their prefix uses, in the
index's code space, e.g. 256), so the SIDs keep the file's length and every item outside a collision keeps
its SID exactly; only when some prefix has no free code left is a separating level appended to every SID, as
for a fitted tokenizer (`sidrec.fitting.separate_collisions`). The stats say which happened.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from sidrec.errors import SidrecError
from sidrec.fitting import collision_stats, level_stats, separate_collisions
from sidrec.quantize import IMPORTED, QuantizerConfig
from sidrec.tokenizer import SIDTokenizer, TokenizerConfig, parse_sid


def code_space(codes: np.ndarray) -> int:
    """The codebook size a published index was made with: the next power of two above its largest code.

    >>> code_space(np.array([[3, 200], [0, 17]]))
    256
    """
    largest = int(codes.max()) + 1
    return 1 << math.ceil(math.log2(largest)) if largest > 1 else 1


def separate_in_last_level(codes: np.ndarray, space: int) -> np.ndarray | None:
    """Codes where no two rows are equal, changing only the last code of the second and later rows of each
    bucket of equal rows (to the lowest codes < `space` that no row with the same earlier codes uses); None if
    some prefix has too few free codes.

    >>> separate_in_last_level(np.array([[1, 2], [1, 2], [0, 5], [1, 0]]), 4).tolist()
    [[1, 2], [1, 1], [0, 5], [1, 0]]
    >>> separate_in_last_level(np.array([[1, 0], [1, 0], [1, 1]]), 2) is None
    True
    """
    used: dict[tuple, set[int]] = defaultdict(set)
    for row in codes.tolist():
        used[tuple(row[:-1])].add(row[-1])
    out = codes.copy()
    seen: Counter = Counter()
    for i, row in enumerate(map(tuple, codes.tolist())):
        seen[row] += 1
        if seen[row] == 1:
            continue
        taken = used[row[:-1]]
        free = next((c for c in range(space) if c not in taken), None)
        if free is None:
            return None
        taken.add(free)
        out[i, -1] = free
    return out


def import_index(item_ids: Sequence[str], index: dict[str, list[str]], data_fingerprint: str = "") -> SIDTokenizer:
    """A tokenizer from a published index, used as given (module docstring)."""
    rows = []
    for iid in item_ids:
        if iid not in index:
            raise SidrecError(f"published index has no SID for item {iid!r}")
        rows.append(parse_sid("".join(index[iid])))
    if len({len(r) for r in rows}) != 1:
        raise SidrecError("published index mixes SIDs of different lengths")
    given = np.array(rows, dtype=np.int64)
    before = collision_stats(given)
    space = code_space(given)
    codes, resolved = given, "none needed"
    if before["collision_rate"] > 0:
        inside = separate_in_last_level(given, space)
        if inside is not None:
            codes, resolved = inside, "in the last level"
        else:
            codes, resolved = separate_collisions(given), "separating level appended"
    config = TokenizerConfig(
        replace(QuantizerConfig(), method=IMPORTED, levels=given.shape[1], codebook_size=max(int(given.max()) + 1, 1))
    )
    stats = {
        "method": "imported",
        "fit_seconds": 0.0,
        "collision_rate_before_dedup": before["collision_rate"],
        "largest_bucket": before["largest_bucket"],
        "colliding_items": before["colliding_items"],
        "collisions_resolved": resolved,
        "sids_as_given": int((codes == given).all(1).sum()) if codes.shape == given.shape else 0,
    }
    tok = SIDTokenizer(item_ids, codes, config, None, None, stats, data_fingerprint)
    level_sizes = [space] * given.shape[1] + [int(codes[:, -1].max()) + 1] * (codes.shape[1] - given.shape[1])
    tok.stats.update(
        {"collision_rate": collision_stats(tok.codes)["collision_rate"], **level_stats(tok.codes, level_sizes)}
    )
    return tok
