"""Catalogue: choose the sample or upload a catalogue; statistics and plots."""

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from sidrec.data import category_level, item_popularity, top_category
from sidrec.errors import SidrecError
from webapp.ui import current_workspace, dataset, dataset_summary, flash, job_board, select_workspace
from webapp.workspace import SAMPLE, copy_of_sample, create_workspace, delete_workspace, reset_workspace

st.title("📦 Catalogue")

with st.expander("Upload a catalogue as a new workspace", expanded=False):
    st.markdown(
        "Items: a CSV, JSONL or Parquet file with `item_id` and `title`, and any of `description`, `brand`, "
        "`categories`. Interactions (optional): `user_id`, `item_id`, optional `timestamp` (else file order)."
    )
    with st.form("upload"):
        name = st.text_input("Workspace name", placeholder="my-store")
        items_file = st.file_uploader("Items", type=["csv", "jsonl", "parquet"])
        inter_file = st.file_uploader("Interactions (optional)", type=["csv", "jsonl", "parquet"])
        submitted = st.form_submit_button("Check and create workspace")
    if submitted:
        if items_file is None:
            st.error("Choose an items file.")
        else:
            files = {"items" + Path(items_file.name).suffix.lower(): items_file.getvalue()}  # Items.CSV too
            if inter_file is not None:
                files["interactions" + Path(inter_file.name).suffix.lower()] = inter_file.getvalue()
            try:
                ws = create_workspace(name, files)
            except (SidrecError, OSError) as e:
                st.error(f"Not saved: {e}")
            else:
                select_workspace(ws.name)
                flash(f"Workspace {ws.name!r} created and selected: its pages now read and write it.")
                st.rerun()

ws = current_workspace()
with st.expander("Manage this workspace", expanded=False):
    if ws.read_only:
        st.caption(
            "The demo is read-only, so its tokenizer, model, cache and evaluation always belong together. Fitting, "
            "training, building or evaluating on it makes a copy first; or make one now."
        )
        if st.button("Make a copy of the demo"):
            try:
                copy = copy_of_sample()
            except (SidrecError, OSError) as e:
                st.error(f"No copy made: {e}")
            else:
                select_workspace(copy.name)
                flash(f"Workspace {copy.name!r} created: the demo's catalogue and artifacts, yours to change.")
                st.rerun()
    else:
        job = job_board().get(ws.name)
        busy = job is not None and job.running
        if busy:
            st.info("A training job is running in this workspace: stop it on the Align page first.")
        # a box ticked before a job started stays ticked (disabled or not), so the buttons check `busy` too
        sure = st.checkbox(f"I want to change workspace {ws.name!r}", disabled=busy)
        left, right = st.columns(2)
        try:
            if left.button("Reset: remove what was made from it, keep the catalogue", disabled=not sure or busy):
                removed = reset_workspace(ws.name)
                flash(f"Workspace {ws.name!r} reset: removed {', '.join(removed) or 'nothing'}.")
                st.rerun()
            if right.button("Delete the workspace and everything in it", disabled=not sure or busy):
                delete_workspace(ws.name)
                select_workspace(SAMPLE)
                flash(f"Workspace {ws.name!r} deleted.")
                st.rerun()
        except (SidrecError, OSError) as e:
            st.error(f"Not changed: {e}")

try:
    ds = dataset(ws)
    summary = dataset_summary(ws)
except SidrecError as e:
    st.error(f"Workspace {ws.name!r} cannot be read: {e}")
    st.stop()

st.caption(f"Workspace **{ws.name}** · layout `{summary['layout']}` · `{ws.data_dir}`")
cols = st.columns(5)
cols[0].metric("Items", f"{summary['items']:,}")
cols[1].metric("Users", f"{summary['users']:,}")
cols[2].metric("Interactions", f"{summary['interactions']:,}")
cols[3].metric("Mean history", f"{summary['seq_len']['mean']:.1f}")
if "split" in summary:
    cols[4].metric("Too short for leave-one-out", summary["split"]["too_short_users"])
for note in summary["notes"]:
    st.info(note)

left, right = st.columns(2)
if ds.sequences:
    lengths = pd.Series([len(s) for s in ds.sequences.values()], name="history length")
    left.plotly_chart(
        px.histogram(lengths, x="history length", nbins=40, title="History length per user").update_layout(
            showlegend=False, yaxis_title="users"
        ),
    )
    pop = item_popularity(ds.sequences)
    tail = pd.DataFrame({"rank": np.arange(1, len(pop) + 1), "interactions": pop.to_numpy()})
    share = pop.cumsum() / pop.sum()
    head = int((share < 0.5).sum()) + 1
    right.plotly_chart(
        px.line(
            tail,
            x="rank",
            y="interactions",
            log_x=True,
            log_y=True,
            title=f"Popularity long tail: {head} items ({head / len(ds.items):.0%}) take half the interactions",
        ),
    )
else:
    left.info("No interactions: this catalogue can be tokenized and explored, not evaluated.")

cats = ds.items["categories"].map(top_category)
if cats.nunique() <= 1:  # a single root category: show the next level down
    cats = ds.items["categories"].map(lambda c: category_level(c, 1))
counts = cats.replace("", "(none)").value_counts().head(30).rename_axis("category").reset_index(name="items")
st.plotly_chart(
    px.bar(counts, x="items", y="category", orientation="h", title="Items per category").update_layout(
        yaxis={"categoryorder": "total ascending", "tickmode": "linear", "dtick": 1}, height=max(300, 24 * len(counts))
    )
)

st.subheader("Items")
query = st.text_input("Search titles", placeholder="e.g. tent")
view = ds.items.reset_index()
if query:
    view = view[view["title"].str.contains(query, case=False, regex=False)]
st.dataframe(view.head(500), hide_index=True)
