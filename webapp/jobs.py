"""Training in the background.

- TrainingJob: `pipeline.train_llm` in a daemon thread, its logged dicts kept as
  they arrive, a stop request honoured at the next step (the model is still
  saved), and any failure kept as one line instead of raised;
- JobBoard: jobs by key (a workspace name), at most one running per key, so a
  second browser tab finds the running job instead of starting another;
- loss_curves: logged dicts -> one long table of (step, curve, loss) to plot.

Nothing here knows Streamlit; the Align page polls a job and draws it.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pandas as pd

from sidrec import pipeline
from sidrec.data import Dataset
from sidrec.errors import SidrecError
from sidrec.tasks import TASKS

log = logging.getLogger(__name__)
STATUSES = ("pending", "running", "done", "stopped", "failed")


def one_line(error: BaseException) -> str:
    """What a user sees of an error: a SidrecError's own line, else its type and first line.

    >>> one_line(KeyError("x")), one_line(SidrecError("no tokenizer"))
    ("KeyError: 'x'", 'no tokenizer')
    """
    text = (str(error).strip().splitlines() or [""])[0]
    if isinstance(error, SidrecError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class TrainingJob:
    """One `train_llm` run in a daemon thread.

    status: pending -> running -> done | stopped | failed. `logs` grows with every
    logged dict ({"step", "max_steps", "loss", "loss_<task>", "learning_rate", ...});
    `metrics` is train_llm's result once done or stopped; `error` one line when failed.
    """

    def __init__(self, ds: Dataset, tokenizer_dir: str | Path, out: str | Path, config, resume: bool = False):
        self.ds = ds
        self.tokenizer_dir = Path(tokenizer_dir)
        self.out = Path(out)
        self.config = config
        self.resume = resume  # go on from the last checkpoint of a stopped run into `out`
        self.logs: list[dict] = []
        self.status = "pending"
        self.error: str | None = None
        self.metrics: dict | None = None
        self.started: float | None = None  # time.time() at start()
        self.finished: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"train {self.out}", daemon=True)

    def start(self) -> TrainingJob:
        if self.status != "pending":
            raise SidrecError("this job has been started already")
        self.status = "running"
        self.started = time.time()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask training to stop at the end of the current step; the model is saved all the same."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.time()) - self.started

    @property
    def latest(self) -> dict:
        """The last logged dict with a step ({} before the first log)."""
        return next((d for d in reversed(self.logs) if "step" in d), {})

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has ended."""
        if self.status != "pending":
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            metrics = pipeline.train_llm(
                self.ds,
                self.tokenizer_dir,
                self.out,
                self.config,
                resume=self.resume,
                progress=self.logs.append,  # list.append is atomic under the GIL
                should_stop=self._stop.is_set,
            )
        except Exception as e:  # noqa: BLE001 - a failed job reports, it never takes the app down
            log.exception("training job %s failed", self.out)
            self.error = one_line(e)
            self.status = "failed"
        else:
            self.metrics = metrics
            stopped_early = metrics.get("steps", 0) < self.config.max_steps
            self.status = "stopped" if self._stop.is_set() and stopped_early else "done"
        finally:
            self.finished = time.time()


class JobBoard:
    """Jobs by key, at most one running per key; the last job of a key is kept to show its result."""

    def __init__(self):
        self._jobs: dict[str, TrainingJob] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> TrainingJob | None:
        return self._jobs.get(key)

    def start(self, key: str, job: TrainingJob) -> TrainingJob:
        """Start `job` under `key`; refuses while another job of that key runs."""
        with self._lock:
            current = self._jobs.get(key)
            if current is not None and current.running:
                raise SidrecError(f"a training job is already running for {key!r}; stop it or wait for it to end")
            self._jobs[key] = job
            return job.start()


def loss_curves(logs: list[dict]) -> pd.DataFrame:
    """Logged dicts -> long table (step, curve, loss): "total" plus one curve per task that was logged,
    and "validation" where a validation loss was logged.

    >>> loss_curves([{"step": 5, "loss": 2.0, "loss_sequential": 2.5}, {"step": 5, "valid_loss": 2.7}]).values.tolist()
    [[5, 'total', 2.0], [5, 'sequential', 2.5], [5, 'validation', 2.7]]
    """
    rows = []
    for d in logs:
        if "valid_loss" in d and "step" in d:
            rows.append((d["step"], "validation", float(d["valid_loss"])))
        if "loss" not in d or "step" not in d:
            continue
        rows.append((d["step"], "total", float(d["loss"])))
        rows += [(d["step"], t, float(d[f"loss_{t}"])) for t in TASKS if f"loss_{t}" in d]
    return pd.DataFrame(rows, columns=["step", "curve", "loss"])
