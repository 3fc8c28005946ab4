"""Evaluate: the SID-LLM against popularity and SASRec, new items (cold and warm targets side by side), the ablation
table, and one user's outcome explained.

Reads the workspace's `evaluation.json`, `cold_start.json` (with `cold_start_reference.json`) and `ablation.json`
(its own folder first, then the demo's). "Run evaluation" writes a new `evaluation.json` to the workspace's own
folder; no LLM is loaded until that form is sent.
"""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from sidrec.ablation import recipe_display_rows, recipe_sentences
from sidrec.artifacts import write_json_atomic
from sidrec.coldstart import REFERENCE, cold_warm_table
from sidrec.errors import SidrecError
from sidrec.evaluate import EvalConfig, claim, evaluate, metrics_table
from sidrec.explore import target_tokens
from sidrec.metrics import KS, recall_curve
from sidrec.sasrec_grid import describe as describe_grid
from sidrec.tokenizer import token
from webapp.ui import (
    artifact_json,
    current_workspace,
    dataset,
    lasting_choice,
    missing,
    progress_bar,
    tokenizer,
    writable,
)

METRICS = tuple(f"{m}@{k}" for m in ("recall", "ndcg") for k in KS)
BASELINES_ONLY = "Baselines only (popularity, SASRec)"
HIGHLIGHT = "background-color: rgba(255, 196, 0, 0.35)"

st.title("📊 Evaluate")
ws = current_workspace()
ds = dataset(ws)
if not ds.sequences:
    st.info("Evaluation needs purchase histories, and this catalogue has no interactions.")
    st.stop()


def eval_form_ui(has_model: bool) -> tuple[str, EvalConfig] | None:
    """The evaluation form; (model choice, config) when submitted."""
    with st.form("eval_run"):
        choices = (["SID-LLM and baselines"] if has_model else []) + [BASELINES_ONLY]
        c1, c2, c3, c4, c5 = st.columns([3, 1, 1, 1, 1])
        model = c1.selectbox("Models", choices, help="The SID-LLM is the workspace's aligned model (Align page)")
        split = c2.selectbox("Split", ["test", "valid"])
        beams = c3.number_input("Beams", 1, 100, EvalConfig().num_beams)
        k = c4.number_input("K", max(KS), 50, EvalConfig().k, help="Length of each list; metrics are read at 5 and 10")
        users = c5.number_input("Max users", 0, 1_000_000, 200, step=100, help="0 = every user of the split")
        if not st.form_submit_button("Run evaluation", type="primary"):
            return None
    return model, EvalConfig(split=split, num_beams=int(beams), k=int(k), max_users=int(users))


def recipe_figure(recipe: dict) -> go.Figure:
    """Each variant's difference from the reference recipe per metric, with bars of two standard errors."""
    fig = go.Figure()
    rows = [r for r in recipe["rows"] if r.get("vs_reference")]
    for m in recipe["metrics"]:
        vs = [r["vs_reference"][m] for r in rows]
        fig.add_bar(
            y=[r["variant"] for r in rows], x=[v["difference"] for v in vs], orientation="h", name=m,
            error_x={"type": "data", "array": [2 * v["se"] for v in vs]},
        )  # fmt: skip
    fig.add_vline(x=0, line_dash="dot")
    return fig.update_layout(
        title=f"Against the {recipe['reference']} (± two standard errors)", barmode="group",
        xaxis_title="difference", yaxis={"autorange": "reversed"},
    )  # fmt: skip


def recall_figure(result: dict) -> go.Figure:
    """SID-LLM's Recall@K for K = 1..list length; the baselines at the Ks their metrics were stored for."""
    fig = go.Figure()
    per_user = result.get("per_user") or []
    if per_user:
        ks = range(1, max(len(u["items"]) for u in per_user) + 1)
        fig.add_scatter(
            x=list(ks), y=recall_curve([u["rank"] for u in per_user], ks), mode="lines+markers", name="sid-llm"
        )
    for name, metrics in result.get("models", {}).items():
        if name == "sid-llm" and per_user:
            continue
        points = [(k, metrics[f"recall@{k}"]) for k in KS if f"recall@{k}" in metrics]
        fig.add_scatter(x=[k for k, _ in points], y=[v for _, v in points], mode="markers", name=name,
                        marker={"size": 12, "symbol": "diamond"})  # fmt: skip
    fig.update_layout(
        title="Recall@K", xaxis={"title": "K", "dtick": 1}, yaxis={"title": "Recall", "rangemode": "tozero"}
    )
    return fig


# ---------------------------------------------------------------- run

