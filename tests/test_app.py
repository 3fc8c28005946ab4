"""Every page runs without an exception on the sample workspace (Streamlit AppTest)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = [
    "pages/home.py",
    "pages/catalogue.py",
    "pages/tokenizer.py",
    "pages/codebook_explorer.py",
    "pages/align.py",
    "pages/recommend.py",
    "pages/cache_vs_live.py",
    "pages/evaluate.py",
    "pages/walkthrough.py",
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
    at = run_page("pages/catalogue.py", ws="does-not-exist")
    assert not at.exception
    assert at.query_params["ws"] in ("sample", ["sample"])


def test_tokenizer_inspector_round_trip():
    at = run_page("pages/tokenizer.py")
    item = at.selectbox[-1].value
    sid = next(c.value for c in at.code)
    at.text_input[0].set_value(sid).run()
    assert not at.exception
    assert any(f"[{item}]" in s.value for s in at.success)
