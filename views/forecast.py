"""Forecast: the period's numbers as they stood at an as-of date (time travel), how the
pipeline moved (waterfall), what slipped and why, how good past forecasts were, pushes per deal
and owner, and quota attainment (docs/metrics.md "Snapshot as of t", "Push", "Slipped", "Pipeline
waterfall", "Forecast accuracy", "Quota attainment")."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from kam_analytics import charts, formatting, periods
from kam_analytics.reports import forecasting, pacing
from views import _ui

HELP = {
    "won": "Won in the period before the as-of (see [Forecast accuracy](/definitions#forecast-accuracy)): closed_date in P and "
           "before the as-of; a win after P's end is a later period's, however late the as-of.",
    "commit": "won_by_a + amounts at a of open deals with close_date in P and forecast_category commit.",
    "best_case": "The commit forecast plus the open deals in best case (see [Forecast accuracy](/definitions#forecast-accuracy)).",
    "weighted": "won_by_a + Σ amount at a × win rate from the deal's stage at a, the win rates computed from deals "
                "closed before a (no look-ahead).",
    "range": "The median (P50) of the simulated won amount over 10,000 seeded runs; 10 % of runs ended at or below "
             "P10, 90 % at or below P90.",
    "expected": "Take the snapshot at P's first day. Deals open then with close_date in P are expected.",
    "slipped": "At P's end each expected deal is won in P, lost in P, or slipped (still open, or closed after P).",
    "slippage_rate": "Slippage rate = slipped amount / expected amount.",
    "open": "While P has not ended: a deal still open is slipped if its close_date has moved past P, else still "
            "open and due.",
}
WATERFALL_DEFINITION = (
    "**Pipeline waterfall** ([definition](/definitions#pipeline-waterfall)), window [from, to) and close-date window W = the period. "
    "in_start: open at the start with close_date in W; in_end: open at the end with close_date in W. "
    "A deal closed in the window "
    "counts by its state at the end. In-start deals: their change of amount goes to increased or decreased, then "
    "they end as won, lost, pushed out (open at the end, close_date no longer in W) or stay in end. Other deals "
    "that are in_end, or closed in the window with close_date in W: new (did not exist at the start) or pulled "
    "in (existed then), then won, lost or end. A missing amount counts as 0. Start + new + pulled in + increased "
    "− decreased − pushed out − won − lost = end, exactly."
)
ACCURACY_DEFINITION = (
    "**Forecast accuracy** ([definition](/definitions#forecast-accuracy)), at each quarter's first day a: commit, best-case and weighted forecasts "
    "as defined above; actual = amount won with closed_date in P; accuracy = forecast / actual (— when actual is "
    "0); error = forecast − actual. Owners' calls: each owner's latest forecast_calls row for P submitted before "
    "a, compared with the same owners' actual."
)
ATTAINMENT_DEFINITION = (
    "**Quota attainment** ([definition](/definitions#quota-attainment)): attainment = won in P / quota; pipeline coverage = open amount with "
    "close_date in P at the as-of / (quota − won so far), per owner and rolled up by manager and team. Won in P "
    "counts the deals won in P before the as-of (closed_date in P, however late the as-of); the owners without "
    "a quota for P are on one last row, \"(no quota)\", so that the won column adds up to all won in P by the as-of."
)


def money(value) -> str:
    return formatting.number(value)


def _pacing_table(pace):
    """The pacing report in words for the page: headers in words, amounts with the currency,
    shares as percentages, "—" for what is missing; the downloads keep the report's keys."""
    cur, last = pace.attrs["currency"], len(pace) - 1
    amounts = {"won_so_far": "won so far", "commit_forecast": "commit", "best_case_forecast": "best case",
               "weighted_forecast": "weighted", "quota": "quota"}
    shown = pd.DataFrame({"point": [f"week {i + 1}" if i < last else "as of" for i in pace["week_index"]],
                          "from": [formatting.when(d) for d in pace["week_start"]]})
    for col, label in amounts.items():
        shown[f"{label} ({cur})"] = [formatting.number(v) for v in pace[col]]
    for col, label in (("typical_won_share", "typical share won"), ("typical_won_share_low", "lowest share"),
                       ("typical_won_share_high", "highest share")):
        shown[label] = [formatting.percent(v) for v in pace[col]]
    shown[f"pipeline needed ({cur})"] = [formatting.number(v) for v in pace["pipeline_needed"]]
    return shown


