"""Closing plan: pick an open deal (searching, not scrolling) and get its plan dated from how
long comparable deals really spend in each stage (docs/metrics.md "Closing plan generator")."""

import pandas as pd
import streamlit as st

from views import _ui
from kam_analytics import charts, closing_plan, exports, formatting

DEFINITION = (
    "**Closing plan generator** ([definition](/definitions#closing-plan-generator)): for an open deal, the remaining time of its current stage "
    "(max(0, median − age)), then one step per later open stage that at least half of comparable won deals "
    "passed through, plus the mutual-plan template's steps for those stages; each due at as_of + the "
    "cumulative median (or mean) of the stages before it. Comparable deals: same segment where every needed "
    "stage has at least the configured number of completed visits (default 20), else per stage all deals; "
    "the plan says which was used and how many deals stand behind each figure. The likely range sums the "
    "p25s and the p75s. It states the realistic close date beside the owner's, and exports as a workbook "
    "that imports back."
)
HELP = {
    "realistic": "as_of + the remaining time of the current stage + the median (or mean) of each later needed "
                 "stage, from comparable deals.",
    "owner": "The deal's close_date as its owner entered it.",
    "gap": "Realistic close date − owner's close date, in days: positive means the owner's date looks optimistic.",
    "range": "The likely range: as_of + the sum of the stages' p25s (earliest) and of their p75s (latest).",
}
SIDES = {"seller": "seller", "buyer": "buyer", "joint": "joint"}

st.title("Closing plan")


def _label(row) -> str:
    parts = [row.deal_id, row.deal_name, row.account_name, row.stage,
             formatting.number(row.amount) if not formatting.is_missing(row.amount) else None]
    return " · ".join(str(p) for p in parts if not formatting.is_missing(p))


@_ui.part
def _figures_behind(a: dict, as_of) -> None:
    """The figures behind the plan's dates and the deals behind each: picking a stage reruns this alone."""
    with st.expander("The figures behind the dates, and the deals behind each figure"):
        figures = pd.DataFrame(a["figures"])
        figures["won_share"] = [formatting.percent(v) for v in figures["won_share"]]
        for col in ("mean_days", "p25_days", "median_days", "p75_days", "p90_days"):
            figures[col] = [formatting.days(v) for v in figures[col]]
        st.caption(f"Per open stage, for **{_ui.md(a['basis'])}**: completed time in days, and the share of its "
                   f"{formatting.number(figures['won_deals'].iloc[0] if len(figures) else 0)} won deals that "
                   "passed through (needed when at least half did).")
        _ui.table(figures, column_config={"deals": st.column_config.NumberColumn("deals", format="localized"),
                                          "visits": st.column_config.NumberColumn("visits", format="localized")})
        stage = st.selectbox("Deals behind the stage", [s for s in figures["stage"]], key="drill-stage",
                             index=list(figures["stage"]).index(a["stage"]) if a["stage"] in list(figures["stage"]) else 0)
        by = a["comparable_by"] if a["scope"] == "group" else None
        deals, total = _ui.read("kam_analytics.reports.stage_durations.stage_duration_deals", stage=stage, by=by,
                                dim_value=a["group"] if by else None,
                                as_of=as_of.isoformat() if as_of else None)
        deals = deals[deals["days"].notna()]
        st.caption(f"{formatting.number(len(deals))} deals with a completed visit of {_ui.md(stage)} ({_ui.md(a['basis'])})"
                   + (f", of the first {formatting.number(total)} rows" if total > 10_000 else "") + ".")
        _ui.table(deals)
        _ui.downloads(deals, f"plan-{a['deal_id']}-{stage}-deals", "drill")


