"""Datasets: load the three layouts, validate them, split them.

Layouts (detected from the files in a folder):
- generic:    items.{csv,jsonl,parquet} (+ interactions.{csv,jsonl,parquet})
- lcrec:      <Name>.item.json + <Name>.inter.json (+ <Name>.index.json), as LC-Rec/LETTER ship them
- minionerec: <Cat>.item.json, <Cat>.index.json, valid/*.csv, test/*.csv (+ train/*.csv)

Every problem with the files raises `SidrecError` with one line naming the file,
row and column. Item and user ids are strings everywhere. This module does not
embed, tokenize or train; it hands clean tables and splits to those who do.
"""

from __future__ import annotations

import ast
import json
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

    @property
    def item_ids(self) -> list[str]:
        return list(self.items.index)

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


# ---------------------------------------------------------------- reading files


def _check_text_file(path: Path) -> str:
    """Return the file's text, or one clear error if it is missing, a folder, empty or not text."""
    if path.is_dir():
        raise SidrecError(f"{path}: a folder, not a file")
    if not path.is_file():
        raise SidrecError(f"{path}: no such file")
    raw = path.read_bytes()
    if not raw.strip():
        raise SidrecError(f"{path.name}: file is empty")
    if b"\0" in raw[:8192]:
        raise SidrecError(f"{path.name}: not a text file (binary content)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SidrecError(f"{path.name}: not UTF-8 text (byte {e.start})") from None


def _delimiter(header_line: str) -> str:
    r"""The field separator of a CSV export: a comma, or the semicolon or tab that spreadsheets in many locales
    write, whichever splits the header into the most fields.

    >>> _delimiter("item_id;title;brand"), _delimiter("item_id,title"), _delimiter("item_id\ttitle")
    (';', ',', '\t')
    """
    return max([",", ";", "\t"], key=lambda d: (header_line.count(d), d == ","))


def _read_csv(path: Path) -> pd.DataFrame:
    import csv
    import io

    text = _check_text_file(path)
    if not text.strip():
        raise SidrecError(f"{path.name}: file is empty")
    csv.field_size_limit(2**31 - 1)  # any field size a CSV file can hold (the default stops at 131,072)
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text.split("\n", 1)[0]))
    try:
        rows = list(reader)
    except csv.Error as e:
        raise SidrecError(f"{path.name} row {reader.line_num}: unparseable CSV ({e})") from None
    header, body = rows[0], rows[1:]
    for i, row in enumerate(body, start=2):
        if row and len(row) != len(header):
            raise SidrecError(f"{path.name} row {i}: expected {len(header)} fields, found {len(row)} (unparseable row)")
    body = [r for r in body if r]
    df = pd.DataFrame(body, columns=[h.strip() for h in header], dtype=str)
    df.attrs["first_row"] = 2
    return df


def _read_jsonl(path: Path) -> pd.DataFrame:
    text = _check_text_file(path)
    records = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise SidrecError(f"{path.name} row {i}: not valid JSON ({e.msg})") from None
        if not isinstance(rec, dict):
            raise SidrecError(f"{path.name} row {i}: expected a JSON object, found {type(rec).__name__}")
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    df.attrs["first_row"] = 1
    return df


