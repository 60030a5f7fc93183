"""Overview: what is loaded, the last import, the data's date; a friendly start when empty."""

import streamlit as st

from views import _ui
from kam_analytics import formatting

st.title("KAM Analytics")
st.caption("Key-account and deal-plan analytics: stage velocity, forecasts, deals at risk, mutual plans.")

with _ui.guarded():
    if not _ui.sign_in_configured():
        st.caption(":material/lock_open: Open on this machine: no sign-in is configured, so anyone who can reach "
                   "this address may import and change data. README \"Sign-in\" says how to add viewers and "
                   "analysts.")
    s = _ui.loaded_summary()
    if not s["deals"]:
        st.info("The database is empty. Load the demo data to look around, or bring your own files.",
                icon=":material/waving_hand:")
        c1, c2 = st.columns(2)
        with c1.container(border=True):
            st.subheader("Try it with demo data")
            st.write("A realistic, generated sales world: about 5,000 deals over two years with stage "
                     "histories, closing and mutual plans, key accounts with account plans and maps.")
            if st.button("Load the demo data", type="primary", key="load-demo", disabled=not _ui.may_change_data(),
                         help=None if _ui.may_change_data() else "Loading data is for analysts"):
                from kam_analytics import demo

                with st.status("Loading the demo data…", expanded=True) as status:
                    bar = st.progress(0.0)
                    msg = demo.load(_ui.path(), deals=5000, seed=42, progress=lambda f, t: bar.progress(f, text=t))
                    status.update(label="Demo data loaded", state="complete")
                st.success(msg)
                st.rerun()
        with c2.container(border=True):
            st.subheader("Use your own data")
            st.write("Upload CRM exports and filled-in templates (account plans, account maps, deals, stage "
                     "histories, closing and mutual plans): csv, xlsx, xls or ods. Templates to fill in are "
                     "on the Import page.")
            st.page_link("views/import_files.py", label="Go to Import", icon=":material/upload_file:")
        st.stop()

    m = st.columns(4)
    for col, (label, value, status) in zip(m, (("Deals", s["deals"], None), ("Open", s["open"], "open"),
                                                ("Won", s["won"], "won"), ("Lost", s["lost"], "lost"))):
        col.metric(label, formatting.number(value))
        query = {"table": "deals", **({"col": "status", "val": status} if status else {})}
        col.page_link("views/data.py", label=f"See the {label.lower() if status else 'deals'}",
                      icon=":material/table:", query_params=query)

    if s["last_batch"]:
        b = s["last_batch"]
        st.write(f"**Last load:** batch {b['batch_id']} — {_ui.md(b['description'])} "
                 f"({formatting.when(b['finished_at'])}, {formatting.number(b['rows_loaded'])} rows).")
    cfg = s["stages"]
    if cfg is not None:
        label = "Stage list (inferred from the data — confirm it in Settings)" \
            if cfg.inferred else "Stage list (saved)"
        st.write(f"**{label}:** " + " → ".join(_ui.md(x) for x in cfg.stages))

    left, right = st.columns([2, 3])
    with left:
        st.subheader("What is loaded")
        counts = s["counts"][["table", "rows"]].copy()
        _ui.table(counts, height=_ui.fit_height(len(counts)),
                     column_config={"table": "Table", "rows": st.column_config.NumberColumn("Rows", format="localized")})
    with right:
        st.subheader("Import history")
        hist = s["batches"][["batch_id", "action", "description", "finished_at", "status", "rows_loaded"]]
        _ui.table(hist.head(20),
                     column_config={"batch_id": "Batch", "finished_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm"),
                                    "rows_loaded": st.column_config.NumberColumn("Rows", format="localized")})
    st.page_link("views/stage_durations.py", label="How long do deals spend in each stage? →", icon=":material/timer:")
