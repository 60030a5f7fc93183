"""Win-loss: win rates by any dimension with their 95% Wilson intervals, by deal size, by the
deals' mutual-plan facts at closing, loss reasons as a Pareto chart, competitors, and each
mutual-plan step's lateness in won against lost deals (docs/metrics.md "Win rate", "Bands", "Plan
steps"). Date range and segment in the URL; every table downloads and drills down to its deals."""

from datetime import date

import streamlit as st

from kam_analytics import charts, formatting, settings
from kam_analytics.reports import win_loss as wl
from views import _ui

FACT_LABELS = {"has_mutual_plan": "Has a mutual plan", "plan_signed": "Plan signed by both sides",
               "completion_band": "Plan completion at closing", "buyer_on_time_band": "Buyer steps on time"}
RATE_HELP = {
    "win_rate": f"[Win rate](/definitions#win-rate): {wl.DEFINITIONS['win_rate']}; with {wl.DEFINITIONS['interval']}.",
    "value_win_rate": f"{wl.DEFINITIONS['value_win_rate']}.",
}

st.title("Win-loss")


def _value_label(v) -> str:
    return formatting.DASH if formatting.is_missing(v) else str(v)


@_ui.part
def _drill(df, label: str, key: str, filters: dict, *, by=None, fact=None) -> None:
    """The closed deals behind one row of `df` (win-loss split by `by`, or plan-effect by `fact`): reruns alone."""
    with st.expander("The deals behind a row", icon=":material/list:"):
        c1, c2 = st.columns([2, 1])
        values = df[label].tolist()
        value = c1.selectbox(label, values, format_func=_value_label, key=f"{key}-value",
                             help="Type to search the rows above.")
        outcome = c2.segmented_control("Outcome", ["won", "lost"], key=f"{key}-outcome",
                                       help="Leave both unselected to list won and lost deals.")
        kwargs = {"by": by, "value": value} if by else {"fact": fact, "fact_value": value}
        deals, total = _ui.read("kam_analytics.reports.win_loss.deals_behind", outcome=outcome, **kwargs, **filters)
        st.caption(f"{formatting.number(total)} deal(s)" + (f"; the first {formatting.number(len(deals))} by amount"
                                                             if total > len(deals) else ""))
        _ui.table(deals, column_config={"amount": st.column_config.NumberColumn("amount", format="localized"),
                                        "completion": st.column_config.NumberColumn("completion", format="percent"),
                                        "buyer_engagement": st.column_config.NumberColumn("buyer engagement",
                                                                                          format="percent")})
        _ui.downloads(deals, f"win-loss-deals-{key}", f"{key}-deals")


@_ui.part
def _steps_behind(sl, filters: dict) -> None:
    """The plan steps behind one row of step lateness: reruns alone."""
    with st.expander("The steps behind a row", icon=":material/list:"):
        keys = dict(zip(sl["step_key"], sl["step"]))
        d1, d2 = st.columns([2, 1])
        step_key = d1.selectbox("Step", list(keys), format_func=keys.get, key="steps-step")
        outcome = d2.segmented_control("Outcome", ["won", "lost"], key="steps-outcome")
        rows, n = _ui.read("kam_analytics.reports.win_loss.step_deals", step_key=step_key, outcome=outcome,
                           **filters)
        st.caption(f"{formatting.number(n)} step(s), overdue at close first")
        _ui.table(rows)
        _ui.downloads(rows, f"step-{step_key}", "steps-deals")


def _rates_table(df, label: str) -> None:
    _ui.table(df, column_config={
        label: st.column_config.TextColumn(label),
        "win_rate": st.column_config.NumberColumn("win rate", format="percent", help=RATE_HELP["win_rate"]),
        "win_rate_low": st.column_config.NumberColumn("95% low", format="percent", help=wl.DEFINITIONS["interval"]),
        "win_rate_high": st.column_config.NumberColumn("95% high", format="percent", help=wl.DEFINITIONS["interval"]),
        "value_win_rate": st.column_config.NumberColumn("value win rate", format="percent",
                                                        help=RATE_HELP["value_win_rate"]),
        "won": st.column_config.NumberColumn("won", format="localized"),
        "lost": st.column_config.NumberColumn("lost", format="localized"),
        "deals": st.column_config.NumberColumn("deals", format="localized"),
        "won_amount": st.column_config.NumberColumn("won amount", format="localized"),
        "lost_amount": st.column_config.NumberColumn("lost amount", format="localized"),
    })


