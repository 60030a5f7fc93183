"""Settings: the stage list (confirm the inferred one or change it), which stages are won and
lost, the fiscal-year start, the currency, small samples, revisits, size bands, the
comparable-deal rule and mutual-plan template of closing plans, and the risk thresholds and
weights. Each save is one undoable batch; every page and the CLI follow at once."""

import calendar

import pandas as pd
import streamlit as st

from views import _ui
from kam_analytics import formatting, settings, settings_store, stage_list
from kam_analytics.reports import risk as risk_report

st.title("Settings")
TYPES = list(stage_list.STAGE_TYPES)
RISK_THRESHOLDS = {
    "pushed_repeatedly_pushes": ("Pushed repeatedly: pushes", "At least this many close-date pushes flags a deal."),
    "pushed_repeatedly_days": ("Pushed repeatedly: days", "…or at least this many days pushed in total."),
    "single_threaded_contacts": ("Single-threaded: fewer than N contacts",
                                 "Fewer buyer contacts than this (the account's stakeholders other than blockers)."),
    "stale_days": ("Stale after days", "No history row and no plan-step change for this many days."),
}


def _backtest() -> None:
    """Each flag's threshold beside its back-test on this team's closed deals (report
    risk-backtest): the stage-adjusted lift, the default weight it gives and the weight in use,
    so thresholds and weights are tuned with evidence."""
    d = risk_report.SCORE_DEFINITIONS
    st.markdown("**Evidence: each flag back-tested on your closed deals**")
    st.caption("Each flag evaluated at the last eight fiscal-quarter starts on the deals open then that have since "
               "closed. Stage-adjusted lift = " + d["stage_adjusted_lift"] + "; above 1 the flagged deals won less "
               "often than their stages alone say. Default weight = " + d["default_weight"] + ". Computed once per "
               "data version: on a million deals up to about 15 s the first time.")
    if not st.toggle("Show the back-test", key="risk-backtest-on"):
        return
    with st.spinner("Back-testing every flag at eight quarter starts…"):
        bt = _ui.read("kam_analytics.reports.risk.risk_backtest")
    shown = bt.assign(
        label=[risk_report.LABELS[f] for f in bt["flag"]],
        adjusted=[formatting.number(x, 2) for x in bt["stage_adjusted_lift"]],
        default=[formatting.number(x, 3) for x in bt["default_weight"]],
        in_use=[f"{formatting.number(w, 3)} ({'yours' if mine else 'learnt'})"
                for w, mine in zip(bt["weight"], bt["weight_set"])],
        flagged_rate=[formatting.percent(x) for x in bt["win_rate_flagged"]],
        expected=[formatting.percent(x) for x in bt["expected_win_rate_flagged"]],
        unflagged_rate=[formatting.percent(x) for x in bt["win_rate_unflagged"]],
        raw=[formatting.number(x, 2) for x in bt["lift"]],
        median_days=[formatting.days(x) for x in bt["median_days_before_close"]])
    _ui.table(_ui.in_words(shown, {
        "label": "Flag", "threshold": "Threshold", "adjusted": "Stage-adjusted lift", "default": "Default weight",
        "in_use": "Weight in use", "flagged_rate": "Won when flagged", "expected": "Their stages' win rate",
        "unflagged_rate": "Won when not flagged", "raw": "Lift (unflagged ÷ flagged)",
        "flagged_evaluations": "Flagged deal-quarters", "flagged_deals": "Flagged deals",
        "median_days": "Median days before close", "current_values": "Current values"}),
        height=_ui.fit_height(len(shown)), column_config={
            "Threshold": st.column_config.TextColumn(width="large"),
            "Weight in use": st.column_config.TextColumn(
                help="The weight the Deals at risk page uses now: yours when set below, else the default learnt "
                     "from the deals closed before the latest quarter start (no look-ahead)."),
            "Median days before close": st.column_config.TextColumn(
                help="From the quarter start at which the flag first showed to the deal's closed date."),
            "Current values": st.column_config.TextColumn(
                help="Rests on undated facts (account map, champion fields, steps' due dates) taken as they are "
                     "today, so its back-test looks back with today's knowledge.")})
    _ui.notes(bt.attrs.get("notes", [])[:1])
    _ui.downloads(bt, "risk-backtest", "risk-backtest")


def _saved(what: str, batch_id: int) -> None:
    st.session_state["settings-saved"] = f"Saved {what} (batch {batch_id}; undo it on the Import page)."
    st.rerun()