with _ui.guarded():
    summary = _ui.loaded_summary("No deals are loaded yet, so there is no deal to plan.")
    c = st.columns([3, 3, 1.4, 1.4])
    wanted = _ui.query_param("deal", "")
    st.session_state.setdefault("deal-q", wanted)     # a deal in the URL is searched for on arrival
    text = c[0].text_input("Find an open deal", key="deal-q", placeholder="Type a deal ID, name or account",
                           help="Searches deal IDs, names and accounts (case and accents ignored); "
                                "an exact ID comes first, then the largest amounts.")
    as_of = c[3].date_input("As of", value=_ui.query_date("as_of"), format="YYYY-MM-DD", key="plan-as-of",
                            help="Empty: the data's date. A past date plans the deal as it stood then.")
    found = _ui.read("kam_analytics.closing_plan.search_deals", text=text, limit=50,
                     as_of=as_of.isoformat() if as_of else None)
    left_out = found.attrs.get("left_out", 0)
    left_note = (f"{left_out:,} open deal(s) have no known stage as of that day "
                 "(no created date and no stage history, or first seen closed) and cannot be planned."
                 if left_out else "")
    if not len(found):
        st.info((f"No open deal matches “{_ui.md(text)}”. Try part of an ID, a deal name or an account name."
                 if text else "There is no open deal to plan as of that day: every deal is won or lost, or "
                              "not yet created.") + (" " + left_note if left_note else ""))
        st.stop()
    ids = found["deal_id"].tolist()
    labels = {r.deal_id: _label(r) for r in found.itertuples()}
    deal_id = c[1].selectbox(f"Deal ({len(ids)} shown)" if len(ids) < 50 else "Deal (the 50 best matches)", ids,
                             index=ids.index(wanted) if wanted in ids else 0, format_func=labels.get,
                             key="plan-deal")      # keyed: a later rerun keeps the pick, whatever the URL said
    _ui.refused("stat", ("median", "mean"), "a figure to date the steps from (median or mean)", "showing the median")
    stat = c[2].segmented_control("Dates from the", ["median", "mean"], default="median", key="stat",
                                  bind="query-params",
                                  help="Which figure of each stage's time dates the steps.") or "median"
    if left_note:
        st.caption(left_note)
    _ui.set_query_params(deal=deal_id, as_of=as_of.isoformat() if as_of else None)

    plan = _ui.read("kam_analytics.closing_plan.generate", deal_id=deal_id,
                    as_of=as_of.isoformat() if as_of else None, stat=stat)
    a = plan.attrs
    st.subheader(_ui.md(a['deal_id']) + (f" — {_ui.md(a['deal_name'])}" if a["deal_name"] else ""))
    st.caption(" · ".join(x for x in (
        _ui.md(a["account_name"], None), f"owner {_ui.md(a['owner'])}" if a["owner"] else None,
        f"amount {formatting.number(a['amount'])}" if not formatting.is_missing(a["amount"]) else None,
        f"in **{_ui.md(a['stage'])}** for {formatting.days(a['stage_age_days'])} days",
        f"as of {formatting.when(a['as_of'])} (start of day)") if x))

    m = st.columns(5)
    m[0].metric("Realistic close date", formatting.when(a["realistic_close_date"]), help=HELP["realistic"])
    m[1].metric("Likely earliest", formatting.when(a["likely_close_from"]), help=HELP["range"])
    m[2].metric("Likely latest", formatting.when(a["likely_close_to"]), help=HELP["range"])
    m[3].metric("Owner's close date", formatting.when(a["owner_close_date"]), help=HELP["owner"])
    gap = a["gap_days"]
    m[4].metric("Gap", formatting.DASH if gap is None else f"{int(gap):+,} days", help=HELP["gap"],
                delta=None if not gap else ("later than the owner's" if gap > 0 else "earlier than the owner's"),
                delta_color="inverse")
    st.caption(f"Dated by the **{stat}** of **{_ui.md(a['basis'])}** · revisits: {a['revisits']}")
    _ui.notes(a["notes"])

    st.plotly_chart(charts.plan_timeline(plan), width="stretch", key="chart-plan")
    shown = plan[["step_no", "step", "stage", "side", "owner", "due_date", "cumulative_days", "stage_days",
                  "stage_deals"]].copy()
    for col in ("cumulative_days", "stage_days"):
        shown[col] = [formatting.days(v) for v in shown[col]]
    shown["stage_deals"] = [formatting.number(v) for v in shown["stage_deals"]]
    _ui.table(shown, height=_ui.fit_height(len(shown)), column_config={
        "step_no": st.column_config.NumberColumn("no.", width=40),
        "step": st.column_config.TextColumn("step", width=240),
        "stage": st.column_config.TextColumn("stage", width=100),
        "side": st.column_config.TextColumn("side", width=60),
        "owner": st.column_config.TextColumn("owner", width=170),
        "due_date": st.column_config.DateColumn("due date", format="YYYY-MM-DD", width=95),
        "cumulative_days": st.column_config.TextColumn("days from as-of", alignment="right", width=80,
                                                       help="Cumulative days from the as-of to the due date."),
        "stage_days": st.column_config.TextColumn("stage days", alignment="right", width=75,
                                                  help="The stage's median (or mean); for the current stage, "
                                                       "max(0, figure − age)."),
        "stage_deals": st.column_config.TextColumn("deals behind", alignment="right", width=75,
                                                     help="Comparable deals with a completed visit of the stage."),
    })
    d = st.columns([1.6, 1, 4])
    d[0].download_button("⬇ Plan workbook (imports back)", lambda: closing_plan.to_workbook(plan),
                         f"closing-plan-{a['deal_id']}.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         help="The mutual-action-plan template's shape: fill in, then import it on the "
                              "Import page.", width="stretch")
    d[1].download_button("⬇ CSV", lambda: exports.to_csv(plan), f"closing-plan-{a['deal_id']}.csv", "text/csv",
                         width="stretch")

    st.subheader("Convert to a mutual plan")
    why = closing_plan.can_convert(plan)
    if why:
        st.info(why[0].upper() + why[1:] + ".", icon=":material/info:")
    else:
        st.caption(f"Stores these steps as the deal's mutual plan, with their due dates as the original due dates "
                   f"(the start of slippage tracking), seller owner {_ui.md(a['owner'])} and buyer owner "
                   f"{_ui.md(a['champion'] or a['economic_buyer'])}. It can be undone on the Import page.")
        agreed = st.checkbox(f"The buyer ({_ui.md(a['champion'])}, economic buyer {_ui.md(a['economic_buyer'])}) has agreed "
                             "these dates", key="agreed")
        if not _ui.may_change_data():
            _ui.viewer_note("Storing a mutual plan")
        if st.button("Convert to mutual plan", type="primary", disabled=not agreed or not _ui.may_change_data(),
                     key="convert"):
            with _ui.guarded():
                batch_id, _ = closing_plan.convert_to_mutual(_ui.path(), a["deal_id"],
                                                             as_of=as_of.isoformat() if as_of else None, stat=stat)
                st.session_state["converted"] = (a["deal_id"], batch_id)
                st.rerun()
    done = st.session_state.get("converted")
    if done and done[0] == a["deal_id"]:
        st.success(f"Stored as the mutual plan of {_ui.md(done[0])} (batch {done[1]}; undo it on the Import page).")

    _figures_behind(a, as_of)
    with st.expander("How the plan is made"):
        st.markdown(DEFINITION)
