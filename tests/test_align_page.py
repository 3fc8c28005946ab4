"""The Align page on the sample workspace (Streamlit AppTest): it renders with or without a trained model,
shows one example per configured task, follows the chosen user, and loads no LLM until asked."""

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sidrec.artifacts import read_manifest
from sidrec.model import FORMAT_VERSION, KIND, TrainConfig
from sidrec.tasks import TaskConfig
from webapp.workspace import sample_workspace

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def configured_tasks() -> tuple[str, ...]:
    """The tasks the page shows: the trained model's when the sample has one, else every task."""
    folder = sample_workspace().artifact("llm")
    if folder is None:
        return TaskConfig().tasks
    return TrainConfig.from_dict(read_manifest(folder, KIND, FORMAT_VERSION)["config"]).tasks.tasks


def task_blocks(at: AppTest) -> list[str]:
    return [c.value for c in at.code if "\nAnswer: " in c.value]


@pytest.fixture(scope="module")
def at():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("webapp/pages/align.py")
    at.run()
    return at


def test_page_renders(at):
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "🎯 Align"
    assert [s.value for s in at.subheader][:3] == ["The model", "Train a new model", "What the model is taught"]


def test_one_example_per_configured_task(at):
    shown = [m.value.split("**")[1] for m in at.markdown if m.value.startswith("**") and ":" in m.value]
    assert tuple(shown[: len(configured_tasks())]) == configured_tasks()
    blocks = task_blocks(at)
    missing = sum("No example of this task" in c.value for c in at.caption)
    assert len(blocks) + missing == len(configured_tasks()) and len(blocks) >= 3
    assert all(b.count("\nAnswer: ") == 1 and not b.endswith("Answer: ") for b in blocks), "prompt and response"


def test_another_user_changes_the_prompts(at):
    users = at.selectbox(key="align_user")
    first = task_blocks(at)
    assert users.index == 0
    users.select_index(1).run()
    assert not at.exception
    assert task_blocks(at) != first


def test_no_llm_is_loaded_until_compare_is_pressed(at):
    if sample_workspace().artifact("llm") is None:
        assert any("no aligned model yet" in i.value for i in at.info)
        assert not any(b.label == "Compare" for b in at.button)
    else:
        assert any(b.label == "Compare" for b in at.button)
        assert not any("nearest words" in str(list(d.value.columns)) for d in at.dataframe)


# ---------------------------------------------------------------- a workspace of our own, a tiny model


@pytest.fixture(scope="module")
def tiny_ws(tmp_path_factory):
    """A small workspace with a tokenizer (in a private workspaces root) and a tiny random Llama as base."""
    from sidrec.cli import main
    from sidrec.sample import SampleConfig, write_sample
    from tests.tiny import tiny_base
    from webapp.workspace import create_workspace

    root = tmp_path_factory.mktemp("align")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIDREC_WORKSPACES", str(root / "workspaces"))
        write_sample(root / "data", SampleConfig(n_items=300, n_users=150))
        files = {name: (root / "data" / name).read_bytes() for name in ("items.csv", "interactions.csv")}
        ws = create_workspace("tiny", files)
        out = ws.artifact_path_for_writing("tokenizer")
        assert main(["tokenizer", "fit", str(ws.data_dir), "--out", str(out), "--codebook-size", "16", "--quiet"]) == 0
        yield ws, tiny_base(root / "tiny")


