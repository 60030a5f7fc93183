"""Key accounts: the portfolio (value of the last 12 months against potential, bubble = open
pipeline, colour = relationship strength), plan coverage with its gaps made obvious, and
filters by owner, segment and tier; every account opens on the Account page (docs/metrics.md "Key accounts")."""

import pandas as pd
import streamlit as st

from kam_analytics import charts, formatting
from kam_analytics.reports import accounts as acc
from views import _ui

YES, NO = "✓", "✗"
CRITERIA = {"plan_reviewed": "Plan reviewed", "has_decision_maker": "Decision maker",
            "has_economic_buyer": "Economic buyer", "has_champion": "Champion",
            "no_overdue_actions": "No overdue actions"}
MAX_ROWS = 5_000

st.title("Key accounts")


def _mark(df: pd.DataFrame) -> pd.DataFrame:
    """The coverage table as people read it: ✓/✗ per criterion, the gaps in words, a link; the
    report's keys where the grid formats the numbers (amounts, days) through _ui.table."""
    shown = pd.DataFrame({
        "account_name": df["account_name"],
        "open": "account?account=" + df["account_id"].astype(str),
        "coverage_score": df["coverage_score"],
        **{label: [YES if v else NO for v in df[col]] for col, label in CRITERIA.items()},
        "overdue_actions": df["overdue_actions"],
        "plan_age_days": df["plan_age_days"],
        "plan_elements": [f"{n} / {len(acc.ELEMENTS)}" for n in df["plan_elements"]],
        "gaps": ["; ".join(g) or "none" for g in df["gaps"]],
        "value_12m": df["value_12m"],
        "potential": df["potential"],
        "open_pipeline": df["open_pipeline"],
        "relationship_strength": [formatting.DASH if pd.isna(v) else
                                  f"{int(v)} · {formatting.RELATIONSHIP.get(int(v), '')}"
                                  for v in df["relationship_strength"]],
        "tier": df["tier"], "account_owner": df["account_owner"], "segment": df["segment"],
    })
    return shown


def _red(value):
    return "background-color: rgba(239, 68, 68, 0.18); color: #ef4444" if value == NO else ""


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
    _ui.table(view, highlight={label: _red for label in CRITERIA.values()}, column_config={
        "open": st.column_config.LinkColumn("Open", display_text="Account page",
                                            help="Opens the account: profile, plan, goals, map, actions and deals."),
        "coverage_score": st.column_config.ProgressColumn("Coverage", format="percent", min_value=0, max_value=1,
                                                          help=acc.DEFINITIONS["coverage_score"]),
        "Plan reviewed": st.column_config.TextColumn(help=acc.DEFINITIONS["plan_reviewed"]),
        "No overdue actions": st.column_config.TextColumn(help=acc.DEFINITIONS["overdue_actions"]),
        "plan_age_days": st.column_config.NumberColumn("Plan age (days)", help=acc.DEFINITIONS["plan_age_days"]),
        "plan_elements": st.column_config.TextColumn("Plan elements", help=acc.DEFINITIONS["plan_elements"]),
        "value_12m": st.column_config.NumberColumn(help=acc.DEFINITIONS["value_12m"]),
        "potential": st.column_config.NumberColumn(help=acc.DEFINITIONS["potential"]),
        "open_pipeline": st.column_config.NumberColumn(help=acc.DEFINITIONS["open_pipeline"]),
        "gaps": st.column_config.TextColumn("Gaps"),
    })
    _ui.downloads(table, f"accounts-{as_of.isoformat()}", "acc")

    st.subheader("Goals")
    goals = _ui.read("kam_analytics.reports.accounts.account_goals", as_of=as_of.isoformat(), scope=scope)
    goals = goals[goals["account_id"].isin(shown["account_id"])]
    if not len(goals):
        st.caption("These accounts have no goals yet (the account plan template's Goals sheet).")
    else:
        st.caption("Progress: " + acc.DEFINITIONS["progress"] + ". Status: " + acc.DEFINITIONS["progress_status"]
                   + ".")
        _ui.table(acc.goals_for_people(goals).drop(columns=["account_id", "metric_key"], errors="ignore"),
                  column_config=_ui.goal_columns())
        _ui.downloads(goals, f"account-goals-{as_of.isoformat()}", "goals")
