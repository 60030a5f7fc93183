"""Deals at risk: every open deal's score, band, flags and the sentence behind each flag
(DESIGN.md "Risk flags"), filtered by owner, segment, band and flag (in the URL), with a
drill-down to one deal's timeline: stage visits, close-date pushes, amount over time and plan
steps with the overdue ones marked buyer-side or seller-side."""

import pandas as pd
import streamlit as st

from kam_analytics import charts, formatting
from kam_analytics.reports import risk as risk_report
from views import _ui

BANDS = ["high", "medium", "low"]
MAX_ROWS = 10_000

st.title("Deals at risk")

with _ui.guarded(), _ui.one_connection():
    summary = _ui.loaded_summary("No deals are loaded yet, so no deal can be at risk.")
    conf = _ui.read("kam_analytics.settings.load")
    r = conf["risk"]
    c = st.columns([1, 3])
    as_of = _ui.as_of_input("risk-as-of", summary, c[0],
                            "Dated facts (history, plans, signatures, completed steps) as they stood then; the "
                            "account map, champion fields and steps' due dates are today's (current values).")
    df = _ui.read("kam_analytics.reports.risk.risk", as_of=as_of.isoformat())

    # ---- filters (in the URL)
    f = st.columns(4)
    owners = _ui.url_multiselect(f[0], "owner", sorted(df["owner"].dropna().unique().tolist()), "Owner", "risk-owner",
                                 "Type to search.")
    segments = _ui.url_multiselect(f[1], "segment", sorted(df["segment"].dropna().unique().tolist()), "Segment",
                                   "risk-segment")
    bands = _ui.url_multiselect(f[2], "band", BANDS, "Band", "risk-band",
                                f"high: score ≥ {r['bands']['high']:g}; medium: ≥ {r['bands']['medium']:g}; "
                                "low: below (the score is the sum of the tripped flags' weights).")
    flags = _ui.url_multiselect(f[3], "flag", list(risk_report.FLAGS), "Flag", "risk-flag",
                                "Deals with any of these flags.")

    shown = _ui.keep(df, owner=owners, segment=segments, band=bands)
    if flags:
        wanted = set(flags)
        shown = shown[[bool(wanted & set(fs)) for fs in shown["flags"]]]

    st.caption(f"Open deals as of the start of {formatting.when(as_of)} · "
               f"{formatting.number(len(shown))} of {formatting.number(len(df))} shown")
    if not len(df):
        st.info("No deal is open at this date, so none can be at risk.", icon=":material/info:")
        st.stop()

    # ---- the headline numbers of what is shown
    m = st.columns(4)
    for i, band in enumerate(BANDS):
        part = shown[shown["band"] == band]
        m[i].metric(f"{band.capitalize()} risk", formatting.number(len(part)),
                    f"{formatting.compact(part['amount'].sum())} in amount", delta_color="off", delta_arrow="off",
                    help=f"Deals whose score (the sum of their flags' weights) is "
                         + {"high": f"at least {r['bands']['high']:g}",
                            "medium": f"from {r['bands']['medium']:g} to below {r['bands']['high']:g}",
                            "low": f"below {r['bands']['medium']:g}"}[band] + ".")
    m[3].metric("With no flag", formatting.number(sum(not fs for fs in shown["flags"])),
                help="Open deals that trip none of the flags.")

    tripped = pd.Series([fl for fs in shown["flags"] for fl in fs]).value_counts()   # one pass over the list
    counts = pd.DataFrame({"flag": list(risk_report.FLAGS)})
    counts["deals"] = [int(tripped.get(fl, 0)) for fl in counts["flag"]]
    counts["label"] = [risk_report.LABELS[fl] + (" (current values)" if fl in risk_report.CURRENT_VALUES else "")
                       for fl in counts["flag"]]
    if counts["deals"].sum() == 0:
        st.success("No deal shown trips a flag: nothing is at risk here.", icon=":material/check_circle:")
    else:
        st.plotly_chart(charts.flag_counts(counts), width="stretch", key="chart-flags")
        st.caption("Pick flags in the Flag filter above to list the deals behind a bar.")

    # ---- the list
    st.subheader("The deals")
    listing = shown.head(MAX_ROWS).copy()          # only the rows the grid shows are worded
    listing["flags"] = ["; ".join(risk_report.LABELS[x] for x in fs) for fs in listing["flags"]]
    listing["reasons"] = [" · ".join(rs) for rs in listing["reasons"]]
    if len(shown) > MAX_ROWS:
        st.caption(f"The first {formatting.number(MAX_ROWS)} of {formatting.number(len(shown))} (riskiest first); "
                   "the downloads hold them all.")
    _ui.table(listing.drop(columns=["current_values", "account_id"]),
              column_config={"amount": st.column_config.NumberColumn("amount", format="localized"),
                             "score": st.column_config.NumberColumn("score", format="%g"),
                             "reasons": st.column_config.TextColumn("reasons", width="large")})
    _ui.downloads(shown, f"deals-at-risk-{as_of.isoformat()}", "risk")

    # ---- one deal
    st.subheader("One deal's timeline")
    ids = shown["deal_id"].tolist()
    if not ids:
        st.info("No deal matches the filters.")
    else:
        names = dict(zip(shown["deal_id"], shown["deal_name"]))
        wanted = _ui.query_param("deal", ids[0], ids)
        deal = st.selectbox("Deal", ids, index=ids.index(wanted) if wanted in ids else 0, key="risk-deal",
                            format_func=lambda d: f"{d} · {names.get(d) or ''}",
                            help="Type an ID or a name to search the deals listed above.")
        _ui.set_query_params(deal=deal if deal != ids[0] else None)
        row = shown[shown["deal_id"] == deal].iloc[0]
        st.markdown(f"**{deal}** {row['deal_name'] or ''} · {row['owner'] or '—'} · {row['stage']} · "
                    f"{formatting.number(row['amount'])} · close date {formatting.when(row['close_date'])} · "
                    f"score **{row['score']:g}** ({row['band']})")
        for reason in row["reasons"]:
            st.markdown(f"- {reason}")
        if not row["reasons"]:
            st.caption("No flag trips for this deal.")
        t = _ui.read("kam_analytics.reports.risk.deal_timeline", deal_id=deal, as_of=as_of.isoformat())
        c1, c2 = st.columns(2)
        with c1:
            st.caption("Stage visits (days to the as-of for the visit in progress)")
            _ui.table(t["visits"], column_config={"days": st.column_config.NumberColumn("days", format="%.1f")})
        with c2:
            st.caption("Close date and amount over time: a later close date is a push, an earlier one a pull-in")
            if len(t["history"]):
                st.plotly_chart(charts.deal_timeline(t["history"]), width="stretch", key="chart-deal")
            else:
                st.caption("No history rows before the as-of: the deal's current fields stand for it.")
        _ui.table(t["history"], column_config={"amount": st.column_config.NumberColumn("amount", format="localized")})
        st.caption("Plan steps as of the as-of (the flags count the mutual plan's steps when it has one, else the "
                   "closing plan's; joint steps count as seller-side)")
        if len(t["steps"]):
            _ui.table(t["steps"])
        else:
            st.caption("No plan steps.")

    with st.expander("How each flag is defined (DESIGN.md \"Risk flags\")"):
        st.markdown("\n".join(f"- **{risk_report.LABELS[fl]}** (weight {r['weights'][fl]:g}): "
                              f"{risk_report.definition(fl, r)}" for fl in risk_report.FLAGS))
        st.markdown("Thresholds and weights are on the Settings page, beside each flag's back-test.")
