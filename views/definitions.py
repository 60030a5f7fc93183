"""Definitions: what every number means, with a worked example, and how files are read — the
product's own docs/metrics.md and docs/data.md shown as they are (the pages' help texts name
their sections)."""

from pathlib import Path

import streamlit as st

from views import _ui

DOCS = Path(__file__).resolve().parent.parent / "docs"

with _ui.guarded():
    metrics = (DOCS / "metrics.md").read_text(encoding="utf-8")
    data = (DOCS / "data.md").read_text(encoding="utf-8")
    # the two files link each other: on this page both are sections of one page
    data_title = data.partition("\n")[0].lstrip("# ").strip()
    data_anchor = "#" + "-".join(data_title.lower().split())
    metrics = metrics.replace("](data.md)", f"]({data_anchor})")
    data = data.replace("](metrics.md#", "](#").replace("](metrics.md)", "](#what-the-numbers-mean)")
    st.markdown(metrics)
    st.divider()
    st.markdown(data)
