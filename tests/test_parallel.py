"""Several CPU processes under torchrun (gloo): the same cache and the same training as one process.

A tiny Llama, a small sample catalogue and its tokenizer; each command runs as a
real subprocess, exactly as a user starts it.
"""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sidrec.parallel import split_shard
from tests.tiny import tiny_base


def run(args: list[str], processes: int = 1) -> dict:
    if processes > 1:  # standalone: the launcher picks a free port for the process group itself
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]
        cmd = [*launcher, "-m", "sidrec", *args]
    else:
        cmd = [sys.executable, "-m", "sidrec", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.strip().splitlines() if line.startswith('{"')]
    assert len(lines) == 1, done.stdout  # one JSON object: the main process's
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from sidrec.cli import main
    from sidrec.sample import SampleConfig, write_sample

    root = tmp_path_factory.mktemp("parallel")
    base = tiny_base(root / "base")
    data = root / "data"
    write_sample(data, SampleConfig(n_items=300, n_users=80))
    assert main(["tokenizer", "fit", str(data), "--out", str(root / "tok"), "--codebook-size", "8", "--quiet"]) == 0
    train = ["llm", "train", str(data), "--tokenizer", str(root / "tok"), "--base", base, "--max-steps", "3",
             "--save-steps", "100", "--device", "cpu", "--json"]  # fmt: skip
    return root, data, train


def rows(path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT user_id, items, scores, history_hash FROM topk ORDER BY user_id").fetchall()


@pytest.mark.slow
def test_two_processes_train_like_one_and_save_one_artifact(setup):
    root, data, train = setup
    one = run([*train, "--out", str(root / "one"), "--batch-size", "4"])
    two = run([*train, "--out", str(root / "two"), "--batch-size", "2"], processes=2)  # the same global batch
    assert one["processes"] == 1 and two["processes"] == 2 and one["steps"] == two["steps"] == 3
    # each process averages over its own half-batch's tokens: close to, not bit-equal with, one process's loss
    assert two["train_loss"] == pytest.approx(one["train_loss"], rel=0.03)
    assert two["valid_loss"] == pytest.approx(one["valid_loss"], rel=0.03)
    assert sorted(p.name for p in (root / "two").iterdir()) == sorted(p.name for p in (root / "one").iterdir())


def _budget_step(rank: int, port: int, out: str) -> None:
    """One step's end in process `rank` of two, where only process 0's time budget is spent."""
    from types import SimpleNamespace

    import torch.distributed as dist
    from transformers import TrainerControl, TrainerState

    from sidrec.model import TrainConfig
    from sidrec.train import _budget_callback

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    budget = _budget_callback(TrainConfig(time_budget_s=60.0), None, None)
    if rank == 0:
        budget.start -= 120.0  # this process's clock says the budget is spent; the other's does not
    control = TrainerControl()
    budget.on_step_end(SimpleNamespace(device="cpu"), TrainerState(), control)
    Path(out, f"rank{rank}").write_text(str(control.should_training_stop))
    dist.destroy_process_group()


def test_a_time_budget_spent_on_one_process_stops_every_process(tmp_path):
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:  # a free port for the process group
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_budget_step, args=(port, str(tmp_path)), nprocs=2, join=True)
    # a process that stopped alone would leave the other waiting for its gradients at the next step
    assert [(tmp_path / f"rank{r}").read_text() for r in range(2)] == ["True", "True"]


@pytest.fixture(scope="module")
def model(setup):
    root, data, train = setup
    run([*train, "--out", str(root / "model"), "--batch-size", "4"])
    return root / "model"


@pytest.mark.slow
def test_cache_built_by_two_processes_equals_one_process(setup, model):
    root, data, train = setup
    build = ["cache", "build", str(model), str(data), "--max-users", "13", "-k", "5", "--beams", "6",
             "--device", "cpu", "--quiet", "--json"]  # fmt: skip
    one = run([*build, "--out", str(root / "one.sqlite")])
    two = run([*build, "--out", str(root / "two.sqlite")], processes=2)
    assert one["users_in_cache"] == two["users_in_cache"] == 13 and two["processes"] == 2
    a, b = rows(root / "one.sqlite"), rows(root / "two.sqlite")
    assert [r[:2] for r in a] == [r[:2] for r in b] and [r[3] for r in a] == [r[3] for r in b]
    for ra, rb in zip(a, b, strict=True):  # scores to float rounding (different batch compositions)
        assert json.loads(ra[2]) == pytest.approx(json.loads(rb[2]), abs=1e-3)
    assert not list(root.glob("two.sqlite.part*"))  # the parts are merged and removed


@pytest.mark.slow
def test_an_interrupted_shard_resumes_with_its_own_users(setup, model):
    from sidrec.cache import TopKCache, shard_users
    from sidrec.cli import main
    from sidrec.data import load_dataset

    root, data, _ = setup
    build = ["cache", "build", str(model), str(data), "-k", "5", "--beams", "6", "--device", "cpu", "--quiet",
             "--shard", "0/2", "--out", str(root / "shard0.sqlite")]  # fmt: skip
    assert main([*build, "--max-users", "5"]) == 0  # stopped after its first users
    assert main([*build, "--max-users", "13"]) == 0  # resumed
    cache = TopKCache(root / "shard0.sqlite")
    assert cache.users() == set(shard_users(sorted(load_dataset(data).sequences)[:13], (0, 2)))


def test_shards_split_among_processes_cover_every_user_once():
    users = list(range(23))
    covered = []
    for i in range(3):
        for rank in range(2):
            start, step = split_shard((i, 3), rank, 2)
            covered += users[start::step]
    assert sorted(covered) == users


HOLDER = """
import sys, time
from sidrec.artifacts import exclusive
lock, log, name = sys.argv[1:]
with exclusive(lock):
    with open(log, "a") as f:
        f.write(name + " in\\n")
    time.sleep(1.0)
    with open(log, "a") as f:
        f.write(name + " out\\n")
"""


def test_the_file_lock_lets_one_process_in_at_a_time(tmp_path):
    """What converts the embedded base model once under a launcher: the second process waits for the first."""
    import time

    lock, log = tmp_path / "convert.lock", tmp_path / "log"
    first = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock), str(log), "a"])
    deadline = time.monotonic() + 60
    while not (log.exists() and log.read_text()):  # the first holds the lock
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.02)
    second = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock), str(log), "b"])
    assert first.wait(timeout=60) == 0 and second.wait(timeout=60) == 0
    assert log.read_text().split("\n") == ["a in", "a out", "b in", "b out", ""]
