"""sidrec app: entry point. The app's own navigation (webapp.ui.PAGES) and the shared sidebar."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import streamlit as st  # noqa: E402

from webapp.ui import navigation, sidebar  # noqa: E402

st.set_page_config(page_title="sidrec", page_icon="🧭", layout="wide")

# Streamlit's navigation widget drops the query string (the workspace) on every click: the sidebar draws the
# pages itself, with the workspace in each link.
page = st.navigation(navigation(), position="hidden")
sidebar()
page.run()