result, origin = artifact_json(ws, "evaluation.json")
model_dir = ws.artifact("llm")
with st.expander("Run an evaluation", expanded=result is None):
    st.caption(
        "One held-out item per user (leave-one-out), histories of at most 20 items, full ranking over every item. "
        "The SID-LLM ranks by constrained beam search; popularity and SASRec are trained on the same split. "
        "A few hundred users take minutes on a CPU; the result replaces this workspace's evaluation."
    )
    if model_dir is None:
        st.info("This workspace has no aligned model yet (Align page): only the baselines can be evaluated.")
    submitted = eval_form_ui(model_dir is not None)
    if submitted:
        choice, config = submitted
        use_model = model_dir if choice != BASELINES_ONLY else None
        progress = progress_bar("Starting…")
        try:
            if use_model is not None and config.k > config.num_beams:
                raise SidrecError(f"K ({config.k}) cannot exceed the number of beams ({config.num_beams})")
            new = evaluate(use_model, ws.data_dir, config, progress)
        except (SidrecError, OSError) as e:
            st.error(f"Not evaluated: {e}")
        else:
            new["config"] = {"model_dir": str(use_model) if use_model else None, "split": config.split,
                             "num_beams": config.num_beams, "k": config.k, "max_users": config.max_users}  # fmt: skip
            try:
                target = writable(ws)
                write_json_atomic(target.artifact_path_for_writing("evaluation.json"), new)
            except (SidrecError, OSError) as e:  # the result is still shown below, for this visit
                st.error(f"Evaluated {new['users']} users, but the result could not be saved: {e}")
                result, origin = new, "this run (not saved)"
            else:
                if target is not ws:
                    st.rerun()
                st.success(f"Evaluated {new['users']} users in {new['seconds']:.0f} s; saved to the workspace.")
                result, origin = new, "this workspace"

# ---------------------------------------------------------------- metrics

st.subheader("Against the baselines")
if result is None:
    missing(ws, "evaluation.json", "No evaluation yet for this workspace: run one above.")
else:
    conf = result.get("config", {})
    settings = f" · {conf['num_beams']} beams, top-{conf['k']}" if "num_beams" in conf else ""
    st.caption(
        f"`{result.get('dataset', '?')}`, {result.get('split', '?')} split ({result.get('protocol', '?')}) · "
        f"{result.get('users', 0):,} users{settings} · {result.get('seconds', 0):.0f} s · from {origin} · "
        f"history rule: {result.get('history_rule', 'not recorded (repeats were allowed)')}"
    )
    st.markdown(" ".join(claim(result, m) for m in ("recall@10", "ndcg@10")))
    table = metrics_table(result.get("models", {}))
    c1, c2 = st.columns([2, 3])
    c1.dataframe(
        table, hide_index=True, column_config={m: st.column_config.NumberColumn(format="%.4f") for m in METRICS}
    )
    timings = result.get("timings", {})
    m = c1.columns(2)
    if "sid-llm_ms_per_user" in timings:
        m[0].metric("SID-LLM per user", f"{timings['sid-llm_ms_per_user']:.0f} ms")
    if "sasrec_train_seconds" in timings:
        m[1].metric("SASRec training", f"{timings['sasrec_train_seconds']:.0f} s")
    if tuned := result.get("sasrec_tuned"):
        c1.caption(describe_grid(tuned["grid"]))
        with c1.expander("SASRec's grid"):
            st.dataframe(pd.DataFrame(tuned["grid"]), hide_index=True)
    long = table.melt(id_vars="model", var_name="metric", value_name="value")
    c2.plotly_chart(px.bar(long, x="metric", y="value", color="model", barmode="group", title="Metrics per model"))
    st.plotly_chart(recall_figure(result))
    if result.get("per_user"):
        st.caption("The SID-LLM's curve is read from each user's rank; the baselines store only Recall@5 and @10.")

# ---------------------------------------------------------------- cold start

st.subheader("New items: recommended from their text alone")
cold_run, cold_origin = artifact_json(ws, "cold_start.json")
if cold_run is None:
    missing(
        ws,
        "cold_start.json",
        "No cold-start run for this workspace: a share of the items is withheld from everything the tokenizer, "
        "the LLM and SASRec train on, then enters the catalogue by its text; the metrics of users whose next item "
        "is one of them are reported apart.",
    )
