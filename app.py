"""sidrec app: entry point. Navigation over pages/ and the shared sidebar."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import streamlit as st  # noqa: E402

from ui import sidebar  # noqa: E402

st.set_page_config(page_title="sidrec", page_icon="🧭", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/catalogue.py", title="Catalogue", icon="📦"),
    st.Page("pages/tokenizer.py", title="Tokenizer", icon="🧩"),
    st.Page("pages/align.py", title="Align", icon="🎯"),
    st.Page("pages/codebook_explorer.py", title="Codebook Explorer", icon="🗺️"),
    st.Page("pages/recommend.py", title="Recommend", icon="🔮"),
    st.Page("pages/cache_vs_live.py", title="Cache vs Live", icon="⚡"),
    st.Page("pages/evaluate.py", title="Evaluate", icon="📊"),
    st.Page("pages/walkthrough.py", title="Walkthrough", icon="🧭"),
]

page = st.navigation(PAGES)
sidebar()
page.run()
