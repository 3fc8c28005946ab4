"""Real-browser smoke test: every page of the Streamlit app renders in headless Chromium without an exception.

One `streamlit run` server and one Chromium are shared by all pages. Screenshots go to
tests/artifacts/screenshots/<page>.png and the server's output to tests/artifacts/streamlit.log.
Uses Debian's /usr/bin/chromium (never `playwright install`); skipped when it is absent.
SIDREC_APP points the test at another app script (default app.py), handy for checking the harness itself.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
SERVER_LOG = ARTIFACTS / "streamlit.log"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
HEALTH_TIMEOUT_S = 90
PAGE_TIMEOUT_S = 120
SETTLE_S = 1.5

# URL paths of the app's pages ("" is the home page). Add new pages here.
PAGES = [
    "",
    "catalogue",
    "tokenizer",
    "codebook_explorer",
    "align",
    "recommend",
    "cache_vs_live",
    "evaluate",
    "walkthrough",
]

pytestmark = [
    pytest.mark.browser,
    # Skipped on a developer machine without chromium; in CI (CI set) a missing browser is a failure.
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
        reason=f"{CHROMIUM} not found (apt-get install chromium)",
    ),
]

# Script-run states of the stApp element's data-test-script-state attribute (Streamlit 1.67) that mean "finished".
DONE_STATES = {"notRunning", "compilationError"}
STATE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const w = document.querySelector('[data-testid="stStatusWidget"]');
  return {
    script: app ? app.getAttribute('data-test-script-state') : null,
    connection: app ? app.getAttribute('data-test-connection-state') : null,
    running: !!(w && w.getClientRects().length > 0),
  };
}"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(n=4000):
    try:
        return SERVER_LOG.read_text(errors="replace")[-n:]
    except OSError:
        return ""


@contextlib.contextmanager
def streamlit_server(log_name: str = "streamlit.log"):
    """A `streamlit run` of the app on a free port, healthy; yields its base URL and stops it afterwards."""
    app = os.environ.get("SIDREC_APP", "app.py")
    if not (ROOT / app).exists():
        pytest.fail(f"app script {app!r} not found under {ROOT}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    env.setdefault("SIDREC_CACHE", str(ARTIFACTS / "cache"))
    env.setdefault("SIDREC_WORKSPACES", str(ARTIFACTS / "workspaces"))
    cmd = [
        sys.executable, "-m", "streamlit", "run", app,
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    log_path = ARTIFACTS / log_name
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{_log_tail()}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {HEALTH_TIMEOUT_S}s:\n{_log_tail()}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def full_page_screenshot(page, path, max_height=20000):
    """Screenshot the whole app. Streamlit scrolls inside <main data-testid="stMain">, not the document, so
    Playwright's full_page alone captures one viewport: grow the viewport by the hidden overflow first."""
    extra = page.evaluate(
        """() => Math.max(0, ...[...document.querySelectorAll(
                   '[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
                 .map(e => e.scrollHeight - e.clientHeight))"""
    )
    height = min(max_height, VIEWPORT["height"] + int(extra))
    if height > VIEWPORT["height"]:
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        page.wait_for_timeout(300)
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(VIEWPORT)


def wait_for_script_done(page, timeout_s=PAGE_TIMEOUT_S, settle_s=SETTLE_S):
    """Block until the app's script run has finished and stayed finished (no running widget) for settle_s."""
    deadline = time.monotonic() + timeout_s
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout_s * 1000)
    try:
        page.wait_for_load_state("networkidle", timeout=max(1.0, deadline - time.monotonic()) * 1000)
    except Exception:  # noqa: BLE001 - the websocket may keep the page busy; the state poll below decides
        pass
    stable_since = None
    state = {}
    while True:
        state = page.evaluate(STATE_JS)
        now = time.monotonic()
        if state["script"] in DONE_STATES and not state["running"]:
            stable_since = stable_since or now
            if now - stable_since >= settle_s:
                return state
        else:
            stable_since = None
        if state["connection"] == "DISCONNECTED_FOREVER":
            raise AssertionError(f"app lost its server connection: {state}\n{_log_tail()}")
        if now > deadline:
            raise AssertionError(f"script still running after {timeout_s}s: {state}\n{_log_tail()}")
        page.wait_for_timeout(100)


