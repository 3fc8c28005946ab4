"""Streamlit glue shared by the pages: navigation, the current workspace, cached loaders, progress, what is missing.

Only the webapp package imports streamlit; the library never does. The workspace lives in the URL (`?ws=name`),
so a reload keeps it, and every link the app draws carries it (`page_link`): Streamlit's own navigation would
drop the query string, so it is hidden and the sidebar draws the app's pages itself.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from sidrec.data import Dataset, format_item_text, summarize
from sidrec.errors import SidrecError
from sidrec.generate import Recommender
from sidrec.lineage import Stale, stale_artifacts
from sidrec.model import tokenizer_dir_for
from sidrec.tokenizer import SIDTokenizer, load_embeddings, load_keywords
from webapp.jobs import JobBoard
from webapp.workspace import SAMPLE, Workspace, artifact_command, copy_of_sample, get_workspace, list_workspaces


@dataclass(frozen=True)
class PageInfo:
    path: str
    title: str
    icon: str


PAGES = [
    PageInfo("webapp/pages/home.py", "Home", "🏠"),
    PageInfo("webapp/pages/catalogue.py", "Catalogue", "📦"),
    PageInfo("webapp/pages/tokenizer.py", "Tokenizer", "🧩"),
    PageInfo("webapp/pages/align.py", "Align", "🎯"),
    PageInfo("webapp/pages/codebook_explorer.py", "Codebook Explorer", "🗺️"),
    PageInfo("webapp/pages/recommend.py", "Recommend", "🔮"),
    PageInfo("webapp/pages/cache_vs_live.py", "Cache vs Live", "⚡"),
    PageInfo("webapp/pages/evaluate.py", "Evaluate", "📊"),
    PageInfo("webapp/pages/walkthrough.py", "Walkthrough", "🧭"),
]


def navigation():
    """The app's pages for `st.navigation`; the first is the default (URL path '/')."""
    return [st.Page(p.path, title=p.title, icon=p.icon, default=i == 0) for i, p in enumerate(PAGES)]


def page_link(path: str, label: str | None = None, icon: str | None = None) -> None:
    """A link to one of the app's pages that keeps the current workspace."""
    info = next((p for p in PAGES if p.path == path), None)
    if info is None:
        raise SidrecError(f"{path!r} is not a page of the app")
    st.page_link(path, label=label or info.title, icon=icon or info.icon, query_params={"ws": current_workspace().name})


def flash(message: str) -> None:
    """A success message shown once on the next run (a message written before `st.rerun` would be lost);
    several in one run are all shown, in order."""
    st.session_state.setdefault("_flash", []).append(message)


def _mtime(path: Path | None) -> float:
    if path is None or not path.exists():
        return 0.0
    return max((p.stat().st_mtime for p in [path, *path.rglob("*")]), default=0.0)


def current_workspace() -> Workspace:
    """The workspace named in the URL (?ws=...), so a reload keeps it; the sample otherwise."""
    name = st.query_params.get("ws", SAMPLE)
    try:
        return get_workspace(name)
    except SidrecError as e:
        st.toast(f"Opened the sample instead: {e}")
        st.query_params["ws"] = SAMPLE
        return get_workspace(SAMPLE)


def select_workspace(name: str) -> None:
    st.query_params["ws"] = name


def sidebar() -> Workspace:
    """The sidebar: the workspace selector, the app's pages (each link keeps the workspace) and its artifacts."""
    ws = current_workspace()
    for message in st.session_state.pop("_flash", []):
        st.success(message)
    with st.sidebar:
        names = list_workspaces()
        choice = st.selectbox("Workspace", names, index=names.index(ws.name) if ws.name in names else 0)
        if choice != ws.name:
            select_workspace(choice)
            st.rerun()
        for info in PAGES:
            st.page_link(info.path, label=info.title, icon=info.icon, query_params={"ws": ws.name})
        st.divider()
        st.caption("Artifacts")
        stale = {s.artifact: s.reason for s in stale_in(ws)}
        for kind, path in ws.artifacts().items():
            origin = "" if path is None else (" (demo)" if ws.builtin_dir and ws.builtin_dir in path.parents else "")
            st.markdown(f"{'⚠️' if kind in stale else '✅' if path else '⬜'} `{kind}`{origin}")
        for kind, reason in stale.items():
            fix = REBUILD.get(kind)
            st.warning(f"`{kind}` is stale: {reason}." + (f" Rebuild it on the {fix[1]} page." if fix else ""))
            if fix:
                page_link(fix[0], label=f"Go to {fix[1]}")
    return ws


# which page rebuilds a stale artifact
REBUILD = {
    "llm": ("webapp/pages/align.py", "Align"),
    "cache.sqlite": ("webapp/pages/cache_vs_live.py", "Cache vs Live"),
    "evaluation.json": ("webapp/pages/evaluate.py", "Evaluate"),
}


@st.cache_data(show_spinner=False, max_entries=16)
def _stale(paths: tuple, stamps: tuple) -> list[Stale]:
    return stale_artifacts(*[None if p is None else Path(p) for p in paths])


