"""Versioned artifact folders: manifest, safetensors, atomic writes.

An artifact is a folder holding `manifest.json` (kind, format version, config,
library version, fingerprints of the data and of the artifacts it depends on)
next to its tensors in safetensors and small JSON files. Writes go to a
temporary sibling folder that is renamed into place, so a crash never leaves a
half-written artifact and a failed write never touches the previous one.
Nothing here is pickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sidrec import __version__
from sidrec.errors import SidrecError

MANIFEST = "manifest.json"


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-serialisable parts.

    >>> fingerprint({"a": 1}) == fingerprint({"a": 1})
    True
    """
    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def check_replaceable(path: str | Path, kind: str) -> None:
    """Refuse to write a `kind` artifact over anything but nothing, an empty folder or an artifact of that kind.

    An artifact replaces its previous version whole; a folder of anything else (a data folder, another
    kind of artifact) is never deleted to make room for it.

    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "items.csv").write_text("item_id,title")
    >>> check_replaceable(folder, "tokenizer")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sidrec.errors.SidrecError: ... is not a sidrec tokenizer artifact (it holds other files): choose another folder
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    if not path.is_dir():
        raise SidrecError(f"{path} is a file, not a {kind} artifact folder: choose another output folder")
    if not any(path.iterdir()):
        return
    try:
        held = json.loads((path / MANIFEST).read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        held = None
    if held is None:
        raise SidrecError(f"{path} is not a sidrec {kind} artifact (it holds other files): choose another folder")
    if held != kind:
        raise SidrecError(f"{path} holds another kind of artifact ({held}, not {kind}): choose another folder")


@contextlib.contextmanager
def atomic_dir(path: str | Path, kind: str | None) -> Iterator[Path]:
    """Yield a temporary folder that replaces `path` only if the block succeeds.

    `kind`: the artifact written, which may only replace an artifact of its kind (check_replaceable);
    None for a folder that is not an artifact (a converted base model in the model cache)."""
    path = Path(path)
    if kind is not None:
        check_replaceable(path, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; an artifact is an ordinary folder
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in `path`'s folder (same suffix) that replaces `path` only if the block succeeds;
    readers see the old file or the new one, never half of one.

    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_file(folder / "a.txt") as tmp:
    ...     _ = tmp.write_text("new")
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('new', ['a.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes it private; an artifact is an ordinary file
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def exclusive(lock: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on the file `lock` (created if missing) for the block: one process at a time,
    among the processes of a launcher or of several app sessions on this machine (no lock where the
    platform has no flock)."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    lock = Path(lock)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write JSON to a temporary file in the same folder, then rename it."""
    with atomic_file(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True, default=str)


def write_manifest(folder: Path, kind: str, format_version: int, config: dict, **extra: Any) -> dict:
    manifest = {
        "kind": kind,
        "format_version": format_version,
        "sidrec_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": config,
        **extra,
    }
    write_json_atomic(folder / MANIFEST, manifest)
    return manifest


@contextlib.contextmanager
def damaged(folder: str | Path, kind: str) -> Iterator[None]:
    """Reading an artifact's files: a missing or unreadable one (or a manifest without a field) is one clear line.

    >>> with damaged("models/x", "llm"):
    ...     {}["tokenizer_fingerprint"]
    Traceback (most recent call last):
    sidrec.errors.SidrecError: models/x: damaged llm artifact (KeyError: 'tokenizer_fingerprint')
    >>> with damaged("models/x", "llm"):
    ...     raise SidrecError("models/x: a setting this version cannot read")
    Traceback (most recent call last):
    sidrec.errors.SidrecError: models/x: a setting this version cannot read
    """
    from safetensors import SafetensorError

    try:
        yield
    except SidrecError:  # already one line (a ValueError too)
        raise
    except (OSError, ValueError, KeyError, SafetensorError) as e:
        raise SidrecError(f"{folder}: damaged {kind} artifact ({type(e).__name__}: {e})") from None


def read_manifest(folder: str | Path, kind: str, format_version: int) -> dict:
    """Read and check a manifest; one clear line if the folder is not what we expect."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise SidrecError(f"{folder}: not a sidrec {kind} artifact (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SidrecError(f"{path}: unreadable manifest ({e})") from None
    if manifest.get("kind") != kind:
        raise SidrecError(f"{folder}: is a {manifest.get('kind')!r} artifact, expected {kind!r}")
    if manifest.get("format_version") != format_version:
        raise SidrecError(
            f"{folder}: {kind} format version {manifest.get('format_version')} "
            f"is not supported (expected {format_version})"
        )
    return manifest
