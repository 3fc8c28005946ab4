"""Home: the pipeline in a few lines and one diagram."""

import streamlit as st

from webapp.ui import current_workspace, dataset_summary, page_link

st.title("sidrec: recommendation as language, with semantic IDs")
st.markdown(
    """
Every item in the catalogue gets a short **semantic ID**, a few code tokens such as
`<a_12><b_201><c_7><d_0>`. Items that are alike in what they *are* (their text) and in how
people *buy* them (their co-occurrence in histories) share leading tokens. A small language
model then learns to read a customer's history written in these tokens and to **write the
next item's ID**, which can only ever be a real item. Recommendations are computed ahead of
time for every customer and served from a cache; live generation is there to compare.
"""
)

st.graphviz_chart(
    """
digraph {
  rankdir=LR; node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica"];
  cat [label="Catalogue\\n+ histories"]; emb [label="Item embeddings\\ntext + behaviour"];
  tok [label="Codebook tokenizer\\nitem <-> SID"]; kw [label="Token keywords\\nwhat <a_12> means"];
  llm [label="Aligned LLM\\nSID tokens + LoRA"]; gen [label="Constrained\\nbeam search"];
  cache [label="Top-K cache"]; eval [label="Evaluation\\nvs baselines"];
  cat -> emb -> tok -> kw -> llm -> gen -> cache; gen -> eval;
}
"""
)

ws = current_workspace()
summary = dataset_summary(ws)
cols = st.columns(4)
cols[0].metric("Workspace", ws.name)
cols[1].metric("Items", f"{summary['items']:,}")
cols[2].metric("Users", f"{summary['users']:,}")
cols[3].metric("Interactions", f"{summary['interactions']:,}")

st.subheader("Where to go next")
page_link("webapp/pages/catalogue.py", "Catalogue: the items and histories, or upload your own")
page_link("webapp/pages/tokenizer.py", "Tokenizer: turn items into semantic IDs")
page_link("webapp/pages/codebook_explorer.py", "Codebook Explorer: what each code token means")
