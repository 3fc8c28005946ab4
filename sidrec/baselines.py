"""Baselines trained and scored on the same split as the SID-LLM: popularity, SASRec and text similarity.

- Popularity: items ranked by their count in the training sequences.
- Text similarity: items ranked by the cosine similarity of their text embedding to the mean of the history
  items' (no training; it can recommend an item nobody has bought, the cold-start baseline).
- SASRec (Kang & McAuley, 2018), compact: item + position embeddings, causal
  self-attention blocks, the last position's state scored against every item
  embedding; cross-entropy over all items at every position of the training
  sequences; early stopping on validation NDCG@10; the best weights are kept.
  Its config is saved with it like every artifact (safetensors + manifest).

Both read only `Split.train_sequences` for training (and `Split.valid` for early
stopping), never a test target. Both follow the SID-LLM's history rule: given
`exclude` (one set of item ids per user, usually its history) they never return
those items; with `exclude=None` repeats are allowed.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sidrec.artifacts import atomic_dir, damaged, read_manifest, write_json_atomic, write_manifest
from sidrec.data import Sample, Split
from sidrec.device import pick
from sidrec.errors import SidrecError
from sidrec.metrics import summarize
from sidrec.progress import ProgressFn


class Popularity:
    def __init__(self, split: Split):
        counts = Counter(i for seq in split.train_sequences.values() for i in seq)
        self.ranked = [i for i, _ in counts.most_common()]

    def recommend(
        self, histories: list[list[str]], k: int = 10, exclude: list[set[str]] | None = None
    ) -> list[list[str]]:
        if exclude is None:
            return [self.ranked[:k] for _ in histories]
        out = []
        for seen in exclude:
            out.append([i for i in self.ranked[: k + len(seen)] if i not in seen][:k])
        return out


def top_allowed(scores: torch.Tensor, k: int) -> list[list[int]]:
    """The k best columns of each row, leaving out masked (-inf) ones: fewer than k when fewer are allowed.

    >>> top_allowed(torch.tensor([[0.1, float("-inf"), 0.3], [float("-inf"), 0.2, float("-inf")]]), 2)
    [[2, 0], [1]]
    """
    top = scores.topk(min(k, scores.shape[1]), dim=1)
    return [[j for j, v in zip(row, vals, strict=True) if v != float("-inf")]
            for row, vals in zip(top.indices.cpu().tolist(), top.values.cpu().tolist(), strict=True)]  # fmt: skip


class TextSimilarity:
    """Nearest items to a history by text: the mean of its items' L2-normalised text embeddings scored against
    every item's (items without an embedding in the history are skipped; an empty history gets the catalogue
    order)."""

    def __init__(self, item_ids: list[str], embeddings: np.ndarray):
        if len(item_ids) != len(embeddings):
            raise ValueError(f"{len(item_ids)} items but {len(embeddings)} embeddings")
        self.item_ids = list(item_ids)
        self.index = {iid: n for n, iid in enumerate(self.item_ids)}
        norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
        self.emb = torch.from_numpy(np.asarray(embeddings / np.where(norms == 0, 1, norms), np.float32))

    def recommend(
        self, histories: list[list[str]], k: int = 10, exclude: list[set[str]] | None = None
    ) -> list[list[str]]:
        """
        >>> ts = TextSimilarity(["a", "b", "c"], np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]))
        >>> ts.recommend([["a"]], k=2), ts.recommend([["a"]], k=2, exclude=[{"a"}])
        ([['a', 'b']], [['b', 'c']])
        """
        out = []
        for b in range(0, len(histories), 512):
            part = histories[b : b + 512]
            query = torch.zeros(len(part), self.emb.shape[1])
            for u, h in enumerate(part):
                rows = [self.index[i] for i in h if i in self.index]
                if rows:
                    query[u] = self.emb[rows].mean(0)
            scores = query @ self.emb.T
            if exclude is not None:
                for u, seen in enumerate(exclude[b : b + 512]):
                    cols = [self.index[i] for i in seen if i in self.index]
                    scores[u, cols] = float("-inf")
            out += [[self.item_ids[j] for j in row] for row in top_allowed(scores, k)]
        return out


@dataclass(frozen=True)
class SASRecConfig:
    hidden: int = 64
    blocks: int = 2
    heads: int = 2
    dropout: float = 0.2
    max_len: int = 20
    lr: float = 3e-3  # at 1e-3, small catalogues were still improving after 200 epochs (BENCHMARKS.md)
    batch_size: int = 128
    max_epochs: int = 500  # a cap: early stopping, not this, should end training ("stopped" in fit's result)
    patience: int = 20  # epochs without a better validation NDCG@10
    # early stopping cannot end training before this epoch: SASRec's validation NDCG@10 can sit on a plateau for
    # tens of epochs before it rises, and patience alone then stops it there (BENCHMARKS.md, Scientific)
    min_epochs: int = 100
    seed: int = 0
    device: str = "auto"  # auto (CUDA, then MPS, then CPU) | cpu | cuda | mps


class SASRecNet(nn.Module):
    def __init__(self, n_items: int, config: SASRecConfig):
        super().__init__()
        self.config = config
        self.item = nn.Embedding(n_items + 1, config.hidden, padding_idx=0)  # 0 = padding
        self.pos = nn.Embedding(config.max_len, config.hidden)
        layer = nn.TransformerEncoderLayer(
            config.hidden, config.heads, config.hidden * 4, config.dropout, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, config.blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(config.hidden)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        """seq (B, T) item indices, left-padded with 0 -> states (B, T, H)."""
        t = seq.shape[1]
        keep = (seq != 0).unsqueeze(-1).float()  # (B, T, 1): padding positions are zeroed, not key-masked,
        pos = self.pos(torch.arange(t, device=seq.device))[None]  # so no row is NaN
        x = (self.item(seq) * self.config.hidden**0.5 + pos) * keep
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool, device=seq.device), 1)
        h = self.encoder(self.drop(x), mask=causal)
        return self.norm(h) * keep

    def loss(self, inp: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        """Mean next-item cross-entropy over all items at the positions that have a target (tgt > 0). Only those
        positions are scored: the windows of short sequences are mostly padding, and the (positions x items)
        logits are most of the cost."""
        has = tgt > 0
        logits = self(inp)[has] @ self.item.weight.T  # (targets, n+1)
        return nn.functional.cross_entropy(logits, tgt[has])

    def scores(self, seq: torch.Tensor) -> torch.Tensor:
        """(B, n_items + 1) scores of every item after the last position (index 0 = padding)."""
        return self(seq)[:, -1] @ self.item.weight.T


class SASRec:
    """Train, recommend, save and load."""

    def __init__(self, item_ids: list[str], config: SASRecConfig = SASRecConfig()):
        self.item_ids = list(item_ids)
        self.index = {iid: n + 1 for n, iid in enumerate(self.item_ids)}
        self.config = config
        torch.manual_seed(config.seed)
        self.net = SASRecNet(len(self.item_ids), config)
        self.device = pick(config.device)
        self.net.to(self.device)

    def _pad(self, histories: list[list[str]]) -> torch.Tensor:
        L = self.config.max_len
        rows = [[self.index[i] for i in h if i in self.index][-L:] for h in histories]
        return torch.tensor([[0] * (L - len(r)) + r for r in rows], dtype=torch.long, device=self.device)

    @torch.no_grad()
    def recommend(
        self, histories: list[list[str]], k: int = 10, exclude: list[set[str]] | None = None
    ) -> list[list[str]]:
        """Top-k items per history; never an item of `exclude[u]` when given (None: repeats allowed)."""
        self.net.eval()
        out = []
        for b in range(0, len(histories), 512):
            scores = self.net.scores(self._pad(histories[b : b + 512]))
            scores[:, 0] = float("-inf")
            if exclude is not None:
                part = exclude[b : b + 512]
                rows = [(u, self.index[i]) for u, seen in enumerate(part) for i in seen if i in self.index]
                if rows:
                    r, c = torch.tensor(rows, device=self.device).T
                    scores[r, c] = float("-inf")
            out += [[self.item_ids[j - 1] for j in row] for row in top_allowed(scores, k)]
        return out

    def windows(self, sequences) -> torch.Tensor:
        """Every sequence of at least two items cut into windows of max_len + 1 item indices (inputs and the
        targets shifted by one), left-padded with 0: (windows, max_len + 1)."""
        L = self.config.max_len
        rows = []
        for s in sequences:
            ids = [self.index[i] for i in s]
            rows += [ids[max(0, end - L - 1) : end] for end in range(len(ids), 1, -L)]
        data = torch.zeros((len(rows), L + 1), dtype=torch.long)
        for n, w in enumerate(rows):
            data[n, L + 1 - len(w) :] = torch.tensor(w)
        return data

    def fit(self, split: Split, progress: ProgressFn | None = None, exclude_history: bool = True) -> dict:
        """Next-item cross-entropy over all items on the training sequences; early stopping on valid NDCG@10
        (under the same history rule as the evaluation)."""
        cfg = self.config
        torch.manual_seed(cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed)
        data = self.windows(split.train_sequences.values())
        opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        valid = split.valid[:2000]
        best, best_state, bad, epoch, best_epoch, early = -1.0, None, 0, 0, 0, False
        start = time.perf_counter()
        for epoch in range(1, cfg.max_epochs + 1):
            self.net.train()
            for idx in torch.randperm(len(data), generator=gen).split(cfg.batch_size):
                batch = data[idx].to(self.device)
                loss = self.net.loss(batch[:, :-1], batch[:, 1:])
                opt.zero_grad()
                loss.backward()
                opt.step()
            if valid:
                hist = [list(s.history) for s in valid]
                lists = self.recommend(hist, exclude=[set(h) for h in hist] if exclude_history else None)
                ndcg = evaluate_lists(lists, valid)["ndcg@10"]
            else:
                ndcg = 0.0
            if progress:
                progress(epoch / cfg.max_epochs, f"SASRec epoch {epoch}: valid NDCG@10 {ndcg:.4f}")
            if ndcg > best:
                best, bad, best_epoch = ndcg, 0, epoch
                best_state = {k: v.clone() for k, v in self.net.state_dict().items()}
            else:
                bad += 1
            if bad >= cfg.patience and epoch >= cfg.min_epochs:
                early = True
                break
        if best_state is not None:
            self.net.load_state_dict(best_state)
        return {
            "epochs": epoch,
            "best_epoch": best_epoch,
            # "at max_epochs": it may have had more to learn
            "stopped": "early" if early else "at max_epochs",
            "best_valid_ndcg@10": round(best, 4),
            "train_seconds": round(time.perf_counter() - start, 1),
        }

    def save(self, folder: str | Path, metrics: dict | None = None) -> None:
        from safetensors.torch import save_file

        with atomic_dir(folder, "sasrec") as tmp:
            state = {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}
            save_file(state, str(tmp / "model.safetensors"))
            write_json_atomic(tmp / "items.json", self.item_ids)
            write_manifest(tmp, "sasrec", 1, asdict(self.config), metrics=metrics or {})

    @classmethod
    def load(cls, folder: str | Path, device: str | None = None) -> SASRec:
        """The saved model, on `device` when given (else the device its config names)."""
        import json

        from safetensors.torch import load_file

        folder = Path(folder)
        manifest = read_manifest(folder, "sasrec", 1)
        try:
            config = SASRecConfig(**manifest["config"])
        except TypeError as e:
            raise SidrecError(f"{folder}: a SASRec config this version cannot read ({e})") from None
        with damaged(folder, "sasrec"):
            items = json.loads((folder / "items.json").read_text())
            model = cls(items, replace(config, device=device or config.device))
            model.net.load_state_dict(load_file(str(folder / "model.safetensors"), device=str(model.device)))
        return model


def evaluate_lists(lists: list[list[str]], samples: list[Sample]) -> dict[str, float]:
    return summarize(lists, [s.target for s in samples])
