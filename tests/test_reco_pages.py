"""The Recommend and Cache vs Live pages (Streamlit AppTest): on the sample workspace with or without its aligned
model, and end to end on a small workspace of our own with a tiny random Llama (recommend, cold start, build a
few users' cache, compare, a new interaction makes the cached list stale)."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from webapp.workspace import sample_workspace

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
RECOMMEND, CACHE = "webapp/pages/recommend.py", "webapp/pages/cache_vs_live.py"


def open_page(page: str, ws_name: str | None = None) -> AppTest:
    """The page through the app's navigation; run on its own if the app does not list it."""
    wired = page in (ROOT / "webapp" / "ui.py").read_text()
    at = AppTest.from_file(str(APP if wired else ROOT / page), default_timeout=300)
    if ws_name:
        at.query_params["ws"] = ws_name
    at.run()
    if wired:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def click(at: AppTest, label: str) -> AppTest:
    button(at, label).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ---------------------------------------------------------------- the sample workspace


@pytest.mark.parametrize("page", [RECOMMEND, CACHE])
def test_page_runs_on_the_sample(page):
    at = open_page(page)
    assert at.title[0].value in ("🔮 Recommend", "⚡ Cache vs Live")
    if sample_workspace().artifact("llm") is None:
        assert any("no aligned model yet" in i.value for i in at.info)
    elif page == RECOMMEND:
        first = next(iter(sample_workspace().load().sequences))
        assert at.selectbox(key="reco_user").value == first
        top = at.dataframe[1].value
        assert list(top.columns) == ["rank", "title", "SID", "score", "item_id", "why"] and len(top) == 10
        assert all(w.startswith("Shares ") for w in top["why"])


@pytest.mark.skipif(sample_workspace().artifact("llm") is None, reason="the sample has no aligned model yet")
def test_a_cache_built_on_the_demo_goes_to_a_copy_of_it(tmp_path, monkeypatch):
    import sidrec.cache

    monkeypatch.setenv("SIDREC_WORKSPACES", str(tmp_path))
    real, seen = sidrec.cache.build_cache, []

    def few(rec, histories, path, *args, **kw):  # three users, not two thousand
        seen.append(Path(path))
        return real(rec, dict(list(histories.items())[:3]), path, *args, **kw)

    monkeypatch.setattr(sidrec.cache, "build_cache", few)
    demo_cache = sample_workspace().artifact("cache.sqlite")
    before = demo_cache.stat().st_mtime_ns
    at = click(open_page(CACHE), "Quick")
    assert seen == [tmp_path / "sample-copy" / "cache.sqlite"], "the demo is read-only: the build goes to a copy"
    assert demo_cache.stat().st_mtime_ns == before
    assert at.query_params["ws"] in ("sample-copy", ["sample-copy"])
    assert any("read-only" in s.value and "sample-copy" in s.value for s in at.success), "and the page says so"


# ---------------------------------------------------------------- a small workspace with a tiny model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A workspace of 300 items and 150 users, its tokenizer and a 2-step model on a tiny random Llama."""
    from sidrec.cli import main
    from sidrec.sample import SampleConfig, write_sample
    from tests.tiny import tiny_base
    from webapp.workspace import create_workspace

    root = tmp_path_factory.mktemp("reco")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIDREC_WORKSPACES", str(root / "workspaces"))
        write_sample(root / "data", SampleConfig(n_items=300, n_users=150))
        ws = create_workspace("tiny", {n: (root / "data" / n).read_bytes() for n in ("items.csv", "interactions.csv")})
        tok, llm = ws.artifact_path_for_writing("tokenizer"), ws.artifact_path_for_writing("llm")
        assert main(["tokenizer", "fit", str(ws.data_dir), "--out", str(tok), "--codebook-size", "16", "--quiet"]) == 0
        args = ["llm", "train", str(ws.data_dir), "--tokenizer", str(tok), "--out", str(llm),
                "--base", tiny_base(root / "base"), "--batch-size", "4", "--max-steps", "2", "--json"]  # fmt: skip
        assert main(args) == 0
        yield ws