def open_align(ws_name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["ws"] = ws_name
    at.run()
    at.switch_page("webapp/pages/align.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def train_button(at: AppTest):
    return next(b for b in at.button if b.label == "Train in the background")


def wait_for(at: AppTest, done, timeout_s=120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done(at):
        assert time.monotonic() < deadline, "the training job did not end in time"
        time.sleep(0.5)
        at.run()


@pytest.mark.slow
def test_train_from_the_form_then_compare_a_token(tiny_ws):
    ws, base = tiny_ws
    at = open_align(ws.name)
    assert any("no aligned model yet" in i.value for i in at.info)

    next(t for t in at.text_input if t.label == "Base model").set_value(base)
    next(n for n in at.number_input if n.label == "Max steps").set_value(5)
    train_button(at).click().run()
    assert not at.exception, [e.value for e in at.exception]
    wait_for(at, lambda at: at.success or at.error)
    assert not at.error, [e.value for e in at.error]
    assert "Trained after 5 steps" in at.success[0].value
    assert ws.artifact("llm") == ws.artifact_path_for_writing("llm")
    trained = TrainConfig.from_dict(read_manifest(ws.artifact("llm"), KIND, FORMAT_VERSION)["config"])
    assert trained.tasks.tasks == TaskConfig().tasks  # the form preselects the default recipe's tasks
    assert [m.label for m in at.metric][:4] == ["Train loss", "Valid loss", "Tokens / s", "Steps"]
    assert at.metric[3].value == "5"

    at.selectbox(key="align_token").select_index(0).run()
    next(b for b in at.button if b.label == "Compare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[-1].value
    assert list(table.columns) == ["nearest words before training", "nearest words after training"]
    assert (table != "").all(axis=None) and len(table) > 3
    every = next(m.value for m in at.markdown if m.value.startswith("**Every token:**"))
    keywords = json.loads((ws.artifact("tokenizer") / "keywords.json").read_text())
    n = sum(1 for t in keywords.values() if t.get("keywords"))  # separating codes have none
    assert f" of {n} tokens with keywords have a word of their keywords among their 10 nearest words" in every
    # the choice sticks: another token is compared without pressing again
    at.selectbox(key="align_token").select_index(1).run()
    assert not at.exception and at.dataframe[-1].value.shape == table.shape


def test_a_running_job_is_found_by_a_new_session_and_stops(tiny_ws, monkeypatch):
    """A fake trainer that logs one step and runs until stopped: the live view, a second tab, Stop."""
    from sidrec import pipeline
    from webapp.workspace import create_workspace

    ws, _ = tiny_ws
    live_ws = create_workspace("live", {n: (ws.data_dir / n).read_bytes() for n in ("items.csv", "interactions.csv")})
    shutil.copytree(ws.artifact_path_for_writing("tokenizer"), live_ws.artifact_path_for_writing("tokenizer"))
    started = threading.Event()

    def fake(ds, tokenizer_dir, out, config, resume=False, progress=None, should_stop=None):
        progress({"step": 1, "max_steps": config.max_steps, "loss": 2.0, "loss_sequential": 2.5})
        started.set()
        while not should_stop():
            time.sleep(0.01)
        return {"steps": 1, "train_loss": 2.0, "valid_loss": 2.1}

    monkeypatch.setattr(pipeline, "train_llm", fake)
    first = open_align(live_ws.name)
    train_button(first).click().run()
    assert started.wait(10)
    second = open_align(live_ws.name)  # another tab, or a reload
    for at in (first, second):
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.get("progress")[0].proto.text.startswith("Step 1 / 300 · loss 2.000")
        assert train_button(at).disabled, "no second job while one runs"
        assert at.button(key="align_stop")
    second.button(key="align_stop").click().run()
    wait_for(first, lambda at: at.success)
    assert first.success[0].value.startswith("Stopped after 1 steps")
    assert not train_button(first).disabled


@pytest.mark.slow
def test_a_stopped_model_continues_to_its_max_steps(tiny_ws):
    """A run stopped at step 2 of 4 offers to continue from its checkpoint; continuing trains steps 3 and 4 into
    the same model, and a finished model offers nothing."""
    from sidrec import pipeline
    from webapp.workspace import create_workspace

    ws, base = tiny_ws
    cont = create_workspace("cont", {n: (ws.data_dir / n).read_bytes() for n in ("items.csv", "interactions.csv")})
    shutil.copytree(ws.artifact_path_for_writing("tokenizer"), cont.artifact_path_for_writing("tokenizer"))
    config = TrainConfig(base=base, max_steps=4, batch_size=4, logging_steps=1, eval_examples=8, bf16=False)
    calls = iter(range(1, 100))
    stopped = pipeline.train_llm(cont.load(), cont.artifact("tokenizer"), cont.artifact_path_for_writing("llm"),
                                 config, should_stop=lambda: next(calls) >= 2)  # fmt: skip
    assert stopped["steps"] == 2 and stopped["stopped"]

    at = open_align(cont.name)
    assert any("stopped at step 2 of 4" in i.value for i in at.info)
    at.button(key="align_continue").click().run()
    assert not at.exception, [e.value for e in at.exception]
    wait_for(at, lambda at: at.success or at.error)
    assert not at.error, [e.value for e in at.error]
    assert "Trained after 4 steps (continued from step 2)" in at.success[0].value
    metrics = read_manifest(cont.artifact("llm"), KIND, FORMAT_VERSION)["metrics"]
    assert metrics["steps"] == 4 and metrics["resumed_from_step"] == 2
    assert at.metric[3].value == "4"
    assert not any(b.key == "align_continue" for b in at.button)
