"""Workspaces: a named catalogue on disk and the artifacts made from it.

The built-in `sample` workspace reads sample_data/ and the demo artifacts in
models/sample/ and is read-only: fitting or training on it first makes a new
workspace, a copy of the demo (`copy_of_sample`), so the demo's tokenizer, model,
cache and evaluation always stay together. An uploaded catalogue becomes a
workspace folder, validated before it is kept, so a reload or a second browser
tab loses nothing and a bad upload leaves every existing workspace as it was. A
workspace can be reset (its artifacts removed, its catalogue kept) or deleted.

Layout of a workspace folder:  <root>/<name>/data/  <root>/<name>/tokenizer/ ...
`artifact_command` names the command line that makes a missing artifact.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sidrec.data import Dataset, load_dataset
from sidrec.errors import SidrecError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = "sample"
ARTIFACTS = ("tokenizer", "llm", "cache.sqlite", "evaluation.json")
COLD_START = ("cold_start.json", "cold_start_reference.json")  # a cold-start run and its reference (sidrec.coldstart)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$")


def workspaces_root() -> Path:
    return Path(os.environ.get("SIDREC_WORKSPACES") or PROJECT_ROOT / "workspaces")


class WorkspaceExists(SidrecError):
    """The name is taken: by an earlier workspace, or by another session that created it a moment before."""


@dataclass(frozen=True)
class Workspace:
    name: str
    data_dir: Path
    own_dir: Path | None  # where this workspace writes; None for the read-only demo
    builtin_dir: Path | None = None  # read-only artifacts shipped with the project

    @property
    def read_only(self) -> bool:
        return self.own_dir is None

    def artifact(self, kind: str) -> Path | None:
        """The folder (or file) of an artifact, own first, then built-in; None if absent."""
        for base in (self.own_dir, self.builtin_dir):
            if base is not None and (base / kind).exists():
                return base / kind
        return None

    def artifact_path_for_writing(self, kind: str) -> Path:
        if self.own_dir is None:
            raise SidrecError(f"the {self.name!r} workspace is read-only: work on a copy of it (copy_of_sample)")
        return self.own_dir / kind

    def artifacts(self) -> dict[str, Path | None]:
        return {kind: self.artifact(kind) for kind in ARTIFACTS}

    def load(self) -> Dataset:
        return load_dataset(self.data_dir)


def sample_workspace() -> Workspace:
    return Workspace(SAMPLE, PROJECT_ROOT / "sample_data", None, PROJECT_ROOT / "models" / "sample")


def list_workspaces() -> list[str]:
    root = workspaces_root()
    names = sorted(p.name for p in root.iterdir() if (p / "data").is_dir()) if root.is_dir() else []
    return [SAMPLE, *[n for n in names if n != SAMPLE]]


def get_workspace(name: str) -> Workspace:
    """The workspace called `name`; any name that is not a plain workspace name (a path, '..') is refused,
    so a workspace always resolves inside the workspaces folder."""
    if name == SAMPLE:
        return sample_workspace()
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise SidrecError(f"{str(name)[:60]!r} is not a workspace name (letters, digits, '-' and '_')")
    root = workspaces_root().resolve()
    folder = (root / name).resolve()
    if folder.parent != root:  # e.g. a symbolic link out of the folder
        raise SidrecError(f"workspace {name!r} is outside the workspaces folder")
    if not (folder / "data").is_dir():
        raise SidrecError(f"no workspace named {name!r}")
    return Workspace(name, folder / "data", folder)


def check_name(name: str) -> str:
    name = name.strip()
    if not NAME_RE.match(name):
        raise SidrecError("workspace names use letters, digits, '-' and '_' (at most 41 characters)")
    if name == SAMPLE:
        raise SidrecError("'sample' is the built-in workspace; choose another name")
    return name


def create_workspace(name: str, files: dict[str, bytes], overwrite: bool = False) -> Workspace:
    """Validate uploaded files (e.g. {"items.csv": b"...", "interactions.csv": b"..."}) and keep them.

    The files are written to a temporary folder and loaded there; only a valid
    dataset is moved into place, so a bad upload changes nothing on disk.
    """
    name = check_name(name)
    target = workspaces_root() / name
    taken = WorkspaceExists(f"a workspace named {name!r} exists already; choose another name")
    if target.exists() and not overwrite:
        raise taken
    for fname in files:
        if Path(fname).name != fname or fname.startswith("."):
            raise SidrecError(f"{fname!r}: not a plain file name")
    workspaces_root().mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=workspaces_root()))
    try:
        data = staging / "data"
        data.mkdir()
        for fname, content in files.items():
            (data / fname).write_bytes(content)
        load_dataset(data)  # raises SidrecError on any problem
        if overwrite and target.exists():
            shutil.rmtree(target)
        try:  # a rename refuses a workspace another session moved into place meanwhile (never an empty folder)
            os.rename(staging, target)
        except OSError:
            if target.exists():
                raise taken from None
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return get_workspace(name)


def delete_workspace(name: str) -> None:
    """Remove a workspace, its catalogue and everything made from it. The demo cannot be deleted."""
    ws = get_workspace(check_name(name))
    shutil.rmtree(ws.own_dir)


def reset_workspace(name: str) -> list[str]:
    """Remove everything made from a workspace's catalogue (tokenizer, model, checkpoints, cache, evaluations),
    keeping the catalogue. Returns the names removed."""
    ws = get_workspace(check_name(name))
    removed = []
    for entry in sorted(ws.own_dir.iterdir()):
        if entry.name == "data":
            continue
        shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        removed.append(entry.name)
    return removed


def copy_of_sample() -> Workspace:
    """A new workspace holding the sample's catalogue and a copy of the demo's artifacts, named `sample-copy`
    (then `sample-copy-2`, ...): where fitting or training on the read-only demo goes."""
    demo = sample_workspace()
    files = {f.name: f.read_bytes() for f in demo.data_dir.iterdir() if f.is_file() and f.suffix != ".md"}
    for name in ("sample-copy", *(f"sample-copy-{i}" for i in range(2, 10_000))):
        try:  # a taken name is refused before anything is written, also one another session took a moment ago
            ws = create_workspace(name, files)
            break
        except WorkspaceExists:
            continue
    else:
        raise SidrecError("no free name for a copy of the demo: delete some sample-copy workspaces")
    for kind in ("tokenizer", "llm", "cache.sqlite", "evaluation.json", "ablation.json", "recipe.json", *COLD_START):
        source = demo.artifact(kind)
        if source is None:
            continue
        if source.is_dir():
            shutil.copytree(source, ws.own_dir / kind)
        else:
            shutil.copy2(source, ws.own_dir / kind)
    return ws


def artifact_command(ws: Workspace, kind: str) -> str:
    """The `python -m sidrec ...` line that makes one of the workspace's artifacts, with its paths (relative to the
    project root, where commands run, when inside it). It writes to the workspace's own folder, as the app does.

    A read-only workspace (the demo) has none: SidrecError.
    """
    if ws.read_only:
        raise SidrecError(f"the {ws.name!r} workspace is read-only: make a copy of it to add artifacts")

    def shown(path: Path) -> str:
        path = path.absolute()
        return shlex.quote(str(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path))

    data, out = shown(ws.data_dir), shown(ws.artifact_path_for_writing(kind))
    tok = shown(ws.artifact("tokenizer") or ws.artifact_path_for_writing("tokenizer"))
    llm = shown(ws.artifact("llm") or ws.artifact_path_for_writing("llm"))
    commands = {
        "tokenizer": f"tokenizer fit {data} --out {out}",
        "llm": f"llm train {data} --tokenizer {tok} --out {out}",
        "cache.sqlite": f"cache build {llm} {data} --out {out}",
        "evaluation.json": f"evaluate {llm} {data} --out {out}",
        "ablation.json": f"bench ablation {data} --tokenizer {tok} --out {out}",
        "cold_start_reference.json": f"evaluate {llm} {data} --cold-items 0.05 --cold-trained-on-all --out {out}",
    }
    if kind == "cold_start.json":  # its own tokenizer and model, trained without the withheld items
        run = shown(ws.artifact_path_for_writing("cold_start"))
        steps = [
            f"tokenizer fit {data} --out {run}/tokenizer --cold-items 0.05",
            f"llm train {data} --tokenizer {run}/tokenizer --out {run}/llm --cold-items 0.05",
            f"evaluate {run}/llm {data} --cold-items 0.05 --out {out}",
        ]
        return " && \\\n".join(f"python -m sidrec {step}" for step in steps)
    if kind not in commands:
        raise SidrecError(f"no command makes {kind!r}")
    return f"python -m sidrec {commands[kind]}"
