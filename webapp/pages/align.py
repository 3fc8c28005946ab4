"""Align: the aligned model and its losses, training a new one in the background, the task examples, and what
a SID token means to the model before and after training. No LLM is loaded until "Compare" is pressed."""

from dataclasses import replace

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from sidrec.artifacts import read_manifest
from sidrec.data import split_dataset
from sidrec.errors import SidrecError
from sidrec.llm import INITS, model_input
from sidrec.model import FORMAT_VERSION, KIND, TrainConfig, log_history
from sidrec.tasks import TASKS, TaskConfig, examples_for_user
from sidrec.token_space import keyword_hits, nearest_words, trained_rows
from sidrec.train import continuable_step
from webapp.jobs import TrainingJob, loss_curves
from webapp.ui import current_workspace, dataset, job_board, lasting_choice, need_tokenizer, progress_bar, writable

TASK_NOTES = {
    "sequential": "purchase history → the next item's SID",
    "textual": "SID ↔ title",
    "query": "a shopper's need → SID",
    "negative": "is this candidate the next item? yes/no",
    "ts_align": "a SID token ↔ what its items share",
}
INIT_NOTES = {"sa": "SA-Init (keyword mean)", "mean": "mean row", "random": "random"}
INIT_SHORT = {"sa": "SA-Init", "mean": "mean", "random": "random"}
N_WORDS = 10

st.title("🎯 Align")
ws = current_workspace()
ds = dataset(ws)
if not ds.sequences:
    st.info(
        "Alignment teaches the LLM from purchase histories, and this catalogue has no interactions. "
        "Create a workspace with an interactions file to train a model."
    )
    st.stop()
tok, keywords, _ = need_tokenizer(ws)


@st.cache_resource(show_spinner=False, max_entries=4)
def train_split(key: str, _ds):
    return split_dataset(_ds)


@st.cache_resource(show_spinner="Loading the base and the trained model…", max_entries=1)
def token_rows(folder: str, created: str, tok_key: str, _keywords: dict):
    """SID rows as initialised and after training, with the vocabulary rows (sidrec.token_space)."""
    return trained_rows(folder, _keywords, tok_key)


@st.cache_data(show_spinner=False, max_entries=4)
def tokens_meaning(folder: str, created: str, tok_key: str, _rows, _keywords: dict) -> pd.DataFrame:
    """Per token with keywords, whether a keyword word is among its nearest words, before and after training."""
    return keyword_hits(_rows, _keywords, N_WORDS)


def loss_chart(logs: list[dict], title: str, tasks=()) -> None:
    """Total, per-task and validation losses as lines; a caption names any task with no logged point yet."""
    curves = loss_curves(logs)
    if curves.empty:
        return
    # a log axis: the first steps' losses (20 and more) would otherwise flatten every later curve into the floor
    figure = px.line(
        curves, x="step", y="loss", color="curve", markers=len(curves) < 60, title=title, log_y=True,
        labels={"loss": "loss (log scale)"},
    )  # fmt: skip
    st.plotly_chart(figure)
    absent = [t for t in tasks if t not in set(curves.curve)]
    if absent:
        st.caption(f"No logged point yet for: {', '.join(absent)} (no example of it in a logged window).")


def train_form_ui(running: bool) -> dict | None:
    """The training form; its values when submitted."""
    defaults = TrainConfig()
    weights = dict(defaults.tasks.weights)
    with st.form("align_train"):
        c1, c2, c3 = st.columns([2, 2, 3])
        base = c1.text_input("Base model", defaults.base, help="smollm2-135m (embedded) or a local model folder")
        init = c2.selectbox("Init of the SID rows", INITS, format_func=INIT_NOTES.get)
        tasks = c3.multiselect("Tasks", TASKS, default=list(defaults.tasks.tasks))
        st.caption("Task mix: examples of each task as a multiple of the sequential task's count (sequential = 1.0).")
        others = [t for t in TASKS if t != "sequential"]
        chosen = {"sequential": 1.0}
        for col, task in zip(st.columns(len(others)), others, strict=True):
            chosen[task] = col.slider(task, 0.0, 1.0, float(weights[task]), 0.05)
        c4, c5, c6 = st.columns(3)
        max_steps = c4.number_input("Max steps", 1, 100_000, defaults.max_steps, step=50)
        lr = c5.number_input("Learning rate", 1e-5, 1e-1, defaults.learning_rate, step=5e-4, format="%.4f")
        r = c6.select_slider("LoRA r", [2, 4, 8, 16, 32, 64], value=defaults.r, help="lora_alpha = 2 r")
        go = st.form_submit_button("Train in the background", type="primary", disabled=running)
    if not go:
        return None
    return dict(base=base, init=init, tasks=tasks, weights=chosen, max_steps=max_steps, learning_rate=lr, r=r)


