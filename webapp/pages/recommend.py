"""Recommend: compose a history, run constrained beam search, read the top-K, its latency and the beam tree; add a
new item (cold start) and see it recommended without retraining.

The loaded model is shared by every session; a new item goes to a copy of the SID tokenizer and trie that shares
the model, so the shared recommender (and the cache built from it) never changes under another page or tab.
"""

import copy
from itertools import count

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from sidrec.errors import SidrecError
from sidrec.explain import explain
from sidrec.explore import beam_outcomes, beam_tree
from sidrec.generate import Recommendation, Recommender
from sidrec.placement import neighbours_of
from sidrec.tokenizer import token
from webapp.ui import (
    current_workspace,
    dataset,
    decode_benchmark,
    lasting_choice,
    model_key,
    model_keywords,
    need_recommender,
    new_item_form,
    one_search_at_a_time,
    session_memo,
)

BY_TEXT = "New item, its text closer to the history than the last pick's. "
ROLE_COLORS = {  # beam-tree node roles (sidrec.explore.BEAM_ROLES), drawn in this order
    "pruned at a later level": "#d0d0d0",
    "kept to the end, below the top-K": "#8c8c8c",
    "not a real item": "#d62728",
    "on the path to a top-K item": "#1f77b4",
    "top-K item": "#ff7f0e",
}

st.title("🔮 Recommend")
ws = current_workspace()
ds = dataset(ws)
base = need_recommender(ws)
keywords = model_keywords(ws)
base_key = model_key(ws)


@st.cache_resource(show_spinner="Placing the new items…", max_entries=4)
def with_new_items(_base: Recommender, base_key: str, new_items: tuple) -> Recommender:
    """A recommender sharing `_base`'s model whose SID tokenizer is a copy that also holds `new_items`
    ((item_id, text), ...), so the shared recommender never changes under another page or session."""
    rec = Recommender(_base.model, _base.llm_tok, copy.deepcopy(_base.sid_tok), _base.config)
    if new_items:
        ids, texts = zip(*new_items, strict=True)
        rec.add_items(list(ids), list(texts))
    return rec


@st.cache_data(show_spinner="Finding its nearest known items…", max_entries=16)
def nearest(model_key: str, text: str) -> list[tuple[str, float]]:
    return neighbours_of(base.sid_tok, text)


def search(rec: Recommender, history: tuple, k: int, beams: int, constrained: bool) -> Recommendation:
    """One user's recommendation, timed alone (searches from other sessions wait their turn)."""
    with one_search_at_a_time(), st.spinner("Searching…"):
        return rec.recommend([list(history)], k=k, num_beams=beams, constrained=constrained)[0]


