"""Data: browse every table with a search and a column filter; paging and downloads run in
SQL (at most 10,000 rows drawn; the count says how many match)."""

import tempfile
from pathlib import Path

import streamlit as st

from views import _ui
from kam_analytics import browse, db, formatting
from kam_analytics.overview import TABLE_LABELS

PAGE = 500

st.title("Data")

with _ui.guarded():
    if not _ui.loaded_summary()["counts"]["rows"].sum():
        st.info("Nothing is loaded yet: import files on the Import page, or load the demo data on the Overview.",
                icon=":material/info:")
    tables = list(browse.BROWSABLE)
    labels = {**TABLE_LABELS, "import_batches": "Import batches", "import_files": "Imported files",
              "import_rejects": "Rejected values"}
    c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
    table = c1.selectbox("Table", tables, format_func=lambda t: labels.get(t, t),
                         index=tables.index(_ui.query_param("table", "deals", tables)), key="table")
    cols = [c for c, _ in _ui.read("kam_analytics.browse.columns", table=table)]
    search = c2.text_input("Search text columns", value=_ui.query_param("q", "") or "", key="q")
    col_options = ["(any)", *cols]
    column = c3.selectbox("Filter column", col_options, key="col",
                          index=col_options.index(_ui.query_param("col", "(any)", col_options)))
    value = c4.text_input("equals", key="val", disabled=column == "(any)", value=_ui.query_param("val", "") or "")
    _ui.set_query_params(table=table, q=search or None, col=None if column == "(any)" else column,
                         val=(value or None) if column != "(any)" else None)
    col_arg = None if column == "(any)" else column
    first = _ui.read("kam_analytics.browse.page", table=table, search=search or None, column=col_arg,
                     value=value or None, offset=0, limit=1)[1]
    pages = max(1, -(-first // PAGE))
    page_no = st.number_input(f"Page (of {formatting.number(pages)})", 1, pages, 1, key="page") if pages > 1 else 1
    rows, total = _ui.read("kam_analytics.browse.page", table=table, search=search or None, column=col_arg,
                           value=value or None, offset=(page_no - 1) * PAGE, limit=PAGE)
    st.caption(f"{formatting.number(total)} row(s) match; showing {formatting.number(len(rows))} "
               f"from row {formatting.number((page_no - 1) * PAGE + 1) if total else 0}.")
    _ui.table(rows)
    if total and st.button("Prepare a csv of every matching row", key="export"):
        target = Path(tempfile.mkdtemp(prefix="kam-export-")) / f"{table}.csv"
        with db.read(_ui.path()) as con:
            n = browse.export_csv(con, table, target, search or None, col_arg, value or None)
        st.download_button(f"⬇ {table}.csv ({formatting.number(n)} rows)", target.read_bytes(), f"{table}.csv",
                           "text/csv", key="export-dl")
