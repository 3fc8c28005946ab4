"""Codebook Explorer: drill down the codes level by level on the item map, what each token means, the prefix tree."""

import numpy as np
import plotly.express as px
import streamlit as st

from sidrec.explore import drill_down, items_frame, prefix_tree, token_table, umap_2d
from sidrec.tokenizer import token
from webapp.ui import current_workspace, dataset, need_tokenizer

st.title("🗺️ Codebook Explorer")
ws = current_workspace()
ds = dataset(ws)
tok, keywords, embeddings = need_tokenizer(ws)


@st.cache_data(show_spinner="Projecting the items with UMAP (cached after the first time)…", max_entries=8)
def projection(key: str, _x: np.ndarray) -> np.ndarray:
    return umap_2d(_x)


@st.cache_data(show_spinner=False, max_entries=8)
def item_codes(key: str, _tok, _items):
    return items_frame(_tok, _items)


# distinct colours (Plotly's Dark24 then Alphabet); grey is kept for what is outside the chosen prefix
PALETTE = list(dict.fromkeys(px.colors.qualitative.Dark24 + px.colors.qualitative.Alphabet))


key = tok.fingerprint()
items_df = item_codes(key, tok, ds.items)
categories = ds.items["categories"].astype(str)
separating = tok.n_levels - 1  # the last level only tells apart items whose codes collide


def level_name(lv: int) -> str:
    return f"{chr(97 + lv)} (level {lv + 1}{', separating' if lv == separating else ''})"


st.subheader("Drill down the codes")
st.caption(
    "Pick a code at level a, then one of its children at level b, and so on: the map highlights the items under "
    "the chosen prefix, coloured by their next code. Coherence: how much more often two items of a code share a "
    "category than two items drawn at random from the catalogue (lift 1 = no better than chance)."
)
prefix: list[int] = []
cols = st.columns(max(tok.n_levels - 1, 1))
for lv in range(tok.n_levels - 1):  # the separating level is shown under its prefix, not chosen
    kids = drill_down(tok, prefix, categories, keywords)
    labels = {int(r.code): f"{r.token} · {r.items} items · {r.keywords or '—'}" for r in kids.itertuples()}
    choice = cols[lv].selectbox(
        f"Code at level {level_name(lv)}", [None, *labels],
        format_func=lambda c, lb=labels: "all" if c is None else lb[c],
        key=f"explore_{key}_{'-'.join(map(str, prefix))}",
    )  # fmt: skip
    if choice is None:
        break
    prefix.append(int(choice))
chosen = "".join(token(lv, c) for lv, c in enumerate(prefix))
children = drill_down(tok, prefix, categories, keywords)
child_level = len(prefix)

if embeddings is None or embeddings.shape[1] == 0:
    st.info("This tokenizer was imported from a published index and carries no item embeddings to map.")
else:
    xy = projection(key, embeddings)
    plot = items_df.assign(x=xy[: len(items_df), 0], y=xy[: len(items_df), 1])
    inside = plot["sid"].str.startswith(chosen) if chosen else np.ones(len(plot), dtype=bool)
    col = f"level_{child_level}"
    if chosen or len(children) <= len(PALETTE):
        plot["code"] = np.where(inside, plot[col], "outside the prefix")
    else:  # the root with more codes than distinct colours: the largest codes, the rest grey
        top = set(children["token"][: len(PALETTE) - 1])
        plot["code"] = np.where(plot[col].isin(top), plot[col], f"the other {len(children) - len(top)} codes")
    order = [c for c in children["token"] if c in set(plot["code"])]
    grey = [c for c in plot["code"].unique() if c not in order]
    colours = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(order)} | dict.fromkeys(grey, "#d9d9d9")
    plot = plot.assign(_grey=plot["code"].isin(grey)).sort_values("_grey", ascending=False)  # grey drawn first
    fig = px.scatter(
        plot, x="x", y="y", color="code", color_discrete_map=colours, category_orders={"code": order + grey},
        hover_name="title", hover_data={"sid": True, "x": False, "y": False, "code": False, "_grey": False},
        title=(f"Items under {chosen}, coloured by their code at level {level_name(child_level)}" if chosen
               else f"All items, coloured by their code at level {level_name(child_level)}"),
        height=620, render_mode="webgl",
    )  # fmt: skip
    for trace in fig.data:  # grey context small and faint, the chosen codes large
        faint = trace.name in grey
        trace.marker.update(size=4 if faint else 9, opacity=0.35 if faint else 0.9)
    st.plotly_chart(fig)

