"""Residual quantizers: vectors in, one code per level out.

Two ways to learn cascaded codebooks over item embeddings:
- residual k-means (optionally with balanced, capacity-limited assignment);
- RQ-VAE: an MLP autoencoder whose latent is quantized by residual codebooks,
  initialised by residual k-means, with dead codes restarted against collapse.

A quantizer maps x (n, d) to codes (n, L) and back to a reconstruction. It knows
nothing about items, SIDs or collisions; `sidrec.tokenizer` handles those.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from sidrec.errors import SidrecError
from sidrec.progress import ProgressFn

METHODS = ("rq-kmeans", "rq-vae")
IMPORTED = "imported"  # the method recorded by a tokenizer imported from a published index (no codebooks)


@dataclass(frozen=True)
class QuantizerConfig:
    method: str = "rq-kmeans"  # rq-kmeans | rq-vae
    levels: int = 3  # codebooks before the separating level
    codebook_size: int = 256
    balanced: bool = True  # rq-kmeans: cap each code at ceil(n / K) items (fewer collisions, see BENCHMARKS.md)
    kmeans_iters: int = 25
    seed: int = 0
    # rq-kmeans: the first level is clustered on the first `lead_dims` coordinates alone (0: on all of them); a
    # fused tokenizer's text part, so that an item's first code follows from its text (`TokenizerConfig.first_level`)
    lead_dims: int = 0
    # RQ-VAE only
    latent_dim: int = 32
    hidden_dim: int = 256
    epochs: int = 300
    lr: float = 1e-3
    beta: float = 0.25  # commitment weight
    restart_every: int = 20  # epochs between dead-code restarts

    def __post_init__(self):
        if self.method not in (*METHODS, IMPORTED):
            raise SidrecError(f"unknown quantizer {self.method!r} (choose from {', '.join(METHODS)})")
        for name in ("levels", "kmeans_iters", "latent_dim", "hidden_dim", "epochs", "restart_every"):
            if getattr(self, name) < 1:
                raise SidrecError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.codebook_size < (1 if self.method == IMPORTED else 2):
            raise SidrecError(f"a codebook needs at least 2 codes, got {self.codebook_size}")
        if self.lead_dims < 0:
            raise SidrecError(f"lead_dims must be 0 (all coordinates) or more, got {self.lead_dims}")
        if self.lead_dims and self.method != "rq-kmeans":
            raise SidrecError("a first level on leading coordinates needs rq-kmeans")


# ---------------------------------------------------------------- k-means


def _sq_dist(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    return (x * x).sum(1, keepdim=True) - 2 * x @ c.T + (c * c).sum(1)[None, :]  # (n, K)


def kmeans_pp_init(x: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    """k-means++ seeding; with fewer distinct points than k the rest are duplicates."""
    n = x.shape[0]
    centers = [x[torch.randint(n, (1,), generator=gen)].squeeze(0)]
    d2 = _sq_dist(x, centers[0][None]).squeeze(1).clamp_min(0)
    for _ in range(1, k):
        total = d2.sum()
        if total <= 0:
            idx = torch.randint(n, (1,), generator=gen)
        else:
            idx = torch.multinomial(d2 / total, 1, generator=gen)
        centers.append(x[idx].squeeze(0))
        d2 = torch.minimum(d2, _sq_dist(x, x[idx]).squeeze(1).clamp_min(0))
    return torch.stack(centers)


def balanced_assign(dist: torch.Tensor, capacity: int) -> torch.Tensor:
    """Greedy assignment of points to their nearest center with room left.

    Pairs are taken in order of distance; a point is placed once, a center
    accepts at most `capacity` points.

    >>> d = torch.tensor([[0.0, 1.0], [0.1, 2.0], [0.2, 3.0]])
    >>> balanced_assign(d, capacity=2).tolist()
    [0, 0, 1]
    """
    n, k = dist.shape
    order = torch.argsort(dist.flatten(), stable=True).tolist()
    codes = [-1] * n
    room = [capacity] * k
    left = n
    for flat in order:
        i, c = divmod(flat, k)
        if codes[i] < 0 and room[c] > 0:
            codes[i] = c
            room[c] -= 1
            left -= 1
            if left == 0:
                break
    return torch.tensor(codes)


def code_means(x: torch.Tensor, codes: torch.Tensor, k: int) -> torch.Tensor:
    """(k, d): the mean of the rows of x under each code (zeros for a code no row has).

    >>> code_means(torch.tensor([[0.0], [2.0], [5.0]]), torch.tensor([0, 0, 2]), 3).flatten().tolist()
    [1.0, 0.0, 5.0]
    """
    counts = torch.bincount(codes, minlength=k)
    return x.new_zeros(k, x.shape[1]).index_add_(0, codes, x) / counts.clamp_min(1)[:, None]


def kmeans(
    x: torch.Tensor, k: int, iters: int, gen: torch.Generator, balanced: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means with k-means++ seeding. Returns (centers (k, d), codes (n,)).

    An emptied cluster is re-seeded at the point farthest from its center, so
    every code stays in use whenever there are at least k distinct points.
    """
    n = x.shape[0]
    k_eff = min(k, n)
    centers = kmeans_pp_init(x, k_eff, gen)
    capacity = -(-n // k_eff)
    codes = torch.zeros(n, dtype=torch.long)
    for _ in range(iters):
        dist = _sq_dist(x, centers)
        codes = dist.argmin(1)
        counts = torch.bincount(codes, minlength=k_eff)
        empty = (counts == 0).nonzero().flatten()
        if len(empty):
            far = dist.gather(1, codes[:, None]).squeeze(1).argsort(descending=True)
            for j, c in enumerate(empty.tolist()):
                codes[far[j]] = c
        new = code_means(x, codes, k_eff)
        if torch.allclose(new, centers):
            break
        centers = new
    if balanced:
        codes = balanced_assign(_sq_dist(x, centers), capacity)
        centers = code_means(x, codes, k_eff)
    else:
        codes = _sq_dist(x, centers).argmin(1)
    if k_eff < k:  # pad with unused copies so every level has K rows
        centers = torch.cat([centers, centers[:1].repeat(k - k_eff, 1)])
    return centers, codes


def _lead(x: torch.Tensor, level: int, lead_dims: int) -> torch.Tensor:
    """The coordinates a level's codes are chosen on: the leading ones at the first level, when asked."""
    return x[:, :lead_dims] if level == 0 and lead_dims else x


def residual_kmeans(
    x: torch.Tensor, config: QuantizerConfig, progress: ProgressFn | None = None
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Codebooks [(K, d)] * L and codes (n, L) by k-means on successive residuals.

    With `config.lead_dims`, the first level's clusters are found on the leading coordinates alone; its
    codewords are then the means of their items over every coordinate, so the residual passed down keeps what
    the leading part did not explain."""
    if config.lead_dims >= x.shape[1]:
        raise SidrecError(f"lead_dims ({config.lead_dims}) must leave coordinates out of the {x.shape[1]}")
    gen = torch.Generator().manual_seed(config.seed)
    residual = x.clone()
    books, codes = [], []
    for level in range(config.levels):
        part = _lead(residual, level, config.lead_dims)
        centers, c = kmeans(part, config.codebook_size, config.kmeans_iters, gen, config.balanced)
        if part is not residual:  # codewords over every coordinate: the mean of each code's items
            unused = torch.bincount(c, minlength=len(centers)) == 0  # e.g. padding rows (fewer items than codes)
            centers = code_means(residual, c, len(centers))
            centers[unused] = centers[c[0]].clone()
        books.append(centers)
        codes.append(c)
        residual = residual - centers[c]
        if progress:
            progress((level + 1) / config.levels, f"residual k-means: level {level + 1}/{config.levels}")
    return books, torch.stack(codes, 1)


def quantize_with(books: list[torch.Tensor], x: torch.Tensor, lead_dims: int = 0) -> torch.Tensor:
    """Greedy residual encoding of x against fixed codebooks: (n, L) codes (the first level chosen on the leading
    `lead_dims` coordinates alone, when the codebooks were fitted so)."""
    residual = x.clone()
    codes = []
    for level, book in enumerate(books):
        c = _sq_dist(_lead(residual, level, lead_dims), _lead(book, level, lead_dims)).argmin(1)
        codes.append(c)
        residual = residual - book[c]
    return torch.stack(codes, 1)


def quantize_within(
    books: list[torch.Tensor], x: torch.Tensor, allowed: np.ndarray, lead_dims: int = 0
) -> torch.Tensor:
    """Greedy residual encoding of x in which every prefix is a prefix of one of the `allowed` rows (e.g. the
    codes items already occupy): at each level the nearest codeword among the codes that may follow.

    >>> books = [torch.tensor([[0.0], [10.0]]), torch.tensor([[0.0], [1.0]])]
    >>> quantize_with(books, torch.tensor([[0.9]])).tolist()  # (0, 1): a cell nobody occupies
    [[0, 1]]
    >>> quantize_within(books, torch.tensor([[0.9]]), np.array([[0, 0], [1, 1]])).tolist()
    [[0, 0]]
    """
    allowed = np.asarray(allowed, dtype=np.int64)[:, : len(books)]
    if len(allowed) == 0:
        raise SidrecError("no occupied prefix to encode within")
    out = np.empty((len(x), len(books)), dtype=np.int64)
    for n, residual in enumerate(x):
        rows = np.arange(len(allowed))
        for level, book in enumerate(books):
            children = np.unique(allowed[rows, level])
            near = _sq_dist(_lead(residual[None], level, lead_dims), _lead(book[children], level, lead_dims))
            c = int(children[int(near[0].argmin())])
            out[n, level] = c
            rows = rows[allowed[rows, level] == c]
            residual = residual - book[c]
    return torch.from_numpy(out)


# ---------------------------------------------------------------- RQ-VAE


class RQVAE(nn.Module):
    """MLP encoder -> residual codebooks -> MLP decoder."""

    def __init__(self, in_dim: int, config: QuantizerConfig):
        super().__init__()
        h, z = config.hidden_dim, config.latent_dim
        self.encoder = nn.Sequential(
            nn.Linear(in_dim, h), nn.ReLU(), nn.Linear(h, h // 2), nn.ReLU(), nn.Linear(h // 2, z)
        )
        self.decoder = nn.Sequential(
            nn.Linear(z, h // 2), nn.ReLU(), nn.Linear(h // 2, h), nn.ReLU(), nn.Linear(h, in_dim)
        )
        self.codebooks = nn.Parameter(torch.zeros(config.levels, config.codebook_size, z))

    def quantize(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(quantized (n, z), codes (n, L), commitment+codebook loss)."""
        residual, quantized, codes = z, torch.zeros_like(z), []
        loss = z.new_zeros(())
        for book in self.codebooks:
            c = _sq_dist(residual.detach(), book.detach()).argmin(1)
            q = book[c]
            loss = loss + ((q - residual.detach()) ** 2).mean() + ((q.detach() - residual) ** 2).mean() * 0.25
            quantized = quantized + q
            residual = residual - q.detach()
            codes.append(c)
        return quantized, torch.stack(codes, 1), loss

    def forward(self, x: torch.Tensor):
        z = self.encoder(x)
        q, codes, vq_loss = self.quantize(z)
        z_q = z + (q - z).detach()  # straight-through
        return self.decoder(z_q), codes, vq_loss, z


def fit_rqvae(
    x: torch.Tensor, config: QuantizerConfig, progress: ProgressFn | None = None, device: str | None = "auto"
) -> tuple[RQVAE, torch.Tensor]:
    """Train an RQ-VAE full-batch on the chosen device; returns the model (on the CPU) and codes (n, L).

    The codebooks start from residual k-means on the CPU (seeded); the epochs run on `device`."""
    from sidrec.device import pick

    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    model = RQVAE(x.shape[1], config)
    with torch.no_grad():  # initialise the codebooks by residual k-means on the initial latents
        books, _ = residual_kmeans(model.encoder(x), config)
        model.codebooks.copy_(torch.stack(books))
    dev = pick(device)
    model, x = model.to(dev), x.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    for epoch in range(config.epochs):
        recon, codes, vq_loss, z = model(x)
        loss = ((recon - x) ** 2).sum(1).mean() + vq_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if config.restart_every and (epoch + 1) % config.restart_every == 0 and epoch + 1 < config.epochs:
            _restart_dead_codes(model, z.detach(), codes, gen)
        if progress and (epoch % 10 == 0 or epoch == config.epochs - 1):
            progress((epoch + 1) / config.epochs, f"RQ-VAE epoch {epoch + 1}/{config.epochs} loss {loss.item():.4f}")
    with torch.no_grad():
        _, codes, _ = model.quantize(model.encoder(x))
    return model.cpu(), codes.cpu()


@torch.no_grad()
def _restart_dead_codes(model: RQVAE, z: torch.Tensor, codes: torch.Tensor, gen: torch.Generator) -> None:
    """Move codes no item uses onto the residuals of random items at that level."""
    residual = z
    for level, book in enumerate(model.codebooks):
        used = torch.bincount(codes[:, level], minlength=book.shape[0])
        dead = (used == 0).nonzero().flatten()
        if len(dead):
            chosen = torch.randint(residual.shape[0], (len(dead),), generator=gen).to(residual.device)
            book[dead] = residual[chosen]
        residual = residual - book[codes[:, level]]
