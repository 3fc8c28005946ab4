"""Datasets: what one is (items, histories, a split), how it is split and summarised.

The files are read by `sidrec.tables` and assembled by the three layouts of `sidrec.layouts` (generic,
LC-Rec/LETTER, MiniOneRec); `load_dataset` here hands a folder to them.

Every problem with the files raises `SidrecError` with one line naming the file,
row and column. Item and user ids are strings everywhere. This module does not
embed, tokenize or train; it hands clean tables and splits to those who do.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sidrec.artifacts import fingerprint
from sidrec.errors import SidrecError

TEXT_COLUMNS = ("title", "description", "brand", "categories")
TABLE_SUFFIXES = (".csv", ".jsonl", ".parquet")
MAX_HISTORY = 20
MIN_LOO_LENGTH = 3  # one train item before the valid target, then the test target


@dataclass(frozen=True)
class Sample:
    """One (history -> next item) example."""

    user_id: str
    history: tuple[str, ...]
    target: str


@dataclass
class Split:
    """Train/valid/test samples plus what training may see of each user.

    `train_sequences` holds, per user, the items a model may learn from: never a
    valid or test target (behaviour embeddings and task builders read only this).
    """

    train: list[Sample]
    valid: list[Sample]
    test: list[Sample]
    train_sequences: dict[str, list[str]]
    too_short_users: int = 0
    protocol: str = "leave-one-out"


@dataclass
class Dataset:
    """An item table and, optionally, user histories.

    items: DataFrame indexed by item_id (str) with at least the columns of
    TEXT_COLUMNS (empty strings where the source has nothing), in source order.
    sequences: user_id -> chronological item ids.
    """

    name: str
    layout: str
    items: pd.DataFrame
    sequences: dict[str, list[str]] = field(default_factory=dict)
    published_index: dict[str, list[str]] | None = None
    predefined_split: Split | None = None
    notes: list[str] = field(default_factory=list)
    index_files: dict[str, Path] = field(default_factory=dict)  # published SID indexes shipped, by name

    @property
    def item_ids(self) -> list[str]:
        return list(self.items.index)

    @property
    def has_text(self) -> bool:
        """Whether any item has a title (an LC-Rec folder without `<Name>.item.json` has none)."""
        return bool((self.items["title"].str.strip() != "").any())

    def require_text(self, what: str) -> None:
        """Refuse `what` (e.g. "fitting a tokenizer on text") on a catalogue without item text."""
        if not self.has_text:
            raise SidrecError(f"{self.name} has no item text (titles, descriptions): {what} needs it")

    def fingerprint(self) -> str:
        """Hash of the item table and the histories: what artifacts are built from."""
        items = pd.util.hash_pandas_object(self.items, index=True).tolist()
        return fingerprint(items, sorted(self.sequences.items()))

    def item_text(self, max_description_chars: int = 300) -> list[str]:
        """One string per item for text encoders, in catalogue order."""
        cols = [self.items[c].tolist() for c in ("title", "brand", "categories", "description")]
        return [format_item_text(*row, max_description_chars=max_description_chars) for row in zip(*cols, strict=True)]


def format_item_text(
    title: str, brand: str = "", categories: str = "", description: str = "", max_description_chars: int = 300
) -> str:
    """The text an encoder sees for one item.

    >>> format_item_text("Tent", "Acme", "Outdoor > Camping", "Sleeps two.")
    'Tent. Brand: Acme. Categories: Outdoor > Camping. Sleeps two.'
    """
    parts = [title.strip().rstrip(".") + "."]
    if brand.strip():
        parts.append(f"Brand: {brand.strip()}.")
    if categories.strip():
        parts.append(f"Categories: {categories.strip()}.")
    if description.strip():
        parts.append(description.strip()[:max_description_chars])
    return " ".join(parts)


def load_dataset(folder: str | Path) -> Dataset:
    """Load a dataset folder in any supported layout (`sidrec.layouts`); one `SidrecError` line on bad input."""
    from sidrec.layouts import load_dataset as load

    return load(folder)


# ---------------------------------------------------------------- splitting


def train_items(split: Split) -> list[str]:
    """Items training may see, in order of first occurrence in the training sequences."""
    return list(dict.fromkeys(i for seq in split.train_sequences.values() for i in seq))


def leave_one_out(sequences: dict[str, list[str]], max_history: int = MAX_HISTORY) -> Split:
    """Last item test, second-to-last valid, every earlier prefix train.

    Users with fewer than 3 interactions have no valid/test pair; they are
    counted in `too_short_users` and their sequences still feed training.

    >>> s = leave_one_out({"u": ["a", "b", "c", "d"]})
    >>> [(x.history, x.target) for x in s.train], s.valid[0].target, s.test[0].history
    ([(('a',), 'b')], 'c', ('a', 'b', 'c'))
    """
    valid, test, train_seqs, too_short = [], [], {}, 0
    for user, seq in sequences.items():
        if len(seq) < MIN_LOO_LENGTH:
            too_short += 1
            train_part = seq
        else:
            train_part = seq[:-2]
            valid.append(Sample(user, tuple(seq[:-2][-max_history:]), seq[-2]))
            test.append(Sample(user, tuple(seq[:-1][-max_history:]), seq[-1]))
        train_seqs[user] = list(train_part)
    return Split(prefix_samples(train_seqs, max_history), valid, test, train_seqs, too_short)


def prefix_samples(train_sequences: dict[str, list[str]], max_history: int = MAX_HISTORY) -> list[Sample]:
    """Every (prefix -> next item) sample of the training sequences, histories capped at `max_history`.

    >>> [(s.history, s.target) for s in prefix_samples({"u": ["a", "b", "c"]}, max_history=1)]
    [(('a',), 'b'), (('b',), 'c')]
    """
    return [
        Sample(user, tuple(seq[:i][-max_history:]), seq[i])
        for user, seq in train_sequences.items()
        for i in range(1, len(seq))
    ]


def split_dataset(ds: Dataset, max_history: int = MAX_HISTORY) -> Split:
    """The dataset's own split if it ships one, else leave-one-out."""
    if ds.predefined_split is not None:
        return ds.predefined_split
    return leave_one_out(ds.sequences, max_history)


