"""Walkthrough: the whole story in seven steps, each one picture, one sentence and a link to the page that goes
deeper. It only reads artifacts (never trains); whatever is missing is said in an info box. The model is loaded
only when "Recommend live" is pressed."""

import time

import pandas as pd
import plotly.express as px
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from sidrec.artifacts import read_manifest
from sidrec.cache import TopKCache, history_hash
from sidrec.data import item_popularity, top_category
from sidrec.errors import SidrecError
from sidrec.evaluate import claim, metrics_table
from sidrec.explain import explain
from sidrec.explore import walkthrough_user
from sidrec.model import FORMAT_VERSION, KIND, log_history, model_fingerprint
from sidrec.tokenizer import token
from webapp.jobs import loss_curves
from webapp.ui import (
    artifact_json,
    current_workspace,
    dataset,
    dataset_summary,
    missing,
    model_key,
    model_keywords,
    one_search_at_a_time,
    page_link,
    recommender,
    tokenizer,
)

TOP = 5

st.title("🧭 Walkthrough")
ws = current_workspace()
ds = dataset(ws)
summary = dataset_summary(ws)
titles = ds.items["title"]
tok, keywords, _ = tokenizer(ws) or (None, {}, None)
model_dir = ws.artifact("llm")
st.caption(
    f"Workspace **{ws.name}**: from a catalogue to recommendations served from a cache, with what was measured. "
    "Each step links to the page that goes deeper."
)


def step(n: int, title: str) -> None:
    st.subheader(f"{n}. {title}")


def link(page: str, label: str, icon: str) -> None:
    """A link to another page of the app; a caption where the app does not have that page."""
    try:
        page_link(page, label=label, icon=icon)
    except StreamlitPageNotFoundError:
        st.caption(f"{label} (not in this app)")


def items_table(items: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": range(1, len(items) + 1),
            "title": [titles.get(i, i) for i in items],
            "SID": [tok.encode(i) if tok is not None and i in tok else "" for i in items],
        }
    )


# ---------------------------------------------------------------- 1. the catalogue

step(1, "The catalogue")
cats = ds.items["categories"].map(top_category).replace("", "(none)").value_counts().head(12)
counts = cats.rename_axis("category").reset_index(name="items")
st.plotly_chart(
    px.bar(
        counts,
        x="items",
        y="category",
        orientation="h",
        title="Items per category",
        height=max(320, 24 * len(counts)),
    ).update_layout(yaxis={"categoryorder": "total ascending", "tickmode": "linear", "dtick": 1})
)
st.markdown(
    f"{summary['items']:,} items and {summary['users']:,} customers' purchase histories "
    f"({summary['interactions']:,} purchases): the item texts and histories are all the model learns from."
)
link("webapp/pages/catalogue.py", "Catalogue: the items and histories, or upload your own", "📦")

# ---------------------------------------------------------------- 2. an item becomes a SID

step(2, "How an item becomes a semantic ID")
if tok is None:
    missing(ws, "tokenizer", "This workspace has no tokenizer yet: fit one on the Tokenizer page.")
    item = None
else:
    popular = [i for i in item_popularity(ds.sequences).index if i in tok] if ds.sequences else []
    item = popular[0] if popular else tok.item_ids[0]
    codes = tok.codes_of(item)
    tokens = [token(lv, c) for lv, c in enumerate(codes)]
    dot = ['digraph { rankdir=LR; node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica"];']
    label = str(titles.get(item, item)).replace('"', "'")[:48]
    dot.append(f'item [label="{label}", fillcolor="#fff4d6"];')
    for n, t in enumerate(tokens):
        words = ", ".join(keywords.get(t, {}).get("keywords", [])[:3]) or "(tells apart items sharing the codes before)"
        dot.append(f't{n} [label="{t}\\n{words}"];')
    dot.append(" -> ".join(["item", *[f"t{n}" for n in range(len(tokens))]]) + ";}")
    st.graphviz_chart("\n".join(dot))
    st.markdown(
        f"The most bought item, **{titles.get(item, item)}**, is written `{tok.encode(item)}`: each token narrows "
        "down what the item is, from the broad group to the exact item, and alike items share leading tokens."
    )
link("webapp/pages/tokenizer.py", "Tokenizer: fit the codebooks and inspect any item's SID", "🧩")

# ---------------------------------------------------------------- 3. a token

step(3, "What a token means")
if item is None:
    st.info("Token meanings come with a tokenizer.")
else:
    first = tokens[0]
    carriers = [i for i, c in zip(tok.item_ids, tok.codes[:, 0].tolist(), strict=True) if c == codes[0]]
    info = keywords.get(first, {})
    st.dataframe(items_table(carriers[:8]).drop(columns="rank"), hide_index=True)
    what = f"reads as **{', '.join(info['keywords'][:5])}**. " if info.get("keywords") else ""
    st.markdown(f"`{first}`, that item's first token, {what}{info.get('description', '')}")
    st.caption(f"{len(carriers)} items carry `{first}`; the first {min(len(carriers), 8)} are listed.")
link("webapp/pages/codebook_explorer.py", "Codebook Explorer: every token, the item map and the prefix tree", "🗺️")

# ---------------------------------------------------------------- 4. alignment

step(4, "How the language model was aligned")
manifest = None
if model_dir is not None:
    try:
        manifest = read_manifest(model_dir, KIND, FORMAT_VERSION)
    except SidrecError as e:
        st.error(f"The workspace's model cannot be read: {e}")
curves = loss_curves(log_history(model_dir)) if manifest is not None else pd.DataFrame()
if manifest is None:
    missing(ws, "llm", "This workspace has no aligned model yet: train one on the Align page.")
elif curves.empty:
    st.info("The aligned model kept no training log.")