def stale_in(ws: Workspace) -> list[Stale]:
    """The workspace's artifacts that were made from another tokenizer or model than its current ones."""
    paths = tuple(ws.artifact(k) for k in ("tokenizer", "llm", "cache.sqlite", "evaluation.json"))
    return _stale(tuple(None if p is None else str(p) for p in paths), tuple(_mtime(p) for p in paths))


@st.cache_resource(show_spinner="Loading the catalogue…", max_entries=4)
def _load_dataset(data_dir: str, stamp: float) -> Dataset:
    from sidrec.data import load_dataset

    return load_dataset(data_dir)


def dataset(ws: Workspace) -> Dataset:
    return _load_dataset(str(ws.data_dir), _mtime(ws.data_dir))


@st.cache_data(show_spinner=False, max_entries=8)
def _summary(data_dir: str, stamp: float) -> dict:
    return summarize(_load_dataset(data_dir, stamp))


def dataset_summary(ws: Workspace) -> dict:
    return _summary(str(ws.data_dir), _mtime(ws.data_dir))


@st.cache_resource(show_spinner="Loading the tokenizer…", max_entries=4)
def _load_tokenizer(folder: str, stamp: float) -> tuple[SIDTokenizer, dict, object]:
    return SIDTokenizer.load(folder), load_keywords(folder), load_embeddings(folder)


def tokenizer(ws: Workspace) -> tuple[SIDTokenizer, dict, object] | None:
    """(tokenizer, keywords, embeddings) of the workspace, or None if it has none yet."""
    folder = ws.artifact("tokenizer")
    if folder is None:
        return None
    try:
        return _load_tokenizer(str(folder), _mtime(folder))
    except SidrecError as e:  # damaged, or of a format this version cannot read: every page that needs it stops
        st.error(f"The workspace's tokenizer cannot be read: {e}. Fit one again on the Tokenizer page.")
        st.stop()


@st.cache_resource(show_spinner=False)
def job_board() -> JobBoard:
    """Process-wide: a reload or a second tab finds the running training job of its workspace."""
    return JobBoard()


def refuse_while_training(name: str, what: str) -> None:
    """SidrecError while a training job runs in workspace `name`: `what` would take away or change what it
    trains on, or what it is about to write (checked when the button is clicked, not only when it is drawn)."""
    job = job_board().get(name)
    if job is not None and job.running:
        raise SidrecError(f"a training job is running in workspace {name!r}: stop it on the Align page to {what}")


def new_item_form(key: str, button: str, max_description_chars: int) -> tuple[str, str] | None:
    """A form for a new item's title, description, brand and categories; when submitted, (its stripped title,
    the text the encoder reads). None until then."""
    with st.form(key):
        title = st.text_input("Title", placeholder="Ultralight 2-person backpacking tent")
        description = st.text_area("Description", placeholder="Waterproof, 1.2 kg, fits in a backpack.")
        c1, c2 = st.columns(2)
        brand = c1.text_input("Brand")
        categories = c2.text_input("Categories", placeholder="Outdoor > Camping > Tents")
        if not st.form_submit_button(button):
            return None
    return title.strip(), format_item_text(title, brand, categories, description, max_description_chars)


def progress_bar(label: str):
    """A (fraction, message) callback drawing a Streamlit progress bar."""
    bar = st.progress(0.0, text=label)

    def update(frac: float, msg: str) -> None:
        bar.progress(min(max(frac, 0.0), 1.0), text=msg)

    return update


def need_tokenizer(ws: Workspace):
    """The workspace's tokenizer, or an info box pointing to the Tokenizer page and a stop."""
    tok = tokenizer(ws)
    if tok is None:
        st.info("This workspace has no tokenizer yet: fit one on the Tokenizer page.")
        page_link("webapp/pages/tokenizer.py", label="Go to the Tokenizer page")
        st.stop()
    return tok


def missing(ws: Workspace, kind: str, message: str) -> None:
    """An info box: `message`, then the command that makes the artifact for this workspace."""
    if ws.read_only:
        st.info(f"{message}\n\nThe demo is read-only: what you make here goes to a copy of it.")
        return
    st.info(f"{message}\n\nTo make it from the command line:\n```bash\n{artifact_command(ws, kind)}\n```")


def writable(ws: Workspace) -> Workspace:
    """The workspace to write to: `ws`, or for the read-only demo a new copy of it (catalogue and artifacts),
    selected from now on, with a message that says so."""
    if not ws.read_only:
        return ws
    copy = copy_of_sample()
    select_workspace(copy.name)
    flash(
        f"The demo is read-only, so this was done in a new workspace, **{copy.name}**: a copy of the demo's "
        "catalogue and artifacts. The demo is unchanged."
    )
    return copy


@st.cache_resource(show_spinner="Loading the aligned model…", max_entries=2)
def _load_recommender(model_dir: str, tokenizer_dir: str, stamp: tuple[float, float]) -> Recommender:
    rec = Recommender.from_dirs(model_dir, tokenizer_dir)
    rec.warm()  # the first user's figure is then a search, not the model's first run
    return rec