else:
    reference, _ = artifact_json(ws, "cold_start_reference.json")
    try:
        rows = cold_warm_table(cold_run, reference)
    except SidrecError as e:
        st.warning(f"{e}: shown without it.")
        rows = cold_warm_table(cold_run)
    info = cold_run.get("cold_start", {})
    parts = cold_run["by_target"]
    unreachable = info.get("unreachable", 0)
    st.caption(
        f"`{cold_run.get('dataset', '?')}` · {info.get('fraction', 0):.0%} of the items ({info.get('items', '?')}, "
        f"draw {info.get('seed', '?')}) withheld from all training, then placed by their text"
        + (" into cells known items occupy" if info.get("placement") == "occupied" else "")
        + {"cell": ", each scored as its cell", "share": ", each taking an even share of its cell"}.get(
            info.get("placed_score", ""), ""
        )
        + (
            "; a withheld item takes a list's last place when its text reads closer to the history than the last item's"
            + (
                f" and is among the {top} items nearest the history by text"
                if (top := info.get("new_item_top", 0))
                else ""
            )
            if info.get("new_item_place") == "gated"
            else ""
        )
        + " · "
        + " · ".join(f"{p['users']:,} test users with a {g} target" for g, p in parts.items())
        + (f" · {unreachable} placed items got a token the model never learned" if unreachable else "")
        + f" · from {cold_origin}"
    )
    if "cold" in parts:
        st.markdown(claim(parts["cold"], "recall@10").replace("On Recall@10", "On cold targets' Recall@10"))
    shown = rows.assign(
        cell=[
            f"{v:.4f} ± {e:.4f}" if pd.notna(e) else f"{v:.4f}"
            for v, e in zip(rows.value, rows.standard_error, strict=True)
        ]
    )
    wide = shown.pivot_table(index="model", columns=["metric", "targets"], values="cell", aggfunc="first")
    wide.columns = [f"{m} · {t}" for m, t in wide.columns]
    c1, c2 = st.columns([3, 2])
    c1.dataframe(wide.reset_index(), hide_index=True)
    recall = rows[rows.metric == "recall@10"]
    c2.plotly_chart(
        px.bar(
            recall,
            x="model",
            y="value",
            color="targets",
            barmode="group",
            error_y="standard_error",
            title="Recall@10 on cold and warm targets",
            labels={"value": "Recall@10"},
        )  # fmt: skip
    )
    st.caption(
        "SASRec and popularity are trained without the withheld items and cannot return one; the text baseline "
        "ranks every item by the similarity of its text to the history's. "
        + (f"'{REFERENCE}' is the same report for the models trained on every item." if reference else "")
    )

# ---------------------------------------------------------------- the recipe, part by part

st.subheader("The recipe, part by part")
recipe, recipe_origin = artifact_json(ws, "recipe.json")
if recipe is None or not recipe.get("rows"):
    st.info(
        "No recipe evidence for this workspace: it comes from full trainings of each variant of the recipe over "
        "several seeds (the demo ships one; BENCHMARKS.md names the commands)."
    )
else:
    st.caption(f"{recipe.get('note', '')} · {recipe.get('date', '')} · from {recipe_origin}")
    for sentence in recipe_sentences(recipe):
        st.markdown(f"- {sentence}")
    st.dataframe(pd.DataFrame(recipe_display_rows(recipe)), hide_index=True)
    st.plotly_chart(recipe_figure(recipe))

# ---------------------------------------------------------------- ablation

st.subheader("Quick ablation: the same few steps from the same start")
ablation, ab_origin = artifact_json(ws, "ablation.json")
if ablation is None or not ablation.get("rows"):
    missing(
        ws,
        "ablation.json",
        "No ablation table for this workspace: every variant (initialisation, task mix, tokenizer) is trained "
        "for the same few steps from the same start.",
    )
else:
    rows = pd.DataFrame(ablation["rows"])
    rows = rows[["variant", *[c for c in rows.columns if c != "variant"]]] if "variant" in rows else rows
    when = f" · {ablation['date']}" if ablation.get("date") else ""
    st.caption(
        f"Every variant trained for {ablation.get('steps', '?')} steps from the same start; validation loss on the "
        f"sequential task (lower is better){when} · from {ab_origin}. A quick check, far from convergence"
        + (": what each part is worth is the table above, from full trainings." if recipe else ".")
    )
    made_on, ours = ablation.get("tokenizer_fingerprint"), (result or {}).get("tokenizer_fingerprint")
    if made_on and ours and made_on != ours:
        st.warning(
            f"Made on another tokenizer ({made_on}) than the evaluated model's ({ours}): its rows describe that "
            "tokenizer's codes. `python -m sidrec bench ablation` on this workspace's tokenizer measures these."
        )
    c1, c2 = st.columns([2, 3])
    c1.dataframe(rows, hide_index=True)
    # a tokenizer variant's loss is over its own codes (other targets): only its ranking metrics compare
    same_codes = rows[~rows["variant"].astype(str).str.startswith("tokenizer:")] if "variant" in rows else rows
    if "valid_loss" in rows:
        c2.plotly_chart(
            px.bar(same_codes, x="variant", y="valid_loss", title="Validation loss per variant").update_xaxes(
                type="category", tickmode="linear", dtick=1
            )
        )
        if len(same_codes) < len(rows):
            c2.caption("Tokenizer variants are left out of the loss chart: their loss is over other codes, so only "
                       "their ranking metrics (below) compare.")  # fmt: skip
    scored = [m for m in METRICS if m in rows]
    if scored:
        long = rows.melt(id_vars="variant", value_vars=scored, var_name="metric", value_name="value")
        st.plotly_chart(px.bar(long, x="metric", y="value", color="variant", barmode="group", title="Ranking metrics"))