st.markdown(
    f"**{len(children)} codes at level {level_name(child_level)}"
    + (f" under {chosen}**" if chosen else "**")
    + (" · the separating level carries no meaning, so it has no keywords" if child_level == separating else "")
)
c1, c2 = st.columns([3, 1])
c1.dataframe(
    children.drop(columns=["code"] + (["keywords"] if child_level == separating else [])),
    hide_index=True, height=360, width="stretch",
    column_config={
        "token": st.column_config.TextColumn(width="small"),
        "items": st.column_config.NumberColumn(width="small"),
        "keywords": st.column_config.TextColumn(width="medium"),
        "agreement": st.column_config.NumberColumn("same category", format="%.2f", width="small",
                                                   help="share of item pairs of the code in one category"),
        "baseline": st.column_config.NumberColumn("random pairs", format="%.2f", width="small",
                                                  help="the same share for two items drawn from the catalogue"),
        "lift": st.column_config.NumberColumn("lift", format="%.1f×", width="small",
                                              help="coherence: same category / random pairs (1 = chance)"),
    },
)  # fmt: skip
if len(children) > 1:
    bars = children.head(40)
    c2.plotly_chart(
        px.bar(bars, x="token", y="items", title=f"Items per code ({len(bars)} largest)", height=360)
        .update_xaxes(type="category", tickangle=-60, tickmode="linear")
    )  # fmt: skip

st.subheader("What each token means")
level = st.radio("Level", list(range(tok.n_levels)), format_func=level_name, horizontal=True, key="explore_token_level")
if level == separating:
    st.info("The separating level only tells apart items that share every other code: its tokens carry no meaning.")
else:
    table = token_table(keywords, level)
    c1, c2 = st.columns([3, 2])
    with c1:
        st.dataframe(
            table, hide_index=True, height=380,
            column_config={"description": st.column_config.TextColumn(width="large")},
        )  # fmt: skip
    with c2:
        if len(table):
            choice = st.selectbox(
                "Token", table["token"].tolist(),
                format_func=lambda t: f"{t}  ·  {', '.join(keywords[t]['keywords'][:3])}",
            )  # fmt: skip
            info = keywords[choice]
            st.markdown(f"### `{choice}`")
            st.markdown(info["description"])
            st.markdown(" ".join(f"`{k}`" for k in info["keywords"]))
            carriers = items_df[items_df[f"level_{info['level']}"] == choice].head(12)
            st.dataframe(carriers[["sid", "title"]], hide_index=True)

st.subheader("The SID prefix tree")
tree = prefix_tree(tok, keywords, depth=min(2, tok.n_levels - child_level), root=tuple(prefix))
st.caption(
    f"{'Under ' + chosen if chosen else 'From the root'}, two levels down; a box's size is the number of items "
    "under it. Click a box to zoom in, hover for its keywords."
)
fig = px.treemap(
    tree, ids="id", parents="parent", names="label", values="items", hover_data=["keywords"],
    branchvalues="total", height=560, maxdepth=3,
)  # fmt: skip
fig.update_traces(textinfo="label+value", root_color="#f4f4f4")
st.plotly_chart(fig)

st.subheader("The tokens inside the language model")
llm_dir = ws.artifact("llm")
if llm_dir is None:
    st.info("This workspace has no aligned model yet: train one on the Align page to see its SID tokens here.")
elif st.toggle("Show the SID tokens in the LLM's embedding space (loads the model once, a few seconds)"):

    @st.cache_data(show_spinner="Loading the model and projecting its SID rows…", max_entries=4)
    def llm_points(model_dir: str, created: str, tok_key: str, _keywords: dict):
        from sidrec.token_space import token_map, trained_rows

        points = token_map(trained_rows(model_dir, _keywords, tok_key), _keywords)
        xy = umap_2d(np.stack(points.pop("vector").to_list()))
        return points.assign(x=xy[:, 0], y=xy[:, 1])

    import json

    created = json.loads((llm_dir / "manifest.json").read_text()).get("created", "")
    try:
        points = llm_points(str(llm_dir), created, key, keywords)
    except Exception as e:  # a model that does not load is reported, not raised
        st.error(f"The model could not be loaded: {e}")
    else:
        shown = points[(points["level"] == level) | (points["kind"] == "keyword")]
        fig = px.scatter(
            shown, x="x", y="y", color="kind", symbol="kind", hover_name="label",
            hover_data={"keywords": True, "description": True, "x": False, "y": False, "kind": False},
            color_discrete_map={"initial": "#9aa5b1", "trained": "#d62728", "keyword": "#1f77b4"},
            title=f"Level-{chr(97 + level)} SID rows, as initialised and after training, among their keywords (UMAP)",
            height=620,
        )  # fmt: skip
        fig.update_traces(marker={"size": 7, "opacity": 0.8})
        st.plotly_chart(fig)
        st.caption(
            "Grey: a token's input row as SA-Init set it (the mean of its keywords); red: the same row after training; "
            "blue: the keywords themselves. A token near its keywords means the model reads it as those words."
        )
