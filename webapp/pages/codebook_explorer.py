"""Codebook Explorer: the item map coloured by code, what each token means, the SID prefix tree."""

import numpy as np
import plotly.express as px
import streamlit as st

from sidrec.explore import items_frame, prefix_tree, token_table, umap_2d
from webapp.ui import current_workspace, dataset, need_tokenizer

st.title("🗺️ Codebook Explorer")
ws = current_workspace()
ds = dataset(ws)
tok, keywords, embeddings = need_tokenizer(ws)


@st.cache_data(show_spinner="Projecting the items with UMAP (cached after the first time)…", max_entries=8)
def projection(key: str, _x: np.ndarray) -> np.ndarray:
    return umap_2d(_x)


@st.cache_data(show_spinner=False, max_entries=8)
def frames(key: str, _tok, _items, _keywords):
    return items_frame(_tok, _items), prefix_tree(_tok, _keywords, depth=2)


key = tok.fingerprint()
items_df, tree = frames(key, tok, ds.items, keywords)
level = st.radio(
    "Colour by the code at level",
    list(range(tok.n_levels)),
    format_func=lambda lv: f"{chr(97 + lv)} (level {lv + 1})",
    horizontal=True,
)
col = f"level_{level}"

st.subheader("Items in embedding space")
if embeddings is None or embeddings.shape[1] == 0:
    st.info("This tokenizer was imported from a published index and carries no item embeddings to map.")
else:
    xy = projection(key, embeddings)
    plot = items_df.assign(x=xy[: len(items_df), 0], y=xy[: len(items_df), 1])
    top = plot[col].value_counts().index[:20]
    plot["code"] = plot[col].where(plot[col].isin(top), "other")
    fig = px.scatter(
        plot,
        x="x",
        y="y",
        color="code",
        hover_name="title",
        hover_data={"sid": True, "x": False, "y": False, "code": False},
        title=f"UMAP of the item embeddings, coloured by the {len(top)} most used codes at level {chr(97 + level)}",
        height=620,
        render_mode="webgl",
    )
    fig.update_traces(marker={"size": 5, "opacity": 0.8})
    st.plotly_chart(fig)

st.subheader("What each token means")
table = token_table(keywords, level)
c1, c2 = st.columns([3, 2])
with c1:
    st.dataframe(
        table, hide_index=True, height=380, column_config={"description": st.column_config.TextColumn(width="large")}
    )
with c2:
    if len(table):
        choice = st.selectbox(
            "Token", table["token"].tolist(), format_func=lambda t: f"{t}  ·  {', '.join(keywords[t]['keywords'][:3])}"
        )
        info = keywords[choice]
        st.markdown(f"### `{choice}`")
        st.markdown(info["description"])
        st.markdown(" ".join(f"`{k}`" for k in info["keywords"]))
        carriers = items_df[items_df[f"level_{info['level']}"] == choice].head(12)
        st.dataframe(carriers[["sid", "title"]], hide_index=True)

st.subheader("The SID prefix tree")
st.caption("First two levels; the size of a node is the number of items under it. Hover for its keywords.")
fig = px.sunburst(
    tree,
    ids="id",
    parents="parent",
    names="label",
    values="items",
    hover_data=["keywords"],
    branchvalues="total",
    height=650,
    maxdepth=2,
)
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
