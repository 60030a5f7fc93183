"""What every page shares: the database path, reads cached by data version, the "data as
of" line, downloads, URL query parameters, and catching errors so that no traceback ever
reaches the page. (Streamlit lives here and in the views, never in kam_analytics/. The folder is not
named pages/: Streamlit 1.67 treats a pages/ folder beside app.py as its legacy multipage
mode and then runs a page file directly on the first request, bypassing st.navigation.)"""

from __future__ import annotations

import threading
import traceback
from contextlib import ExitStack, contextmanager
from datetime import date

import streamlit as st

from kam_analytics import db, exports, formatting
from kam_analytics.errors import KamError


_SHARED = threading.local()     # one_connection's block, per session thread


def path() -> str:
    return str(db.db_path())


def data_version() -> int:
    """Opens the database for a moment: every write bumps this, so caches key on it. Inside
    one_connection it is read once for the block, on the block's connection."""
    if getattr(_SHARED, "open", None) is not None:
        if _SHARED.version is None:
            _SHARED.version = db.data_version(_connection(path(), None))
        return _SHARED.version
    with db.read(path()) as con:
        return db.data_version(con)


@contextmanager
def one_connection():
    """The reads inside share one read-only connection, opened at the first cache miss and
    closed on leaving (within the rerun), so that reports at one as-of share its snapshot
    (forecasting.with_snapshots) instead of each making it again. Only for pages that do
    not write inside the block."""
    with ExitStack() as stack:
        def opener(db_file):
            from kam_analytics.reports.forecasting import share_snapshots

            con = stack.enter_context(db.read(db_file))
            share_snapshots(con)
            return con

        _SHARED.open = opener
        _SHARED.cons, _SHARED.version = {}, None
        try:
            yield
        finally:
            _SHARED.open, _SHARED.cons, _SHARED.version = None, {}, None


def _connection(db_file: str, stack: ExitStack | None):
    """The block's shared connection (see one_connection), else a fresh one for this read."""
    opener = getattr(_SHARED, "open", None)
    if opener is None:
        return stack.enter_context(db.read(db_file))
    if db_file not in _SHARED.cons:
        _SHARED.cons[db_file] = opener(db_file)
    return _SHARED.cons[db_file]


@st.cache_data(show_spinner=False, max_entries=64)
def cached(db_file: str, version: int, func_path: str, kwargs: tuple):
    """Run kam_analytics `func_path` on a read-only connection. Keyed by the data version,
    so a write anywhere (CLI, another session) shows at the next rerun."""
    module_name, func_name = func_path.rsplit(".", 1)
    import importlib

    func = getattr(importlib.import_module(module_name), func_name)
    with ExitStack() as stack:
        return func(_connection(db_file, stack), **dict(kwargs))


def read(func_path: str, **kwargs):
    return cached(path(), data_version(), func_path, tuple(sorted(kwargs.items())))


@contextmanager
def guarded():
    """Show a KamError's message as it is, anything else as one line; never a traceback."""
    try:
        yield
    except KamError as exc:
        st.error(str(exc))
    except Exception as exc:  # noqa: BLE001 - the user sees one line; the log keeps the rest
        traceback.print_exc()
        st.error(f"Something went wrong: {type(exc).__name__}: {exc}. The details are in the app's log.")


def data_as_of(summary_date: date | None) -> None:
    st.caption(f"Data as of **{formatting.when(summary_date)}**" if summary_date else "No data loaded yet")


def loaded_summary(empty_message: str | None = None) -> dict:
    """The Overview summary with the "data as of" line. With `empty_message`, a page that
    needs deals shows it, links to the Overview and stops when none are loaded."""
    s = read("kam_analytics.overview.summary")
    if s["data_date"] is None and s["counts"]["rows"].sum():
        st.caption("Data as of: no dated history, creation or closing yet")
    else:
        data_as_of(s["data_date"])
    if empty_message and not s["deals"]:
        st.info(empty_message, icon=":material/info:")
        st.page_link("views/overview.py", label="Go to the Overview to load the demo data", icon=":material/home:")
        st.stop()
    return s


def downloads(df, name: str, key: str) -> None:
    """csv and xlsx of a report, each built when its button is clicked (a deferred callable),
    not at every rerun of the page."""
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button("⬇ CSV", lambda: exports.to_csv(df), f"{name}.csv", "text/csv", key=f"{key}-csv",
                       width="stretch")
    c2.download_button("⬇ Excel", lambda: exports.to_xlsx({name[:31]: df, "About": exports.about_frame(df.attrs)}),
                       f"{name}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key=f"{key}-xlsx", width="stretch")


def query_param(name: str, default=None, choices=None):
    value = st.query_params.get(name, default)
    if choices is not None and value not in choices:
        return default
    return value


def query_date(name: str) -> date | None:
    """A date from the URL; a malformed one is ignored (the filter starts empty)."""
    try:
        return date.fromisoformat(st.query_params.get(name, ""))
    except ValueError:
        return None


def set_query_params(**values) -> None:
    for k, v in values.items():
        if v in (None, "", []):
            st.query_params.pop(k, None)
        else:
            st.query_params[k] = str(v)


def _for_people(df):
    """A copy to show: amounts as whole numbers (the exports keep every digit) and date-times
    that are all midnight as plain dates."""
    import pandas as pd

    shown = df.copy()
    shown.attrs = {}
    for col in shown.columns:
        values = shown[col]
        if pd.api.types.is_float_dtype(values) and formatting.column_kind(str(col)) == "count":
            shown[col] = values.round(0)
        elif pd.api.types.is_datetime64_any_dtype(values):
            present = values.dropna()
            if len(present) and (present == present.dt.normalize()).all():
                shown[col] = values.dt.date
    return shown


def table(df, **kwargs) -> None:
    """st.dataframe without the report's attrs (they are for exports, not the grid), amounts
    rounded and midnight date-times shown as dates."""
    shown = _for_people(df)
    st.dataframe(shown, hide_index=True, width="stretch", **kwargs)


def as_of_input(key: str, summary: dict, column, help_text: str):
    """The "As of" date picker of the time-travel pages: from the URL, default and latest the
    whole of the data's date (its next day, 00:00); kept in the URL when not the default."""
    from datetime import timedelta

    latest = (summary["data_date"] or date.today()) + timedelta(days=1)
    st.session_state.setdefault(key, min(query_date("as_of") or latest, latest))
    as_of = column.date_input("As of (start of this day)", key=key, max_value=latest, help=help_text)
    set_query_params(as_of=as_of.isoformat() if as_of != latest else None)
    return as_of


def url_multiselect(column, name: str, options: list, label: str, key: str, help_text: str | None = None,
                    format_func=str) -> list:
    """A searchable multi-select filter whose picks live in the URL (?name=a&name=b)."""
    wanted = [x for x in st.query_params.get_all(name) if x in options]
    st.session_state.setdefault(key, wanted)
    values = column.multiselect(label, options, key=key, placeholder="All", help=help_text, format_func=format_func)
    if values:
        st.query_params[name] = values
    else:
        st.query_params.pop(name, None)
    return values


def keep(df, **picks):
    """The rows of `df` whose column is among the values picked in a filter (an empty pick
    keeps every row)."""
    for column, values in picks.items():
        if values:
            df = df[df[column].isin(values)]
    return df