def _pacing_section(pace, p50, currency: str, period: str) -> None:
    last = pace.iloc[-1]
    defs = pacing.DEFINITIONS
    needed = last["pipeline_needed"]
    too_few = (not formatting.is_missing(needed) and needed > 0
               and pace.attrs["pipeline_deals"] < pace.attrs["min_sample"])
    m = st.columns(3)
    m[0].metric("Pipeline needed", "too few to say" if too_few else money(needed),
                help=f"Pipeline needed: {defs['pipeline_needed']}."
                     + (f" {formatting.number(pace.attrs['pipeline_deals'])} deals stand behind the share here."
                        if pace.attrs["past_periods"] else ""))
    m[1].metric("Likely won (P50)", money(p50) if p50 is not None else formatting.DASH,
                help=HELP["range"] if p50 is not None else f"{period} had ended at this as-of.")
    share = last["typical_won_share"]
    m[2].metric("Typical share won by now", formatting.percent(share),
                None if formatting.is_missing(last["quota"]) or not last["quota"]
                else f"{formatting.percent(last['won_so_far'] / last['quota'])} of the quota won so far",
                delta_color="off", delta_arrow="off",
                help=f"Typical share won: {defs['typical_won_share']}. The band: {defs['typical_band']}.")
    st.plotly_chart(charts.pacing(pace, currency, p50), width="stretch", key="chart-pacing")
    if formatting.is_missing(last["quota"]):
        st.caption(f"No quota is loaded for {period}, so there is no quota line, no typical pace band and no "
                   "pipeline needed. Import a quotas file (owner, period, amount) on the Import page.")
    _ui.notes(pace.attrs.get("notes", [])[1:])
    with st.expander("The weeks in figures"):
        _ui.table(_pacing_table(pace))
        _ui.downloads(pace, f"pacing-{period}", "pacing")
    with st.expander("How pacing is computed"):
        st.markdown("\n".join(f"- **{k.replace('_', ' ').capitalize()}**: {v}." for k, v in defs.items()))


@_ui.part
def _bar_deals(wf, period: str) -> None:
    """The deals behind one bar of the waterfall: picking a bar reruns this part alone."""
    with st.expander("The deals behind a bar"):
        labels = {charts.WATERFALL_LABELS[k]: k for k in charts.WATERFALL_LABELS}
        pick = st.selectbox("Bar", list(labels), index=list(labels).index("Pushed out"), key="wf-bar")
        rows = forecasting.bar_deals(wf.attrs["deals"], labels[pick])
        deals = forecasting.with_labels(rows, _ui.read("kam_analytics.reports.forecasting.deal_labels",
                                                       ids="\x1f".join(rows["deal_id"])))
        st.caption(f"{formatting.number(len(deals))} deals")
        _ui.table(deals, column_config={c: st.column_config.NumberColumn(c.replace("_", " "), format="localized")
                                        for c in ("start_amount", "change", "final_amount")})
        _ui.downloads(deals, f"waterfall-{period}-{labels[pick]}", "waterfall-deals")


@_ui.part
def _slipped_deals(expected, period: str) -> None:
    """The period's expected deals by outcome, and one deal's push history: reruns alone."""
    c1, c2 = st.columns([3, 2])
    with c1:
        outcome = st.segmented_control("Show", ["slipped", "open", "lost", "won", "all"], default="slipped",
                                       key="slip-outcome")
        shown = expected if outcome in (None, "all") else expected[expected["outcome"] == outcome]
        st.caption(f"{formatting.number(len(shown))} of {formatting.number(len(expected))} expected deals")
        _ui.table(shown.head(10_000), column_config={"amount": st.column_config.NumberColumn("amount",
                                                                                          format="localized")})
        _ui.downloads(shown, f"slippage-{period}-deals", "slip-deals")
    with c2:
        ids = shown["deal_id"].tolist()
        wanted = _ui.query_param("deal", ids[0] if ids else None, ids)
        deal = st.selectbox("Push history of", ids, index=ids.index(wanted) if wanted in ids else 0,
                            key="slip-deal", help="Type to search the deals listed on the left.") if ids else None
        if deal:
            _ui.set_query_params(deal=deal if deal != ids[0] else None)
            hist = _ui.read("kam_analytics.reports.forecasting.deal_history", deal_id=deal)
            st.caption(f"Every change of {_ui.md(deal)}: a later close date is a push, an earlier one a pull-in.")
            _ui.table(hist, column_config={"amount": st.column_config.NumberColumn("amount", format="localized")})


