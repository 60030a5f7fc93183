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

from kam_analytics import backup, db, exports, formatting, safe_text
from kam_analytics.errors import KamError
from kam_analytics.reports import accounts


_SHARED = threading.local()     # one_connection's block, per session thread


def path() -> str:
    return str(db.db_path())


def begin_rerun() -> None:
    """Called by app.py before each page runs: the page's first read pins the data version,
    and every read of the rerun is of that version (see cached), so a page never mixes the
    data before and after a write that lands while it draws."""
    _SHARED.pinned = None
    _SHARED.pinning = True
    _clean_leftovers_once(str(db.db_path()))


@st.cache_resource(show_spinner=False)
def _clean_leftovers_once(path: str) -> None:
    """Once per server and database: remove what a killed restore or rebuild left beside the
    database (the CLI does the same at each start)."""
    try:
        backup.clean_leftovers(path)
    except Exception:  # noqa: BLE001 - a tidy-up: never a reason for a page to fail
        pass


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


def part(func):
    """A part of a page that reruns alone when its own widgets change (a drill-down, an expander's
    picker): `st.fragment`, so opening "the deals behind a bar" does not redraw the whole page. It
    reads the data version the page showed (pinned like the page's reads): when a write has
    landed since, the whole page reruns instead of mixing two versions. Its errors are said like
    the page's (guarded). Build its columns and expanders inside it: a fragment writes only into
    its own container."""
    import functools

    @st.fragment
    def run(page_version, args, kwargs):
        with guarded():
            if getattr(_SHARED, "pinned", None) is None:     # a rerun of this part alone: pin again
                begin_rerun()
            if data_version() != page_version:
                begin_rerun()
                st.rerun(scope="app")
            func(*args, **kwargs)

    @functools.wraps(func)
    def call(*args, **kwargs):
        run(data_version(), args, kwargs)

    return call


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


def refused(name: str, allowed, what: str, then: str) -> bool:
    """A value of ?name= in the URL that the page cannot serve (an id to split by, an unknown stage
    or quarter): said in one sentence, “X” is not `what`: `then`, before the picker bound to it
    drops it. True when something was refused."""
    bad = [v for v in st.query_params.get_all(name) if v not in allowed]
    if bad:
        st.caption(f"“{md(bad[0])}” is not {what}: {then}.")
    return bool(bad)


def url_selectbox(column, label: str, options: list, default, name: str, *, what: str, instead: str | None = None,
                  **kwargs):
    """A select box whose value lives in the URL as ?name=, by Streamlit's own binding (the widget's
    key is the parameter's name): the URL follows every pick, the default leaves it, and going back
    to the default sticks. A value the page cannot serve is said (see refused), never an error."""
    options = list(options)
    refused(name, [kwargs.get("format_func", str)(o) for o in options], what, f"showing {instead or default}")
    return column.selectbox(label, options, index=options.index(default), key=name, bind="query-params", **kwargs)


def split_by(column) -> str | None:
    """The "Split by" picker, kept in the URL (?by=): "(none)" first, then the dimensions only
    (kam_analytics.dims). A value from the URL that is no dimension is said in one sentence
    and the page shows no split."""
    options = ["(none)", *read("kam_analytics.dims.names")]
    by = url_selectbox(column, "Split by", options, "(none)", "by", help=SPLIT_HELP,
                       what="a dimension to split by (ids, names, amounts and dates are not, nor text columns with "
                            "more than 50 values)", instead="no split")
    return None if by == "(none)" else by


def query_date(name: str) -> date | None:
    """A date from the URL; a malformed one is said in one sentence and ignored (the filter
    starts empty)."""
    raw = st.query_params.get(name, "")
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        st.caption(f"“{md(raw)}” in the address is not a date (YYYY-MM-DD): the “{name}” filter starts empty.")
        return None


def set_query_params(**values) -> None:
    for k, v in values.items():
        if v in (None, "", []):
            st.query_params.pop(k, None)
        else:
            st.query_params[k] = str(v)


def _for_people(df):
    """A copy to show (formatting.for_display): yes/no, lists joined, midnight date-times as dates;
    numbers stay numbers, formatted by the grid (see table)."""
    return formatting.for_display(df)


def fit_height(rows: int) -> int:
    """A grid's height that shows all its rows and the header, no empty band or scrollbar
    (Streamlit draws 35 px rows)."""
    return 35 * (rows + 1) + 3


def table(df, column_config=None, highlight=None, **kwargs) -> None:
    """Every grid of the app goes through here, so that tables read the same everywhere: headers
    in words (formatting.label), yes/no, lists joined, missing values as —, amounts with the
    currency and thousands separators, days to one decimal, shares as percentages with one
    decimal, coverage as a multiple (formatting.number_format). A page's column_config gives
    help, a header of its own in words, a link or a progress bar; the number format stays the
    helper's. `highlight` {column: value -> css} colours cells (Pandas Styler)."""
    shown = _for_people(df)
    config = column_config_for(df, shown, column_config or {})
    data = shown
    if highlight:
        data = shown.style
        for col, func in highlight.items():
            data = data.map(func, subset=[col])
    st.dataframe(data, hide_index=True, width="stretch", column_config=config, placeholder=formatting.DASH, **kwargs)


