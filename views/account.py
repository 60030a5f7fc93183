"""One account: its profile, the plan's seven elements (filled or missing), goals with
progress, the account map as an org chart (missing decision maker / economic buyer /
champion called out), the action plan with overdue steps marked, the account's deals with
their risk band and MAP status, and the account plan back as the template workbook refreshed
with the numbers (docs/metrics.md "Key accounts")."""

import pandas as pd
import streamlit as st

from kam_analytics import charts, db, formatting
from kam_analytics.reports import accounts as acc
from views import _ui

st.title("Account")


def _plan_bytes(db_file: str, account_id: str, lang: str, as_of: str) -> bytes:
    """Built when the button is clicked, on a connection of its own (not at every rerun)."""
    with db.read(db_file) as con:
        return acc.account_plan_workbook(con, account_id, lang, as_of)


def _when(v) -> str:
    return formatting.DASH if formatting.is_missing(v) else formatting.when(v)


def _text(v) -> str:
    """Text from a file for Markdown, as its characters (— when blank)."""
    return formatting.DASH if formatting.is_missing(v) or not str(v).strip() else _ui.md(v)


with _ui.guarded(), _ui.one_connection():
    summary = _ui.loaded_summary()
    conf = _ui.read("kam_analytics.settings.load")
    cur = conf["currency"]
    c = st.columns([2, 2, 1])
    wanted = _ui.query_param("account", "")
    st.session_state.setdefault("account-q", wanted)
    text = c[0].text_input("Find an account", key="account-q", placeholder="Type an account ID or name",
                           help="Searches every account by ID or name (case and accents ignored); key-tier "
                                "accounts first.")
    found = _ui.read("kam_analytics.reports.accounts.search_accounts", text=text, limit=50)
    if not len(found):
        if text:
            st.info(f"No account matches “{_ui.md(text)}”.", icon=":material/search_off:")
        else:
            st.info("No accounts are loaded yet. Import accounts, account plans and account maps on the Import page, "
                    "or load the demo data on the Overview.", icon=":material/info:")
            st.page_link("views/import_files.py", label="Import account plans", icon=":material/upload_file:")
        st.stop()
    ids = found["account_id"].tolist()
    labels = {r.account_id: " · ".join(str(x) for x in (r.account_name, r.account_id, r.tier)
                                       if not formatting.is_missing(x)) for r in found.itertuples()}
    account_id = c[1].selectbox("Account", ids, index=ids.index(wanted) if wanted in ids else 0,
                                format_func=labels.get, key="account-pick")
    _ui.set_query_params(account=account_id)
    as_of = _ui.as_of_input("account-as-of", summary, c[2], "Value, pipeline, plan, overdue actions and deals as of "
                                                            "the start of this day; the account map is today's.")
    d = _ui.read("kam_analytics.reports.accounts.account_detail", account_id=account_id, as_of=as_of.isoformat())
    a, plan = d["account"], d["plan"]

    # ---- profile
    st.header(_ui.md(a["account_name"]))
    rel = a["relationship_strength"]
    bits = [a["account_id"], a["tier"] and f"tier {a['tier']}", a["segment"], a["industry"], a["region"],
            a["account_owner"] and f"owner {a['account_owner']}"]
    st.markdown(" · ".join(_ui.md(b) for b in bits if not formatting.is_missing(b) and b)
                + (" · **key account**" if d["key"] else " · not a key account"))
    m = st.columns(5)
    m[0].metric(f"Value 12 m ({cur})", formatting.number(a["value_12m"]),
                f"{formatting.number(a['won_deals_12m'])} won deals", delta_color="off", delta_arrow="off",
                help="Value: " + acc.DEFINITIONS["value_12m"] + ".")
    m[1].metric(f"Open pipeline ({cur})", formatting.number(a["open_pipeline"]),
                f"{formatting.number(a['open_deals'])} open deals", delta_color="off", delta_arrow="off",
                help="Open pipeline: " + acc.DEFINITIONS["open_pipeline"] + ".")
    m[2].metric(f"Potential ({cur})", formatting.number(a["potential"]), f"from {a['potential_source']}",
                delta_color="off", delta_arrow="off", help="Potential: " + acc.DEFINITIONS["potential"] + ".")
    m[3].metric("Relationship", formatting.DASH if formatting.is_missing(rel) else
                f"{int(rel)} · {formatting.RELATIONSHIP.get(int(rel), '')}",
                help="Relationship strength: " + acc.DEFINITIONS["relationship_strength"] + ".")
    m[4].metric("Coverage", formatting.percent(a["coverage_score"], 0),
                f"{int(a['coverage_met'])} of {len(acc.COVERAGE)} criteria", delta_color="off", delta_arrow="off",
                help="Coverage score: " + acc.DEFINITIONS["coverage_score"] + ".")
    checks = [(a["plan_reviewed"], "plan reviewed within 180 days" + (
                  f" (latest {_when(a['plan_date'])}, {formatting.number(a['plan_age_days'])} days old)"
                  if not formatting.is_missing(a["plan_date"]) else " (no account plan)")),
              (a["has_decision_maker"], "decision maker on the map"),
              (a["has_economic_buyer"], "economic buyer on the map"),
              (a["has_champion"], "champion on the map"),
              (a["no_overdue_actions"], "no overdue actions" if a["no_overdue_actions"]
               else f"{formatting.number(a['overdue_actions'])} overdue action(s)")]
    st.markdown("  \n".join((":green[✓] " if ok else ":red[✗] ") + words for ok, words in checks))

    # ---- the plan's seven elements
    st.subheader("Account plan")
    if plan is None:
        st.info("No account plan dated before this day. Download the template below, fill it in and import it.",
                icon=":material/info:")
    else:
        h = st.columns(5)
        h[0].markdown(f"**Plan date**  \n{_when(plan['plan_date'])}")
        h[1].markdown(f"**Created by**  \n{_text(plan['created_by'])}")
        h[2].markdown(f"**Version**  \n{_text(plan['version'])}")
        h[3].markdown(f"**Annual target**  \n{formatting.number(plan['annual_target'])} {cur}"
                      if not formatting.is_missing(plan["annual_target"]) else f"**Annual target**  \n{formatting.DASH}")
        review = plan["next_review_date"]
        late = not formatting.is_missing(review) and pd.Timestamp(review).date() < as_of
        h[4].markdown(f"**Next review**  \n{_when(review)}" + (" :red[(past)]" if late else ""))
        st.markdown(f"**Objective**  \n{_text(plan['objective'])}")
    filled = sum(e["filled"] for e in d["elements"])
    st.markdown(f"**The seven elements**: {filled} of 7 filled"
                + ("" if filled == 7 else " — missing: " + ", ".join(e["element"] for e in d["elements"]
                                                                   if not e["filled"])),
                help=acc.DEFINITIONS["plan_elements"])
    for e in d["elements"]:
        icon = ":material/check_circle:" if e["filled"] else ":material/cancel:"
        with st.expander(e["element"][:1].upper() + e["element"][1:] + ("" if e["filled"] else " — missing"),
                         icon=icon):
            if e["element"] == "goals and objectives":
                st.write(f"{len(d['goals'])} goal(s), below." if e["filled"] else "No goals yet.")
            elif e["element"] == "action plan":
                st.write(f"{len(d['actions'])} action(s), below." if e["filled"] else "No action plan yet.")
            else:
                st.write(_text(e["text"]) if e["filled"] else "Not filled in the latest plan.")

    # ---- goals
    st.subheader("Goals")
    goals = d["goals"]
    if not len(goals):
        st.caption("No goals yet (the account plan template's Goals sheet).")
    else:
        _ui.table(acc.goals_for_people(goals).drop(columns=["account_id", "account_name"]),
                  column_config=_ui.goal_columns())
        st.caption("Progress: " + acc.DEFINITIONS["progress"] + ". Status: " + acc.DEFINITIONS["progress_status"]
                   + ".")

    # ---- the account map
    st.subheader("Account map")
    amap = d["map"]
    people = amap["people"]
    if not len(people):
        st.info("Nobody is on this account's map yet: import the account map template.", icon=":material/info:")
    else:
        for p in amap["problems"]:
            st.warning(_ui.md(p), icon=":material/warning:")
        st.graphviz_chart(charts.org_chart(people, amap["missing_managers"]), width="content",
                          alt=f"Org chart of {a['account_name']}'s account map")
        st.caption("Arrows run from manager to report (who each person reports to). Fill: green supporter, grey neutral, red "
                   "detractor; a blue border marks the decision maker, economic buyer and champion; a dashed box is "
                   "a manager someone reports to who is missing from the map; red dashed arrows are a reporting cycle.")
        _ui.table(people.drop(columns=["manager_missing"]))

    # ---- the action plan
    st.subheader("Action plan")
    actions = d["actions"]
    if not len(actions):
        st.caption("No action plan yet (the account plan template's action table).")
    else:
        late = int(actions["overdue"].sum())
        st.markdown(f"{len(actions)} action(s); " + (f":red[**{late} overdue**]" if late else "none overdue")
                    + ". " + "Overdue: " + acc.DEFINITIONS["overdue_actions"] + ".")
        view = actions.drop(columns=["overdue", "days_overdue"])
        view.insert(0, "overdue", [f"⚠ {int(n)} days" if o else "" for o, n in
                                   zip(actions["overdue"], actions["days_overdue"].fillna(0))])
        _ui.table(view)

    # ---- the account's deals
    st.subheader("Deals")
    deals = d["deals"]
    if not len(deals):
        st.caption("This account has no deals (as of this day).")
    else:
        view = deals.copy()
        view["plan"] = ["mutual_plans?deal=" + x if not formatting.is_missing(s) else None
                        for x, s in zip(deals["deal_id"], deals["steps"])]
        first = ["deal_id", "deal_name", "stage", "status", "amount", "currency", "close_date", "risk_band",
                 "map_status", "plan"]
        view = view[first + [c for c in view.columns if c not in first and c not in (
            "steps", "completion", "overdue_buyer_steps", "overdue_seller_steps", "signed")]]
        _ui.table(view,
                  column_config={
                      "plan": st.column_config.LinkColumn("MAP", display_text="Mutual plan",
                                                          help="Opens the deal's mutual plan."),
                      "risk_band": st.column_config.TextColumn(
                          "Risk band", help="Open deals at the as-of: the band on the Deals at risk page."),
                      "map_status": st.column_config.TextColumn(
                          "MAP status", help="The mutual plan as of this day: signed by both sides or not, the share "
                                             "of steps completed, overdue steps (buyer-side apart).")})
        _ui.downloads(deals, f"account-{account_id}-deals-{as_of.isoformat()}", "account-deals")

    # ---- the plan back as the template
    st.subheader("Download the account plan")
    dl = st.columns([1, 3])
    lang = dl[0].segmented_control("Template language", ["en", "it"], default="en", key="account-lang",
                                   format_func={"en": "English", "it": "Italiano"}.get, required=True)
    dl[1].download_button("⬇ Account plan (Excel template, refreshed)",
                          lambda: _plan_bytes(_ui.path(), account_id, lang, as_of.isoformat()),
                          f"account-plan-{account_id}-{as_of.isoformat()}.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="account-plan-xlsx",
                          help="The account plan template filled with this plan, its action plan, goals (with actual "
                               "and progress) and account map, and a Numbers sheet with today's figures. Edit it and "
                               "import it back on the Import page.")
