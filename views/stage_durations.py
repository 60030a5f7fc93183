"""Stage durations: how long deals spend in each stage (docs/metrics.md "Time in stage")."""

import streamlit as st

from views import _ui
from kam_analytics import charts, formatting

DEFINITION = (
    "Time in stage ([definition](/definitions#time-in-stage)): consecutive history rows with the same stage form one visit, "
    "from its first row to the next row with another stage. A visit with no such row is open: "
    "its age is as-of − start, reported as in progress, never mixed into completed durations. "
    "Closed stages have no duration. A deal's time in a stage is the sum of its completed visits "
    "(revisits summed; a skipped stage has no value, not zero) under the `cumulative` rule; `first` "
    "and `latest` take only the first or last completed visit. Per stage: deals, mean, median, "
    "p75, p90 (continuous quantiles), and the count and median age of deals in progress."
)
HELP = {
    "deals": "Deals with at least one completed visit of the stage (under the revisit rule).",
    "mean_days": "Mean of the deals' completed time in the stage, in days.",
    "median_days": "Median of the deals' completed time in the stage, in days.",
    "p75_days": "75th percentile (continuous, linear interpolation) of completed time, in days.",
    "p90_days": "90th percentile (continuous, linear interpolation) of completed time, in days.",
    "in_progress": "Deals whose current visit of the stage is open at the as-of date.",
    "in_progress_median_age_days": "Median age of the open visits: as-of − visit start, in days.",
}
OUTCOMES = {"all": "All", "won": "Won", "lost": "Lost"}
RULES = {"cumulative": "Cumulative", "first": "First", "latest": "Latest"}


@_ui.part
def _deals_behind(df, by_dim, outcome, rule, created_from, created_to):
    """The deals behind one stage's figure (and one value of the split): reruns alone."""
    st.subheader("Deals behind a figure")
    d1, d2 = st.columns(2)
    stages = list(df["stage"].unique())
    busy = [s for s in stages if df.loc[df["stage"] == s, ["deals", "in_progress"]].to_numpy().sum() > 0]
    stage = d1.selectbox("Stage", stages, key="drill-stage",       # the first stage with deals behind it
                         index=stages.index(busy[0]) if busy else 0)
    dim_value = None
    if by_dim:
        values = [v for v in df[by_dim].unique()]
        dim_value = d2.selectbox(by_dim.replace("_", " ").capitalize(), values, format_func=lambda v: formatting.DASH if formatting.is_missing(v) else str(v), key="drill-dim")
    deals, total = _ui.read("kam_analytics.reports.stage_durations.stage_duration_deals", stage=stage, by=by_dim,
                            dim_value=dim_value, outcome=outcome, revisits=rule,
                            created_from=created_from, created_to=created_to)
    st.caption(f"{formatting.number(total)} deals" + (f" (showing the first {formatting.number(len(deals))})" if total > len(deals) else "")
               + " — completed days under the rule, and the age of an open visit.")
    listed = deals.copy()
    for col in ("days", "open_age_days"):
        listed[col] = listed[col].map(formatting.days)
    _ui.table(listed, column_config={
        "days": st.column_config.TextColumn("completed days", alignment="right"),
        "open_age_days": st.column_config.TextColumn("open visit age (days)", alignment="right"),
        "completed_visits": st.column_config.NumberColumn("completed visits"),
    })
    _ui.downloads(deals, f"stage-durations-{stage}-deals", "drill")


st.title("Stage durations")

with _ui.guarded():
    _ui.loaded_summary("No deals are loaded yet, so there are no stage durations to show.")

    settings_ = _ui.read("kam_analytics.settings.load")
    min_sample = int(settings_["min_sample"])

    # Filters, kept in the URL so a view can be shared.
    c = st.columns([2, 2, 3, 3])
    by_dim = _ui.split_by(c[0])
    outcome = c[1].segmented_control("Outcome", list(OUTCOMES), format_func=OUTCOMES.get,
                                     default=_ui.query_param("outcome", "all", OUTCOMES), key="outcome") or "all"
    rule = c[2].segmented_control("Revisits", list(RULES), format_func=RULES.get,
                                  default=_ui.query_param("revisits", settings_["revisit_rule"], RULES), key="revisits",
                                  help="How a deal that returns to a stage counts: all completed visits summed, or only the first or the latest.") or "cumulative"
    first_day, last_day = _ui.query_date("from"), _ui.query_date("to")
    created = c[3].date_input("Deals created between", value=(first_day, last_day) if first_day and last_day else (),
                              help="Leave empty for all deals.", format="YYYY-MM-DD")
    created_from, created_to = (created[0], created[1]) if isinstance(created, (list, tuple)) and len(created) == 2 else (None, None)
    _ui.set_query_params(outcome=None if outcome == "all" else outcome,
                         revisits=None if rule == settings_["revisit_rule"] else rule,
                         **{"from": created_from, "to": created_to})

    df = _ui.read("kam_analytics.reports.stage_durations.stage_durations", by=by_dim, outcome=outcome,
                  revisits=rule, created_from=created_from, created_to=created_to)
    st.caption(f"As of **{formatting.when(df.attrs['as_of'])}** (start of day) · revisit rule **{rule}** · "
               f"outcome **{outcome}** · below {min_sample} deals a figure is *too few to say*.")
    _ui.notes(df.attrs.get("notes", []))

    total_deals = int(df["deals"].max()) if len(df) else 0
    if total_deals == 0 and int(df["in_progress"].sum()) == 0:
        st.info("No deal matches these filters.")
        st.stop()

    if not by_dim:
        m = st.columns(len(df))
        for col, row in zip(m, df.to_dict("records")):
            enough = row["deals"] >= min_sample
            col.metric(_ui.md(row["stage"]), f"{formatting.days(row['median_days'])} d" if enough else "too few to say",
                       help=f"Median completed days in {_ui.md(row['stage'])} ({formatting.number(row['deals'])} deals). "
                            + HELP["median_days"])

    st.plotly_chart(charts.stage_durations(df, by_dim, min_sample), width="stretch", key="chart-durations")
    if int(df["in_progress"].sum()):
        st.plotly_chart(charts.in_progress(df, by_dim), width="stretch", key="chart-progress")
    else:
        st.info("No deal is in progress in these stages: " + ("won and lost deals have no open visit."
                if outcome in ("won", "lost") else "no open visit at the as-of."), icon=":material/info:")

    st.subheader("The table")
    shown = df.drop(columns=["revisits", "outcome"]).copy()
    few = shown["deals"] < min_sample
    for col in ("mean_days", "median_days", "p75_days", "p90_days"):
        shown[col] = [("too few to say" if f and n > 0 else formatting.days(v)) for v, f, n in zip(shown[col], few, shown["deals"])]
    shown["in_progress_median_age_days"] = [formatting.days(v) for v in shown["in_progress_median_age_days"]]
    cfg = {k: st.column_config.TextColumn(k.replace("_", " "), help=v, alignment="right") for k, v in HELP.items()}
    cfg["deals"] = st.column_config.NumberColumn("deals", help=HELP["deals"], format="localized")
    cfg["in_progress"] = st.column_config.NumberColumn("in progress", help=HELP["in_progress"], format="localized")
    _ui.table(shown, column_config=cfg)
    _ui.downloads(df, f"stage-durations-{rule}", "durations")
    with st.expander("How these numbers are computed"):
        st.markdown(DEFINITION)

    _deals_behind(df, by_dim, outcome, rule, created_from, created_to)
