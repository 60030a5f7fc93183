"""Stage velocity: how many deals reach each stage, how they convert and win from there, how
long each stage takes and how long the whole cycle is (docs/metrics.md "Reached, conversion, win rate
from stage", "Time in stage", "Sales cycle")."""

import streamlit as st

from views import _ui
from kam_analytics import charts, formatting

DEFINITION = (
    "**Reached, conversion, win rate from stage** ([definition](/definitions#reached-conversion-win-rate-from-stage)): a deal reached stage S when its history "
    "holds S or any later open stage, or a won stage. `reached` counts closed deals only (open deals "
    "have not finished their path), and conversion S→next = reached(next) / reached(S) among them; the "
    "next stage of the last open stage is the won stage. Win rate from S = won / (won + lost) among "
    "closed deals that reached S.\n\n"
    "**Time in stage**: completed visits only (a visit runs from its first history row to the next row "
    "with another stage); open visits are shown apart as deals in progress.\n\n"
    "**Sales cycle**: closed_date − created_date, in days, for closed deals."
)
HELP = {
    "reached": "Closed deals that reached the stage: their history holds it or a later open stage, or they were won.",
    "conversion_to_next": "reached(next stage) / reached(this stage) among closed deals; after the last open stage, the won stage.",
    "win_rate_from_stage": "won / (won + lost) among closed deals that reached the stage.",
    "deals": "Closed deals with both a created and a closed date.",
    "mean_days": "Mean of closed_date − created_date, in days.",
    "median_days": "Median of closed_date − created_date, in days.",
}

st.title("Stage velocity")


def _picked(df, by_dim, chosen):
    """The rows of the picked dimension values, in the order picked (colours follow it)."""
    rank = {v: i for i, v in enumerate(chosen)}
    out = df[df[by_dim].isin(chosen)]
    return out.sort_values(by_dim, key=lambda s: s.map(rank), kind="stable")


@_ui.part
def _deals_behind(conv, by_dim, chosen):
    """The closed deals that reached one stage (and one picked value of the split): reruns alone."""
    st.subheader("Deals behind a stage")
    d1, d2 = st.columns(2)
    stage = d1.selectbox("Stage reached", list(dict.fromkeys(conv["stage"])), key="drill-stage")
    dim_value = d2.selectbox(by_dim.replace("_", " ").capitalize(), chosen, key="drill-dim",
                             format_func=lambda v: formatting.DASH if formatting.is_missing(v) else str(v)) \
        if by_dim else None
    deals, total = _ui.read("kam_analytics.reports.velocity.conversion_deals", stage=stage, by=by_dim,
                            dim_value=dim_value)
    st.caption(f"{formatting.number(total)} closed deals reached {_ui.md(stage)}"
               + (f" (showing the first {formatting.number(len(deals))})" if total > len(deals) else "")
               + ", won ones first.")
    _ui.table(deals, column_config={"amount": st.column_config.NumberColumn("amount", format="localized")})
    _ui.downloads(deals, f"conversion-{stage}-deals", "drill")


