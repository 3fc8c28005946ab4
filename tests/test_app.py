"""Every page runs without an exception on the sample workspace (Streamlit AppTest)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = [
    "webapp/pages/home.py",
    "webapp/pages/catalogue.py",
    "webapp/pages/tokenizer.py",
    "webapp/pages/codebook_explorer.py",
    "webapp/pages/align.py",
    "webapp/pages/recommend.py",
    "webapp/pages/cache_vs_live.py",
    "webapp/pages/evaluate.py",
    "webapp/pages/walkthrough.py",
]


def run_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(page)
    at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_the_sample(page):
    at = run_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "every page has a title"


def test_unknown_workspace_in_url_falls_back_to_sample():
    at = run_page("webapp/pages/catalogue.py", ws="does-not-exist")
    assert not at.exception
    assert at.query_params["ws"] in ("sample", ["sample"])


def test_tokenizer_inspector_round_trip():
    at = run_page("webapp/pages/tokenizer.py")
    item = next(s for s in at.selectbox if s.label == "Item").value
    sid = next(c.value for c in at.code)
    next(t for t in at.text_input if t.label == "SID").set_value(sid).run()
    assert not at.exception
    assert any(f"[{item}]" in s.value for s in at.success)


def test_the_demo_is_copied_not_changed_and_a_workspace_can_be_reset_and_deleted(tmp_path, monkeypatch):
    from webapp.workspace import create_workspace, list_workspaces

    monkeypatch.setenv("SIDREC_WORKSPACES", str(tmp_path))
    demo_files = sorted(p.stat().st_mtime_ns for p in (Path(APP).parent / "models" / "sample").rglob("*"))
    at = run_page("webapp/pages/catalogue.py")
    next(b for b in at.button if b.label == "Make a copy of the demo").click().run()
    assert not at.exception
    assert at.query_params["ws"] in ("sample-copy", ["sample-copy"])
    assert "sample-copy" in list_workspaces() and (tmp_path / "sample-copy" / "llm" / "manifest.json").exists()
    assert any("sample-copy" in s.value for s in at.success), "the copy is confirmed"

    ws = create_workspace("shop", {"items.csv": b"item_id,title\ni1,Tent\ni2,Stove\n"})
    (ws.own_dir / "cache.sqlite").write_bytes(b"x")
    at = run_page("webapp/pages/catalogue.py", ws="shop")
    reset = next(b for b in at.button if b.label.startswith("Reset"))
    assert reset.disabled, "nothing is removed without the confirmation box"
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label.startswith("Reset")).click().run()
    assert not at.exception and sorted(p.name for p in ws.own_dir.iterdir()) == ["data"]
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label.startswith("Delete")).click().run()
    assert not at.exception and not ws.own_dir.exists()
    assert at.query_params["ws"] in ("sample", ["sample"])
    assert sorted(p.stat().st_mtime_ns for p in (Path(APP).parent / "models" / "sample").rglob("*")) == demo_files


def test_a_running_training_job_keeps_its_workspace_and_its_tokenizer(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import webapp.ui
    from webapp.jobs import JobBoard
    from webapp.workspace import create_workspace

    monkeypatch.setenv("SIDREC_WORKSPACES", str(tmp_path))
    board = JobBoard()
    monkeypatch.setattr(webapp.ui, "job_board", lambda: board)
    ws = create_workspace("shop", {"items.csv": b"item_id,title\ni1,Tent\ni2,Stove\n"})
    (ws.own_dir / "llm-checkpoints").mkdir()  # what a running job is writing
    at = run_page("webapp/pages/catalogue.py", ws="shop")
    at.checkbox[0].check().run()  # ticked before the job started, in another tab
    board._jobs["shop"] = SimpleNamespace(running=True)
    at.run()
    assert all(b.disabled for b in at.button if b.label.startswith(("Reset", "Delete")))
    assert (ws.own_dir / "llm-checkpoints").exists()

    at = run_page("webapp/pages/tokenizer.py", ws="shop")
    next(b for b in at.button if b.label == "Fit tokenizer").click().run()
    assert not at.exception
    assert any("stop it on the Align page to fit another tokenizer" in e.value for e in at.error)
    assert not (ws.own_dir / "tokenizer").exists()


def test_the_recommend_page_keeps_its_user_and_history_across_a_visit_to_another_page():
    from sidrec.data import load_dataset

    users = list(load_dataset(Path(APP).parent / "sample_data").sequences)
    at = run_page("webapp/pages/recommend.py")
    next(s for s in at.selectbox if s.label == "User").set_value(users[1]).run()
    next(t for t in at.text_input if t.label == "Or type a history").set_value("I0217, I0343")
    next(b for b in at.button if b.label == "Use as the history").click().run()
    assert not at.exception

    def shown() -> tuple:
        history = next(d.value for d in at.dataframe if "item_id" in d.value.columns)
        return next(s for s in at.selectbox if s.label == "User").value, history["item_id"].tolist()

    assert shown() == (users[1], ["I0217", "I0343"])
    at.switch_page("webapp/pages/catalogue.py").run()
    at.switch_page("webapp/pages/recommend.py").run()
    assert not at.exception and shown() == (users[1], ["I0217", "I0343"])


@pytest.mark.parametrize("page", ["tokenizer", "codebook_explorer", "align", "walkthrough"])
def test_a_damaged_tokenizer_is_one_message_on_every_page_that_reads_it(tmp_path, monkeypatch, page):
    import shutil

    from webapp.workspace import create_workspace, sample_workspace

    monkeypatch.setenv("SIDREC_WORKSPACES", str(tmp_path))
    sample = Path(APP).parent / "sample_data"
    ws = create_workspace("shop", {n: (sample / n).read_bytes() for n in ("items.csv", "interactions.csv")})
    folder = ws.artifact_path_for_writing("tokenizer")
    shutil.copytree(sample_workspace().artifact("tokenizer"), folder)
    (folder / "keywords.json").write_text('{"<a_0>": ')  # cut off mid-write by another program
    at = run_page(f"webapp/pages/{page}.py", ws="shop")
    assert not at.exception, [e.value for e in at.exception]
    assert any("tokenizer cannot be read" in e.value and "damaged tokenizer artifact" in e.value for e in at.error)


def test_codebook_explorer_drills_down_one_level_at_a_time():
    at = run_page("webapp/pages/codebook_explorer.py")
    assert not at.exception, [e.value for e in at.exception]
    level_a = at.selectbox[0]
    assert level_a.label.startswith("Code at level a") and level_a.value is None
    assert any(m.value.startswith("**") and "level a" in m.value for m in at.markdown)
    first = level_a.options[1]  # the code with most items, e.g. "<a_12> · 16 items · ..."
    level_a.select_index(1).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = next(m.value for m in at.markdown if m.value.startswith("**") and "codes at level" in m.value)
    assert "level b" in shown and first.split(" · ")[0] in shown
    children = at.dataframe[0].value
    assert children["items"].sum() == int(first.split(" · ")[1].split()[0]), "the children hold the code's items"
    assert at.selectbox[1].label.startswith("Code at level b")


def test_every_page_names_a_stale_artifact_and_where_to_rebuild_it(tmp_path, monkeypatch):
    from sidrec.cache import TopKCache
    from webapp.workspace import copy_of_sample

    monkeypatch.setenv("SIDREC_WORKSPACES", str(tmp_path))
    ws = copy_of_sample()
    (ws.own_dir / "cache.sqlite").unlink()
    TopKCache(ws.own_dir / "cache.sqlite", "another-model", k=10).close()
    at = run_page("webapp/pages/home.py", ws=ws.name)
    assert not at.exception
    warnings = [w.value for w in at.sidebar.warning]
    assert any("`cache.sqlite` is stale: built by another model (another-model" in w for w in warnings), warnings
    assert any("Cache vs Live" in w for w in warnings)


def test_tokenizer_page_measures_placement_agreement():
    at = run_page("webapp/pages/tokenizer.py")
    next(b for b in at.button if b.label == "Measure placement agreement").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (chart,) = [c for c in at.get("plotly_chart") if "re-placed from their text" in c.proto.spec]
    assert "exact embedding (ceiling)" in chart.proto.spec


def test_tokenizer_page_places_a_new_item_from_its_form():
    at = run_page("webapp/pages/tokenizer.py")
    encode = next(b for b in at.button if b.label == "Encode")
    encode.click().run()
    assert any(e.value == "A title is needed." for e in at.error)
    next(t for t in at.text_input if t.label == "Title").set_value("Ultralight 2-person backpacking tent")
    next(b for b in at.button if b.label == "Encode").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(c.value.startswith("<a_") and c.value.count("<") == 4 for c in at.code), "a 4-token SID is shown"


def _shop_files(n_items=40, n_users=30) -> dict[str, bytes]:
    """A small catalogue with purchases, enough for a fused tokenizer."""
    kinds = ["tent", "stove", "lamp", "boot", "rope"]
    items = "item_id,title\n" + "".join(f"i{i},{kinds[i % 5]} model {i}\n" for i in range(n_items))
    inter = "user_id,item_id,timestamp\n" + "".join(
        f"u{u},i{(u + 5 * t) % n_items},{t}\n" for u in range(n_users) for t in range(4)
    )
    return {"items.csv": items.encode(), "interactions.csv": inter.encode()}


def test_tokenizer_page_fits_a_first_level_from_the_text_and_refuses_it_without_text(tmp_path, monkeypatch):
    from sidrec.tokenizer import SIDTokenizer
    from webapp.workspace import create_workspace

    monkeypatch.setenv("SIDREC_WORKSPACES", str(tmp_path))
    ws = create_workspace("shop", _shop_files())

    def fit(embedding: str) -> AppTest:
        at = run_page("webapp/pages/tokenizer.py", ws="shop")
        next(s for s in at.selectbox if s.label == "Embedding").set_value(embedding)
        next(s for s in at.select_slider if s.label == "Codebook size").set_value(16)
        next(c for c in at.checkbox if c.label.startswith("First code from the text")).check()
        next(b for b in at.button if b.label == "Fit tokenizer").click().run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    at = fit("behavior")
    assert any("no text part" in e.value for e in at.error), "refused in one line"
    assert not (ws.own_dir / "tokenizer").exists(), "nothing was saved"
    fit("fused")
    tok = SIDTokenizer.load(ws.own_dir / "tokenizer")
    assert tok.config.first_level == "text" and tok.config.quantizer.lead_dims == 384  # MiniLM's text part