# ---------------------------------------------------------------- drill-down

st.subheader("One user, explained")
per_user = (result or {}).get("per_user") or []
if not per_user:
    st.info("Per-user results come with an evaluation of the SID-LLM.")
    st.stop()
groups = {
    "all": list(range(len(per_user))),
    "hits": [n for n, u in enumerate(per_user) if u["rank"] is not None],
    "misses": [n for n, u in enumerate(per_user) if u["rank"] is None],
}
group = lasting_choice(st.radio, "Users", list(groups), key="eval_filter",
                       format_func=lambda g: f"{g} ({len(groups[g])})", horizontal=True)  # fmt: skip
if not groups[group]:
    st.info(f"No {group} in this evaluation.")
    st.stop()
n = st.selectbox(
    "User",
    groups[group],
    key=f"eval_user_{group}",
    format_func=lambda n: (
        f"{per_user[n]['user_id']} · " + (f"hit at rank {per_user[n]['rank']}" if per_user[n]["rank"] else "miss")
    ),
)
u = per_user[n]
tok, keywords = (tokenizer(ws) or (None, {}, None))[:2]
no_tokens = "The workspace's tokenizer does not know this target, so its tokens cannot be shown."
made_with = (result or {}).get("tokenizer_fingerprint")
if tok is not None and made_with and made_with != tok.fingerprint():  # refit since: its codes are not the ones read
    no_tokens = (
        f"This evaluation read the SIDs of another tokenizer ({made_with}) than the workspace's "
        f"({tok.fingerprint()}), so no SID or token is shown: evaluate again to see them."
    )
    tok, keywords = None, {}
titles = ds.items["title"]


def sid(item: str) -> str:
    return tok.encode(item) if tok is not None and item in tok else ""


if u["rank"] is not None:
    st.success(f"Hit: the item bought next is at rank {u['rank']} of {len(u['items'])}.")
else:
    st.error(f"Miss: the item bought next is not among the {len(u['items'])} recommendations.")
c1, c2 = st.columns(2)
with c1:
    st.markdown(f"**History** ({len(u['history'])} items, oldest first)")
    history = pd.DataFrame({"title": [titles.get(i, i) for i in u["history"]], "SID": [sid(i) for i in u["history"]]})
    st.dataframe(history, hide_index=True)
    st.markdown(f"**Bought next (the target):** {titles.get(u['target'], u['target'])}")
    st.code(sid(u["target"]) or u["target"], language=None)
with c2:
    st.markdown("**The SID-LLM's list**")
    ranked = pd.DataFrame(
        {
            "rank": range(1, len(u["items"]) + 1),
            "title": [titles.get(i, i) for i in u["items"]],
            "SID": [sid(i) for i in u["items"]],
            "target": ["🎯" if i == u["target"] else "" for i in u["items"]],
        }
    )
    st.dataframe(
        ranked.style.apply(lambda row: [HIGHLIGHT if row["target"] else ""] * len(row), axis=1), hide_index=True
    )

level = u.get("diverged_at_level")
if tok is None or u["target"] not in tok:
    st.caption(no_tokens)
else:
    codes = tok.codes_of(u["target"])
    if level is None:
        where = "survived every level of the beam search"
        why = "" if u["rank"] else ", but its full SID scored below the top of the list"
        st.markdown(f"The target's SID prefix {where}{why}.")
    else:
        st.markdown(
            f"The target's SID prefix left the beams at **level {level + 1}** "
            f"(token `{token(level, codes[level])}`): the model preferred other prefixes there."
        )
    st.dataframe(target_tokens(codes, level, keywords), hide_index=True)
