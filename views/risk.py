"""Deals at risk: every open deal's predicted win probability against its stage's win rate, its
band, flags and the sentence behind each flag, led by the deals most likely to be lost by amount
(expected loss); filtered by owner, segment, band and flag (in the URL); how well the score
predicted on the team's own closed deals (a calibration chart); a drill-down to one deal's
timeline: stage visits, close-date pushes, amount over time and plan steps."""

import pandas as pd
import streamlit as st

from kam_analytics import charts, formatting
from kam_analytics.reports import risk as risk_report
from views import _ui

BANDS = list(risk_report.BANDS)
MAX_ROWS = 10_000
TOP = 10
DEF = risk_report.SCORE_DEFINITIONS


def _flag_words(flags) -> str:
    return "; ".join(risk_report.LABELS[x] for x in flags) or formatting.DASH


def _deals_in_words(df: pd.DataFrame, currency: str) -> pd.DataFrame:
    shown = df.assign(
        amount_text=[formatting.amount(a, c) for a, c in zip(df["amount"], df["currency"])],
        loss_text=[formatting.amount(x, currency) for x in df["expected_loss"]],
        predicted=[formatting.percent(x) for x in df["predicted_win_probability"]],
        rate=[formatting.percent(x) for x in df["stage_win_rate"]],
        score_text=[formatting.number(x, 2) for x in df["score"]],
        flag_text=[_flag_words(fs) for fs in df["flags"]],
        close=[formatting.when(x) for x in df["close_date"]],
        reason_text=[" · ".join(rs) or formatting.DASH for rs in df["reasons"]])
    return _ui.in_words(shown, {"deal_id": "Deal", "deal_name": "Name", "owner": "Owner", "stage": "Stage",
                                "amount_text": "Amount", "close": "Close date", "rate": "Stage win rate",
                                "predicted": "Predicted win probability", "loss_text": "Expected loss",
                                "band": "Band", "score_text": "Score", "flag_text": "Flags",
                                "reason_text": "Why (the numbers behind each flag)"})


st.title("Deals at risk")


@_ui.part
def _one_deal(shown, as_of) -> None:
    """One deal's timeline: picking another deal reruns this part alone."""
    st.subheader("One deal's timeline")
    ids = shown["deal_id"].tolist()
    if not ids:
        st.info("No deal matches the filters.")
    else:
        names = dict(zip(shown["deal_id"], shown["deal_name"]))
        wanted = _ui.query_param("deal", ids[0], ids)
        deal = st.selectbox("Deal", ids, index=ids.index(wanted) if wanted in ids else 0, key="risk-deal",
                            format_func=lambda d: f"{d} · {names[d]}" if names.get(d) else str(d),
                            help="Type an ID or a name to search the deals listed above.")
        _ui.set_query_params(deal=deal if deal != ids[0] else None)
        row = shown[shown["deal_id"] == deal].iloc[0]
        st.markdown(f"**{_ui.md(deal)}** {_ui.md(row['deal_name'], '')} · {_ui.md(row['owner'])} · "
                    f"{_ui.md(row['stage'])} · {_ui.md(formatting.amount(row['amount'], row['currency']))} · close date "
                    f"{formatting.when(row['close_date'])} · predicted win probability "
                    f"**{formatting.percent(row['predicted_win_probability'])}** against its stage's "
                    f"{formatting.percent(row['stage_win_rate'])} ({row['band']}, score {row['score']:.2f})")
        for reason in row["reasons"]:
            st.markdown(f"- {_ui.md(reason)}")
        if not row["reasons"]:
            st.caption("No flag trips for this deal.")
        t = _ui.read("kam_analytics.reports.risk.deal_timeline", deal_id=deal, as_of=as_of.isoformat())
        c1, c2 = st.columns(2)
        with c1:
            st.caption("Stage visits (days to the as-of for the visit in progress)")
            visits = t["visits"].assign(days=[formatting.days(x) for x in t["visits"]["days"]])
            _ui.table(_ui.in_words(visits, {"visit_no": "Visit", "stage": "Stage", "started_at": "Started",
                                            "ended_at": "Ended", "days": "Days", "in_progress": "In progress"}))
        with c2:
            st.caption("Close date and amount over time: a later close date is a push, an earlier one a pull-in")
            h = t["history"]
            dated = len(h) and (h["close_date"].notna().any() or h["amount"].notna().any())
            if dated:
                st.plotly_chart(charts.deal_timeline(h), width="stretch", key="chart-deal")
            elif len(h):      # a chart of nothing would draw empty axes: say it instead
                st.caption("No close date and no amount in its history before the as-of: nothing to draw.")
            else:
                st.caption("No history rows before the as-of: the deal's current fields stand for it.")
        h = t["history"]
        _ui.table(_ui.in_words(h.assign(amount=[formatting.amount(a, row["currency"]) for a in h["amount"]]),
                               {c: c.replace("_", " ").capitalize() for c in h.columns}))
        st.caption("Plan steps as of the as-of (the flags count the mutual plan's steps when it has one, else the "
                   "closing plan's; joint steps count as seller-side)")
        if len(t["steps"]):
            _ui.table(_ui.in_words(t["steps"], {c: c.replace("_", " ").capitalize() for c in t["steps"].columns}))
        else:
            st.caption("No plan steps.")