def _read_parquet(path: Path) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise SidrecError(f"{path.name}: file is empty")
    try:
        df = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several types for a bad file
        raise SidrecError(f"{path.name}: not a readable Parquet file ({type(e).__name__})") from None
    df.attrs["first_row"] = 0
    return df


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, JSONL or Parquet table; every cell becomes a string."""
    path = Path(path)
    reader = {".csv": _read_csv, ".jsonl": _read_jsonl, ".parquet": _read_parquet}.get(path.suffix)
    if reader is None:
        raise SidrecError(f"{path.name}: unsupported file type (use .csv, .jsonl or .parquet)")
    df = reader(path)
    if df.empty:
        raise SidrecError(f"{path.name}: no rows")
    first_row = df.attrs.get("first_row", 0)
    df = df.map(_cell_to_str)
    df.attrs["first_row"] = first_row
    return df


def _cell_to_str(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy arrays from parquet
        return _cell_to_str(value.tolist())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _require_columns(df: pd.DataFrame, required: tuple[str, ...], fname: str) -> None:
    for col in required:
        if col not in df.columns:
            have = ", ".join(map(str, df.columns)) or "none"
            raise SidrecError(f"{fname}: missing required column '{col}' (columns found: {have})")


def _row_label(df: pd.DataFrame, pos: int, fname: str) -> str:
    first = df.attrs.get("first_row", 0)
    return f"{fname} row {pos + first}"


def _check_unique_items(ids: pd.Series, fname: str) -> None:
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        shown = ", ".join(repr(d) for d in dup[:5])
        more = f" and {len(dup) - 5} more" if len(dup) > 5 else ""
        raise SidrecError(f"{fname}: duplicated item_id {shown}{more}")


def _normalise_items(df: pd.DataFrame, fname: str) -> pd.DataFrame:
    _require_columns(df, ("item_id", "title"), fname)
    df = df.copy()
    df["item_id"] = df["item_id"].str.strip()
    empty = df.index[df["item_id"] == ""].tolist()
    if empty:
        raise SidrecError(f"{_row_label(df, empty[0], fname)}: empty item_id")
    _check_unique_items(df["item_id"], fname)
    blank = df.index[df["title"].str.strip() == ""].tolist()
    if blank:
        first = df.attrs.get("first_row", 0)
        shown = ", ".join(f"{df['item_id'].iloc[i]!r} (row {i + first})" for i in blank[:5])
        more = f" and {len(blank) - 5} more" if len(blank) > 5 else ""
        raise SidrecError(f"{fname}: blank title for item {shown}{more}; every item needs a title")
    for col in TEXT_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df = df.set_index("item_id")
    df.index.name = "item_id"
    return df


def _find_table(folder: Path, stem: str) -> Path | None:
    found = [folder / f"{stem}{s}" for s in TABLE_SUFFIXES if (folder / f"{stem}{s}").exists()]
    if len(found) > 1:
        raise SidrecError(f"{folder}: several {stem} files ({', '.join(p.name for p in found)}); keep one")
    return found[0] if found else None


# ---------------------------------------------------------------- the layouts


def load_generic(folder: Path, items_path: Path, inter_path: Path | None) -> Dataset:
    items = _normalise_items(read_table(items_path), items_path.name)
    sequences: dict[str, list[str]] = {}
    notes = []
    if inter_path is not None:
        sequences = _sequences_from_interactions(read_table(inter_path), items, inter_path.name)
    else:
        notes.append("no interactions file: the catalogue can be tokenized and explored, not evaluated")
    return Dataset(folder.name, "generic", items, sequences, notes=notes)


def _sequences_from_interactions(df: pd.DataFrame, items: pd.DataFrame, fname: str) -> dict[str, list[str]]:
    _require_columns(df, ("user_id", "item_id"), fname)
    df = df.reset_index(drop=True)
    df["user_id"] = df["user_id"].str.strip()
    df["item_id"] = df["item_id"].str.strip()
    for col in ("user_id", "item_id"):
        empty = df.index[df[col] == ""].tolist()
        if empty:
            raise SidrecError(f"{_row_label(df, empty[0], fname)}: empty {col}")
    unknown = ~df["item_id"].isin(items.index)
    if unknown.any():
        pos = int(unknown.to_numpy().nonzero()[0][0])
        n = int(unknown.sum())
        more = f" ({n - 1} more rows name unknown items)" if n > 1 else ""
        raise SidrecError(
            f"{_row_label(df, pos, fname)}: unknown item_id {df.at[pos, 'item_id']!r}, not in the items file{more}"
        )
    df["_order"] = range(len(df))
    if "timestamp" in df.columns and (df["timestamp"] != "").any():
        ts = pd.to_numeric(df["timestamp"], errors="coerce")
        bad = ts.isna()
        if bad.any():
            pos = int(bad.to_numpy().nonzero()[0][0])
            raise SidrecError(
                f"{_row_label(df, pos, fname)}: column 'timestamp' is not a number ({df.at[pos, 'timestamp']!r})"
            )
        df["_ts"] = ts
        df = df.sort_values(["_ts", "_order"], kind="stable")
    sequences: dict[str, list[str]] = {}
    for user, item in zip(df["user_id"], df["item_id"], strict=True):
        sequences.setdefault(user, []).append(item)
    return sequences


def _read_json_dict(path: Path) -> dict:
    text = _check_text_file(path)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise SidrecError(f"{path.name} line {e.lineno}: not valid JSON ({e.msg})") from None
    if not isinstance(obj, dict) or not obj:
        raise SidrecError(f"{path.name}: expected a non-empty JSON object")
    return obj


def _items_from_item_json(path: Path) -> pd.DataFrame:
    raw = _read_json_dict(path)
    rows = []
    for iid, meta in raw.items():
        if not isinstance(meta, dict):
            raise SidrecError(f"{path.name} item {iid!r}: expected an object with a title")
        if "title" not in meta:
            raise SidrecError(f"{path.name} item {iid!r}: missing required field 'title'")
        row = {"item_id": str(iid)}
        for k, v in meta.items():
            row[k] = _cell_to_str(_unrepr_list(v))
        rows.append(row)
    df = pd.DataFrame(rows, dtype=str).fillna("")
    return _normalise_items(df, path.name)


def _unrepr_list(value):
    """MiniOneRec stores descriptions as the Python repr of a list of strings."""
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
        if isinstance(parsed, list):
            return " ".join(str(v) for v in parsed)
    return value


def read_index(path: Path, items: pd.DataFrame) -> dict[str, list[str]]:
    raw = _read_json_dict(path)
    index = {}
    for iid, tokens in raw.items():
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise SidrecError(f"{path.name} item {iid!r}: expected a list of token strings")
        index[str(iid)] = tokens
    missing = [i for i in items.index if i not in index]
    if missing:
        raise SidrecError(f"{path.name}: no SID for {len(missing)} items (first: {missing[0]!r})")
    return index


def load_lcrec(folder: Path, name: str) -> Dataset:
    items = _items_from_item_json(folder / f"{name}.item.json")
    inter_path = folder / f"{name}.inter.json"
    raw = _read_json_dict(inter_path)
    known = set(items.index)
    sequences = {}
    for user, seq in raw.items():
        if not isinstance(seq, list):
            raise SidrecError(f"{inter_path.name} user {user!r}: expected a list of item ids")
        seq = [str(i) for i in seq]
        for pos, iid in enumerate(seq):
            if iid not in known:
                raise SidrecError(f"{inter_path.name} user {user!r} position {pos}: unknown item {iid!r}")
        sequences[str(user)] = seq
    index_path = folder / f"{name}.index.json"
    index = read_index(index_path, items) if index_path.exists() else None
    return Dataset(name, "lcrec", items, sequences, published_index=index)


def _parse_list_cell(value: str, where: str) -> list[str]:
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        raise SidrecError(f"{where}: expected a list literal, found {value[:40]!r}") from None
    if not isinstance(parsed, (list, tuple)):
        raise SidrecError(f"{where}: expected a list literal, found {value[:40]!r}")
    return [str(v) for v in parsed]


def _samples_from_csvs(folder: Path, split: str, known: set[str]) -> list[Sample] | None:
    paths = sorted((folder / split).glob("*.csv")) if (folder / split).is_dir() else []
    if not paths:
        return None
    samples = []
    for path in paths:
        df = read_table(path)
        _require_columns(df, ("user_id", "history_item_id", "item_id"), f"{split}/{path.name}")
        for pos, (user, hist, target) in enumerate(
            zip(df["user_id"], df["history_item_id"], df["item_id"], strict=True)
        ):
            where = f"{split}/{_row_label(df, pos, path.name)}"
            history = _parse_list_cell(hist, where)
            for iid in [*history, target]:
                if iid not in known:
                    raise SidrecError(f"{where}: unknown item {iid!r}")
            samples.append(Sample(user, tuple(history), target))
    return samples


def load_minionerec(folder: Path, name: str) -> Dataset:
    items = _items_from_item_json(folder / f"{name}.item.json")
    index_path = folder / f"{name}.index.json"
    index = read_index(index_path, items) if index_path.exists() else None
    known = set(items.index)
    train = _samples_from_csvs(folder, "train", known)
    valid = _samples_from_csvs(folder, "valid", known) or []
    test = _samples_from_csvs(folder, "test", known) or []
    notes = []
    if train is None:
        # What training may see without a train file: the histories of the
        # valid rows, which precede every valid and test target in time.
        notes.append("train split missing: training sees only the histories of the valid rows")
        train_seqs: dict[str, list[str]] = {}
        for s in valid:
            train_seqs[s.user_id] = _merge_window(train_seqs.get(s.user_id, []), list(s.history))
        train = []
    else:
        train_seqs = {}
        for s in train:
            train_seqs[s.user_id] = _merge_window(train_seqs.get(s.user_id, []), [*s.history, s.target])
    # Sequences for statistics: each user's windows chained in split order.
    sequences: dict[str, list[str]] = {}
    for s in [*train, *valid, *test]:
        sequences[s.user_id] = _merge_window(sequences.get(s.user_id, []), [*s.history, s.target])
    notes.append("sequences are reconstructed from sliding-window rows (histories hold at most 10 items)")
    split = Split(train, valid, test, train_seqs, protocol="minionerec time-ordered 8:1:1 rows")
    return Dataset(name, "minionerec", items, sequences, index, split, notes)


def _merge_window(seq: list[str], window: list[str]) -> list[str]:
    """Append a sliding window to a sequence, skipping the overlap.

    >>> _merge_window(["a", "b", "c"], ["b", "c", "d"])
    ['a', 'b', 'c', 'd']
    """
    for k in range(min(len(seq), len(window)), 0, -1):
        if seq[-k:] == window[:k]:
            return seq + window[k:]
    return seq + window


def detect_layout(folder: Path) -> tuple[str, str]:
    """(layout, name) of a data folder."""
    if not folder.is_dir():
        raise SidrecError(f"{folder}: no such folder")
    if _find_table(folder, "items") is not None:
        return "generic", folder.name
    item_jsons = sorted(folder.glob("*.item.json"))
    if len(item_jsons) == 1:
        name = item_jsons[0].name[: -len(".item.json")]
        if (folder / f"{name}.inter.json").exists():
            return "lcrec", name
        if (folder / "valid").is_dir() or (folder / "test").is_dir():
            return "minionerec", name
        raise SidrecError(f"{folder}: found {name}.item.json but neither {name}.inter.json nor valid/ and test/")
    if len(item_jsons) > 1:
        raise SidrecError(f"{folder}: several *.item.json files; keep one dataset per folder")
    raise SidrecError(
        f"{folder}: no dataset found (expected items.csv/jsonl/parquet, <Name>.item.json + <Name>.inter.json, "
        "or MiniOneRec's <Cat>.item.json with valid/ and test/)"
    )


def load_dataset(folder: str | Path) -> Dataset:
    """Load any supported layout; raises SidrecError with one line on bad input."""
    folder = Path(folder)
    layout, name = detect_layout(folder)
    try:
        if layout == "generic":
            return load_generic(folder, _find_table(folder, "items"), _find_table(folder, "interactions"))
        if layout == "lcrec":
            return load_lcrec(folder, name)
        return load_minionerec(folder, name)
    except OSError as e:
        raise SidrecError(f"{folder}: cannot read {e.filename or ''} ({e.strerror})") from None


# ---------------------------------------------------------------- splitting


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
