"""Import: upload spreadsheets, check what was recognised (kind, where the table is, the
column mapping — editable), preview the rows as they will be stored and every bad value,
then load them as one undoable batch. Below, the import history with undo."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from views import _ui
from kam_analytics import formatting
from kam_analytics.backup import stored_name
from kam_analytics.importing.mapping import kind_fields
from kam_analytics.importing.read import BOOK_EXT, TEXT_EXT

NOT_USED = "(not used)"
DEMO_CHOICES = {"Start clean (remove the demo data; undo brings it back)": "replace",
                "Keep the demo data beside mine": "keep"}
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "JPY", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK", "CNY", "INR", "BRL")


@st.cache_data(show_spinner=False)
def _template(kind: str, lang: str, stages: tuple | None) -> bytes:
    from kam_analytics import templates

    return templates.build(kind, lang, list(stages) if stages else None)

KINDS = kind_fields()

st.title("Import")
st.caption("Upload CRM exports and filled-in templates (csv, tsv, txt, xlsx, xlsm, xls, ods). All files "
           "of one upload load together as one batch, which you can undo.")


def _saved_uploads(files) -> tuple[list[Path], list[str]]:
    """Uploaded files written to this session's temp folder (readers work on paths)."""
    folder = Path(st.session_state.setdefault("upload_dir", tempfile.mkdtemp(prefix="kam-upload-")))
    paths = []
    for f in files:
        # a name of any length (300 characters are allowed in a browser) shortened for the file system; the
        # messages and the import log keep the name as uploaded (issue 27)
        target = folder / stored_name(f.name)
        target.write_bytes(f.getvalue())
        paths.append(target)
    return paths, [Path(f.name).name for f in files]


