"""Fitting a tokenizer: residual codebooks over item embeddings (`sidrec.quantize`), one more level that
separates items whose codes collide, and the statistics every tokenizer reports (collisions, utilisation and
entropy per level)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch

from sidrec.errors import SidrecError
from sidrec.progress import ProgressFn
from sidrec.quantize import RQVAE, QuantizerConfig, fit_rqvae, residual_kmeans
from sidrec.tokenizer import LEVEL_NAMES, SIDTokenizer, TokenizerConfig


def separate_collisions(prefix_codes: np.ndarray) -> np.ndarray:
    """Append a last column numbering items that share all earlier codes.

    >>> separate_collisions(np.array([[1, 2], [1, 2], [0, 5], [1, 2]])).tolist()
    [[1, 2, 0], [1, 2, 1], [0, 5, 0], [1, 2, 2]]
    """
    seen: Counter = Counter()
    last = np.empty(len(prefix_codes), dtype=np.int64)
    for i, row in enumerate(map(tuple, prefix_codes)):
        last[i] = seen[row]
        seen[row] += 1
    return np.concatenate([prefix_codes, last[:, None]], axis=1)


def level_stats(codes: np.ndarray, sizes: Sequence[int]) -> dict:
    """Utilisation (share of codes used) and entropy (bits) per level.

    >>> level_stats(np.array([[0], [1], [1], [1]]), [4])["utilization"]
    [0.5]
    """
    util, entropy = [], []
    for level, size in enumerate(sizes):
        counts = np.bincount(codes[:, level], minlength=size)
        util.append(round(float((counts > 0).sum() / size), 4))
        p = counts[counts > 0] / counts.sum()
        entropy.append(round(float(-(p * np.log2(p)).sum()), 4))
    return {"utilization": util, "entropy_bits": entropy}


def collision_stats(prefix_codes: np.ndarray) -> dict:
    """Share of items whose first-L codes repeat an earlier item's, and the largest bucket.

    >>> collision_stats(np.array([[1, 2], [1, 2], [0, 5]]))
    {'collision_rate': 0.3333, 'largest_bucket': 2, 'colliding_items': 2}
    """
    buckets = Counter(map(tuple, prefix_codes))
    n = len(prefix_codes)
    return {
        "collision_rate": round((n - len(buckets)) / n, 4) if n else 0.0,
        "largest_bucket": max(buckets.values(), default=0),
        "colliding_items": sum(v for v in buckets.values() if v > 1),
    }


def fit_codes(
    embeddings: np.ndarray, config: QuantizerConfig, progress: ProgressFn | None = None
) -> tuple[np.ndarray, list[torch.Tensor], RQVAE | None]:
    """Prefix codes (n, L), codebooks and (for RQ-VAE) the model."""
    x = torch.from_numpy(np.asarray(embeddings, np.float32))
    if config.method == "rq-kmeans":
        books, codes = residual_kmeans(x, config, progress)
        return codes.numpy(), books, None
    if config.method == "rq-vae":
        model, codes = fit_rqvae(x, config, progress)
        model.eval()
        return codes.numpy(), [b.detach().clone() for b in model.codebooks], model
    raise SidrecError(f"unknown tokenizer method {config.method!r} (choose rq-kmeans or rq-vae)")


def fit_tokenizer(
    item_ids: Sequence[str],
    embeddings: np.ndarray,
    config: TokenizerConfig,
    data_fingerprint: str = "",
    progress: ProgressFn | None = None,
) -> SIDTokenizer:
    """Fit codebooks on item embeddings and separate collisions with one more level."""
    q = config.quantizer
    if q.levels < 1 or q.levels > len(LEVEL_NAMES) - 1:
        raise SidrecError(f"levels must be between 1 and {len(LEVEL_NAMES) - 1}, got {q.levels}")
    if q.codebook_size < 2:
        raise SidrecError(f"codebook size must be at least 2, got {q.codebook_size}")
    if len(item_ids) < 2:
        raise SidrecError("need at least 2 items to fit a tokenizer")
    if config.first_level == "text" and config.embed.embedding == "fused":  # text ++ behaviour: lead on the text
        q = replace(q, lead_dims=int(embeddings.shape[1]) - config.embed.behavior_dim)
        config = replace(config, quantizer=q)
    start = time.perf_counter()
    prefix, books, rqvae = fit_codes(embeddings, q, progress)
    codes = separate_collisions(prefix)
    stats = {
        "method": q.method + ("-balanced" if q.balanced and q.method == "rq-kmeans" else ""),
        "fit_seconds": round(time.perf_counter() - start, 3),
        "embedding_dim": int(embeddings.shape[1]),
        "collision_rate_before_dedup": collision_stats(prefix)["collision_rate"],
        **{k: v for k, v in collision_stats(prefix).items() if k != "collision_rate"},
    }
    tok = SIDTokenizer(item_ids, codes, config, books, rqvae, stats, data_fingerprint)
    tok.item_embeddings = np.asarray(embeddings, dtype=np.float32)
    tok.stats.update(tokenizer_stats(tok))
    return tok


def tokenizer_stats(tok: SIDTokenizer) -> dict:
    """Collision rate after the separating level (0 by construction), utilisation and entropy."""
    full = collision_stats(tok.codes)
    return {
        "collision_rate": full["collision_rate"],
        "separating_level_size": int(tok.codes[:, -1].max()) + 1,
        **level_stats(tok.codes, tok.level_sizes),
    }