st.title("Forecast")

with _ui.guarded(), _ui.one_connection():   # one connection: the reports share the as-of snapshot
    summary = _ui.loaded_summary("No deals are loaded yet, so there is no forecast to show.")
    conf = _ui.read("kam_analytics.settings.load")
    currency, start_month = conf["currency"], int(conf["fiscal_year_start_month"])
    data_date = summary["data_date"] or date.today()
    quarters = periods.quarters_around(data_date, start_month, 8, 2)
    current = periods.fiscal_quarter(data_date, start_month)

    c = st.columns([1, 1, 1])
    period = _ui.url_selectbox(c[0], "Period", quarters, current, "period",
                               what=f"a quarter this page offers ({quarters[0]} to {quarters[-1]})",
                               instead=f"the current quarter, {current}",
                               help="A fiscal quarter (FY2026-Q1 names the quarter by the calendar year its fiscal "
                                 "year ends in). Type to search.")
    p0, p1 = periods.bounds(period, start_month)
    latest = data_date + timedelta(days=1)
    st.session_state.setdefault("fc-as-of", min(_ui.query_date("as_of") or latest, latest))
    as_of = c[1].date_input("As of (start of this day)", key="fc-as-of", max_value=latest,
                            help="Time travel: every number below is the pipeline as it stood at the start of this "
                                 f"day. The default, {formatting.when(latest)}, includes all of the data's date "
                                 f"({formatting.when(data_date)}).")
    wf_key = f"fc-from-{period}"
    st.session_state.setdefault(wf_key, min(_ui.query_date("from") or p0, latest))   # a period not begun yet
    wf_from = c[2].date_input("Waterfall from", key=wf_key, max_value=latest,
                              help="The waterfall's window runs from the start of this day to the as-of (at the "
                                   "latest the period's end).")
    _ui.set_query_params(as_of=as_of.isoformat() if as_of != latest else None,
                         **{"from": wf_from.isoformat() if wf_from != p0 else None})
    as_of_s = as_of.isoformat()
    st.caption(f"**{period}** runs {formatting.when(p0)} to {formatting.when(p1 - timedelta(days=1))} · as of the "
               f"start of {formatting.when(as_of)} · amounts in {currency}")

    # ---- the period's forecast at the as-of
    # the range computes the forecasts at the same as-of on its way: reuse them rather than read twice
    running = as_of < p1
    rng = (_ui.read("kam_analytics.reports.forecast_quality.forecast_range", period=period, as_of=as_of_s)
           if running else None)
    acc = (rng.attrs["accuracy"] if running else
           _ui.read("kam_analytics.reports.forecast_quality.forecast_accuracy", period=period, as_of=as_of_s))
    a = acc.iloc[0]
    m = st.columns(5)
    m[0].metric("Won so far", money(a["won_by_as_of"]), help=HELP["won"])
    m[1].metric("Commit forecast", money(a["commit_forecast"]), help=HELP["commit"])
    m[2].metric("Best-case forecast", money(a["best_case_forecast"]), help=HELP["best_case"])
    m[3].metric("Weighted forecast", money(a["weighted_forecast"]), help=HELP["weighted"])
    if running:
        r = rng.iloc[0]
        m[4].metric("Likely won (P50)", money(r["p50"]), f"P10 {formatting.compact(r['p10'])} – P90 "
                    f"{formatting.compact(r['p90'])}", delta_color="off", delta_arrow="off",
                    help=HELP["range"] + f" P10 {money(r['p10'])}, P90 {money(r['p90'])}.")
        with st.expander("How the likely range is simulated"):
            st.markdown(rng.attrs["method"])
            _ui.downloads(rng, f"forecast-range-{period}", "range")
    else:
        m[4].metric("Likely won (P50)", formatting.DASH, help=f"{period} had ended at this as-of.")
    _ui.notes(acc.attrs.get("notes", [])[1:])

    # ---- pacing: the period's weeks against the quota and the typical pace of past periods
    st.subheader("Pacing: where the period stands against where it usually is by now")
    if as_of < p0:
        st.info(f"{period} starts on {formatting.when(p0)}: its pacing begins then. Pick an as-of on or after it.")
    else:
        pace = _ui.read("kam_analytics.reports.pacing.pacing", period=period, as_of=as_of_s)
        _pacing_section(pace, rng.iloc[0]["p50"] if running else None, currency, period)

    st.subheader("How the pipeline moved")
    wf_to = min(as_of, p1) - timedelta(days=1)
    if wf_from > wf_to:
        st.info(f"The waterfall needs a window: pick a 'from' date before {formatting.when(min(as_of, p1))}.")
    else:
        wf = _ui.read("kam_analytics.reports.forecasting.waterfall", date_from=wf_from.isoformat(),
                      date_to=wf_to.isoformat(), period=period)
        st.caption(f"Deals with close dates in {period}, from the start of {formatting.when(wf_from)} to the end of "
                   f"{formatting.when(wf_to)}.")
        st.plotly_chart(charts.waterfall(wf, currency), width="stretch", key="chart-waterfall")
        v = {r["category"]: r["amount"] for r in wf.to_dict("records")}
        st.markdown(
            f"Start **{money(v['start'])}** + new {money(v['new'])} + pulled in {money(v['pulled_in'])} + increased "
            f"{money(v['increased'])} − decreased {money(v['decreased'])} − pushed out {money(v['pushed_out'])} − won "
            f"{money(v['won'])} − lost {money(v['lost'])} = end **{money(v['end'])}** {currency}")
        _ui.notes(wf.attrs.get("notes", [])[1:])
        _ui.downloads(wf, f"waterfall-{period}", "waterfall")
        _bar_deals(wf, period)
        with st.expander("How the waterfall is computed"):
            st.markdown(WATERFALL_DEFINITION)

    # ---- slippage
    st.subheader("What slipped")
    slip = _ui.read("kam_analytics.reports.forecasting.slippage", period=period)
    s = slip.iloc[0]
    m = st.columns(5)
    m[0].metric("Expected", f"{money(s['expected_amount'])}", f"{formatting.number(s['expected_deals'])} deals",
                delta_color="off", delta_arrow="off", help=HELP["expected"])
    m[1].metric("Won", money(s["won_amount"]), f"{formatting.number(s['won_deals'])} deals", delta_color="off", delta_arrow="off")
    m[2].metric("Lost", money(s["lost_amount"]), f"{formatting.number(s['lost_deals'])} deals", delta_color="off", delta_arrow="off")
    m[3].metric("Slipped", money(s["slipped_amount"]), f"{formatting.number(s['slipped_deals'])} deals",
                delta_color="off", delta_arrow="off", help=HELP["slipped"])
    m[4].metric("Slippage rate", formatting.percent(s["slippage_rate"]),
                f"{formatting.percent(s['slippage_count_rate'])} by count", delta_color="off", delta_arrow="off",
                help=HELP["slippage_rate"])
    if int(s["open_deals"]):
        st.caption(f"Still open and due: {formatting.number(s['open_deals'])} deals, {money(s['open_amount'])} "
                   f"{currency}. " + HELP["open"])
    _ui.notes(slip.attrs.get("notes", []))
    expected = _ui.read("kam_analytics.reports.forecasting.slippage_deals", period=period)
    if len(expected):
        _slipped_deals(expected, period)

    # ---- past quarters
    st.subheader("Forecast vs actual, past quarters")
    history = _ui.read("kam_analytics.reports.forecast_quality.accuracy_history", count=8)
    if len(history):
        st.plotly_chart(charts.accuracy_history(history, currency), width="stretch", key="chart-accuracy")
        shown = history[["period", "as_of", "commit_forecast", "best_case_forecast", "weighted_forecast",
                         "calls_commit", "actual", "commit_accuracy", "best_case_accuracy", "weighted_accuracy",
                         "calls_commit_accuracy"]].copy()
        for col in [c for c in shown.columns if c.endswith("_accuracy")]:
            shown[col] = [formatting.percent(x) for x in shown[col]]
        _ui.table(shown, column_config={c: st.column_config.NumberColumn(c.replace("_", " "), format="localized")
                                        for c in ("commit_forecast", "best_case_forecast", "weighted_forecast",
                                                  "calls_commit", "actual")})
        _ui.downloads(history, "forecast-accuracy-history", "accuracy")
        with st.expander("How accuracy is measured"):
            st.markdown(ACCURACY_DEFINITION)
    else:
        st.info("No quarter has ended within the data yet.")

    # ---- pushes
    st.subheader("Close-date pushes")
    by_owner = _ui.read("kam_analytics.reports.forecasting.pushes_by_owner")
    per_deal = _ui.read("kam_analytics.reports.forecasting.pushes")
    c1, c2 = st.columns(2)
    with c1:
        if len(by_owner) and int(by_owner["pushes"].sum()):
            st.plotly_chart(charts.pushes_by_owner(by_owner), width="stretch", key="chart-pushes")
        else:
            st.info("No close date has been pushed yet.")
        _ui.table(by_owner, column_config={"share_pushed": st.column_config.NumberColumn("share pushed", format="percent")})
        _ui.downloads(by_owner, "pushes-by-owner", "pushes-owner")
    with c2:
        pushed = per_deal[per_deal["pushes"] > 0]
        st.caption(f"{formatting.number(len(pushed))} deals pushed at least once, most pushed first"
                   + (" (showing 10,000)" if len(pushed) > 10_000 else ""))
        _ui.table(pushed.head(10_000))
        _ui.downloads(per_deal, "pushes", "pushes-deal")
    st.caption("A push is a later close date between two consecutive history rows, a pull-in an earlier one; a "
               "change from or to no date is neither (see [Push](/definitions#push)).")

    # ---- attainment
    st.subheader("Quota attainment")
    by_opts = ["owner", "manager", "team"]
    # kept by hand (?by=): a binding would carry the value to the other pages' "by" (a bound value
    # outlives a page switch), where it means a split, not a roll-up
    _ui.refused("by", by_opts, "a roll-up of quota attainment (owner, manager or team)", "showing it by owner")
    st.session_state.setdefault("att-by", _ui.query_param("by", "owner", by_opts))
    by = st.segmented_control("Roll up by", by_opts, key="att-by") or "owner"
    _ui.set_query_params(by=by if by != "owner" else None)
    att = _ui.read("kam_analytics.reports.forecast_quality.attainment", period=period, by=by, as_of=as_of_s)
    if att["quota"].notna().any():          # the owners without a quota are on a last row, "(no quota)"
        _ui.table(att, column_config={
            "quota": st.column_config.NumberColumn("quota", format="localized"),
            "won_amount": st.column_config.NumberColumn("won", format="localized"),
            "open_amount": st.column_config.NumberColumn("open in period", format="localized"),
            "attainment": st.column_config.ProgressColumn("attainment", format="percent", min_value=0, max_value=1.5,
                                                          help="won in P / quota"),
            "coverage": st.column_config.NumberColumn("coverage", format="percent",
                                                      help="open amount due in P / (quota − won so far); — once "
                                                           "the quota is met")})
        _ui.downloads(att, f"attainment-{period}-{by}", "attainment")
    else:
        st.info(f"No quota is loaded for {period}. Import a quotas file (owner, period, amount) on the Import page.")
    _ui.notes(att.attrs.get("notes", []))
    with st.expander("How attainment is computed"):
        st.markdown(ATTAINMENT_DEFINITION)