def beam_tree_figure(tree: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Level on x, cumulative log-probability on y; a line joins each prefix to the prefix it grew from."""
    score = {(row.level, row.prefix): row.score for row in tree.itertuples()}
    fig = go.Figure()
    for on_path in (False, True):  # pruned edges below, top-K paths on top
        xs, ys = [], []
        for row in tree[tree.level > 1].itertuples():
            if (row.role in ("top-K item", "on the path to a top-K item")) == on_path:
                xs += [row.level - 1, row.level, None]
                ys += [score[(row.level - 1, row.parent)], row.score, None]
        fig.add_scatter(
            x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
            line={"color": "#1f77b4" if on_path else "#d9d9d9", "width": 2 if on_path else 1},
        )  # fmt: skip
    for role, color in ROLE_COLORS.items():
        part = tree[tree.role == role]
        if part.empty:
            continue
        fig.add_scatter(
            x=part.level, y=part.score, mode="markers", name=role,
            marker={"color": color, "size": 11 if role == "top-K item" else 7},
            text=[f"{p}<br>{labels.get(p, '')}" for p in part.prefix],
            hovertemplate="%{text}<br>log-prob %{y:.3f}<extra></extra>",
        )  # fmt: skip
    fig.update_layout(
        title="Beam tree: the prefixes kept at each level",
        xaxis={"title": "level (SID token)", "tickmode": "array", "tickvals": sorted(tree.level.unique())},
        yaxis_title="cumulative log-probability",
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


state_key = f"reco_{ws.name}_{base_key}"  # UI state of this workspace and model
state = st.session_state.setdefault(state_key, {"new_items": [], "history": [], "user": None, "nonce": 0})

# ---------------------------------------------------------------- cold start
with st.expander("Add a new item (cold start)"):
    st.caption(
        "The tokenizer's codebooks place the item's text in the nearest cell that known items occupy, so it "
        "gets a SID and can be recommended at once, without retraining. New items live in this session only."
    )
    submitted = new_item_form("reco_cold", "Add the item", base.sid_tok.config.embed.max_description_chars)
    if submitted:
        known = set(base.sid_tok.item_ids) | {i["item_id"] for i in state["new_items"]}
        new_id = next(f"new-{n}" for n in count(1) if f"new-{n}" not in known)
        item = {"item_id": new_id, "title": submitted[0], "text": submitted[1]}
        try:
            if not item["title"]:
                raise SidrecError("a new item needs a title")
            with_new_items(
                base,
                base_key,
                tuple((i["item_id"], i["text"]) for i in [*state["new_items"], item]),
            )
        except SidrecError as e:
            st.error(f"Not added: {e}")
        else:
            state["new_items"].append(item)
    for item in state["new_items"]:
        st.caption(f"`{item['item_id']}` {item['title']}")

new_items = tuple((i["item_id"], i["text"]) for i in state["new_items"])
rec = with_new_items(base, base_key, new_items) if new_items else base
tok = rec.sid_tok
titles = ds.items["title"].to_dict() | {i["item_id"]: i["title"] for i in state["new_items"]}
if state["new_items"]:
    last = state["new_items"][-1]
    codes = tok.codes_of(last["item_id"])
    st.markdown(f"Newest item **{last['title']}** has SID `{tok.encode(last['item_id'])}`.")
    near = nearest(base_key, last["text"])
    if near:
        same = sum(tok.codes_of(i)[0] == codes[0] for i, _ in near)
        st.caption(
            f"Placement confidence: {same} of its {len(near)} nearest known items by text carry "
            f"`{token(0, codes[0])}` too. The nearest:"
        )
        st.dataframe(
            pd.DataFrame({"title": [titles.get(i, "") for i, _ in near[:5]],
                          "SID": [tok.encode(i) for i, _ in near[:5]],
                          "text similarity": [s for _, s in near[:5]]}),
            hide_index=True,
        )  # fmt: skip
    mates = rec.cell_mates(last["item_id"])
    if mates:
        st.caption(
            f"It joins the cell of {', '.join(titles.get(i, i) for i in mates[:3])}"
            f"{f' and {len(mates) - 3} more' if len(mates) > 3 else ''}: the search scores it as that cell. "
            "It also takes a list's last place when its text reads closer to the history than the last pick's."
        )
    missing = rec.missing_tokens(last["item_id"])
    if missing:
        st.warning(
            f"Its SID uses {', '.join(missing)}, a token the model was never given, so it can sit in a history "
            "but cannot be generated."
        )

# ---------------------------------------------------------------- the history
st.subheader("History")
users = list(ds.sequences)
c1, c2 = st.columns(2)
if users:
    user = lasting_choice(c1.selectbox, "User", users, key="reco_user", start=state["user"],
                          format_func=lambda u: f"{u} ({len(ds.sequences[u])} items)")  # fmt: skip
    if user != state["user"]:  # a new user: start from their last items
        state["user"] = user
        state["history"] = [i for i in ds.sequences[user] if i in tok][-rec.config.max_history :]
with c2:
    query = st.text_input("Search titles", placeholder="tent")
    if query.strip():
        q = query.strip().lower()
        matches = [i for i, t in titles.items() if q in str(t).lower() and i in tok][:50]
        picks = st.multiselect(f"Matching items ({len(matches)}{'+' if len(matches) == 50 else ''})", matches,
                               format_func=lambda i: f"{titles[i]} [{i}]")  # fmt: skip
        if st.button("Add to history", disabled=not picks):
            state["history"] += picks
    with st.form("reco_typed", border=False):
        typed = st.text_input("Or type a history", placeholder="item ids, oldest first: I0001, I0042")
        if st.form_submit_button("Use as the history"):
            ids = [i.strip() for i in typed.split(",") if i.strip()]
            unknown = [i for i in ids if i not in tok]
            if unknown:
                st.error(f"Not an item of this tokenizer: {', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''}")
            elif ids:
                state["history"] = ids
b1, b2, _ = st.columns([1, 1, 3])
if b1.button("Remove the last", disabled=not state["history"]):
    state["history"].pop()
if b2.button("Clear", disabled=not state["history"]):
    state["history"] = []
history = state["history"]
if not history:
    st.info("The history is empty: pick a user, add items by title or type their ids.")
    st.stop()
st.dataframe(
    pd.DataFrame(
        {"title": [titles.get(i, "") for i in history], "SID": [tok.encode(i) for i in history], "item_id": history}
    ),
    hide_index=True,
)
if len(history) > rec.config.max_history:
    st.caption(f"The model reads the last {rec.config.max_history} items.")

# ---------------------------------------------------------------- search
st.subheader("Recommendations")
c1, c2, c3, c4 = st.columns([3, 3, 3, 2], vertical_alignment="center")
k = c1.slider("Top-K", 5, 20, 10)
beams = c2.slider("Beams", k, 50, max(20, k))
constrained = c3.toggle("constrained (only real items)", value=True)
if c4.button("Recommend", type="primary", help="Searches again and re-measures the latency. It also runs by itself "
             "when the history or a setting changes."):  # fmt: skip
    state["nonce"] += 1
try:
    r = session_memo(  # searched again when the history, a setting or the nonce ("Recommend") changes
        "recommend",
        (base_key, new_items, tuple(history), k, beams, constrained, state["nonce"]),
        lambda: search(rec, tuple(history), k, beams, constrained),
    )
except SidrecError as e:
    st.error(f"No recommendation: {e}")
    st.stop()

st.dataframe(
    pd.DataFrame(
        {
            "rank": range(1, len(r.items) + 1),
            "title": [titles.get(i, "") for i in r.items],
            "SID": r.sids,
            "score": r.scores,
            "item_id": r.items,
            "why": [(BY_TEXT if i == r.by_text else "") + explain(tok, keywords, i, history).sentence for i in r.items],
        }
    ),
    hide_index=True,
    width="stretch",
    column_config={
        "rank": st.column_config.NumberColumn(width="small"),
        "title": st.column_config.TextColumn(width="medium"),
        "score": st.column_config.NumberColumn("score (log-prob)", format="%.3f", width="small"),
        "why": st.column_config.TextColumn("why (tokens shared with the history)", width="large"),
    },
)
if len(r.items) < k:
    st.caption(f"Only {len(r.items)} of the {len(r.beams[-1])} final beams name a real item.")
c1, c2 = st.columns([2, 3])
with c1:
    m = st.columns(2)
    m[0].metric("Latency", f"{r.timings['total_ms']:.0f} ms", help="this search, run by this session")
    m[1].metric("Prompt encoding", f"{r.timings['encode_ms']:.0f} ms")
    if context := decode_benchmark():
        st.caption(context)
    if not constrained:
        n, invalid, duplicates = beam_outcomes(r, tok)
        m = st.columns(2)
        m[0].metric("Invalid SIDs", f"{invalid / max(n, 1):.0%}", help=f"{invalid} of {n} final beams name no item")
        m[1].metric(
            "Duplicates", f"{duplicates / max(n, 1):.0%}",
            help=f"{duplicates} of {n} final beams repeat an item of a better beam (counted before dedup)",
        )  # fmt: skip
with c2:
    steps = pd.DataFrame(
        {
            "stage": ["encode the prompt"]
            + [f"step {n + 1} ({chr(97 + n)})" for n in range(len(r.timings["step_ms"]))],
            "ms": [r.timings["encode_ms"], *r.timings["step_ms"]],
        }
    )
    st.plotly_chart(
        px.bar(steps, x="stage", y="ms", title="Where the time goes").update_xaxes(tickmode="linear", dtick=1)
    )

tree = beam_tree(r, tok)
labels = {s: titles.get(i, "") for s, i in zip(r.sids, r.items, strict=True)}
st.plotly_chart(beam_tree_figure(tree, labels))
st.caption(
    f"{beams} beams; at each level the best {beams} prefixes over all (beam, next code) pairs are kept"
    + (", only along prefixes of real items." if constrained else ", with no check that a prefix leads to an item.")
)
with st.expander(f"The beams at each level ({len(tree)} prefixes)"):
    st.dataframe(
        tree.assign(title=tree.prefix.map(labels).fillna("")).drop(columns="parent"),
        hide_index=True,
        column_config={"score": st.column_config.NumberColumn("score (log-prob)", format="%.3f")},
    )
