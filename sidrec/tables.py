"""Reading a dataset's tables: CSV (comma, semicolon or tab; UTF-8 with or without a BOM), JSON Lines and
Parquet into string columns, checked row by row, every problem one `SidrecError` line naming the file, row and
column. The layouts (`sidrec.layouts`) assemble these tables into a `Dataset`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from sidrec.data import TABLE_SUFFIXES, TEXT_COLUMNS
from sidrec.errors import SidrecError


def check_text_file(path: Path) -> str:
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
    import io

    text = check_text_file(path)
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
    text = check_text_file(path)
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
    repeated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if repeated:  # which of two same-named columns holds the item ids (or the titles) is anyone's guess
        raise SidrecError(f"{path.name}: the column {repeated[0]!r} appears more than once in the header")
    if df.empty:
        raise SidrecError(f"{path.name}: no rows")
    first_row = df.attrs.get("first_row", 0)
    df = df.map(cell_to_str)
    df.attrs["first_row"] = first_row
    return df


def cell_to_str(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy arrays from parquet
        return cell_to_str(value.tolist())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def require_columns(df: pd.DataFrame, required: tuple[str, ...], fname: str) -> None:
    for col in required:
        if col not in df.columns:
            have = ", ".join(map(str, df.columns)) or "none"
            raise SidrecError(f"{fname}: missing required column '{col}' (columns found: {have})")


def row_label(df: pd.DataFrame, pos: int, fname: str) -> str:
    first = df.attrs.get("first_row", 0)
    return f"{fname} row {pos + first}"


def _check_unique_items(ids: pd.Series, fname: str) -> None:
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        shown = ", ".join(repr(d) for d in dup[:5])
        more = f" and {len(dup) - 5} more" if len(dup) > 5 else ""
        raise SidrecError(f"{fname}: duplicated item_id {shown}{more}")


def normalise_items(df: pd.DataFrame, fname: str) -> pd.DataFrame:
    require_columns(df, ("item_id", "title"), fname)
    df = df.copy()
    df["item_id"] = df["item_id"].str.strip()
    empty = df.index[df["item_id"] == ""].tolist()
    if empty:
        raise SidrecError(f"{row_label(df, empty[0], fname)}: empty item_id")
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


def find_table(folder: Path, stem: str) -> Path | None:
    found = [folder / f"{stem}{s}" for s in TABLE_SUFFIXES if (folder / f"{stem}{s}").exists()]
    if len(found) > 1:
        raise SidrecError(f"{folder}: several {stem} files ({', '.join(p.name for p in found)}); keep one")
    return found[0] if found else None