with _ui.guarded():
    _ui.loaded_summary("No deals are loaded yet, so there is no velocity to show.")
    min_sample = int(_ui.read("kam_analytics.settings.load")["min_sample"])

    c = st.columns([2, 4])
    by_dim = _ui.split_by(c[0])
    conv = _ui.read("kam_analytics.reports.velocity.conversion", by=by_dim)
    chosen = []
    if by_dim:
        first = conv[conv["stage"] == conv["stage"].iloc[0]].sort_values("reached", ascending=False) if len(conv) else conv
        labels = {str(v): v for v in first[by_dim].tolist()}
        _ui.refused("v", labels, f"a {by_dim} value with closed deals", "showing the largest two")
        picked = c[1].multiselect(f"Compare two {by_dim} values side by side", list(labels), default=list(labels)[:2],
                                  max_selections=2, key="v", bind="query-params",
                                  help="Type to search; the largest two are preselected.")
        chosen = [labels[p] for p in picked]
        conv = _picked(conv, by_dim, chosen)

    st.caption(f"As of **{formatting.when(conv.attrs['as_of'])}** (start of day) · closed deals only for reached "
               f"and conversion · below {min_sample} deals a rate is *too few to say* on this page.")
    _ui.notes(conv.attrs.get("notes", []))
    if not len(conv) or int(conv["reached"].max()) == 0:
        st.info("No closed deal yet" + (" for this selection" if by_dim else "") +
                ": reached, conversion and win rate count closed deals only.")
    else:
        won_stage = conv.attrs.get("won_stage")
        if by_dim:   # two funnels side by side, in the order picked
            for i, (col, value) in enumerate(zip(st.columns(len(chosen)), chosen)):
                label = formatting.DASH if formatting.is_missing(value) else str(value)
                col.plotly_chart(charts.funnel(conv[conv[by_dim] == value], won_stage, f"{by_dim}: {label}",
                                               charts.PALETTE[i]), width="stretch", key=f"chart-funnel-{i}")
        else:
            st.plotly_chart(charts.funnel(conv, won_stage), width="stretch", key="chart-funnel")
        shown = conv.copy()
        few = shown["reached"] < min_sample
        for col in ("conversion_to_next", "win_rate_from_stage"):
            shown[col] = ["too few to say" if f else formatting.percent(v) for v, f in zip(shown[col], few)]
        cfg = {k: st.column_config.TextColumn(k.replace("_", " "), help=HELP[k], alignment="right")
               for k in ("conversion_to_next", "win_rate_from_stage")}
        cfg["reached"] = st.column_config.NumberColumn("reached", help=HELP["reached"], format="localized")
        _ui.table(shown, column_config=cfg)
        _ui.downloads(conv, "conversion", "conversion")

    st.subheader("Time in each stage")
    spread = _ui.read("kam_analytics.reports.velocity.stage_time_spread", by=by_dim)
    durations = _ui.read("kam_analytics.reports.stage_durations.stage_durations", by=by_dim)
    if by_dim:
        spread = _picked(spread, by_dim, chosen)
        durations = _picked(durations, by_dim, chosen)
    if len(spread):
        st.plotly_chart(charts.stage_spread(spread, by_dim), width="stretch", key="chart-spread")
        _ui.downloads(spread, "stage-time-spread", "spread")
    else:
        st.info("No completed stage visit yet" + (" for this selection." if by_dim else "."))
    if len(durations) and int(durations["in_progress"].sum()):
        st.plotly_chart(charts.in_progress(durations, by_dim), width="stretch", key="chart-progress")

    st.subheader("Sales cycle")
    cyc = _ui.read("kam_analytics.reports.velocity.cycle", by=by_dim)
    if by_dim:
        cyc = _picked(cyc, by_dim, chosen)
    if len(cyc) and int(cyc["deals"].sum()):
        st.plotly_chart(charts.cycle(cyc, by_dim), width="stretch", key="chart-cycle")
        shown = cyc.copy()
        for col in ("mean_days", "median_days"):
            shown[col] = [formatting.days(v) for v in shown[col]]
        _ui.table(shown, column_config={
            "deals": st.column_config.NumberColumn("deals", help=HELP["deals"], format="localized"),
            "mean_days": st.column_config.TextColumn("mean days", help=HELP["mean_days"], alignment="right"),
            "median_days": st.column_config.TextColumn("median days", help=HELP["median_days"], alignment="right"),
        })
        _ui.downloads(cyc, "cycle", "cycle")
    else:
        st.info("No closed deal with a created and a closed date yet.")
    with st.expander("How these numbers are computed"):
        st.markdown(DEFINITION)

    if len(conv) and int(conv["reached"].max()):
        _deals_behind(conv, by_dim, chosen)