# ---------------------------------------------------------------- summary


def summarize(ds: Dataset) -> dict:
    lengths = [len(s) for s in ds.sequences.values()]
    split = split_dataset(ds) if ds.sequences else None
    summary = {
        "name": ds.name,
        "layout": ds.layout,
        "items": len(ds.items),
        "users": len(ds.sequences),
        "interactions": sum(lengths),
        "seq_len": _length_stats(lengths),
        "categories": int(ds.items["categories"].map(top_category).replace("", pd.NA).nunique()),
        "published_index": ds.published_index is not None,
        "index_files": {name: str(path) for name, path in ds.index_files.items()},
        "has_text": ds.has_text,
        "notes": list(ds.notes),
    }
    if split is not None:
        summary["split"] = {
            "protocol": split.protocol,
            "train": len(split.train),
            "valid": len(split.valid),
            "test": len(split.test),
            "too_short_users": split.too_short_users,
        }
        if split.too_short_users:
            summary["notes"].append(
                f"{split.too_short_users} users have fewer than {MIN_LOO_LENGTH} interactions: "
                "too short for leave-one-out, used for training only"
            )
    return summary


def _length_stats(lengths: list[int]) -> dict:
    if not lengths:
        return {"min": 0, "mean": 0.0, "median": 0.0, "max": 0}
    return {
        "min": min(lengths),
        "mean": round(statistics.fmean(lengths), 3),
        "median": float(statistics.median(lengths)),
        "max": max(lengths),
    }


def category_path(categories: str) -> list[str]:
    """The levels of a category path, broadest first: 'A > B' (or 'A,B', the layout without '>') -> ['A', 'B'].

    >>> category_path("Outdoor & Camping > Tents > Backpacking Tent"), category_path("Office,Paper"), category_path(" ")
    (['Outdoor & Camping', 'Tents', 'Backpacking Tent'], ['Office', 'Paper'], [])
    """
    sep = ">" if ">" in categories else ","
    return [part.strip() for part in categories.split(sep) if part.strip()]


def category_level(categories: str, level: int = 0) -> str:
    """One level of a category path ('' when the path is shorter): level 0 is the broadest, -1 the deepest.

    >>> category_level("A > B > C"), category_level("A > B > C", 1), category_level("A", 1), category_level("A > B", -1)
    ('A', 'B', '', 'B')
    """
    parts = category_path(categories)
    return parts[level] if -len(parts) <= level < len(parts) else ""


def top_category(categories: str) -> str:
    """The first level of a category path: 'A > B' or 'A,B' -> 'A'."""
    return category_level(categories, 0)


def item_popularity(sequences: dict[str, list[str]]) -> pd.Series:
    """Interaction count per item id, most popular first."""
    counts: dict[str, int] = {}
    for seq in sequences.values():
        for iid in seq:
            counts[iid] = counts.get(iid, 0) + 1
    return pd.Series(counts, dtype=int).sort_values(ascending=False, kind="stable")
