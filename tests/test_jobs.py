"""Background training jobs (tiny random Llama, small sample catalogue)."""

import threading

import pytest

from sidrec import pipeline
from sidrec.cli import main
from sidrec.data import load_dataset
from sidrec.errors import SidrecError
from sidrec.model import TrainConfig, log_history
from sidrec.sample import SampleConfig, write_sample
from sidrec.tasks import TaskConfig
from tests.tiny import tiny_base
from webapp.jobs import JobBoard, TrainingJob, loss_curves, one_line


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(dataset, tokenizer dir, tiny base dir)."""
    root = tmp_path_factory.mktemp("jobs")
    write_sample(root / "data", SampleConfig(n_items=300, n_users=150))
    tok = root / "tokenizer"
    assert main(["tokenizer", "fit", str(root / "data"), "--out", str(tok), "--codebook-size", "16", "--quiet"]) == 0
    return load_dataset(root / "data"), tok, tiny_base(root / "tiny")


def config(base, **kw):
    defaults = dict(
        base=base,
        max_steps=3,
        batch_size=4,
        logging_steps=1,
        save_steps=1000,
        eval_examples=8,
        bf16=False,
        save_dtype="float32",
        warmup_ratio=0.0,
        tasks=TaskConfig(tasks=("sequential", "textual")),
    )
    return TrainConfig(**{**defaults, **kw})


def test_job_runs_to_the_end_and_saves(setup, tmp_path):
    ds, tok, base = setup
    job = TrainingJob(ds, tok, tmp_path / "llm", config(base)).start()
    assert job.join(timeout=300)
    assert job.status == "done", job.error
    assert job.metrics["steps"] == 3 and (tmp_path / "llm" / "manifest.json").exists()
    assert [d["step"] for d in job.logs if "loss" in d] == [1, 2, 3]
    assert all("loss_sequential" in d for d in job.logs if "loss" in d)
    assert job.latest["max_steps"] == 3
    assert len(log_history(tmp_path / "llm")) == 3


def test_a_stop_request_ends_training_at_that_step_and_saves_a_usable_model(setup, tmp_path):
    """Asked to stop at the end of step 2 of 50: no further step, no final validation pass, a model that loads."""
    from sidrec.model import load_model

    ds, tok, base = setup
    asked = []

    def should_stop() -> bool:  # called once per optimizer step, at its end
        asked.append(True)
        return len(asked) >= 2

    metrics = pipeline.train_llm(ds, tok, tmp_path / "llm", config(base, max_steps=50), should_stop=should_stop)
    assert metrics["steps"] == 2 and metrics["stopped"] is True
    assert metrics["valid_loss"] is None, "no validation pass was run after the stop"
    model, _, manifest = load_model(tmp_path / "llm")
    assert manifest["metrics"]["steps"] == 2 and model is not None


def test_a_stopped_job_reports_stopped(setup, tmp_path):
    ds, tok, base = setup
    job = TrainingJob(ds, tok, tmp_path / "llm", config(base, max_steps=50))
    job.stop()  # before the first step: the run ends at the end of step 1
    job.start()
    assert job.join(timeout=300)
    assert job.status == "stopped", job.error
    assert job.metrics["steps"] == 1 and (tmp_path / "llm" / "manifest.json").exists()


def test_a_bad_tokenizer_fails_with_one_line(setup, tmp_path):
    ds, _, base = setup
    job = TrainingJob(ds, tmp_path / "no-tokenizer", tmp_path / "llm", config(base)).start()
    assert job.join(timeout=60)
    assert job.status == "failed" and job.error and "\n" not in job.error
    assert "no-tokenizer" in job.error
    assert not (tmp_path / "llm").exists()


def test_an_unexpected_error_is_reported_not_raised(monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(pipeline, "train_llm", broken)
    job = TrainingJob(None, tmp_path, tmp_path / "llm", TrainConfig()).start()
    assert job.join(timeout=10)
    assert (job.status, job.error) == ("failed", "RuntimeError: boom")


def test_board_refuses_a_second_running_job(monkeypatch, tmp_path):
    """A fake trainer that logs once and waits for the stop request, like a long run."""
    logged = threading.Event()

    def fake(ds, tokenizer_dir, out, config, resume=False, progress=None, should_stop=None):
        progress({"step": 1, "max_steps": config.max_steps, "loss": 1.0})
        logged.set()
        while not should_stop():
            threading.Event().wait(0.01)
        return {"steps": 1}

    monkeypatch.setattr(pipeline, "train_llm", fake)
    board = JobBoard()
    first = board.start("ws", TrainingJob(None, tmp_path, tmp_path / "a", TrainConfig(max_steps=10)))
    assert logged.wait(10) and first.running and board.get("ws") is first
    with pytest.raises(SidrecError, match="already running"):
        board.start("ws", TrainingJob(None, tmp_path, tmp_path / "b", TrainConfig(max_steps=10)))
    other = board.start("other-ws", TrainingJob(None, tmp_path, tmp_path / "c", TrainConfig(max_steps=10)))
    first.stop()
    other.stop()
    assert first.join(10) and other.join(10)
    assert first.status == "stopped" and first.logs == [{"step": 1, "max_steps": 10, "loss": 1.0}]
    again = board.start("ws", TrainingJob(None, tmp_path, tmp_path / "d", TrainConfig(max_steps=10)))
    again.stop()
    assert again.join(10) and board.get("ws") is again


def test_one_line():
    assert one_line(SidrecError("bad folder")) == "bad folder"
    assert one_line(ValueError("x\ny")) == "ValueError: x"
    assert one_line(KeyError()) == "KeyError"


def test_loss_curves_long_table():
    logs = [
        {"step": 5, "loss": 2.0, "loss_sequential": 2.5, "loss_textual": 1.5, "learning_rate": 1e-3},
        {"step": 10, "loss": 1.0, "loss_sequential": 1.2},
        {"train_runtime": 3.0},
    ]
    df = loss_curves(logs)
    assert df.values.tolist() == [
        [5, "total", 2.0],
        [5, "sequential", 2.5],
        [5, "textual", 1.5],
        [10, "total", 1.0],
        [10, "sequential", 1.2],
    ]
    assert loss_curves([]).empty and list(loss_curves([]).columns) == ["step", "curve", "loss"]
