"""Data: browse every table with a search and a column filter; paging and downloads run in
SQL (at most 10,000 rows drawn; the count says how many match)."""

import shutil
import tempfile
from pathlib import Path

import pandas as _pd
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
    _ui.refused("table", tables, "a table this page shows", "showing the deals")
    table = c1.selectbox("Table", tables, format_func=lambda t: labels.get(t, t),
                         index=tables.index(_ui.query_param("table", "deals", tables)), key="table")
    cols = [c for c, _ in _ui.read("kam_analytics.browse.columns", table=table)]
    search = c2.text_input("Search text columns", value=_ui.query_param("q", "") or "", key="q")
    col_options = ["(any)", *cols]
    _ui.refused("col", col_options, f"a column of {labels.get(table, table)}", "searching every column")
    column = c3.selectbox("Filter column", col_options, key="col",
                          index=col_options.index(_ui.query_param("col", "(any)", col_options)))
    value = c4.text_input("equals", key="val", disabled=column == "(any)", value=_ui.query_param("val", "") or "")
    _ui.set_query_params(table=None if table == "deals" else table, q=search or None, col=None if column == "(any)" else column,
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
        data = target.read_bytes()
        shutil.rmtree(target.parent, ignore_errors=True)         # the download holds it; no copy stays behind
        st.download_button(f"⬇ {table}.csv ({formatting.number(n)} rows)", data, f"{table}.csv",
                           "text/csv", key="export-dl")

    st.divider()
    st.subheader("The whole database", help="A zip of one file per table (every data table, the import history "
                 "and its undo records) with a manifest naming the schema version. csv opens anywhere: text a "
                 "spreadsheet would run as a formula gets a leading ', which a restore takes off again. parquet "
                 "keeps the exact types.")
    b1, b2 = st.columns(2)
    with b1:
        fmt = st.radio("Backup format", ["csv", "parquet"], horizontal=True, key="backup-format")
        if st.button("Prepare a backup of everything", key="backup"):
            from kam_analytics import backup

            target = Path(tempfile.mkdtemp(prefix="kam-backup-")) / f"kam-backup-{fmt}.zip"
            with st.status("Writing every table…", expanded=False) as status:
                m = backup.export(_ui.path(), target, fmt,
                                  progress=lambda share, table: status.update(label=f"Writing {table}… {share:.0%}"))
                status.update(label=f"{len(m['tables'])} tables, {formatting.number(sum(m['tables'].values()))} rows",
                              state="complete")
            data = target.read_bytes()
            shutil.rmtree(target.parent, ignore_errors=True)     # the download holds it; no copy stays behind
            st.download_button(f"⬇ {target.name}", data, target.name, "application/zip", key="backup-dl")
    with b2:
        if _ui.may_change_data():
            upload = st.file_uploader("Restore a backup (replaces all data)", type=["zip"], key="restore-file")
            replace = st.checkbox("Yes, replace every table and the import history", key="restore-sure")
            if st.button("Restore", disabled=upload is None or not replace, key="restore"):
                from kam_analytics import backup

                # beside the database, removed at the end (after a kill, at the next start): no copy of the
                # backup, every name in it, stays in the temp folder (issue 27)
                with backup.working_folder(_ui.path()) as folder:
                    src = Path(folder) / "backup.zip"
                    src.write_bytes(upload.getvalue())
                    with st.status("Restoring…", expanded=False) as status:
                        m = backup.restore(_ui.path(), src, replace=True, name=upload.name,
                                           progress=lambda share, table: status.update(label=f"Loading {table}… {share:.0%}"))
                        status.update(label="Restored", state="complete")
                st.success(f"Restored {formatting.number(sum(m['tables'].values()))} rows from {_ui.md(upload.name)} "
                           f"(backup of {m.get('created_at', '?')}).")
        else:
            st.caption("Restoring a backup is for analysts.")

    st.subheader("Remove a person", help="A stakeholder or an owner who asks to be forgotten: their own rows "
                 "(stakeholders, owners) are deleted; wherever else the name is written (deal and plan owners, "
                 "managers, reports-to, forecast calls, quotas, notes, the import history) it becomes "
                 "'removed person N'. One batch, which keeps no copy of the name and cannot be undone.")
    who = st.text_input("Name, as written (case and spacing do not matter)", key="forget-name")
    if who.strip():
        from kam_analytics import people

        found = _ui.read("kam_analytics.people.places", name=who)
        if not found:
            st.info(f"{_ui.md(repr(who))} is not written anywhere in the database.", icon=":material/info:")
        else:
            st.caption(f"{_ui.md(repr(who))} is written in {len(found)} place(s):")
            _ui.table(_pd.DataFrame(found).rename(columns={"table": "Table", "column": "Column", "rows": "Rows",
                                                           "change": "Change"}))
            if _ui.may_change_data():
                sure = st.checkbox("Yes, remove this name everywhere; I know it cannot be undone", key="forget-sure")
                if st.button("Remove everywhere", disabled=not sure, key="forget"):
                    with st.spinner("Removing the name and rebuilding the database file…"):
                        done = people.forget(_ui.path(), who)
                    st.success(f"Removed as batch {done.batch_id}: {formatting.number(done.rows)} row(s); the name "
                               f"now reads '{done.pseudonym}'. The database file was rebuilt in "
                               f"{done.rebuild_seconds:.1f} s, so no old copy stays in its free space"
                               + (f"; {len(done.files_deleted)} kept upload(s) that held it were deleted."
                                  if done.files_deleted else "."))
            else:
                st.caption("Removing a person is for analysts.")
        others = _ui.read("kam_analytics.people.other_spellings", name=who)
        if others:
            st.caption("Other spellings that may be the same person (not changed: check each, and remove it too if "
                       "it is — type it above):")
            _ui.table(_pd.DataFrame(others).rename(columns={"spelling": "Spelling", "rows": "Rows", "where": "Where"}))
