"""Ranking metrics with one relevant item per query: Recall@K (hit rate) and NDCG@K.

>>> recall_at(["a", "b", "c"], "c", 2), recall_at(["a", "b", "c"], "c", 3)
(0.0, 1.0)
>>> round(ndcg_at(["a", "b", "c"], "c", 3), 4)  # 1 / log2(3 + 1)
0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence

KS = (5, 10)


def rank_of(ranked: Sequence[str], target: str) -> int | None:
    """1-based rank of the target, None if absent."""
    for n, item in enumerate(ranked, start=1):
        if item == target:
            return n
    return None


def recall_at(ranked: Sequence[str], target: str, k: int) -> float:
    return at_rank(f"recall@{k}", rank_of(ranked, target))


def ndcg_at(ranked: Sequence[str], target: str, k: int) -> float:
    return at_rank(f"ndcg@{k}", rank_of(ranked, target))


def at_rank(metric: str, rank: int | None) -> float:
    """One query's "recall@K" or "ndcg@K" from the target's 1-based rank (None: not in the list).

    >>> at_rank("recall@10", 10), at_rank("recall@10", 11), at_rank("ndcg@10", 3), at_rank("ndcg@10", None)
    (1.0, 0.0, 0.5, 0.0)
    """
    name, _, k = metric.partition("@")
    if name not in ("recall", "ndcg") or not k.isdigit():
        raise ValueError(f"not a metric: {metric!r} (recall@K or ndcg@K)")
    if rank is None or rank > int(k):
        return 0.0
    return 1.0 if name == "recall" else 1.0 / math.log2(rank + 1)


def summarize(lists: Sequence[Sequence[str]], targets: Sequence[str], ks: Sequence[int] = KS) -> dict[str, float]:
    """Mean Recall@K and NDCG@K over queries."""
    n = max(len(targets), 1)
    out = {}
    for k in ks:
        out[f"recall@{k}"] = round(sum(recall_at(lst, t, k) for lst, t in zip(lists, targets, strict=True)) / n, 4)
        out[f"ndcg@{k}"] = round(sum(ndcg_at(lst, t, k) for lst, t in zip(lists, targets, strict=True)) / n, 4)
    return out


def standard_errors(lists: Sequence[Sequence[str]], targets: Sequence[str], ks: Sequence[int] = KS) -> dict[str, float]:
    """Standard error of each mean in `summarize` (sample standard deviation over queries / sqrt(n)).

    >>> standard_errors([["a"], ["b"]], ["a", "c"], ks=[1])  # recall values 1 and 0: sd 0.7071, n 2
    {'recall@1': 0.5, 'ndcg@1': 0.5}
    """
    n = len(targets)
    out = {}
    for k in ks:
        for name, fn in (("recall", recall_at), ("ndcg", ndcg_at)):
            values = [fn(lst, t, k) for lst, t in zip(lists, targets, strict=True)]
            if n < 2:
                out[f"{name}@{k}"] = 0.0
                continue
            mean = sum(values) / n
            var = sum((v - mean) ** 2 for v in values) / (n - 1)
            out[f"{name}@{k}"] = round(math.sqrt(var / n), 4)
    return out


def recall_curve(ranks: Sequence[int | None], ks: Sequence[int]) -> list[float]:
    """Recall@K for each K from the target's rank per query (None: not in the list).

    >>> recall_curve([1, 3, None, None], [1, 2, 3])
    [0.25, 0.25, 0.5]
    """
    n = max(len(ranks), 1)
    return [sum(r is not None and r <= k for r in ranks) / n for k in ks]
