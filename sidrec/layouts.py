"""The three dataset layouts, detected from a folder's files, each loaded into a `Dataset`:

- generic:    items.{csv,jsonl,parquet} (+ interactions.{csv,jsonl,parquet})
- lcrec:      <Name>.inter.json (+ <Name>.item.json, + <Name>.index.json), as LC-Rec/LETTER ship them; a
              folder without <Name>.item.json (Beauty, Instruments, Games) loads without item text: its
              published SIDs can be imported, the sequential task trained and the model evaluated
- minionerec: <Cat>.item.json, <Cat>.index.json, valid/*.csv, test/*.csv (+ train/*.csv); without train/,
              training sees each user's history before their first valid row (no train rows)

Published SID indexes: the folder's own <Name>.index.json, and any under indexes/<variant>/<Name>.index.json
(`Dataset.index_files`; `choose_index` picks one).

`load_dataset` (also `sidrec.data.load_dataset`) picks the layout and raises one `SidrecError` line on bad input.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd

from sidrec.data import TEXT_COLUMNS, Dataset, Sample, Split
from sidrec.errors import SidrecError
from sidrec.tables import (
    cell_to_str,
    check_text_file,
    find_table,
    normalise_items,
    read_table,
    require_columns,
    row_label,
)


def load_generic(folder: Path, items_path: Path, inter_path: Path | None) -> Dataset:
    items = normalise_items(read_table(items_path), items_path.name)
    sequences: dict[str, list[str]] = {}
    notes = []
    if inter_path is not None:
        sequences = _sequences_from_interactions(read_table(inter_path), items, inter_path.name)
    else:
        notes.append("no interactions file: the catalogue can be tokenized and explored, not evaluated")
    return Dataset(folder.name, "generic", items, sequences, notes=notes)


def _sequences_from_interactions(df: pd.DataFrame, items: pd.DataFrame, fname: str) -> dict[str, list[str]]:
    require_columns(df, ("user_id", "item_id"), fname)
    df = df.reset_index(drop=True)
    df["user_id"] = df["user_id"].str.strip()
    df["item_id"] = df["item_id"].str.strip()
    for col in ("user_id", "item_id"):
        empty = df.index[df[col] == ""].tolist()
        if empty:
            raise SidrecError(f"{row_label(df, empty[0], fname)}: empty {col}")
    unknown = ~df["item_id"].isin(items.index)
    if unknown.any():
        pos = int(unknown.to_numpy().nonzero()[0][0])
        n = int(unknown.sum())
        more = f" ({n - 1} more rows name unknown items)" if n > 1 else ""
        raise SidrecError(
            f"{row_label(df, pos, fname)}: unknown item_id {df.at[pos, 'item_id']!r}, not in the items file{more}"
        )
    df["_order"] = range(len(df))
    if "timestamp" in df.columns and (df["timestamp"] != "").any():
        ts = pd.to_numeric(df["timestamp"], errors="coerce")
        bad = ts.isna()
        if bad.any():
            pos = int(bad.to_numpy().nonzero()[0][0])
            raise SidrecError(
                f"{row_label(df, pos, fname)}: column 'timestamp' is not a number ({df.at[pos, 'timestamp']!r})"
            )
        df["_ts"] = ts
        df = df.sort_values(["_ts", "_order"], kind="stable")
    sequences: dict[str, list[str]] = {}
    for user, item in zip(df["user_id"], df["item_id"], strict=True):
        sequences.setdefault(user, []).append(item)
    return sequences


def _read_json_dict(path: Path) -> dict:
    text = check_text_file(path)
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
            row[k] = cell_to_str(_unrepr_list(v))
        rows.append(row)
    df = pd.DataFrame(rows, dtype=str).fillna("")
    return normalise_items(df, path.name)


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


def read_index(path: Path, items: pd.DataFrame, raw: dict | None = None) -> dict[str, list[str]]:
    """A SID index file (item -> token strings), checked to cover every item; `raw`: its JSON already read."""
    raw = raw if raw is not None else _read_json_dict(path)
    index = {}
    for iid, tokens in raw.items():
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise SidrecError(f"{path.name} item {iid!r}: expected a list of token strings")
        index[str(iid)] = tokens
    missing = [i for i in items.index if i not in index]
    if missing:
        raise SidrecError(f"{path.name}: no SID for {len(missing)} items (first: {missing[0]!r})")
    return index


def index_files(folder: Path, name: str) -> dict[str, Path]:
    """The published SID indexes a folder ships, by name: its own `<Name>.index.json` (named "published") and
    every `indexes/<variant>/<Name>.index.json` (named by the variant)."""
    found = {"published": folder / f"{name}.index.json"} if (folder / f"{name}.index.json").is_file() else {}
    for path in sorted(folder.glob(f"indexes/*/{name}.index.json")):
        found.setdefault(path.parent.name, path)
    return found


def choose_index(ds: Dataset, spec: str = "published") -> dict[str, list[str]]:
    """The SID index `spec` names: "published" (the folder's own `<Name>.index.json`, or the only one under
    indexes/), "published:<variant>" (indexes/<variant>/), or the path of an `.index.json` file."""
    if spec == "published" or spec.startswith("published:"):
        shipped = ds.index_files
        if not shipped:
            raise SidrecError(f"{ds.name}: no published SID index shipped ({ds.name}.index.json or indexes/*/)")
        choices = ", ".join("published" if n == "published" else f"published:{n}" for n in shipped)
        if spec == "published":
            if "published" not in shipped and len(shipped) > 1:
                raise SidrecError(f"{ds.name} ships several SID indexes: choose one of {choices}")
            name = "published" if "published" in shipped else next(iter(shipped))
        else:
            name = spec.partition(":")[2]
            if name not in shipped:
                raise SidrecError(f"{ds.name}: no SID index named {name!r} (choose from {choices})")
        return read_index(shipped[name], ds.items)
    return read_index(Path(spec), ds.items)


def _text_less_items(ids: list[str]) -> pd.DataFrame:
    """An item table of ids alone (every text column empty), numeric ids in numeric order."""
    if all(i.isdigit() for i in ids):
        ids = sorted(ids, key=int)
    return pd.DataFrame({c: [""] * len(ids) for c in TEXT_COLUMNS}, index=pd.Index(ids, name="item_id"), dtype=str)


def load_lcrec(folder: Path, name: str) -> Dataset:
    inter_path = folder / f"{name}.inter.json"
    raw = _read_json_dict(inter_path)
    indexes = index_files(folder, name)
    own = _read_json_dict(indexes["published"]) if "published" in indexes else None  # read once, used twice
    item_path = folder / f"{name}.item.json"
    notes = []
    if item_path.exists():
        items = _items_from_item_json(item_path)
    else:
        ids = {str(i) for seq in raw.values() if isinstance(seq, list) for i in seq}
        if indexes:  # the catalogue the index covers (items nobody bought included)
            ids |= set(own if own is not None else _read_json_dict(next(iter(indexes.values()))))
        items = _text_less_items(list(ids))
        notes.append(
            f"no {item_path.name}: no item text. Import a published index (tokenizer fit --import-index "
            "published), train on SIDs alone (llm train --tasks sequential,negative --init mean) and evaluate; "
            "fitting on text and the text tasks need item text"
        )
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
    index = read_index(indexes["published"], items, own) if own is not None else None
    return Dataset(name, "lcrec", items, sequences, published_index=index, notes=notes, index_files=indexes)


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
        require_columns(df, ("user_id", "history_item_id", "item_id"), f"{split}/{path.name}")
        for pos, (user, hist, target) in enumerate(
            zip(df["user_id"], df["history_item_id"], df["item_id"], strict=True)
        ):
            where = f"{split}/{row_label(df, pos, path.name)}"
            history = _parse_list_cell(hist, where)
            for iid in [*history, target]:
                if iid not in known:
                    raise SidrecError(f"{where}: unknown item {iid!r}")
            samples.append(Sample(user, tuple(history), target))
    return samples


def load_minionerec(folder: Path, name: str) -> Dataset:
    items = _items_from_item_json(folder / f"{name}.item.json")
    indexes = index_files(folder, name)
    index = read_index(indexes["published"], items) if "published" in indexes else None
    known = set(items.index)
    train = _samples_from_csvs(folder, "train", known)
    valid = _samples_from_csvs(folder, "valid", known) or []
    test = _samples_from_csvs(folder, "test", known) or []
    notes = []
    if train is None:
        train_seqs = first_histories(valid)
        notes.append(
            "no train/ split: training sees each user's history before their first valid row "
            f"({len(train_seqs):,} users, {sum(map(len, train_seqs.values())):,} interactions) and no train rows; "
            "the per-prefix sequential mode has nothing to learn from"
        )
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
    return Dataset(name, "minionerec", items, sequences, index, split, notes, index_files=indexes)


def first_histories(valid: list[Sample]) -> dict[str, list[str]]:
    """Per user, the history of their first valid row (rows are in time order): what precedes every valid
    target, and so every test target, of the rows' time-ordered split. Later rows' histories are not merged in:
    they hold earlier valid targets.

    >>> rows = [Sample("u", ("a", "b"), "c"), Sample("u", ("a", "b", "c"), "d"), Sample("v", ("x",), "y")]
    >>> first_histories(rows)
    {'u': ['a', 'b'], 'v': ['x']}
    """
    out: dict[str, list[str]] = {}
    for s in valid:
        out.setdefault(s.user_id, list(s.history))
    return out


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
    if find_table(folder, "items") is not None:
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
    inter = sorted(folder.glob("*.inter.json"))
    if len(inter) == 1:  # an LC-Rec folder that ships histories without item text (e.g. Beauty, Instruments, Games)
        return "lcrec", inter[0].name[: -len(".inter.json")]
    if len(inter) > 1:
        raise SidrecError(f"{folder}: several *.inter.json files; keep one dataset per folder")
    raise SidrecError(
        f"{folder}: no dataset found (expected items.csv/jsonl/parquet, <Name>.inter.json (+ <Name>.item.json), "
        "or MiniOneRec's <Cat>.item.json with valid/ and test/)"
    )


def load_dataset(folder: str | Path) -> Dataset:
    """Load any supported layout; raises SidrecError with one line on bad input."""
    folder = Path(folder)
    layout, name = detect_layout(folder)
    try:
        if layout == "generic":
            return load_generic(folder, find_table(folder, "items"), find_table(folder, "interactions"))
        if layout == "lcrec":
            return load_lcrec(folder, name)
        return load_minionerec(folder, name)
    except OSError as e:
        raise SidrecError(f"{folder}: cannot read {e.filename or ''} ({e.strerror})") from None
