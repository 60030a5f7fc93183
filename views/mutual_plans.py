"""Mutual action plans: every open deal's MAP with its health (overdue steps, buyer-side apart;
unsigned at or after the configured stage; the deal's risk band), and one plan in full: its
header, a timeline of its steps (original against current due dates, completion), buyer
engagement, how long the closing plan took to become mutual, and for a won deal the
onboarding hand-off workbook (docs/metrics.md "Plan steps", "Risk flags", docs/data.md "Exports")."""

import streamlit as st

from kam_analytics import charts, db, formatting
from kam_analytics.reports import mutual_plans as mp
from views import _ui

BANDS = ["high", "medium", "low"]
PROBLEMS = {"overdue buyer-side steps": "Overdue buyer-side steps", "overdue seller-side steps":
            "Overdue seller-side steps", "unsigned": "Unsigned at or after the stage"}
MAX_ROWS = 10_000

st.title("Mutual action plans")


def _handoff_bytes(db_file: str, deal_id: str) -> bytes:
    """Built when the button is clicked, on a connection of its own (not at every rerun)."""
    with db.read(db_file) as con:
        return mp.handoff_workbook(mp.handoff(con, deal_id))


def _when(v) -> str:
    return formatting.when(v) if not formatting.is_missing(v) else formatting.DASH