@st.fragment(run_every=2)
def live(job: TrainingJob) -> None:
    """Progress, live losses and Stop, redrawn every 2 s; the whole page reruns once the job ends."""
    if not job.running:
        st.rerun()
    last = job.latest
    step, max_steps = last.get("step", 0), last.get("max_steps", job.config.max_steps)
    minutes = f"{job.elapsed / 60:.1f} min"
    losses = [d["loss"] for d in job.logs if "loss" in d]
    if step:
        text = f"Step {step} / {max_steps}" + (f" · loss {losses[-1]:.3f}" if losses else "") + f" · {minutes}"
    else:
        text = f"Loading the base model and building the task mix… ({minutes})"
    progress_bar(text)(step / max(max_steps, 1), text)
    loss_chart(job.logs, "Training loss per task (live)", job.config.tasks.tasks)
    if job.stopping:
        st.info("Stopping at the end of the current step; the model will be saved.")
    elif st.button("Stop", icon="⏹️", key="align_stop"):
        job.stop()
        st.rerun(scope="fragment")


def show_result(job: TrainingJob) -> None:
    m = job.metrics or {}
    if job.status == "failed":
        st.error(job.error)
    elif job.status in ("done", "stopped"):
        how = "Stopped" if job.status == "stopped" else "Trained"
        since = f" (continued from step {m['resumed_from_step']})" if m.get("resumed_from_step") else ""
        st.success(
            f"{how} after {m.get('steps', 0)} steps{since} in {job.elapsed / 60:.1f} min: train loss "
            f"{m.get('train_loss', float('nan')):.3f}, valid loss {m.get('valid_loss') or float('nan'):.3f}. "
            "The model is saved to the workspace."
        )


# ---------------------------------------------------------------- the model

st.subheader("The model")
folder, manifest = ws.artifact("llm"), None
if folder is not None:
    try:
        manifest = read_manifest(folder, KIND, FORMAT_VERSION)
    except SidrecError as e:
        st.error(f"The workspace's model cannot be read: {e}")
if manifest is None:
    st.info("This workspace has no aligned model yet: train one below.")
    task_config = TaskConfig()
    matches = False
    stopped_at = None
else:
    config = TrainConfig.from_dict(manifest["config"])
    task_config = config.tasks
    metrics = manifest.get("metrics", {})
    cols = st.columns(5)
    cols[0].metric("Train loss", f"{metrics.get('train_loss', float('nan')):.3f}")
    valid = metrics.get("valid_loss")
    cols[1].metric("Valid loss", "—" if valid is None else f"{valid:.3f}", help="the task mix on the valid split")
    cols[2].metric("Tokens / s", f"{metrics.get('tokens_per_second', 0):,.0f}")
    cols[3].metric("Steps", metrics.get("steps", 0))
    cols[4].metric("Init", INIT_SHORT.get(config.init, config.init), help=INIT_NOTES.get(config.init))
    st.caption(
        f"Base `{config.base}` · tasks {', '.join(config.tasks.tasks)} · LoRA r={config.r} · "
        f"learning rate {config.learning_rate:g} · {metrics.get('train_seconds', 0) / 60:.1f} min · "
        f"saved {manifest.get('created', '?')}"
    )
    loss_chart(log_history(folder), "Training loss per task", config.tasks.tasks)
    matches = manifest.get("tokenizer_fingerprint") == tok.fingerprint()
    if not matches:
        st.warning("This model was trained with another tokenizer than the workspace's current one: retrain it.")
    own = ws.own_dir is not None and folder == ws.artifact_path_for_writing("llm")
    stopped_at = continuable_step(folder, tok.fingerprint()) if own else None

# ---------------------------------------------------------------- training

st.subheader("Train a new model")
board = job_board()
job = board.get(ws.name)
running = job is not None and job.running
if running:
    live(job)
elif job is not None:
    show_result(job)
if stopped_at is not None and not running:
    st.info(
        f"The model above stopped at step {stopped_at} of {config.max_steps}. Continuing trains the remaining "
        "steps from its checkpoint, with its settings, as the run would have had it not stopped."
    )
    if st.button(f"Continue to step {config.max_steps}", icon="⏩", key="align_continue"):
        try:
            board.start(ws.name, TrainingJob(ds, ws.artifact("tokenizer"), folder, config, resume=True))
        except SidrecError as e:
            st.error(f"Not started: {e}")
        else:
            st.rerun()
