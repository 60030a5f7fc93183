"""Key accounts: the portfolio (value of the last 12 months against potential, bubble = open
pipeline, colour = relationship strength), plan coverage with its gaps made obvious, and
filters by owner, segment and tier; every account opens on the Account page (DESIGN.md
"Key accounts")."""

import pandas as pd
import streamlit as st

from kam_analytics import charts, formatting
from kam_analytics.reports import accounts as acc
from views import _ui

YES, NO = "✓", "✗"
CRITERIA = {"plan_reviewed": "plan reviewed", "has_decision_maker": "decision maker",
            "has_economic_buyer": "economic buyer", "has_champion": "champion",
            "no_overdue_actions": "no overdue actions"}
MAX_ROWS = 5_000

st.title("Key accounts")


def _mark(df: pd.DataFrame) -> pd.DataFrame:
    """The coverage table as people read it: ✓/✗ per criterion, the gaps in words, a link."""
    shown = pd.DataFrame({
        "account": df["account_name"],
        "open": "account?account=" + df["account_id"].astype(str),
        "coverage": df["coverage_score"],
        **{label: [YES if v else NO for v in df[col]] for col, label in CRITERIA.items()},
        "overdue actions": df["overdue_actions"],
        "plan age (days)": df["plan_age_days"],
        "plan elements": [f"{n} / {len(acc.ELEMENTS)}" for n in df["plan_elements"]],
        "gaps": ["; ".join(g) or "none" for g in df["gaps"]],
        "value 12 m": df["value_12m"].round(0),
        "potential": df["potential"].round(0),
        "open pipeline": df["open_pipeline"].round(0),
        "relationship": [formatting.DASH if pd.isna(v) else f"{int(v)} · {formatting.RELATIONSHIP.get(int(v), '')}"
                         for v in df["relationship_strength"]],
        "tier": df["tier"], "owner": df["account_owner"], "segment": df["segment"],
    })
    return shown


def _red(value):
    return "background-color: #fee2e2; color: #991b1b" if value == NO else ""


