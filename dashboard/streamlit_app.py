"""lagwatch dashboard entry point: page config, sidebar and navigation only.

Run with ``lagwatch dashboard`` (or ``python -m dashboard.launch``), which starts
``streamlit run`` on this file headless with the collector URLs in the environment.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import dashboard  # noqa: F401
except ImportError:  # run from a checkout without an installed package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

from dashboard import ui

st.set_page_config(page_title="lagwatch", page_icon=":material/timer:", layout="wide")
ui.sidebar()

PAGES = "app_pages/"
pages = [
    st.Page(PAGES + "overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page(PAGES + "group.py", title="Group", icon=":material/monitoring:"),
    st.Page(PAGES + "consistency.py", title="Consistency", icon=":material/hourglass_top:"),
]
if ui.demo_available(ui.config().demo_control):
    pages.append(st.Page(PAGES + "demo.py", title="Demo", icon=":material/account_balance:"))
pages.append(st.Page(PAGES + "collector.py", title="Collector", icon=":material/speed:"))
st.navigation(pages).run()