with _ui.guarded():
    summary = _ui.loaded_summary()
    if not summary["deals"]:
        st.info("The database is empty: upload your first files below, or load the demo data on the Overview.",
                icon=":material/info:")
    with st.expander("Templates to fill in (xlsx, with drop-downs; they import back as they are)"):
        from kam_analytics import templates

        lang = st.segmented_control("Language", ["en", "it"], default="en", key="tpl-lang",
                                    format_func={"en": "English", "it": "Italiano"}.get) or "en"
        stages = tuple(_ui.read("kam_analytics.stage_list.stage_config").stages) or None
        cols = st.columns(3)
        for n, kind in enumerate(templates.KINDS):
            cols[n % 3].download_button(
                f"⬇ {kind.replace('-', ' ')}", _template(kind, lang, stages), f"{kind}-{lang}.xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"tpl-{kind}",
                width="stretch")
    # after a load or an undo: its message, once; the uploader and the confirm box start afresh
    done_message = st.session_state.pop("import_done", None)
    if done_message:
        (st.success if done_message[0] == "loaded" else st.info)(_ui.md_lines(done_message[1]))
    round_ = st.session_state.setdefault("import_round", 0)
    if _ui.may_change_data():
        uploads = st.file_uploader("Files to import", accept_multiple_files=True, key=f"uploads-{round_}",
                                   type=sorted(e.lstrip(".") for e in TEXT_EXT | BOOK_EXT))
    else:
        _ui.viewer_note("Importing and undoing")
        uploads = None
    overrides: dict = st.session_state.setdefault("import_overrides", {})
    if uploads:
        from kam_analytics.importing import run

        demo_data = None    # the database holds the demo data: start clean (the default) or keep it
        if summary["demo"]:
            demo_data = DEMO_CHOICES[st.radio(
                "The demo data", list(DEMO_CHOICES), index=0, key="demo-choice",
                help="Starting clean removes the demo's rows in the same batch as your files, so undoing that "
                     "batch brings the demo back.")]

        # read and check once per set of uploads, overrides and data version, not on every click
        import json

        mapping_only = {k: ({kk: vv for kk, vv in v.items() if kk != "aliases"} if k == "*" else v)
                        for k, v in overrides.items()}   # aliases apply at load, not to the check
        # the currency of the files with amounts but no currency column (None: the settings currency)
        settings_currency = _ui.read("kam_analytics.settings.load")["currency"]
        currency_key = "import-currency-" + "-".join(str(f.file_id) for f in uploads)   # one choice per upload
        currency = st.session_state.get(currency_key)
        currency = None if currency == settings_currency else currency
        signature = (tuple((f.file_id, f.name, f.size) for f in uploads), json.dumps(mapping_only, sort_keys=True),
                     _ui.data_version(), currency, demo_data)
        if st.session_state.get("checked", (None,))[0] != signature:
            paths, names = _saved_uploads(uploads)
            with st.status("Reading and checking the files…", expanded=False) as status:
                # in a child process with a memory cap: no file can take the server down (issue 27)
                from kam_analytics.importing import sandbox

                check = sandbox.preview(_ui.path(), paths, names, overrides, currency=currency,
                                        currency_source="chosen on the Import page", demo_data=demo_data)
                status.update(label="Files read and checked", state="complete")
            st.session_state["checked"] = (signature, paths, names, check)
        _sig, paths, names, check = st.session_state["checked"]
        without = [r.file for r in check.files if r.currency]   # amounts, but no currency of their own
        if without:
            with st.container(border=True):
                options = list(dict.fromkeys([settings_currency, *CURRENCIES]))
                st.selectbox("Currency of the amounts", options, key=currency_key,
                             index=options.index(currency or settings_currency),
                             help="Applies to every file of this upload that has amounts but no currency column; "
                                  "a file's own currency column wins. Stored on each deal.")
                files_ = _ui.md(", ".join(dict.fromkeys(without)))
                st.caption(f"{files_} {'has' if len(set(without)) == 1 else 'have'} amounts but no currency (no currency "
                           "column, or empty cells in it): "
                           + (f"taken in **{currency}**, as chosen here (the settings currency is {settings_currency})."
                              if currency else f"taken in **{settings_currency}**, the settings currency, unless you "
                                               "choose another here."))
        for i, rep in enumerate(check.files):
            where = _ui.md(rep.file + (f" · sheet {rep.sheet}" if rep.sheet else "") +
                           (f" · header on row {rep.header_row}" if rep.header_row else ""))
            with st.container(border=True):
                if rep.kind is None:
                    st.error(f"**{where}** — " + "; ".join(_ui.md(n) for n in rep.notes))
                    continue
                st.markdown(f"**{where}** — {formatting.number(rep.rows)} rows")
                c1, c2 = st.columns([1, 2])
                kinds = list(KINDS)
                kind = c1.selectbox("Recognised as", kinds, index=kinds.index(rep.kind), key=f"kind-{i}",
                                    help="Confidence = the share of this kind's required fields found among the columns.")
                c1.metric("Confidence", formatting.percent(rep.confidence, 0))
                if rep.confidence < 0.6:
                    c1.warning("Not sure: confirm the kind and the columns, then check again.")
                detected = rep.detected.columns if rep.detected else {}
                grid = pd.DataFrame({"column in the file": list(detected),
                                     "field": [f or NOT_USED for f in detected.values()]})
                edited = c2.data_editor(grid, hide_index=True, width="stretch", key=f"map-{i}", disabled=["column in the file"],
                                        column_config={"field": st.column_config.SelectboxColumn(
                                            "field", options=[NOT_USED, *KINDS[kind]], required=True)})
                new_cols = {h: (None if f == NOT_USED else f) for h, f in zip(edited["column in the file"], edited["field"])}
                if kind != rep.kind or new_cols != detected:
                    if st.button("Check again with this mapping", key=f"apply-{i}"):
                        overrides[rep.file] = {"kind": kind, "columns": new_cols}
                        st.rerun()
                if rep.detected and rep.detected.stage_columns:
                    st.caption("Stage dates: " + ", ".join(f"{_ui.md(h)} → entered {_ui.md(s)}" for h, s in rep.detected.stage_columns.items()))
                merges = overrides.setdefault("*", {}).setdefault("aliases", {})
                for n_alias, (new, old, acc) in enumerate(rep.aliases):
                    if st.checkbox(f"Merge “{_ui.md(new)}” into the existing account “{_ui.md(old)}” ({_ui.md(acc)})", key=f"alias-{i}-{n_alias}",
                                   value=merges.get(new) == acc,
                                   help="Names that are close but not equal are never merged silently. Once merged, "
                                        "the name is remembered for later files."):
                        merges[new] = acc
                    else:
                        merges.pop(new, None)
                if rep.questions:
                    st.markdown("**Words to map** — these values match no known word. Say once what each one "
                                "means; the answer is remembered for later files.")
                    given = overrides.setdefault("values", {})
                    answered = {}
                    for n_q, q in enumerate(rep.questions):
                        answered[(q.field, q.word)] = st.selectbox(
                            f"“{_ui.md(q.word)}” in column “{_ui.md(q.header)}” ({formatting.number(q.rows)} row(s)) is the "
                            f"{q.field.replace('_', ' ')}", list(q.choices), index=None, placeholder="choose…",
                            key=f"value-{i}-{n_q}")
                    if any(v is not None for v in answered.values()) and st.button(
                            "Check again with these answers", key=f"values-{i}"):
                        for (fld, word), v in answered.items():
                            if v is not None:
                                given.setdefault(fld, {})[word] = v
                        st.rerun()
                for note in rep.notes:
                    if not note.startswith("possible alias"):
                        st.caption("ℹ️ " + _ui.md(note))
                if rep.preview is not None and len(rep.preview):
                    st.caption("The first rows as they will be stored:")
                    _ui.table(rep.preview.drop(columns=["_row"]))
        if check.message:
            st.error(_ui.md_lines(check.message))
        if len(check.rejects):
            st.subheader(f"{formatting.number(len(check.rejects))} bad value(s)")
            _ui.table(check.rejects)
            _ui.downloads(check.rejects, "import-errors", "rejects")
        keep = st.checkbox("Load the good rows and leave the bad ones out", key="keep-good",
                           disabled=not len(check.rejects))
        blocked = check.status == "rejected" or (len(check.rejects) > 0 and not keep)
        if st.button("Load", type="primary", disabled=blocked, key="load"):
            with st.spinner("Loading…"):
                result = run.import_files(_ui.path(), paths, keep_good_rows=keep, overrides=overrides, names=names,
                                          currency=currency, currency_source="chosen on the Import page",
                                          demo_data=demo_data)
            if result.status == "rejected":
                st.error(_ui.md_lines(result.message))
            else:   # the history, the data version and the uploader show the new state
                st.session_state["import_done"] = (result.status, result.message)
                st.session_state["import_round"] = round_ + 1
                for key in ("checked", "import_overrides"):
                    st.session_state.pop(key, None)
                st.rerun()
        elif blocked and any(r.questions for r in check.files):
            st.caption("Answer the words to map above (each answer is remembered), or fix the file and upload it again.")
        elif blocked and len(check.rejects):
            st.caption("Fix the bad values in the file and upload it again, or tick the box to load the good rows.")

    st.subheader("Import history")
    from kam_analytics.batches import list_batches

    hist = _ui.read("kam_analytics.batches.list_batches")
    if hist.empty:
        st.caption("Nothing imported yet.")
    else:
        shown = hist[["batch_id", "action", "description", "finished_at", "status", "rows_loaded", "rows_rejected",
                      "files"]].assign(files=hist["files"].fillna(""))
        _ui.table(shown, column_config={
            "batch_id": "Batch", "action": "Action", "description": "What", "status": "Status",
            "rows_loaded": st.column_config.NumberColumn("Rows written", format="localized"),
            "rows_rejected": st.column_config.NumberColumn("Rows rejected", format="localized"), "files": "Files",
            "finished_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm")})
        loaded = hist[hist["status"] == "loaded"]
        if len(loaded) and _ui.may_change_data():
            c1, c2, c3 = st.columns([2, 2, 1])
            bid = c1.selectbox("Undo a batch", list(loaded["batch_id"]), key="undo-batch",
                               format_func=lambda b: f"{b} — {loaded.set_index('batch_id').at[b, 'description']}")
            cascade = c2.checkbox("Also undo later batches that changed its rows", key="undo-cascade")
            sure = c2.checkbox("Yes, undo it", key=f"undo-sure-{round_}")
            if c3.button("Undo", disabled=not sure, key="undo"):
                from kam_analytics.batches import undo

                done = undo(_ui.path(), int(bid), cascade=cascade)
                st.session_state["import_done"] = ("loaded", f"Undone: batch(es) {', '.join(map(str, done))}. "
                                                   "Undo the undo from the history above if it was a mistake.")
                st.session_state["import_round"] = round_ + 1   # the confirm box starts unticked
                st.rerun()