def _versions(model_dir: Path) -> tuple[float, float]:
    """The versions (manifest mtimes) of a model and of the SID tokenizer it reads: a refit tokenizer under the
    same model is another pair, and the model must be loaded (and refused) again."""
    try:
        tokenizer_stamp = _mtime(tokenizer_dir_for(model_dir) / "manifest.json")
    except SidrecError:  # no tokenizer: loading the model says so
        tokenizer_stamp = 0.0
    return _mtime(model_dir / "manifest.json"), tokenizer_stamp


def model_key(ws: Workspace) -> str | None:
    """Names the workspace's aligned model and its version (with its tokenizer's); None if it has none."""
    model_dir = ws.artifact("llm")
    return None if model_dir is None else f"{model_dir}:{':'.join(map(str, _versions(model_dir)))}"


def recommender(ws: Workspace) -> Recommender | None:
    """The workspace's aligned model with the SID tokenizer it was trained with, loaded once and shared by every
    session and page; None if the workspace has none. Raises SidrecError if it cannot be loaded."""
    model_dir = ws.artifact("llm")
    if model_dir is None:
        return None
    return _load_recommender(str(model_dir), str(tokenizer_dir_for(model_dir)), _versions(model_dir))


@st.cache_data(show_spinner=False, max_entries=4)
def _keywords(folder: str, stamp: float) -> dict:
    return load_keywords(folder)


def model_keywords(ws: Workspace) -> dict:
    """The keywords of the SID tokenizer the workspace's model reads ({} without a model or keywords)."""
    model_dir = ws.artifact("llm")
    if model_dir is None:
        return {}
    folder = tokenizer_dir_for(model_dir)
    return _keywords(str(folder), _mtime(folder / "keywords.json"))


def need_recommender(ws: Workspace) -> Recommender:
    """The workspace's recommender, or an info box pointing to the Align page (or an error) and a stop."""
    try:
        rec = recommender(ws)
    except SidrecError as e:
        st.error(f"The workspace's model cannot be loaded: {e}")
        st.stop()
    if rec is None:
        missing(ws, "llm", "This workspace has no aligned model yet: train one on the Align page.")
        page_link("webapp/pages/align.py", label="Go to the Align page")
        st.stop()
    return rec


@st.cache_resource(show_spinner=False)
def _search_lock() -> threading.Lock:
    return threading.Lock()


@contextlib.contextmanager
def one_search_at_a_time():
    """Live searches from every browser session run one after another: two at once would share the machine's
    cores, each would be slower, and both latencies would be wrong. The wait is not part of the figure shown."""
    lock = _search_lock()
    if not lock.acquire(blocking=False):
        with st.spinner("Waiting for another session's search to finish…"):
            lock.acquire()
    try:
        yield
    finally:
        lock.release()


def session_memo(name: str, key, compute, max_entries: int = 32):
    """`compute()` once per `key` in this browser session: a result shown with its latency is always one this
    session ran, never another session's (Streamlit's shared caches would show the first visitor's timing)."""
    store = st.session_state.setdefault(f"_memo_{name}", {})
    if key not in store:
        if len(store) >= max_entries:
            store.pop(next(iter(store)))
        store[key] = compute()
    return store[key]


def lasting_choice(widget, label: str, options: list, key: str, start=None, **kwargs):
    """`widget` (a selectbox or radio, keyed) whose choice outlives a visit to another page.

    Streamlit forgets the value of a widget that a run did not draw; the choice is also kept under a key of
    its own and becomes the widget's starting index when the page draws it again (while it is still an option).
    `start`: the choice to draw it with instead, where the page keeps its own (per workspace, say).
    """
    kept = start if start is not None else st.session_state.get(f"_kept_{key}")
    index = options.index(kept) if kept in options else 0
    value = widget(label, options, index=index, key=key, **kwargs)
    st.session_state[f"_kept_{key}"] = value
    return value


BENCH_DECODE = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "bench_decode.json"


def decode_benchmark() -> str | None:
    """One line with the recorded `bench decode` figure, for context beside a live latency; None if absent."""
    try:
        b = json.loads(BENCH_DECODE.read_text())
        return (
            f"For context, `python -m sidrec bench decode` measured {b['ms_per_user_unbatched']:.0f} ms per user "
            f"searched alone ({b['ms_per_user']:.0f} ms in batches), {b['beams']} beams, on {b['machine']} "
            f"({b['date']})."
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


@st.cache_data(show_spinner=False, max_entries=8)
def _read_json(path: str, stamp: float) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SidrecError(f"{path}: unreadable ({e})") from None


def artifact_json(ws: Workspace, kind: str) -> tuple[dict | None, str]:
    """(content, where it comes from) of a JSON artifact such as evaluation.json; (None, "") if the workspace has
    none, or it cannot be read (an error box says why)."""
    path = ws.artifact(kind)
    if path is None:
        return None, ""
    origin = "the demo models" if ws.builtin_dir and ws.builtin_dir in path.parents else "this workspace"
    try:
        content = _read_json(str(path), _mtime(path))
    except SidrecError as e:
        st.error(str(e))
        return None, ""
    if not isinstance(content, dict):
        st.error(f"{path}: not a JSON object")
        return None, ""
    return content, origin