with _ui.guarded(), _ui.one_connection():
    summary = _ui.loaded_summary("No deals are loaded yet, so no deal can be at risk.")
    conf = _ui.read("kam_analytics.settings.load")
    r, currency = conf["risk"], conf["currency"]
    c = st.columns([1, 3])
    as_of = _ui.as_of_input("risk-as-of", summary, c[0],
                            "Dated facts (history, plans, signatures, completed steps) as they stood then; the "
                            "account map, champion fields and steps' due dates are today's (current values).")
    df = _ui.read("kam_analytics.reports.risk.risk", as_of=as_of.isoformat())
    weights = df.attrs.get("weights", {})

    # ---- filters (in the URL)
    f = st.columns(4)
    owners = _ui.url_multiselect(f[0], "owner", sorted(df["owner"].dropna().unique().tolist()), "Owner", "risk-owner",
                                 "Type to search.")
    segments = _ui.url_multiselect(f[1], "segment", sorted(df["segment"].dropna().unique().tolist()), "Segment",
                                   "risk-segment")
    bands = _ui.url_multiselect(f[2], "band", BANDS, "Band", "risk-band", "Bands: " + DEF["bands"] + ".")
    flags = _ui.url_multiselect(f[3], "flag", list(risk_report.FLAGS), "Flag", "risk-flag",
                                "Deals with any of these flags.", format_func=lambda x: risk_report.LABELS[x])

    shown = _ui.keep(df, owner=owners, segment=segments, band=bands)
    if flags:
        wanted = set(flags)
        shown = shown[[bool(wanted & set(fs)) for fs in shown["flags"]]]

    st.caption(f"Open deals as of the start of {formatting.when(as_of)} · "
               f"{formatting.number(len(shown))} of {formatting.number(len(df))} shown · expected loss in {currency}")
    verdict = st.empty()            # how well the score predicted here: filled once the back-test is read
    if not len(df):
        st.info("No deal is open at this date, so none can be at risk.", icon=":material/info:")
        st.stop()
    if not any(weights.values()):
        st.info(f"No flag lowered the win rate below its stage's on the closed deals before "
                f"{formatting.when(df.attrs['calibrated_at'])}: every weight is 0, so every deal's predicted win "
                "probability is its stage's own win rate and every band is low (or \"no stage win rate\"). The "
                "flags are listed with their numbers all the same.", icon=":material/info:")

    # ---- the headline numbers of what is shown
    m = st.columns(5)
    band_help = {"high": "score > ln 2 = 0.69: the flags at least halve the stage's odds of winning",
                 "medium": "score > ln 1.25 = 0.22 and up to ln 2",
                 "low": "score up to ln 1.25 = 0.22"}
    for i, band in enumerate(("high", "medium", "low")):
        part = shown[shown["band"] == band]
        m[i].metric(f"{band.capitalize()} risk", formatting.number(len(part)),
                    f"{formatting.compact(part['amount'].sum())} in amount", delta_color="off", delta_arrow="off",
                    help=f"Open deals whose {band_help[band]} (the score is {DEF['score']}, the weights learnt from "
                         "your own closed deals).")
    m[3].metric("No stage win rate", formatting.number(int((shown["band"] == risk_report.NO_STAGE_RATE).sum())),
                help="Deals in a stage no closed deal reached before the as-of: no win rate to start from, so no "
                     "predicted win probability.")
    m[4].metric("Expected loss", f"{formatting.compact(shown['expected_loss'].sum())} {currency}"
                if shown["expected_loss"].notna().any() else formatting.DASH,
                help=f"{formatting.amount(shown['expected_loss'].sum(), currency)}, summed over the deals shown: "
                     + DEF["expected_loss"] + ".")

    # ---- the lead: the deals most likely to be lost, by amount
    st.subheader("Most likely to be lost, by amount")
    st.caption("Ranked by expected loss = " + DEF["expected_loss"] + "; predicted win probability = "
               + DEF["predicted_win_probability"] + ".")
    drop = shown["stage_win_rate"] - shown["predicted_win_probability"]
    top = shown[shown["expected_loss"].fillna(0) > 0].head(TOP)
    unpriced = shown[shown["expected_loss"].isna() & (drop > 0)]
    if len(unpriced):
        st.caption(f"{formatting.number(len(unpriced))} deal(s) whose flags lower their win probability have no "
                   f"amount in {currency} (no amount, or no fx rate), so no expected loss: they are listed after "
                   "those with one, by how far their flags lower it.")
        top = pd.concat([top, unpriced.assign(_drop=drop).sort_values("_drop", ascending=False,
                                                                      kind="stable").drop(columns="_drop")]).head(TOP)
    if len(top):
        _ui.table(_deals_in_words(top, currency).drop(columns=["Score", "Why (the numbers behind each flag)"]),
                  height=_ui.fit_height(len(top)))
    else:
        st.success("No deal shown is expected to lose anything against its stage's win rate: nothing is at risk "
                   "here.", icon=":material/check_circle:")

    tripped = pd.Series([fl for fs in shown["flags"] for fl in fs]).value_counts()   # one pass over the list
    counts = pd.DataFrame({"flag": list(risk_report.FLAGS)})
    counts["deals"] = [int(tripped.get(fl, 0)) for fl in counts["flag"]]
    counts["label"] = [f"{risk_report.LABELS[fl]} (weight {weights.get(fl, 0):.2f})"
                       + (" (current values)" if fl in risk_report.CURRENT_VALUES else "") for fl in counts["flag"]]
    if counts["deals"].sum():
        with st.expander("How many deals trip each flag"):
            st.plotly_chart(charts.flag_counts(counts), width="stretch", key="chart-flags")
            st.caption("Pick flags in the Flag filter above to list the deals behind a bar. A deal's predicted win "
                       "probability is its stage's win rate × exp(−the sum of its flags' weights).")

    # ---- the list
    st.subheader("All the deals shown")
    listing = shown.head(MAX_ROWS)               # only the rows the grid shows are worded
    if len(shown) > MAX_ROWS:
        st.caption(f"The first {formatting.number(MAX_ROWS)} of {formatting.number(len(shown))} (most expected loss "
                   "first); the downloads hold them all.")
    _ui.table(_deals_in_words(listing, currency),
              column_config={"Why (the numbers behind each flag)": st.column_config.TextColumn(width="large")})
    _ui.downloads(shown, f"deals-at-risk-{as_of.isoformat()}", "risk")

    # ---- one deal
    _one_deal(shown, as_of)

    # ---- how well the score predicted on the team's own closed deals
    st.subheader("How well the score predicted on your closed deals")
    with st.spinner("Back-testing the score at the last eight quarter starts…"):
        cal = _ui.read("kam_analytics.reports.risk.risk_backtest", calibration=True)
    b_pred, b_stage = cal.attrs.get("brier_score"), cal.attrs.get("brier_score_stage_alone")
    said = risk_report.verdict(b_pred, b_stage)
    if b_pred is not None and b_stage is not None and b_pred < b_stage:
        verdict.success(said, icon=":material/check_circle:")
    else:
        verdict.warning(said + " So the bands below tell deals apart no better than their stages' own win rates "
                        "do: read a deal's stage win rate and amount before its band.", icon=":material/warning:")
    st.caption("Each deal open at one of the last eight fiscal-quarter starts that has closed since, predicted with "
               "the weights learnt only from deals closed before that quarter start (no look-ahead), then grouped "
               "by a tenth of its predicted win probability. On the diagonal the predictions come true as often as "
               "they say. " + said)
    if len(cal):
        st.plotly_chart(charts.calibration(cal), width="stretch", key="chart-calibration")
        st.caption("The bands then: " + " · ".join(
            f"{b} {formatting.number(v['evaluations'])} deal-quarters, "
            + (f"won {formatting.percent(v['actual_win_rate'])}" if v["evaluations"] else "none")
            for b, v in cal.attrs.get("bands", {}).items()) + ".")
        rel = cal.assign(**{k: [formatting.percent(x) for x in cal[k]]
                            for k in ("predicted_win_rate", "actual_win_rate", "stage_win_rate")})
        _ui.table(_ui.in_words(rel, {"decile": "Predicted win probability", "evaluations": "Deal-quarters",
                                     "predicted_win_rate": "Mean prediction", "actual_win_rate": "Actual win rate",
                                     "stage_win_rate": "Their stages' win rate"}),
                  height=_ui.fit_height(len(rel)))
        _ui.downloads(cal, "risk-calibration", "risk-calibration")

    with st.expander("How the score, the bands and each flag are defined"):
        st.markdown("\n".join(f"- **{k.replace('_', ' ').capitalize()}**: {v}." for k, v in DEF.items()))
        st.markdown("\n".join(f"- **{risk_report.LABELS[fl]}** (weight now {weights.get(fl, 0):.3f}"
                              + (", set in Settings" if r["weights"].get(fl) is not None else ", learnt") + "): "
                              + risk_report.definition(fl, r) for fl in risk_report.FLAGS))
        st.markdown("Thresholds, and any weight you prefer to the learnt one, are on the Settings page, beside each "
                    "flag's back-test.")
