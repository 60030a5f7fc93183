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

from kam_analytics import db, exports, formatting, safe_text
from kam_analytics.errors import KamError


_SHARED = threading.local()     # one_connection's block, per session thread


def path() -> str:
    return str(db.db_path())


def begin_rerun() -> None:
    """Called by app.py before each page runs: the page's first read pins the data version,
    and every read of the rerun is of that version (see cached), so a page never mixes the
    data before and after a write that lands while it draws."""
    _SHARED.pinned = None
    _SHARED.pinning = True


class _Stale(Exception):
    """The database moved on while this rerun was drawing: start the rerun again."""


def data_version() -> int:
    """The version the rerun is pinned to, else the database's (opened for a moment). Every
    write bumps it, so caches key on it."""
    if getattr(_SHARED, "pinning", False):
        if _SHARED.pinned is None:
            _SHARED.pinned = _current_version()
        return _SHARED.pinned
    return _current_version()


def _current_version() -> int:
    """The database's version now; inside one_connection read once, on the block's connection."""
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
        con = _connection(db_file, stack)
        if db.data_version(con) != version:      # a write landed since the rerun began: never cache a mix
            raise _Stale
        return func(con, **dict(kwargs))


def read(func_path: str, **kwargs):
    try:
        return cached(path(), data_version(), func_path, tuple(sorted(kwargs.items())))
    except _Stale:
        begin_rerun()
        st.rerun()


@contextmanager
def guarded():
    """Show a KamError's message as it is, anything else as one line; never a traceback."""
    try:
        yield
    except KamError as exc:        # messages quote values from files: shown as text, line by line
        st.error(md_lines(str(exc)))
    except Exception as exc:  # noqa: BLE001 - the user sees one line; the log keeps the rest
        traceback.print_exc()
        st.error(f"Something went wrong: {type(exc).__name__}: {md(exc)}. The details are in the app's log.")


def data_as_of(summary_date: date | None) -> None:
    version = f" · data version {data_version()}"
    st.caption((f"Data as of **{formatting.when(summary_date)}**" if summary_date else "No data loaded yet") + version)


def loaded_summary(empty_message: str | None = None) -> dict:
    """The Overview summary with the "data as of" line. With `empty_message`, a page that
    needs deals shows it, links to the Overview and stops when none are loaded."""
    s = read("kam_analytics.overview.summary")
    if s["data_date"] is None and s["counts"]["rows"].sum():
        st.caption(f"Data as of: no dated history, creation or closing yet · data version {data_version()}")
    else:
        data_as_of(s["data_date"])
    if s.get("demo"):
        from kam_analytics.demo import sentence

        st.info(sentence(s["demo"]), icon=":material/science:")
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


SPLIT_HELP = ("A dimension: segment, region, owner, source, product, industry, tier, size band, manager, team, "
              "loss reason, competitor, or another text column with at most 50 values. Type to search.")


def split_by(column) -> str | None:
    """The "Split by" picker, kept in the URL: "(none)" first, then the dimensions only
    (kam_analytics.dims). A value from the URL that is no dimension is said in one sentence
    and the page shows no split."""
    options = ["(none)", *read("kam_analytics.dims.names")]
    wanted = st.query_params.get("by", "(none)")
    if wanted not in options:
        st.caption(f"“{md(wanted)}” is not a dimension to split by (ids, names, amounts and dates are not, nor text "
                   "columns with more than 50 values): showing no split.")
        wanted = "(none)"
    by = column.selectbox("Split by", options, index=options.index(wanted), help=SPLIT_HELP)
    return None if by == "(none)" else by


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


def fit_height(rows: int) -> int:
    """A grid's height that shows all its rows and the header, no empty band or scrollbar
    (Streamlit draws 35 px rows)."""
    return 35 * (rows + 1) + 3


def table(df, **kwargs) -> None:
    """st.dataframe without the report's attrs (they are for exports, not the grid), amounts
    rounded and midnight date-times shown as dates."""
    shown = _for_people(df)
    st.dataframe(shown, hide_index=True, width="stretch", **kwargs)


def md(value, missing: str = formatting.DASH) -> str:
    """Text that came from a file (a name, a note, a reason) for Markdown - markdown, caption,
    write, info, metric, expander and tab labels: shown as its characters, never as markup;
    `missing` when there is none."""
    return missing if formatting.is_missing(value) or value == "" else safe_text.md(value)


def md_lines(text: str) -> str:
    """A message that may quote values from files, for Markdown: each line as text."""
    return "  \n".join(md(line, "") for line in str(text).splitlines())


def notes(lines) -> None:
    """A report's notes, one caption each; they may quote names from files, so shown as text."""
    for line in lines:
        st.caption("ℹ️ " + md(line))


def _word(column: str, value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if formatting.is_missing(value):
        return formatting.DASH
    return value if isinstance(value, str) else formatting.cell(column, value)


def in_words(df, labels: dict):
    """A table for people: the columns of `labels` in its order, headed by its words, yes/no for
    true/false and — for a missing value (the report's own names and values stay in downloads)."""
    import pandas as pd

    out = pd.DataFrame(index=df.index)
    for col, label in labels.items():
        values = df[col]
        if pd.api.types.is_bool_dtype(values):
            values = values.map({True: "yes", False: "no"})
        elif pd.api.types.is_datetime64_any_dtype(values):
            values = values.map(formatting.when)
        elif values.dtype == object or values.isna().any():
            values = values.astype(object).map(lambda v, c=col: _word(c, v))      # all text: one Arrow type
        out[label] = values
    return out


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


# --- who may change data (kam_analytics/auth.py) ---------------------------------------------

def _secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except Exception:  # noqa: BLE001 - no secrets.toml at all: nothing configured there
        return {}


def _users() -> dict:
    from kam_analytics import auth

    return auth.load_users(_secrets())


def _oidc() -> dict | None:
    """Streamlit's OIDC sign-in ([auth] in secrets.toml, an identity provider) with roles by
    e-mail from [kam_oidc_roles] (default viewer). Documented, not tested: it needs a provider."""
    secrets = _secrets()
    return secrets.get("kam_oidc_roles", {}) if "auth" in secrets else None


def sign_in_configured() -> bool:
    return bool(_users()) or _oidc() is not None


def role() -> str | None:
    """'analyst' or 'viewer' for the signed-in user; everyone is an analyst when no sign-in is
    configured; None when sign-in is configured and nobody is signed in yet."""
    if not _users():
        roles = _oidc()
        if roles is None:
            return "analyst"
        if not st.user.is_logged_in:
            return None
        st.session_state["kam_user"] = st.user.get("email") or st.user.get("name")
        return roles.get(st.session_state["kam_user"], "viewer")
    return st.session_state.get("kam_role")


def may_change_data() -> bool:
    from kam_analytics import auth

    return auth.may_change_data(role())


def viewer_note(what: str) -> None:
    """Said where a viewer meets something only analysts may do."""
    st.info(f"{what} is for analysts; you are signed in as {md(st.session_state.get('kam_user'))} (viewer).",
            icon=":material/lock:")


def account_sidebar() -> None:
    if not sign_in_configured():
        st.sidebar.caption("Open: no sign-in configured")
        return
    st.sidebar.caption(f"Signed in as **{md(st.session_state.get('kam_user'))}** ({role()})")
    if st.sidebar.button("Sign out", key="sign-out"):
        for k in ("kam_user", "kam_role"):
            st.session_state.pop(k, None)
        if not _users():
            st.logout()
        st.rerun()