with _ui.guarded(), _ui.one_connection():
    summary = _ui.loaded_summary("No deals are loaded yet, so there is no mutual plan to follow.")
    conf = _ui.read("kam_analytics.settings.load")
    r = conf["risk"]
    c = st.columns([1, 3])
    as_of = _ui.as_of_input("map-as-of", summary, c[0], "Plans, signatures and completed steps as they stood then; "
                                                        "steps' due dates and statuses are today's.")
    health = _ui.read("kam_analytics.reports.mutual_plans.map_health", as_of=as_of.isoformat())

    # ---- every open MAP and its health
    st.subheader("Open deals' mutual plans")
    if not len(health):
        st.info("No deal open at this date has a mutual plan. Import mutual action plans on the Import page, or "
                "turn a closing plan into one.", icon=":material/info:")
    else:
        f = st.columns(3)
        owners = _ui.url_multiselect(f[0], "owner", sorted(health["owner"].dropna().unique().tolist()), "Owner",
                                     "map-owner", "Type to search.")
        bands = _ui.url_multiselect(f[1], "band", BANDS, "Risk band", "map-band",
                                    "The deal's band on the Deals at risk page.")
        problems = _ui.url_multiselect(f[2], "problem", list(PROBLEMS), "Health", "map-problem",
                                       "Plans with any of these problems.", PROBLEMS.get)
        shown = _ui.keep(health, owner=owners, risk_band=bands)
        if problems:
            def has(words):
                return any(any(w.startswith(p) for w in words) for p in problems)
            shown = shown[[has(h) for h in shown["health"]]]

        m = st.columns(4)
        m[0].metric("Open mutual plans", formatting.number(len(shown)), help="Open deals with a mutual plan.")
        m[1].metric("Signed by both sides", formatting.percent(shown["signed"].mean() if len(shown) else None),
                    help=mp.DEFINITIONS["signed"] + ": share of the plans shown.")
        m[2].metric("With overdue buyer-side steps", formatting.number(int((shown["overdue_buyer_steps"] > 0).sum())),
                    help="Overdue: " + mp.DEFINITIONS["overdue"] + ".")
        m[3].metric("Median buyer engagement", formatting.percent(shown["buyer_engagement"].median()),
                    help="Buyer engagement: " + mp.DEFINITIONS["buyer_engagement"] + ".")
        listing = shown.head(MAX_ROWS).copy()
        listing["health"] = ["; ".join(h) or "on track" for h in listing["health"]]
        if len(shown) > MAX_ROWS:
            st.caption(f"The first {formatting.number(MAX_ROWS)} of {formatting.number(len(shown))} (riskiest "
                       "first); the downloads hold them all.")
        _ui.table(listing, column_config={
            "completion": st.column_config.ProgressColumn("completion", format="percent", min_value=0, max_value=1,
                                                          help=mp.DEFINITIONS["completion"]),
            "buyer_engagement": st.column_config.NumberColumn("buyer engagement", format="percent",
                                                              help=mp.DEFINITIONS["buyer_engagement"]),
            "signed": st.column_config.CheckboxColumn("signed", help=mp.DEFINITIONS["signed"]),
            "amount": st.column_config.NumberColumn("amount", format="localized"),
            "risk_score": st.column_config.NumberColumn("risk score", format="%g"),
            "days_to_mutual": st.column_config.NumberColumn("days to mutual", help=mp.DEFINITIONS["days_to_mutual"])})
        _ui.downloads(shown, f"map-health-{as_of.isoformat()}", "map")

    # ---- one plan
    st.subheader("One mutual plan")
    d = st.columns([3, 3])
    wanted = _ui.query_param("deal", "")
    default_text = wanted or (health["deal_id"].iloc[0] if len(health) else "")
    st.session_state.setdefault("map-q", default_text)
    text = d[0].text_input("Find a deal with a mutual plan", key="map-q", placeholder="Type a deal ID, name or account",
                           help="Searches deals with a mutual plan, open ones first (won ones have the hand-off).")
    found = _ui.read("kam_analytics.closing_plan.search_deals", text=text, limit=50, open_only=False, mutual_only=True)
    if not len(found):
        st.info(f"No deal with a mutual plan matches “{_ui.md(text)}”." if text else "No deal has a mutual plan yet.")
        st.stop()
    ids = found["deal_id"].tolist()
    labels = {row.deal_id: " · ".join(str(x) for x in (row.deal_id, row.deal_name, row.status, row.stage)
                                     if not formatting.is_missing(x)) for row in found.itertuples()}
    deal_id = d[1].selectbox("Deal", ids, index=ids.index(wanted) if wanted in ids else 0, format_func=labels.get,
                             key="map-deal")
    _ui.set_query_params(deal=deal_id)
    detail = _ui.read("kam_analytics.reports.mutual_plans.plan_detail", deal_id=deal_id, as_of=as_of.isoformat())
    deal, plan, facts, steps = detail["deal"], detail["plan"], detail["facts"], detail["steps"]
    st.markdown(f"**{_ui.md(deal['deal_id'])}** {_ui.md(deal['deal_name'], '')} · "
                f"{_ui.md(deal['account_name'] or deal['account_id'])} · {_ui.md(deal['owner'])} · "
                f"{_ui.md(deal['stage'])} ({_ui.md(deal['status'])}) · "
                f"{formatting.number(deal['amount'])} {_ui.md(deal['currency'] or conf['currency'])} · close date "
                f"{_when(deal['closed_date'] or deal['close_date'])}")
    if plan is None or facts is None:
        st.info("This deal's mutual plan did not exist yet at the as-of date.")
        st.stop()
    h = st.columns(2)
    h[0].markdown(f"**Problem**  \n{_ui.md(plan['problem'])}")
    h[1].markdown(f"**Proposed solution**  \n{_ui.md(plan['proposed_solution'])}")
    h = st.columns(4)
    h[0].markdown(f"**Seller owner**  \n{_ui.md(plan['seller_owner'])}")
    h[1].markdown(f"**Buyer owner**  \n{_ui.md(plan['buyer_owner'])}")
    h[2].markdown(f"**Target date**  \n{_when(plan['target_date'])}")
    h[3].markdown(f"**Signed**  \nseller {_when(plan['seller_signed_date'])} · buyer {_when(plan['buyer_signed_date'])}")
    m = st.columns(5)
    m[0].metric("Steps", formatting.number(facts["steps"]), f"{formatting.number(facts['completed_steps'])} completed",
                delta_color="off", delta_arrow="off")
    m[1].metric("Completion", formatting.percent(facts["completion"]), help=mp.DEFINITIONS["completion"])
    m[2].metric("Buyer engagement", formatting.percent(facts["buyer_engagement"]),
                f"{formatting.number(facts['buyer_on_time_steps'])} on time of {formatting.number(facts['buyer_due_steps'])} due",
                delta_color="off", delta_arrow="off", help=mp.DEFINITIONS["buyer_engagement"])
    m[3].metric("Overdue: buyer · seller", f"{formatting.number(facts['overdue_buyer_steps'])} · "
                                           f"{formatting.number(facts['overdue_seller_steps'])}",
                help="Overdue: " + mp.DEFINITIONS["overdue"] + ".")
    m[4].metric("Closing plan → mutual", "—" if formatting.is_missing(facts["days_to_mutual"])
                else f"{formatting.number(facts['days_to_mutual'])} days", help=mp.DEFINITIONS["days_to_mutual"]
                + (" (no closing plan came before this one)" if formatting.is_missing(facts["days_to_mutual"]) else ""))
    if len(steps):
        st.plotly_chart(charts.map_steps(steps, detail["as_of"]), width="stretch", key="chart-map")
        late = steps[steps["overdue"].notna()]
        if len(late):
            c1, c2 = st.columns(2)
            for col, side, label in ((c1, "overdue, buyer-side", "Overdue on the buyer's side"),
                                     (c2, "overdue, seller-side", "Overdue on our side (seller and joint)")):
                part = late[late["overdue"] == side]
                col.markdown(f"**{label}** ({len(part)})")
                for row in part.itertuples():
                    col.markdown(f"- {_ui.md(row.step)} — due {_when(row.due_date)}"
                                 + (f", first due {_when(row.original_due_date)}"
                                    if row.original_due_date != row.due_date else "")
                                 + (f" · {_ui.md(row.owner)}" if not formatting.is_missing(row.owner) else ""))
        _ui.table(steps, column_config={"due_date_moved_days": st.column_config.NumberColumn(
            "due date moved (days)", help="Current due date − original due date.")})
    else:
        st.caption("The plan has no steps yet.")
    if deal["status"] == "won":
        st.download_button("⬇ Onboarding hand-off (Excel)",
                           lambda: _handoff_bytes(_ui.path(), deal_id),
                           f"handoff-{deal_id}.xlsx",
                           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="handoff",
                           help="For the customer-success team: the problem, the proposed solution, the buyer's "
                                "stakeholders, the plan's steps and dates, the commitments still open, the amount "
                                "and the close date.")
    else:
        st.caption("The onboarding hand-off is offered once the deal is won.")