with st.expander("Training settings", expanded=manifest is None and job is None):
    st.caption(
        "LoRA on the attention and MLP projections, and the SID token rows, trained on the task mix built from "
        "the training split. It runs in the background: leave the page or open another tab, the run goes on."
    )
    values = train_form_ui(running=running)
if values:
    try:
        tasks = replace(
            TaskConfig(),
            tasks=tuple(t for t in TASKS if t in values["tasks"]),
            weights=tuple(values["weights"].items()),
        )
        new_config = replace(
            TrainConfig(),
            base=values["base"].strip() or TrainConfig().base,
            init=values["init"],
            max_steps=int(values["max_steps"]),
            learning_rate=float(values["learning_rate"]),
            r=int(values["r"]),
            lora_alpha=2 * int(values["r"]),
            logging_steps=max(1, min(TrainConfig().logging_steps, int(values["max_steps"]) // 20)),  # short runs: lines
            tasks=tasks,
        )
        tokenizer_dir = ws.artifact("tokenizer")
        target = writable(ws)  # the demo is read-only: training on it goes to a copy
        if target is not ws:
            tokenizer_dir = target.artifact("tokenizer")
        board.start(target.name, TrainingJob(ds, tokenizer_dir, target.artifact_path_for_writing("llm"), new_config))
    except SidrecError as e:
        st.error(f"Not started: {e}")
    else:
        st.rerun()

# ---------------------------------------------------------------- the tasks

st.subheader("What the model is taught")
split = train_split(f"{ws.data_dir}:{ds.fingerprint()}", ds)
users = [u for u, seq in split.train_sequences.items() if seq]
user = lasting_choice(
    st.selectbox, "User", users, key="align_user",
    format_func=lambda u: f"{u} ({len(split.train_sequences[u])} training items)",
)  # fmt: skip
st.caption("One example of each task around this user's last training purchase, exactly as the model reads it.")
examples = examples_for_user(user, split, ds.items, tok, keywords, task_config) if user else {}
for task in task_config.tasks:
    st.markdown(f"**{task}**: {TASK_NOTES[task]}")
    if task in examples:
        ex = examples[task]
        st.code(model_input(ex.prompt, ex.context) + ex.response, language=None, wrap_lines=True)
    else:
        st.caption("No example of this task for this user (e.g. a single training purchase).")

# ---------------------------------------------------------------- a token

if manifest is None or not matches:
    st.stop()
st.subheader("What does a token mean to the model?")
options = sorted(keywords, key=lambda t: (keywords[t].get("level", 0), keywords[t].get("code", 0)))
token = st.selectbox(
    "SID token",
    options,
    key="align_token",
    format_func=lambda t: f"{t}  {', '.join(keywords[t].get('keywords', [])[:3])}",
)
info = keywords[token]
st.markdown(f"**Keywords:** {', '.join(info.get('keywords', [])) or '—'}")
st.caption(info.get("description", ""))
flag = f"align_compare:{folder}:{manifest.get('created')}"
if st.button("Compare", help="Loads the base and the trained model (a few seconds the first time)"):
    st.session_state[flag] = True
if st.session_state.get(flag):
    try:
        rows = token_rows(str(folder), manifest.get("created", ""), tok.fingerprint(), keywords)
    except SidrecError as e:
        st.error(f"Cannot load the model: {e}")
        st.stop()
    n = rows.tokens.index(token)
    before, after = nearest_words(rows, np.stack([rows.initial[n], rows.trained[n]]), N_WORDS)
    words = {"nearest words before training": pd.Series(before), "nearest words after training": pd.Series(after)}
    st.dataframe(pd.DataFrame(words).fillna(""), hide_index=True)
    st.caption(
        f"Cosine similarity of `{token}`'s input row with every word of the base vocabulary, once the direction "
        f"every vocabulary row shares is taken out: before training the row is the "
        f"{INIT_NOTES.get(config.init, config.init)} start, after training what the model learnt."
    )
    hits = tokens_meaning(str(folder), manifest.get("created", ""), tok.fingerprint(), rows, keywords)
    if len(hits):
        st.markdown(
            f"**Every token:** {hits['trained'].sum()} of {len(hits)} tokens with keywords have a word of their "
            f"keywords among their {N_WORDS} nearest words after training ({hits['initial'].sum()} before)."
        )
        st.caption(
            "SA-Init starts each row at its keywords; on the demo catalogue every recipe, with or without the "
            "alignment tasks, keeps about nine tokens in ten there (BENCHMARKS.md, token meaning)."
        )
