"""The codebook tokenizer: item <-> semantic ID, exactly.

An item's SID is L codes from residual codebooks plus one separating code that
tells apart items whose first L codes collide: `<a_12><b_201><c_7><d_0>` (the
paper's u, v, x, y). Token `<a_12>` is (level 0, code 12). The map is one-to-one
by construction, so `decode(encode(item)) == item` for every item.

This module maps items and SIDs both ways, encodes new items (cold start)
without refitting and saves/loads the versioned artifact. Fitting lives in
`sidrec.fitting`, importing a published index in `sidrec.published`; it does not
compute embeddings (`sidrec.embed`) or keywords (`sidrec.keywords`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from sidrec.artifacts import (
    atomic_dir,
    damaged,
    fingerprint,
    read_manifest,
    write_json_atomic,
    write_manifest,
)
from sidrec.embed import EmbedConfig, encode_texts, fuse_text_only, l2_rows
from sidrec.errors import SidrecError
from sidrec.placement import PlacementConfig, cold_fused, split_fused
from sidrec.quantize import RQVAE, QuantizerConfig, quantize_with, quantize_within

KIND = "tokenizer"
FORMAT_VERSION = 1
LEVEL_NAMES = "abcdefghij"
TOKEN_RE = re.compile(r"<([a-j])_(\d+)>")


FIRST_LEVELS = ("embedding", "text")


@dataclass(frozen=True)
class TokenizerConfig:
    quantizer: QuantizerConfig = field(default_factory=QuantizerConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    # what decides an item's first code: the whole embedding, or (fused, rq-kmeans) its text part alone, so that a
    # new item's first code follows from its text as a known item's did (BENCHMARKS.md, cold-start placement)
    first_level: str = "embedding"

    def __post_init__(self):
        if self.first_level not in FIRST_LEVELS:
            raise SidrecError(f"unknown first level {self.first_level!r} (choose from {', '.join(FIRST_LEVELS)})")
        if self.first_level == "text" and self.embed.embedding == "behavior":
            raise SidrecError("a behaviour-only tokenizer has no text part to decide the first level")
        if self.first_level == "text" and self.quantizer.method != "rq-kmeans":
            raise SidrecError("a first level decided by the text needs rq-kmeans")

    @staticmethod
    def from_dict(d: dict) -> TokenizerConfig:
        return TokenizerConfig(
            QuantizerConfig(**d["quantizer"]), EmbedConfig(**d["embed"]), d.get("first_level", "embedding")
        )


def token(level: int, code: int) -> str:
    """The token of a code at a level.

    >>> token(1, 201)
    '<b_201>'
    """
    return f"<{LEVEL_NAMES[level]}_{code}>"


def parse_sid(sid: str) -> tuple[int, ...]:
    """'<a_1><b_2>' -> (1, 2); levels must run a, b, c, ... in order."""
    found = TOKEN_RE.findall(sid)
    if not found or "".join(f"<{lv}_{c}>" for lv, c in found) != sid.strip():
        raise SidrecError(f"not a SID: {sid!r}")
    for i, (lv, _) in enumerate(found):
        if lv != LEVEL_NAMES[i]:
            raise SidrecError(f"SID {sid!r}: level {i} is named {lv!r}, expected {LEVEL_NAMES[i]!r}")
    return tuple(int(c) for _, c in found)


class SIDTokenizer:
    """Item ids <-> SIDs, with the codebooks that produced them.

    codes: (n_items, L + 1) int array; column L is the separating level.
    books: residual codebooks [(K, d)] * L, or None for an imported index.
    """

    def __init__(
        self,
        item_ids: Sequence[str],
        codes: np.ndarray,
        config: TokenizerConfig,
        books: list[torch.Tensor] | None = None,
        rqvae: RQVAE | None = None,
        stats: dict | None = None,
        data_fingerprint: str = "",
    ):
        self.item_ids = list(item_ids)
        self.codes = np.asarray(codes, dtype=np.int64)
        self.config = config
        self.books = books
        self.rqvae = rqvae
        self.stats = stats or {}
        self.data_fingerprint = data_fingerprint
        self.item_embeddings: np.ndarray | None = None  # the fitted items' embeddings, for cold-start placement
        self._added_text: list[np.ndarray] = []  # text embeddings of the items given SIDs by add_items, in order
        self._reindex()

    def _reindex(self) -> None:
        self._row = {iid: i for i, iid in enumerate(self.item_ids)}
        self._by_codes = {tuple(r): i for i, r in enumerate(self.codes.tolist())}
        if len(self._by_codes) != len(self.item_ids) or len(self._row) != len(self.item_ids):
            raise SidrecError("tokenizer codes are not one-to-one with items")

    def require_catalogue(self, fingerprint: str, name: str) -> None:
        """Refuse a catalogue other than the one this tokenizer was fitted on (artifacts made before tokenizers
        recorded it are not judged)."""
        if self.data_fingerprint and self.data_fingerprint != fingerprint:
            raise SidrecError(
                f"this tokenizer was fitted on another catalogue than {name}: use the data it was fitted on "
                "(with the same --cold-items and --cold-seed if it was fitted for a cold-start run)"
            )

    # ------------------------------------------------------------ mapping
    @property
    def n_levels(self) -> int:
        """Tokens per SID, the separating level included."""
        return self.codes.shape[1]

    @property
    def separating_level(self) -> int | None:
        """The level appended to tell apart items whose earlier codes are equal (no shared meaning): a fitted
        tokenizer's last; an imported index has one only where it could not be used as given
        (`sidrec.published`)."""
        return self.n_levels - 1 if self.n_levels > self.config.quantizer.levels else None

    @property
    def level_sizes(self) -> list[int]:
        """Number of codes each level may use (the separating level: its largest code + 1)."""
        k = self.config.quantizer.codebook_size
        fitted = [k] * (self.n_levels - 1) if self.books is not None else []
        return fitted + [int(self.codes[:, i].max()) + 1 for i in range(len(fitted), self.n_levels)]

    def __len__(self) -> int:
        return len(self.item_ids)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._row

    def codes_of(self, item_id: str) -> tuple[int, ...]:
        if item_id not in self._row:
            raise SidrecError(f"unknown item {item_id!r}")
        return tuple(self.codes[self._row[item_id]].tolist())

    def rows_of(self, item_ids) -> list[int]:
        """Row numbers (trie item rows) of the known items among `item_ids`; unknown ones are skipped."""
        return [self._row[i] for i in item_ids if i in self._row]

    def encode(self, item_id: str) -> str:
        """Item id -> SID string."""
        return self.sid_of_codes(self.codes_of(item_id))

    def decode(self, sid: str | Sequence[int]) -> str:
        """SID string (or codes) -> item id; raises if no item has that SID."""
        codes = parse_sid(sid) if isinstance(sid, str) else tuple(int(c) for c in sid)
        row = self._by_codes.get(codes)
        if row is None:
            raise SidrecError(f"no item has SID {sid if isinstance(sid, str) else codes!r}")
        return self.item_ids[row]

    def tokens(self) -> list[str]:
        """Every SID token in use, level by level: the vocabulary an LLM must learn."""
        out = []
        for level in range(self.n_levels):
            out += [token(level, c) for c in sorted(set(self.codes[:, level].tolist()))]
        return out

    # ------------------------------------------------------------ cold start
    def prefix_codes_for(self, embeddings: np.ndarray, occupied: bool = False) -> np.ndarray:
        """First-L codes for new embeddings under the fitted codebooks; with `occupied`, only prefixes that
        known items use (`quantize_within`)."""
        if self.books is None:
            raise SidrecError(
                "this tokenizer was imported from a published index; it has no codebooks to encode new items"
            )
        x = torch.from_numpy(np.asarray(embeddings, np.float32))
        with torch.no_grad():
            if self.rqvae is not None:
                x = self.rqvae.encoder(x)
            books = list(self.rqvae.codebooks) if self.rqvae is not None else self.books
            lead = self.config.quantizer.lead_dims
            codes = quantize_within(books, x, self.codes, lead) if occupied else quantize_with(books, x, lead)
        return codes.numpy()

    def place(self, texts: Sequence[str], placement: PlacementConfig = PlacementConfig()) -> np.ndarray:
        """Codes (n, L + 1) that new items with these texts would get; nothing is changed.

        The codebooks place each text (a fused tokenizer with its item embeddings at hand imputes the
        behaviour part from the text's nearest known items; by default only into cells known items occupy:
        `sidrec.placement`); the separating code is the next one free among the items (existing and earlier
        in `texts`) sharing its prefix.
        """
        return self._place(texts, placement)[0]

    def _place(self, texts: Sequence[str], placement: PlacementConfig) -> tuple[np.ndarray, np.ndarray]:
        """(codes, the texts' own text embeddings)."""
        cfg = self.config.embed
        if cfg.embedding == "behavior":
            raise SidrecError("a behaviour-only tokenizer cannot encode a new item from its text; fit on text or fused")
        text = encode_texts(list(texts), cfg.text_model, cfg.batch_size, use_cache=False, precision=cfg.text_precision)
        if cfg.embedding == "text":
            emb = text
        elif self.item_embeddings is not None:
            emb = cold_fused(text, self.item_embeddings, cfg.behavior_weight, placement)
        else:  # a fused tokenizer without its item embeddings: a behaviour part of zeros
            emb = fuse_text_only(text, self.stats.get("embedding_dim"), cfg.behavior_weight)
        prefix = self.prefix_codes_for(emb, occupied=placement.cell == "occupied")
        used = Counter(map(tuple, self.codes[:, : self.n_levels - 1].tolist()))
        rows = []
        for row in prefix.tolist():
            rows.append([*row, used[tuple(row)]])
            used[tuple(row)] += 1
        return np.array(rows, dtype=np.int64).reshape(len(texts), self.n_levels), text

    def text_embeddings(self) -> np.ndarray | None:
        """Every item row's text embedding (L2-normalised), fitted items and items added since, or None where the
        fitted items' are not at hand (a behaviour tokenizer, an artifact without its embeddings, or a fused one
        before any item was added: the width of its text part is known from an added item's)."""
        known = self.item_embeddings
        if known is None or self.config.embed.embedding == "behavior":
            return None
        if self.config.embed.embedding == "text":
            text = l2_rows(known.astype(np.float32))
        elif self._added_text:
            text = split_fused(
                known.astype(np.float32), self._added_text[0].shape[1], self.config.embed.behavior_weight
            )[0]
        else:
            return None
        out = np.concatenate([text, *(l2_rows(t) for t in self._added_text)])
        return out if len(out) == len(self.item_ids) else None

    def add_items(
        self, item_ids: Sequence[str], texts: Sequence[str], placement: PlacementConfig = PlacementConfig()
    ) -> list[str]:
        """Give new items SIDs from their text alone (`place`), without refitting. Returns their SIDs."""
        dup = [i for i in item_ids if i in self._row]
        if dup:
            raise SidrecError(f"item {dup[0]!r} already has a SID")
        if len(set(item_ids)) != len(item_ids):
            raise SidrecError("new item ids must be unique")
        codes, text = self._place(texts, placement)
        self.codes = np.concatenate([self.codes, codes])
        self.item_ids += list(item_ids)
        self._added_text.append(np.asarray(text, np.float32))
        self._reindex()
        return [self.encode(i) for i in item_ids]

    def sid_of_codes(self, codes: Sequence[int]) -> str:
        """>>> # (12, 201, 7, 0) -> '<a_12><b_201><c_7><d_0>'"""
        return "".join(token(lv, int(c)) for lv, c in enumerate(codes))

    # ------------------------------------------------------------ save / load
    def save(
        self,
        folder: str | Path,
        keywords: dict | None = None,
        embeddings: np.ndarray | None = None,
        titles: dict[str, str] | None = None,
    ) -> None:
        """Write the artifact atomically: manifest, codes and codebooks in safetensors, keywords and titles JSON."""
        folder = Path(folder)
        # what is not given is kept from the folder only when it is this very tokenizer saved again (the same
        # items and codes); files of the tokenizer it replaces describe other codes
        same = saved_fingerprint(folder) == self.fingerprint()
        if keywords is None and same:
            keywords = _read_optional_json(folder / "keywords.json")
        if titles is None and same:
            titles = _read_optional_json(folder / "titles.json")
        with atomic_dir(folder, KIND) as tmp:
            tensors = {"codes": torch.from_numpy(self.codes)}
            if self.books is not None:
                for i, b in enumerate(self.books):
                    tensors[f"codebook.{i}"] = b.contiguous()
            save_file(tensors, str(tmp / "codes.safetensors"))
            if self.rqvae is not None:
                save_file(
                    {k: v.contiguous() for k, v in self.rqvae.state_dict().items()}, str(tmp / "rqvae.safetensors")
                )
            if embeddings is not None:
                save_file(
                    {"embeddings": torch.from_numpy(embeddings.astype(np.float16))}, str(tmp / "embeddings.safetensors")
                )
            elif same and (folder / "embeddings.safetensors").exists():
                (tmp / "embeddings.safetensors").write_bytes((folder / "embeddings.safetensors").read_bytes())
            write_json_atomic(tmp / "items.json", self.item_ids)
            if keywords is not None:
                write_json_atomic(tmp / "keywords.json", keywords)
            if titles is not None:  # for display: recommendations name their items
                write_json_atomic(tmp / "titles.json", titles)
            write_manifest(
                tmp,
                KIND,
                FORMAT_VERSION,
                asdict(self.config),
                data_fingerprint=self.data_fingerprint,
                fingerprint=self.fingerprint(),
                stats=self.stats,
                n_items=len(self),
            )

    def fingerprint(self) -> str:
        """Identity of the item <-> SID map; models name the tokenizer by it."""
        return fingerprint(self.item_ids, self.codes.tolist())

    @classmethod
    def load(cls, folder: str | Path) -> SIDTokenizer:
        folder = Path(folder)
        manifest = read_manifest(folder, KIND, FORMAT_VERSION)
        with damaged(folder, KIND):
            config = TokenizerConfig.from_dict(manifest["config"])
            tensors = load_file(str(folder / "codes.safetensors"))
            item_ids = json.loads((folder / "items.json").read_text())
        books = None
        n_books = sum(1 for k in tensors if k.startswith("codebook."))
        if n_books:
            books = [tensors[f"codebook.{i}"] for i in range(n_books)]
        rqvae = None
        if (folder / "rqvae.safetensors").exists():
            rqvae = RQVAE(manifest["stats"]["embedding_dim"], config.quantizer)
            rqvae.load_state_dict(load_file(str(folder / "rqvae.safetensors")))
            rqvae.eval()
        tok = cls(
            item_ids,
            tensors["codes"].numpy(),
            config,
            books,
            rqvae,
            manifest.get("stats"),
            manifest.get("data_fingerprint", ""),
        )
        if tok.fingerprint() != manifest.get("fingerprint"):
            raise SidrecError(f"{folder}: codes do not match the manifest fingerprint (artifact altered?)")
        embeddings = load_embeddings(folder)
        if embeddings is not None and len(embeddings) == len(item_ids):
            tok.item_embeddings = embeddings
        return tok


def saved_fingerprint(folder: str | Path) -> str | None:
    """The fingerprint of the tokenizer saved in `folder` (the codes it holds), read from its manifest; None if
    no tokenizer is saved there."""
    try:
        return read_manifest(folder, KIND, FORMAT_VERSION).get("fingerprint")
    except SidrecError:
        return None


def _read_optional_json(path: Path):
    if not path.exists():
        return None
    with damaged(path.parent, KIND):
        return json.loads(path.read_text())


def load_keywords(folder: str | Path) -> dict:
    """The token keywords saved with a tokenizer: {token: {keywords, description, n_items}}."""
    data = _read_optional_json(Path(folder) / "keywords.json")
    return data or {}


def load_titles(folder: str | Path) -> dict[str, str]:
    """Item titles saved with a tokenizer (empty if none were saved)."""
    return _read_optional_json(Path(folder) / "titles.json") or {}


def load_embeddings(folder: str | Path) -> np.ndarray | None:
    path = Path(folder) / "embeddings.safetensors"
    if not path.exists():
        return None
    with damaged(folder, KIND):
        return load_file(str(path))["embeddings"].float().numpy()