@pytest.mark.parametrize("path", PAGES, ids=[p or "home" for p in PAGES])
def test_page_renders_without_exception(server, browser, path):
    name = path or "home"
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    js_errors = []
    page.on("pageerror", lambda e: js_errors.append(str(e)))
    try:
        page.goto(f"{server}/{path}", wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_S * 1000)
        wait_for_script_done(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        full_page_screenshot(page, SCREENSHOTS / f"{name}.png")

        exceptions = page.locator('[data-testid="stException"]')
        if exceptions.count():
            texts = "\n---\n".join(exceptions.nth(i).inner_text() for i in range(exceptions.count()))
            pytest.fail(f"page {name!r} shows {exceptions.count()} exception(s):\n{texts}")
        body = page.inner_text("body")
        assert "Traceback" not in body, f"page {name!r} shows a traceback:\n{body[:3000]}"
        assert not js_errors, f"page {name!r} raised JavaScript errors: {js_errors}"
    finally:
        context.close()


# --- navigation keeps the workspace; any first URL gets the app's navigation; ?ws= never leaves its folder ---

UPLOADED = "browser-upload"
NAV_LINK = '[data-testid="stSidebar"] a[data-testid="stPageLink-NavLink"]'


def _small_catalogue(folder: Path) -> tuple[Path, Path]:
    """The sample's first 80 items and the interactions among them, as two CSV files."""
    import pandas as pd

    items = pd.read_csv(ROOT / "sample_data" / "items.csv").head(80)
    inter = pd.read_csv(ROOT / "sample_data" / "interactions.csv")
    inter = inter[inter["item_id"].isin(items["item_id"])]
    folder.mkdir(parents=True, exist_ok=True)
    items.to_csv(folder / "items.csv", index=False)
    inter.to_csv(folder / "interactions.csv", index=False)
    return folder / "items.csv", folder / "interactions.csv"


def _selected_workspace(page) -> str:
    return page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"] input').first.input_value()


def _open(page, url):
    page.goto(url, wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_S * 1000)
    wait_for_script_done(page)


def test_upload_then_every_sidebar_link_keeps_the_workspace(server, browser):
    import shutil

    shutil.rmtree(ARTIFACTS / "workspaces" / UPLOADED, ignore_errors=True)
    items, inter = _small_catalogue(ARTIFACTS / "upload")
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        _open(page, f"{server}/catalogue")
        page.get_by_text("Upload a catalogue as a new workspace").click()
        page.get_by_label("Workspace name").fill(UPLOADED)
        uploads = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
        uploads.nth(0).set_input_files(str(items))
        uploads.nth(1).set_input_files(str(inter))
        page.get_by_role("button", name="Check and create workspace").click()
        page.wait_for_url(f"**ws={UPLOADED}**", timeout=PAGE_TIMEOUT_S * 1000)
        wait_for_script_done(page)
        assert f"Workspace '{UPLOADED}' created" in page.inner_text("body"), "the upload is confirmed"
        assert _selected_workspace(page) == UPLOADED
        links = page.locator(NAV_LINK)
        titles = [links.nth(i).inner_text().split("\n")[-1].strip() for i in range(links.count())]
        assert len(titles) == len(PAGES), titles
        for title in [*titles[1:], titles[0]]:  # every page, ending back home
            page.locator(NAV_LINK).filter(has_text=title).first.click()
            page.wait_for_timeout(300)
            wait_for_script_done(page)
            assert f"ws={UPLOADED}" in page.url, f"{title}: the URL lost the workspace ({page.url})"
            assert _selected_workspace(page) == UPLOADED, f"{title}: the sidebar switched workspace"
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"nav-{title.replace(' ', '_').lower()}.png"))
    finally:
        context.close()
        shutil.rmtree(ARTIFACTS / "workspaces" / UPLOADED, ignore_errors=True)


@pytest.mark.parametrize(
    "value", ["../outside", "../../tests/artifacts/outside", "a/b", "%2Ftmp", "..", "sample/../outside"]
)
def test_workspace_in_url_never_leaves_the_workspaces_folder(server, browser, value):
    outside = ARTIFACTS / "outside"
    _small_catalogue(outside / "data")
    before = sorted(p.name for p in outside.rglob("*"))
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        _open(page, f"{server}/catalogue?ws={value}")
        assert _selected_workspace(page) == "sample"
        assert "Workspace **outside**" not in page.inner_text("body") and str(outside) not in page.inner_text("body")
        assert "ws=sample" in page.url
    finally:
        context.close()
    assert sorted(p.name for p in outside.rglob("*")) == before, "nothing is written outside the workspaces folder"


@pytest.mark.parametrize("path", [p for p in PAGES if p])
def test_first_request_to_a_page_gets_the_apps_navigation(browser, path):
    """A freshly started server whose first request is a page URL (not '/') draws the app's own sidebar."""
    assert not (ROOT / "pages").exists(), "a pages/ folder beside app.py would be auto-discovered by Streamlit"
    with streamlit_server(log_name=f"streamlit-first-{path}.log") as base:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        try:
            _open(page, f"{base}/{path}")
            assert page.locator(NAV_LINK).count() == len(PAGES), f"/{path} as a first request: no app navigation"
            assert _selected_workspace(page) == "sample"
        finally:
            context.close()