else:
    st.plotly_chart(px.line(curves, x="step", y="loss", color="curve", title="Training loss per task", height=360))
if manifest is not None:
    m = manifest.get("metrics", {})
    start = "started from the mean of its keywords" if manifest["config"].get("init") == "sa" else "added"
    st.markdown(
        f"A small LLM got one new token per code, {start}, and learnt with LoRA to "
        f"read histories written in SIDs and write the next one: validation loss "
        f"{m.get('valid_loss') or float('nan'):.3f} after {m.get('steps', '?')} steps."
    )
link("webapp/pages/align.py", "Align: the tasks the model is taught, and train your own", "🎯")

# ---------------------------------------------------------------- 5. live

step(5, "A live recommendation")
found = walkthrough_user(ds.sequences, tok)
user, history = found if found else (None, [])
live_key = f"walk_live:{ws.name}:{model_key(ws)}"  # a retrained model's list is never shown as this one's
if model_dir is None or manifest is None or tok is None:
    st.info("A live recommendation needs a tokenizer and an aligned model (Tokenizer and Align pages).")
elif user is None:
    st.info("No customer with a history to recommend for.")
else:
    st.markdown(
        f"Customer **{user}** last bought *{titles.get(history[-1], history[-1])}* ({len(history)} items read). "
        "Constrained beam search writes SIDs token by token and can only ever name a real item."
    )
    if st.button("Recommend live", type="primary", help="Loads the model the first time (a few seconds)"):
        try:
            rec = recommender(ws)
            with one_search_at_a_time():
                t0 = time.perf_counter()
                r = rec.recommend([history], k=TOP, exclude=[set(ds.sequences.get(user, ()))])[0]
                ms = (time.perf_counter() - t0) * 1000
            why = [explain(rec.sid_tok, model_keywords(ws), i, ds.sequences.get(user, history)).sentence
                   for i in r.items]  # fmt: skip
            st.session_state[live_key] = {"items": r.items, "ms": ms, "why": why, "model": model_fingerprint(model_dir)}
        except (SidrecError, OSError) as e:
            st.error(f"No recommendation: {e}")
    live = st.session_state.get(live_key)
    if live:
        st.dataframe(
            items_table(live["items"]).assign(why=live["why"]), hide_index=True, width="stretch",
            column_config={"rank": st.column_config.NumberColumn(width="small"),
                           "why": st.column_config.TextColumn("why (tokens shared with the history)", width="large")},
        )  # fmt: skip
        st.metric("Latency", f"{live['ms']:.0f} ms", help="this search, run by this session")
link("webapp/pages/recommend.py", "Recommend: compose any history and watch the beam search", "🔮")

# ---------------------------------------------------------------- 6. cache

step(6, "The cached answer")
cache_path = ws.artifact("cache.sqlite")
if cache_path is None:
    missing(ws, "cache.sqlite", "This workspace has no top-K cache yet: build one on the Cache vs Live page.")
elif user is None:
    st.info("No customer to look up.")
else:
    try:
        cache = TopKCache(cache_path)
        t0 = time.perf_counter()
        cached = cache.get(user)
        cached_ms = (time.perf_counter() - t0) * 1000
        cache.close()
    except SidrecError as e:
        st.error(f"The cache cannot be read: {e}")
    else:
        if cached is None:
            st.info(f"Customer {user} is not in the cache.")
        else:
            live = st.session_state.get(live_key)
            if live and cache.model_fingerprint != live["model"]:  # the sidebar says so too
                st.warning(f"This cache was built by another model ({cache.model_fingerprint}) than the one above "
                           f"({live['model']}): its list is not compared with the live one.")  # fmt: skip
                live = None
            c1, c2 = st.columns([3, 2])
            c1.dataframe(items_table(cached.items[:TOP]), hide_index=True)
            timing = pd.DataFrame({"answer": ["cached"], "ms": [cached_ms]})
            if live:
                timing.loc[1] = ["live", live["ms"]]
            c2.plotly_chart(px.bar(timing, x="answer", y="ms", log_y=True, title="Latency (log scale)", height=300))
            stale = " It was built from an older history." if cached.history_hash != history_hash(history) else ""
            same = ""
            if live:
                overlap = len(set(live["items"]) & set(cached.items[:TOP]))
                same = f" {overlap} of the {TOP} live items are in it."
            st.markdown(
                f"Served from the cache, the same kind of list costs one key lookup: {cached_ms:.2f} ms for "
                f"customer {user}.{same}{stale}"
            )
link("webapp/pages/cache_vs_live.py", "Cache vs live: the two answers side by side", "⚡")

# ---------------------------------------------------------------- 7. evaluation

step(7, "Against the baselines")
result, _ = artifact_json(ws, "evaluation.json")
models = (result or {}).get("models")
if result is None:
    missing(ws, "evaluation.json", "No evaluation yet for this workspace: run one on the Evaluate page.")
elif not models:
    st.info("The evaluation holds no model's metrics.")
else:
    frame = metrics_table(models)
    shown = [c for c in ("recall@10", "ndcg@10") if c in frame]
    long = frame.melt(id_vars="model", value_vars=shown, var_name="metric", value_name="value")
    st.plotly_chart(px.bar(long, x="metric", y="value", color="model", barmode="group", height=360))
    if "recall@10" in frame:
        shares = ", ".join(f"{r['model']} {r['recall@10']:.1%}" for _, r in frame.iterrows())
        st.markdown(
            f"On {result.get('users', 0):,} held-out purchases ({result.get('split', 'test')} split), the share "
            f"whose next item is in the top 10: {shares}. {claim(result, 'recall@10')} {claim(result, 'ndcg@10')}"
        )
link("webapp/pages/evaluate.py", "Evaluate: metrics, ablations and one user's outcome explained", "📊")