with _ui.guarded(), _ui.one_connection():
    summary = _ui.loaded_summary()
    conf = _ui.read("kam_analytics.settings.load")
    cur = conf["currency"]
    c = st.columns([1, 1, 2])
    as_of = _ui.as_of_input("acc-as-of", summary, c[0], "Value, pipeline, plan age and overdue actions as of the start "
                                                        "of this day; the account map is today's.")
    st.session_state.setdefault("acc-scope", _ui.query_param("scope", "key", ("key", "all")))
    scope = c[1].segmented_control("Accounts", ["key", "all"], key="acc-scope", required=True,
                                   format_func={"key": "Key accounts", "all": "All accounts"}.get,
                                   help="Key accounts: " + acc.DEFINITIONS["key_accounts"] + ".")
    _ui.set_query_params(scope=None if scope == "key" else scope)
    df = _ui.read("kam_analytics.reports.accounts.accounts", as_of=as_of.isoformat(), scope=scope)
    if not len(df):
        everyone = _ui.read("kam_analytics.reports.accounts.accounts", as_of=as_of.isoformat(), scope="all")
        if not len(everyone):
            st.info("No accounts are loaded yet. Import your accounts, account plans and account maps on the Import "
                    "page (its templates download in English and Italian), or load the demo data on the Overview.",
                    icon=":material/info:")
            st.page_link("views/import_files.py", label="Import account plans", icon=":material/upload_file:")
        else:
            st.info(f"No key account yet among {formatting.number(len(everyone))} accounts: key accounts are "
                    f"{acc.DEFINITIONS['key_accounts']}. Set a tier on the accounts or import an account plan, or "
                    "switch to All accounts.", icon=":material/info:")
        st.stop()
    st.caption(_ui.md(df.attrs["notes"][0]))

    f = st.columns(3)
    owners = _ui.url_multiselect(f[0], "owner", sorted(df["account_owner"].dropna().unique().tolist()), "Owner",
                                 "acc-owner", "Account owner. Type to search.")
    segments = _ui.url_multiselect(f[1], "segment", sorted(df["segment"].dropna().unique().tolist()), "Segment",
                                   "acc-segment")
    tiers = _ui.url_multiselect(f[2], "tier", sorted(df["tier"].dropna().unique().tolist()), "Tier", "acc-tier")
    shown = _ui.keep(df, account_owner=owners, segment=segments, tier=tiers)
    if not len(shown):
        st.info("No account matches these filters.", icon=":material/filter_alt_off:")
        st.stop()

    m = st.columns(5)
    m[0].metric("Accounts", formatting.number(len(shown)))
    m[1].metric(f"Value 12 m ({cur})", formatting.compact(shown["value_12m"].sum()),
                help="Value: " + acc.DEFINITIONS["value_12m"] + ".")
    m[2].metric(f"Open pipeline ({cur})", formatting.compact(shown["open_pipeline"].sum()),
                f"{formatting.number(int(shown['open_deals'].sum()))} deals", delta_color="off", delta_arrow="off",
                help="Open pipeline: " + acc.DEFINITIONS["open_pipeline"] + ".")
    m[3].metric("Median coverage", formatting.percent(shown["coverage_score"].median()),
                help="Coverage score: " + acc.DEFINITIONS["coverage_score"] + ".")
    m[4].metric("Fully covered", formatting.number(int((shown["coverage_score"] >= 1).sum())),
                help="Accounts meeting all five coverage criteria.")

    left, right = st.columns([3, 2])
    with left:
        event = st.plotly_chart(charts.portfolio(shown, cur), width="stretch", key="chart-portfolio",
                                on_select="rerun", selection_mode="points")
        st.caption("Bubble size: open pipeline; colour: relationship strength (" + acc.DEFINITIONS[
            "relationship_strength"] + "). Potential: " + acc.DEFINITIONS["potential"] + ". Click a bubble to open "
                   "the account.")
        picked = [p.get("customdata") for p in (event.selection.points if event and event.selection else [])]
        picked = [p for p in picked if p]
        if picked:
            name = shown.set_index("account_id").loc[picked[0], "account_name"]
            st.page_link("views/account.py", label=f"Open {name}", icon=":material/open_in_new:",
                         query_params={"account": picked[0], **({"as_of": _ui.query_param("as_of")}
                                                                if _ui.query_param("as_of") else {})})
    with right:
        gaps = pd.DataFrame({"gap": [w for _, w in acc.COVERAGE],
                             "accounts": [int((~shown[col].astype(bool)).sum()) for col, _ in acc.COVERAGE]})
        st.plotly_chart(charts.coverage_gaps(gaps), width="stretch", key="chart-gaps")
        gap = st.selectbox("Accounts with this gap", ["(every account)", *gaps["gap"]], key="acc-gap",
                           help="Narrows the coverage table below to the accounts missing this criterion.")

    st.subheader("Plan coverage")
    table = shown
    if gap != "(every account)":
        col = dict((w, c) for c, w in acc.COVERAGE)[gap]
        table = shown[~shown[col].astype(bool)]
        st.caption(f"{formatting.number(len(table))} account(s) with: {gap}.")
    view = _mark(table.head(MAX_ROWS))
    if len(table) > MAX_ROWS:
        st.caption(f"The first {formatting.number(MAX_ROWS)} of {formatting.number(len(table))} (weakest coverage "
                   "first); the downloads hold them all.")
    st.dataframe(view.style.map(_red, subset=list(CRITERIA.values())), hide_index=True, width="stretch",
                 column_config={
                     "open": st.column_config.LinkColumn("open", display_text="Account page",
                                                         help="Opens the account: profile, plan, goals, map, actions "
                                                              "and deals."),
                     "coverage": st.column_config.ProgressColumn("coverage", format="percent", min_value=0,
                                                                 max_value=1, help=acc.DEFINITIONS["coverage_score"]),
                     "plan reviewed": st.column_config.TextColumn(help=acc.DEFINITIONS["plan_reviewed"]),
                     "no overdue actions": st.column_config.TextColumn(help=acc.DEFINITIONS["overdue_actions"]),
                     "plan age (days)": st.column_config.NumberColumn(help=acc.DEFINITIONS["plan_age_days"]),
                     "plan elements": st.column_config.TextColumn(help=acc.DEFINITIONS["plan_elements"]),
                     "value 12 m": st.column_config.NumberColumn(f"value 12 m ({cur})", format="localized",
                                                                 help=acc.DEFINITIONS["value_12m"]),
                     "potential": st.column_config.NumberColumn(f"potential ({cur})", format="localized",
                                                                help=acc.DEFINITIONS["potential"]),
                     "open pipeline": st.column_config.NumberColumn(f"open pipeline ({cur})", format="localized"),
                 })
    _ui.downloads(table, f"accounts-{as_of.isoformat()}", "acc")

    st.subheader("Goals")
    goals = _ui.read("kam_analytics.reports.accounts.account_goals", as_of=as_of.isoformat(), scope=scope)
    goals = goals[goals["account_id"].isin(shown["account_id"])]
    if not len(goals):
        st.caption("These accounts have no goals yet (the account plan template's Goals sheet).")
    else:
        st.caption("Progress: " + acc.DEFINITIONS["progress"] + ".")
        _ui.table(acc.goals_for_people(goals).drop(columns=["account_id"]), column_config={
            "progress": st.column_config.ProgressColumn("progress", format="percent", min_value=0, max_value=1,
                                                        help=acc.DEFINITIONS["progress"])})
        _ui.downloads(goals, f"account-goals-{as_of.isoformat()}", "goals")