def test_recommend_top_k_beam_tree_and_unconstrained_rates(tiny):
    at = open_page(RECOMMEND, tiny.name)
    user = at.selectbox(key="reco_user").value
    history, top = at.dataframe[0].value, at.dataframe[1].value
    assert history.item_id.tolist() == tiny.load().sequences[user][-20:]
    assert len(top) == 10 and top["rank"].tolist() == list(range(1, 11))
    assert top.score.is_monotonic_decreasing and top.item_id.is_unique
    assert [m.label for m in at.metric][:2] == ["Latency", "Prompt encoding"]
    tree = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert "top-K item" in [t.get("name") for t in tree["data"]]

    at.slider[0].set_value(5).run()
    assert len(at.dataframe[1].value) == 5
    at.toggle[0].set_value(False).run()
    assert not at.exception, [e.value for e in at.exception]
    assert {"Invalid SIDs", "Duplicates"} <= {m.label for m in at.metric}
    assert next(m for m in at.metric if m.label == "Duplicates").value == "0%", "distinct beams never repeat an item"

    at.selectbox(key="reco_user").select_index(1).run()
    other = at.selectbox(key="reco_user").value
    assert other != user
    assert at.dataframe[0].value.item_id.tolist() == tiny.load().sequences[other][-20:]


def test_cold_start_item_gets_a_sid_and_joins_the_history(tiny):
    at = open_page(RECOMMEND, tiny.name)
    click(at, "Add the item")
    assert any("needs a title" in e.value for e in at.error)

    next(t for t in at.text_input if t.label == "Title").set_value("Ultralight quartz tent lamp")
    click(at, "Add the item")
    assert not at.error, [e.value for e in at.error]
    assert any("has SID `<a_" in m.value for m in at.markdown)
    assert any(c.value.startswith("Placement confidence: ") and "of its 10 nearest known items" in c.value
               for c in at.caption)  # fmt: skip
    assert any(c.value.startswith("It joins the cell of ") for c in at.caption), "placed with known items"
    near = at.dataframe[0].value
    assert list(near.columns) == ["title", "SID", "text similarity"] and len(near) == 5
    assert near["text similarity"].is_monotonic_decreasing

    next(t for t in at.text_input if t.label == "Search titles").set_value("quartz tent").run()
    at.multiselect[0].set_value(["new-1"]).run()
    click(at, "Add to history")
    history = at.dataframe[1].value  # after the new item's nearest known items
    assert history.item_id.tolist()[-1] == "new-1" and history.SID.tolist()[-1].startswith("<a_")
    assert len(at.dataframe[2].value) == 10


def test_a_typed_history(tiny):
    at = open_page(RECOMMEND, tiny.name)
    typed = next(t for t in at.text_input if t.label == "Or type a history")
    typed.set_value("I0003, nope, I0001")
    click(at, "Use as the history")
    assert [e.value for e in at.error] == ["Not an item of this tokenizer: nope"]
    next(t for t in at.text_input if t.label == "Or type a history").set_value(" I0003,I0001 ")
    click(at, "Use as the history")
    assert not at.error and at.dataframe[0].value.item_id.tolist() == ["I0003", "I0001"]
    assert len(at.dataframe[1].value) == 10


def test_cache_build_compare_and_a_stale_list(tiny):
    from sidrec.cache import TopKCache

    TopKCache(tiny.artifact_path_for_writing("cache.sqlite"), "another-model").close()
    at = open_page(CACHE, tiny.name)
    assert "built by another model" in at.error[0].value
    click(at, "Delete the workspace's cache file")
    assert not at.error and any("No cache yet" in i.value for i in at.info)
    command = f"python -m sidrec cache build {tiny.artifact('llm')} {tiny.data_dir} --out {tiny.own_dir}/cache.sqlite"
    assert any(command in i.value for i in at.info), "the command that builds every user's list"
    at.number_input[0].set_value(6).run()
    click(at, "Build the cache")
    assert tiny.artifact("cache.sqlite") == tiny.artifact_path_for_writing("cache.sqlite")
    assert "6 of 150 users cached" in at.expander[0].label

    users = at.multiselect[0].value
    assert len(users) == 3
    overlaps = [m.value for m in at.metric if m.label == "Overlap@10"]
    assert len(overlaps) == 3 + 1 and not at.warning, "three users side by side, one below; none stale"

    click(at, "Compare the sample")
    assert len(at.get("plotly_chart")) == 2

    at.selectbox(key="clv_user").set_value(users[0]).run()
    click(at, "Add to history")
    assert [w.value for w in at.warning] == ["stale: history changed since the cache was built"] * 2
    click(at, "Forget the added items")
    assert not at.warning