def _currency() -> str:
    try:
        return read("kam_analytics.settings.load")["currency"]
    except Exception:  # noqa: BLE001 - no settings readable: amounts without the currency
        return ""


def column_config_for(df, shown, given: dict, currency: str | None = None) -> dict:
    """The grid's column_config: the page's own (`given`, by the report's column names) over the
    helper's header in words and number format."""
    import pandas as pd

    cur = _currency() if currency is None else currency
    own_currency = "currency" in df.columns        # amounts in each row's currency: the column says which
    out, used = {}, set()
    for col in shown.columns:
        name = str(col)
        if col in given and given[col] is None:        # hidden by the page
            out[col] = None
            continue
        mine = given.get(col) or {}
        mine = {"label": mine} if isinstance(mine, str) else dict(mine)
        words = mine.get("label")
        if not words or "_" in words or words.lower() in (name.lower(), name.replace("_", " ").lower()):
            words = formatting.label(name)
        words = words[:1].upper() + words[1:]
        if words in used:                         # two columns under one header: say which is which
            words = f"{words} ({name.replace('_', ' ')})"
        used.add(words)
        values = shown[col]
        if isinstance(values, pd.DataFrame):      # a name twice: the first column's type speaks for both
            values = values.iloc[:, 0]
        kind = formatting.column_kind(name)
        type_config = dict(mine.get("type_config") or {})
        if type_config.get("type") == "checkbox" and not pd.api.types.is_bool_dtype(values):
            type_config = {}                      # true/false read as yes/no (for_display), not a tick box
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) \
                and type_config.get("type", "number") == "number":
            suffix = "" if own_currency or (cur and f"({cur})" in words) else cur
            fmt = formatting.number_format(name, values, suffix)
            type_config = {**st.column_config.NumberColumn()["type_config"], **type_config, "type": "number"}
            if kind == "percent":
                type_config.update(format="percent", step=0.001)
            elif fmt:
                type_config.update(format=fmt, step=None)
        if kind != "other" and (values.dtype == object or pd.api.types.is_string_dtype(values)) and not type_config:
            mine.setdefault("alignment", "right")     # figures the page wrote as text still line up
        if type_config.get("type") == "progress" and type_config.get("format") == "percent" \
                and type_config.get("step") is None:
            type_config["step"] = 0.001           # one decimal, as every share on the page
        if type_config:
            mine["type_config"] = type_config
        else:
            mine.pop("type_config", None)
        mine["label"] = words
        out[col] = mine
    return out


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
    """The "As of" date picker of the time-travel pages, default and latest the whole of the
    data's date (its next day, 00:00). Kept in the URL as ?as_of= by Streamlit's binding (the
    widget's key is the parameter's name, so `key` is no longer used); a date in the URL the page
    cannot serve (not a date, or after the data) is said in one sentence."""
    from datetime import timedelta

    latest = (summary["data_date"] or date.today()) + timedelta(days=1)
    raw = st.query_params.get("as_of")
    if raw:
        try:
            if date.fromisoformat(raw) > latest:
                st.caption(f"“{md(raw)}” is after the data's last day: showing {formatting.when(latest)}, the latest "
                           "as-of there is.")
        except ValueError:
            st.caption(f"“{md(raw)}” is not a date (YYYY-MM-DD): showing {formatting.when(latest)}.")
    return column.date_input("As of (start of this day)", value=latest, key="as_of", bind="query-params",
                             max_value=latest, format="YYYY-MM-DD", help=help_text)


def url_multiselect(column, name: str, options: list, label: str, key: str, help_text: str | None = None,
                    format_func=str) -> list:
    """A searchable multi-select filter whose picks live in the URL (?name=a&name=b). Kept by hand
    under `key`, not bound: the same names (owner, segment, band) filter other things on other
    pages, and a bound value outlives a page switch. A value in the URL that is none of the options
    is said in one sentence."""
    refused(name, [str(o) for o in options], f"a {label.lower()} on this page", "left out of the filter")
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
    e-mail from [kam_oidc_roles] (default viewer); tests/browser/test_sign_in_oidc.py runs it
    against a local mock provider."""
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
        from kam_analytics import auth

        return auth.oidc_role(roles, st.user.get("email"))
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
            st.logout()     # deletes Streamlit's identity cookie and redirects (a new session):
            return          # a rerun here would cut that redirect short
        st.rerun()


def goal_columns() -> dict:
    """The goals grid: progress as a bar, the computed status beside it and the typed one apart."""
    return {
        "progress": st.column_config.ProgressColumn("Progress", format="percent", min_value=0, max_value=1,
                                                    help=accounts.DEFINITIONS["progress"]),
        "expected_progress": st.column_config.NumberColumn("Expected by now",
                                                           help=accounts.DEFINITIONS["expected_progress"]),
        "progress_status": st.column_config.TextColumn("Status", help=accounts.DEFINITIONS["progress_status"]),
        "owner_status": st.column_config.TextColumn("Owner's status",
                                                    help="The status typed in the account plan's Goals sheet."),
        "note": st.column_config.TextColumn("Note"),
    }