def _split(by: str, key: str, filters: dict, min_sample: int, title: str) -> None:
    df = _ui.read("kam_analytics.reports.win_loss.win_loss", by=by, **filters)
    if not len(df):
        st.info("No closed deal in this range.")
        return
    st.plotly_chart(charts.win_rates(df.head(40), by, title, min_sample), width="stretch", key=f"chart-{key}")
    if len(df) > 40:
        st.caption(f"The chart shows the 40 values with the most closed deals of {formatting.number(len(df))}; the "
                   "table holds them all.")
    _rates_table(df, by)
    _ui.downloads(df, f"win-loss-by-{by}", key)
    _drill(df, by, key, filters, by=by)


with _ui.guarded(), _ui.one_connection():
    summary = _ui.loaded_summary("No deals are loaded yet, so there is nothing won or lost to compare.")
    conf = _ui.read("kam_analytics.settings.load")
    min_sample = int(conf["min_sample"])
    first, last = _ui.read("kam_analytics.reports.win_loss.range_bounds")
    segments = _ui.read("kam_analytics.reports.win_loss.segments")

    # ---- filters (in the URL)
    st.session_state.setdefault("wl-from", _ui.query_date("from"))
    st.session_state.setdefault("wl-to", _ui.query_date("to"))
    f = st.columns([1, 1, 2])
    date_from = f[0].date_input("Closed from", key="wl-from", value=None, min_value=date(1990, 1, 1),
                                help=f"Deals closed on or after this day. Empty: every closed deal "
                                     f"(first closed {formatting.when(first)}).")
    date_to = f[1].date_input("Closed to", key="wl-to", value=None, min_value=date(1990, 1, 1),
                              help=f"Deals closed on or before this day (last closed {formatting.when(last)}).")
    _ui.refused("segment", ["All", *segments], "a segment with closed deals", "showing all segments")
    st.session_state.setdefault("wl-segment", _ui.query_param("segment", "All", ["All", *segments]))
    segment = f[2].selectbox("Segment", ["All", *segments], key="wl-segment", help="Type to search.")
    _ui.set_query_params(**{"from": date_from.isoformat() if date_from else None,
                            "to": date_to.isoformat() if date_to else None,
                            "segment": None if segment == "All" else segment})
    if date_from and date_to and date_to < date_from:
        st.warning("“Closed to” is before “Closed from”: nothing can be in that range.")
        st.stop()
    filters = {"date_from": date_from.isoformat() if date_from else None,
               "date_to": date_to.isoformat() if date_to else None,
               "segment": None if segment == "All" else segment}

    total = _ui.read("kam_analytics.reports.win_loss.win_loss", **filters)
    if not len(total) or int(total["deals"].iloc[0]) == 0:
        st.info("No deal closed (won or lost) in this range: widen the dates or pick another segment.",
                icon=":material/info:")
        st.stop()
    t = total.iloc[0]
    st.caption(" ".join(_ui.md(n) for n in total.attrs["notes"]))
    m = st.columns(4)
    m[0].metric("Win rate (count)", formatting.percent(t["win_rate"]),
                f"95% interval {formatting.percent(t['win_rate_low'])}–{formatting.percent(t['win_rate_high'])}",
                delta_color="off", delta_arrow="off", help=RATE_HELP["win_rate"])
    m[1].metric("Win rate (value)", formatting.percent(t["value_win_rate"]), delta_color="off",
                help=RATE_HELP["value_win_rate"])
    m[2].metric("Won", formatting.number(t["won"]), f"{formatting.compact(t['won_amount'])} {conf['currency']}",
                delta_color="off", delta_arrow="off", help="Deals won in the range, and their amount.")
    m[3].metric("Lost", formatting.number(t["lost"]), f"{formatting.compact(t['lost_amount'])} {conf['currency']}",
                delta_color="off", delta_arrow="off", help="Deals lost in the range, and their amount.")

    tabs = st.tabs(["By dimension", "By deal size", "Mutual-plan facts", "Loss reasons", "Competitors",
                    "Step lateness"])
    with tabs[0]:
        dim_names = [d for d in _ui.read("kam_analytics.dims.names") if d not in ("size_band",)]
        default_by = "owner" if "owner" in dim_names else dim_names[0]
        # kept by hand (?by=), not bound: a bound value outlives a page switch and would become the
        # Stage durations split (there "by" means the same word, with another default)
        _ui.refused("by", dim_names, "a dimension to split by (ids, names, amounts and dates are not, nor text "
                                     "columns with more than 50 values)", f"showing the split by {default_by}")
        st.session_state.setdefault("wl-by", _ui.query_param("by", default_by, dim_names))
        by = st.selectbox("Split by", dim_names, key="wl-by",
                          help="A dimension of the deal, its account, owner or product. Type to search.")
        _ui.set_query_params(by=by if by != default_by else None)
        _split(by, "dim", filters, min_sample, f"Win rate by {by}")
    with tabs[1]:
        bands = ", ".join(settings.size_band_labels([float(x) for x in conf["size_bands"]]))
        st.caption(f"Deal-size bands from the settings (lower bound inclusive): {bands}. A deal without an amount "
                   "has no band.")
        _split("size_band", "size", filters, min_sample, "Win rate by deal size")
    with tabs[2]:
        fact = st.segmented_control("Plan fact", list(wl.FACTS), format_func=FACT_LABELS.get, key="wl-fact",
                                    default="has_mutual_plan", help="Measured at each deal's closed date.")
        fact = fact or "has_mutual_plan"
        st.caption(f"**{fact}**: {wl.DEFINITIONS[fact]}.")
        pe = _ui.read("kam_analytics.reports.win_loss.plan_effect", by=fact, **filters)
        pe_shown = pe.assign(**{fact: [_value_label(v) for v in pe[fact]]})
        st.plotly_chart(charts.win_rates(pe_shown, fact, f"Win rate by {FACT_LABELS[fact].lower()}", min_sample),
                        width="stretch", key="chart-fact")
        _rates_table(pe_shown, fact)
        _ui.downloads(pe, f"plan-effect-{fact}", "fact")
        _drill(pe, fact, "fact", filters, fact=fact)
    with tabs[3]:
        reasons = _ui.read("kam_analytics.reports.win_loss.win_loss", by="loss_reason", **filters)
        lost = reasons[reasons["lost"] > 0]
        if not len(lost):
            st.info("No lost deal in this range.")
        else:
            st.plotly_chart(charts.pareto(lost, "loss_reason", "lost", "Loss reasons: lost deals, most first"),
                            width="stretch", key="chart-pareto")
            if lost["loss_reason"].isna().any():
                st.caption("— : lost deals without a loss reason.")
            shown = lost[["loss_reason", "lost", "lost_amount"]].sort_values("lost", ascending=False)
            shown = shown.assign(share=shown["lost"] / shown["lost"].sum(),
                                 cumulative_share=shown["lost"].cumsum() / shown["lost"].sum())
            _ui.table(shown, column_config={"share": st.column_config.NumberColumn("share", format="percent"),
                                            "cumulative_share": st.column_config.NumberColumn("cumulative share",
                                                                                              format="percent"),
                                            "lost_amount": st.column_config.NumberColumn("lost amount",
                                                                                         format="localized")})
            _ui.downloads(reasons, "win-loss-by-loss_reason", "reason")
            _drill(lost, "loss_reason", "reason", filters, by="loss_reason")
    with tabs[4]:
        st.caption("Win rate of the deals that named each competitor (— : no competitor named).")
        _split("competitor", "competitor", filters, min_sample, "Win rate against each competitor")
    with tabs[5]:
        sl = _ui.read("kam_analytics.reports.win_loss.step_lateness", **filters)
        if not len(sl):
            st.info("No closed deal in this range had a mutual plan with steps.")
        else:
            st.caption("Each mutual-plan step as it stood at its deal's closed date, grouped by name (case, accents, "
                       "punctuation and numbering ignored): which steps slip before a loss.")
            c1, c2 = st.columns(2)
            c1.plotly_chart(charts.step_lateness(sl, "overdue_at_close_rate", "Overdue at close"), width="stretch",
                            key="chart-overdue")
            c2.plotly_chart(charts.step_lateness(sl, "on_time_rate", "Completed on time"), width="stretch",
                            key="chart-ontime")
            _ui.table(sl.drop(columns=["step_key"]), column_config={
                "on_time_rate": st.column_config.NumberColumn("on time", format="percent",
                                                              help=wl.DEFINITIONS["on_time_rate"]),
                "median_late_days": st.column_config.NumberColumn("median late days", format="%.1f",
                                                                  help=wl.DEFINITIONS["median_late_days"]),
                "overdue_at_close_rate": st.column_config.NumberColumn("overdue at close", format="percent",
                                                                       help=wl.DEFINITIONS["overdue_at_close_rate"])})
            _ui.downloads(sl, "step-lateness", "steps")
            _steps_behind(sl, filters)