with _ui.guarded():
    _ui.loaded_summary()
    conf = _ui.read("kam_analytics.settings.load")
    cfg = _ui.read("kam_analytics.stage_list.stage_config")
    dims = _ui.read("kam_analytics.dims.names")
    if not _ui.may_change_data():
        _ui.viewer_note("Changing settings")
    if msg := st.session_state.pop("settings-saved", None):
        st.success(msg, icon=":material/check_circle:")
    # risk weights saved on the old 1/2 scale: reset to the calibrated defaults, said once
    if _ui.read("kam_analytics.settings.old_risk_scale") is not None:
        if _ui.may_change_data():
            batch = settings_store.reset_old_risk_scale(_ui.path())
            st.session_state["risk-scale-reset"] = f" The reset is saved as batch {batch} (undo it on the Import page)."
            st.rerun()
        elif not st.session_state.get("risk-scale-said"):
            st.session_state["risk-scale-reset"] = ""
            st.session_state["risk-scale-said"] = True
    if (note := st.session_state.pop("risk-scale-reset", None)) is not None:
        st.info("The risk weights and bands were saved on the old 1/2 scale. Weights are now in log units and "
                "learnt from your own closed deals, so they were reset to the calibrated defaults; your thresholds "
                "are kept." + note, icon=":material/info:")
    for warning in _ui.read("kam_analytics.settings_store.mismatches"):
        st.warning(warning[0].upper() + warning[1:] + ".", icon=":material/warning:")

    tabs = st.tabs(["Stages", "General", "Closing plans", "Risk"])

    with tabs[0]:
        if cfg.inferred and cfg.stages:
            st.info("This list is **inferred from the data**: open stages ordered by the median position of each "
                    "stage's first visit in deals' histories, closed stages by their names (won/vinto, lost/perso). "
                    "Confirm it or change it; once saved, imports reject stage names not in it.",
                    icon=":material/lightbulb:")
        elif not cfg.stages:
            st.info("No stage is known yet: load deals, or type the stage list below.", icon=":material/info:")
        with st.form("stages-form"):
            st.caption("Order: the order deals move through the open stages (renumber to move a row); "
                       "won and lost stages last. Add a row for a stage your data does not hold yet.")
            rows = pd.DataFrame(stage_list.stage_rows(cfg), columns=["order", "stage", "type"])
            edited = st.data_editor(
                rows, num_rows="dynamic", hide_index=True, width="stretch", key="stages-editor",
                column_config={
                    "order": st.column_config.NumberColumn("order", min_value=1, step=1, width="small"),
                    "stage": st.column_config.TextColumn("stage", required=True),
                    "type": st.column_config.SelectboxColumn("type", options=TYPES, required=True, default="open"),
                })
            label = "Confirm this stage list" if cfg.inferred and cfg.stages else "Save the stage list"
            if st.form_submit_button(label, type="primary", disabled=not _ui.may_change_data()):
                with _ui.guarded():
                    records = edited.astype(object).where(edited.notna(), None).to_dict("records")
                    _saved("the stage list", settings_store.save(_ui.path(), stage_list.stage_changes(records)))

    with tabs[1]:
        with st.form("general-form"):
            c = st.columns(2)
            months = list(calendar.month_name)[1:]
            fy = c[0].selectbox("Fiscal year starts in", months, index=int(conf["fiscal_year_start_month"]) - 1,
                                help="Fiscal quarters and months (FY2026-Q1, FY2026-M01) count from this month; a "
                                     "fiscal year is named by the calendar year in which it ends.")
            currency = c[1].text_input("Currency", conf["currency"], max_chars=3,
                                       help="Amounts are reported in this currency (ISO code, e.g. EUR); deals in "
                                            "another one are converted with fx_rates.")
            min_sample = c[0].number_input("Too few to say below (deals)", min_value=1, step=1,
                                           value=int(conf["min_sample"]),
                                           help="Below this many deals a page shows “too few to say” instead of a "
                                                "number; the CLI still prints it with its count.")
            rule = c[1].selectbox("Revisits of a stage count", list(settings.REVISIT_RULES),
                                  index=list(settings.REVISIT_RULES).index(conf["revisit_rule"]),
                                  help="cumulative: a deal's completed visits of a stage summed; first or latest: "
                                       "only its first or last completed visit.")
            bands = st.text_input("Size bands (lower bounds)", ", ".join(f"{x:g}" for x in conf["size_bands"]),
                                  help="size_band puts a deal's amount in these bands, lower bound inclusive: "
                                       "10000, 50000, 250000 gives <10k, 10k-50k, 50k-250k, >=250k. 10k and 1m work.")
            if st.form_submit_button("Save", type="primary", disabled=not _ui.may_change_data()):
                with _ui.guarded():
                    changes = {"fiscal_year_start_month": months.index(fy) + 1, "currency": currency.strip().upper(),
                               "min_sample": int(min_sample), "revisit_rule": rule,
                               "size_bands": settings.parse_size_bands(bands)}
                    _saved("the general settings", settings_store.save(_ui.path(), changes))

    with tabs[2]:
        with st.form("plans-form"):
            st.caption("Closing plans date each step from comparable deals: those sharing the deal's value of this "
                       "dimension when every needed stage has at least this many completed visits among them, "
                       "else all deals.")
            c = st.columns(2)
            by_opts = list(dict.fromkeys([conf["comparable_by"], *dims]))
            by = c[0].selectbox("Comparable deals share their", by_opts, index=0,
                                help="Any deal, account, owner or product column, or size_band. Type to search.")
            minimum = c[1].number_input("Minimum completed visits per needed stage", min_value=1, step=1,
                                        value=int(conf["comparable_min_visits"]))
            st.markdown("**Mutual-plan template** — each step is due by the end of the stage it serves "
                        "(`won`: the won stage, i.e. the close date).")
            template = pd.DataFrame(conf["mutual_plan_template"], columns=["step", "side", "stage"])
            stage_opts = list(dict.fromkeys([*cfg.stages, "won", *template["stage"]]))
            edited_t = st.data_editor(
                template, num_rows="dynamic", hide_index=True, width="stretch", key="template-editor",
                column_config={
                    "step": st.column_config.TextColumn("step", required=True, width="large"),
                    "side": st.column_config.SelectboxColumn("side", options=["buyer", "seller", "joint"], required=True),
                    "stage": st.column_config.SelectboxColumn("stage", options=stage_opts, required=True),
                })
            if st.form_submit_button("Save", type="primary", disabled=not _ui.may_change_data()):
                with _ui.guarded():
                    steps = [r for r in edited_t.astype(object).where(edited_t.notna(), None).to_dict("records")
                             if any(r.values())]
                    _saved("the closing-plan settings", settings_store.save(_ui.path(), {
                        "comparable_by": by, "comparable_min_visits": int(minimum), "mutual_plan_template": steps}))

    with tabs[3]:
        risk = conf["risk"]
        with st.form("risk-form"):
            st.caption("Deals at risk: each flag's threshold, and its weight if you prefer one to the weight learnt "
                       "from your closed deals. " + risk_report.SCORE_DEFINITIONS["predicted_win_probability"][0]
                       .upper() + risk_report.SCORE_DEFINITIONS["predicted_win_probability"][1:] + "; the score is "
                       + risk_report.SCORE_DEFINITIONS["score"] + ". Weights and bands are in log units.")
            c = st.columns(4)
            values = {}
            for i, (key, (label, helptext)) in enumerate(RISK_THRESHOLDS.items()):
                values[key] = c[i % 4].number_input(label, min_value=1, step=1, value=int(risk[key]), help=helptext)
            c = st.columns(4)
            share = c[0].number_input("Amount dropped: at most % of peak", min_value=1, max_value=99, step=1,
                                      value=int(round(risk["amount_dropped_share"] * 100)),
                                      help="Flags a deal whose amount is at most this share of its peak.")
            stage_list = list(cfg.open) or [risk["no_plan_stage"]]
            no_plan = c[1].selectbox("No plan at or after", list(dict.fromkeys([*stage_list, risk["no_plan_stage"]])),
                                     index=list(dict.fromkeys([*stage_list, risk["no_plan_stage"]])).index(risk["no_plan_stage"]))
            unsigned = c[2].selectbox("Mutual plan unsigned at or after",
                                      list(dict.fromkeys([*stage_list, risk["unsigned_plan_stage"]])),
                                      index=list(dict.fromkeys([*stage_list, risk["unsigned_plan_stage"]])).index(
                                          risk["unsigned_plan_stage"]))
            c = st.columns(4)
            medium = c[0].number_input("Medium band: score above", min_value=0.0, step=0.05, format="%.4f",
                                       value=float(risk["bands"]["medium"]),
                                       help="Default ln 1.25 = 0.2231: the flags cut the stage's win rate by a fifth.")
            high = c[1].number_input("High band: score above", min_value=0.0, step=0.05, format="%.4f",
                                     value=float(risk["bands"]["high"]),
                                     help="Default ln 2 = 0.6931: the flags at least halve the stage's win rate.")
            weights = pd.DataFrame({"flag": [risk_report.LABELS[f] for f in risk_report.FLAGS],
                                    "weight": [risk["weights"].get(f) for f in risk_report.FLAGS]}, dtype=object)
            weights["weight"] = pd.to_numeric(weights["weight"])
            edited_w = st.data_editor(weights, hide_index=True, width="stretch", disabled=["flag"], key="weights-editor",
                                      height=_ui.fit_height(len(weights)), column_config={
                                          "flag": st.column_config.TextColumn("Flag"),
                                          "weight": st.column_config.NumberColumn(
                                              "Your weight (empty: learnt from your closed deals)", min_value=0.0,
                                              step=0.05, format="%.3f")})
            if st.form_submit_button("Save", type="primary", disabled=not _ui.may_change_data()):
                with _ui.guarded():
                    new = {**{k: int(v) for k, v in values.items()}, "amount_dropped_share": share / 100,
                           "no_plan_stage": no_plan, "unsigned_plan_stage": unsigned,
                           "bands": {"medium": medium, "high": high},
                           "weights": {f: float(w) if w == w and w is not None else None
                                       for f, w in zip(risk_report.FLAGS, edited_w["weight"])}}
                    _saved("the risk settings", settings_store.save(_ui.path(), {"risk": new}))
        _backtest()
