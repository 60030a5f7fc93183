"""Mutual action plans (MAPs) while the deal is open and after it is won: the health of every
open MAP (`map-health`), one plan's detail for the MAP page, and the onboarding hand-off
workbook of a won deal for the customer-success team (the Greek seed's last instruction).
Definitions: docs/metrics.md "Plan steps", "Bands", "Risk flags", docs/data.md "Exports". SQL:
sql/reports/map_health.sql over sql/models/mutual_plan_facts.sql and sql/models/mutual_steps.sql; the risk band
from sql/reports/risk.sql (reports/risk.py)."""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from .. import derived, exports, models, settings
from ..dates import parse_date, start_of
from ..errors import InputError
from ..importing.coerce import id_text  # a typed id compared as stored ids are
from ..catalogue import MAP_HEALTH_EXTRA, MAP_HEALTH_KEYS
from . import risk as _risk


DEFINITIONS = {
    "completion": "completed / total steps (completed: has a completed date; status alone does not complete a step)",
    "buyer_engagement": "buyer-side steps completed on time / buyer-side steps whose original due date has passed "
                        "(steps not yet due count in neither; capped at 1)",
    "overdue": "not completed, status not rejected, and due_date < as_of (joint steps count seller-side)",
    "signed": "both sides signed the mutual plan",
    "unsigned_at_stage": "mutual plan unsigned at or after the configured stage (default Negotiation)",
    "days_to_mutual": "days from the closing plan's creation to its conversion into a mutual plan",
}


def _as_of(con, as_of) -> datetime:
    return start_of(parse_date(as_of, "--as-of")) or derived.default_as_of(con)


def plan_facts(con, as_of_ts: datetime, deal_id: str | None = None, account_id: str | None = None) -> pd.DataFrame:
    """sql/reports/map_health.sql: the mutual plans' facts at the as-of (of one deal, or one account)."""
    query = models.query("map_health")
    return con.execute(query, {"as_of": as_of_ts, "deal_id": deal_id, "account_id": account_id}).df()


def map_health(con: duckdb.DuckDBPyConnection, as_of=None) -> pd.DataFrame:
    """Every deal open at the as-of with a mutual plan: its steps, completion, overdue steps
    (buyer-side apart), buyer engagement, whether both sides signed, and its risk band; the
    riskiest first."""
    conf = settings.load(con)
    as_of_ts = _as_of(con, as_of)
    r = conf["risk"]
    risk = _risk.facts(con, [as_of_ts], conf, only_mutual=True)
    scored = _risk.score_deals(con, risk, conf, as_of_ts)
    risk = risk.assign(risk_score=scored["score"], risk_band=scored["band"],
                       unsigned_at_stage=risk["unsigned_plan"].astype(bool))
    plans = plan_facts(con, as_of_ts)
    df = risk[["deal_id", "deal_name", "account_id", "owner", "segment", "stage", "amount", "close_date",
               "risk_score", "risk_band", "unsigned_at_stage"]].merge(plans, on="deal_id", how="inner")
    df = df.rename(columns={"plan_signed": "signed"})
    health = [[] for _ in range(len(df))]
    for col, words in (("overdue_buyer_steps", "overdue buyer-side steps"),
                       ("overdue_seller_steps", "overdue seller-side steps")):
        for i in np.flatnonzero(df[col].to_numpy() > 0).tolist():
            health[i].append(words)
    for i in np.flatnonzero(df["unsigned_at_stage"].to_numpy()).tolist():
        health[i].append(f"unsigned at or after {r['unsigned_plan_stage']}")
    df["health"] = health
    df = df.sort_values(["risk_score", "overdue_buyer_steps", "amount", "deal_id"],
                        ascending=[False, False, False, True], na_position="last")
    out = df[[*MAP_HEALTH_KEYS, *MAP_HEALTH_EXTRA]].reset_index(drop=True)
    for c in ("steps", "overdue_buyer_steps", "overdue_seller_steps", "completed_steps", "buyer_due_steps"):
        out[c] = out[c].astype("int64")
    for c in ("completion", "buyer_engagement"):
        out[c] = out[c].astype("float64").round(6)
    out["risk_score"] = out["risk_score"].astype(float)
    notes = [f"Open deals with a mutual plan as of {as_of_ts.date()}: dated facts (plan created and signed, steps "
             "completed) as they stood then; steps' due dates and statuses are today's.",
             "Overdue: " + DEFINITIONS["overdue"] + ". Buyer engagement: " + DEFINITIONS["buyer_engagement"] + ".",
             "risk_band: the deal's band on the Deals at risk page (score = the sum of its flags' weights, "
             "calibrated on the team's own closed deals)."]
    out.attrs.update({"report": "map-health", "as_of": as_of_ts, "notes": notes})
    return out


def _deal(con, deal_id: str) -> dict:
    row = con.execute(
        "select d.deal_id, d.deal_name, d.account_id, a.account_name, d.owner, d.segment, d.stage, d.status, "
        "d.amount, d.currency, d.close_date, d.closed_date, d.created_date, d.champion, d.economic_buyer "
        "from deals d left join accounts a on a.account_id = d.account_id where d.deal_id = ?", [id_text(deal_id) or ""]
    ).df()
    if not len(row):
        raise InputError(f"no deal {deal_id!r} in the database (see the Data page or `report pipeline`)")
    return {k: exports._plain(v) if k not in ("amount",) else v for k, v in row.iloc[0].to_dict().items()}


def _plans(con, deal_id: str) -> pd.DataFrame:
    return con.execute("select * exclude (batch_id) from plans where deal_id = ? order by plan_type desc",
                       [id_text(deal_id) or ""]).df()


def plan_detail(con: duckdb.DuckDBPyConnection, deal_id: str, as_of=None) -> dict:
    """One deal's mutual plan for the MAP page: the deal, the plan's header, its facts at the
    as-of (steps, completion, buyer engagement, overdue, signed, days to become mutual) and its
    steps (original vs current due date, completion, overdue marked buyer- or seller-side)."""
    as_of_ts = _as_of(con, as_of)
    deal = _deal(con, deal_id)
    plans = _plans(con, deal_id)
    mutual = plans[plans["plan_type"] == "mutual"]
    facts = plan_facts(con, as_of_ts, str(deal_id))
    query = ("with cutoffs as (select $deal_id::varchar as deal_id, $as_of::date as cutoff) "
             "select step_no, step, stage, side, owner, status, original_due_date, due_date, completed_date, "
             "on_time, late_days, overdue from (" + models.query("mutual_steps") + ") "
             "where step_no is not null order by step_no")
    steps = con.execute(query, {"deal_id": id_text(deal_id) or "", "as_of": as_of_ts}).df()
    steps["overdue"] = np.where(steps["overdue"].astype(bool),
                                np.where(steps["side"] == "buyer", "overdue, buyer-side", "overdue, seller-side"), None)
    steps["due_date_moved_days"] = (pd.to_datetime(steps["due_date"]) - pd.to_datetime(steps["original_due_date"])).dt.days
    return {
        "as_of": as_of_ts, "deal": deal,
        "plan": mutual.iloc[0].to_dict() if len(mutual) else None,
        "closing_plan": (plans[plans["plan_type"] == "closing"].iloc[0].to_dict()
                         if (plans["plan_type"] == "closing").any() else None),
        "facts": facts.iloc[0].to_dict() if len(facts) else None,
        "steps": steps,
    }


HANDOFF_SHEETS = ("Hand-off", "Stakeholders", "Plan steps", "Open commitments")


def handoff(con: duckdb.DuckDBPyConnection, deal_id: str) -> dict[str, pd.DataFrame]:
    """The onboarding hand-off of a won deal for customer success: the problem, the proposed
    solution, the buyer's stakeholders from the account map, the plan's steps and dates, the
    commitments still open, and the amount and close date. One frame per sheet."""
    deal = _deal(con, deal_id)
    if deal["status"] != "won":
        raise InputError(f"deal {deal_id} is {deal['status']} (stage {deal['stage']}): the onboarding hand-off is "
                         "for won deals")
    plans = _plans(con, deal_id)
    plan = plans.iloc[0].to_dict() if len(plans) else {}          # the mutual plan, else the closing plan
    plan_type = plan.get("plan_type")
    conf = settings.load(con)
    fields = [
        ("Deal ID", deal["deal_id"]), ("Deal", deal["deal_name"]), ("Account", deal["account_name"]),
        ("Account ID", deal["account_id"]), ("Sales owner", deal["owner"]), ("Segment", deal["segment"]),
        ("Amount", None if pd.isna(deal["amount"]) else float(deal["amount"])),
        ("Currency", deal["currency"] or conf["currency"]), ("Close date", deal["closed_date"] or deal["close_date"]),
        ("Plan", {"mutual": "mutual action plan", "closing": "closing plan (no mutual plan)"}.get(plan_type,
                                                                                               "no plan")),
        ("Problem", plan.get("problem")), ("Proposed solution", plan.get("proposed_solution")),
        ("Seller owner", plan.get("seller_owner")), ("Buyer owner", plan.get("buyer_owner")),
        ("Target date", plan.get("target_date")), ("Seller signed", plan.get("seller_signed_date")),
        ("Buyer signed", plan.get("buyer_signed_date")), ("Champion", deal["champion"]),
        ("Economic buyer", deal["economic_buyer"]),
    ]
    head = pd.DataFrame({"field": [f for f, _ in fields],
                         "value": pd.Series([exports._plain(v) for _, v in fields], dtype=object)})
    people = con.execute(
        "select name, title, role, sentiment, preferred_communication, influence, reports_to from stakeholders "
        "where account_id = ? order by influence desc nulls last, name", [deal["account_id"]]).df()
    steps = con.execute(
        "select step_no, step, stage, side, owner, original_due_date, due_date, completed_date, status "
        "from plan_steps where deal_id = ? and plan_type = ? order by step_no", [id_text(deal_id) or "", plan_type]).df()
    open_steps = steps[steps["completed_date"].isna() & (steps["status"].fillna("") != "rejected")]
    frames = dict(zip(HANDOFF_SHEETS, (head, people, steps, open_steps.reset_index(drop=True))))
    for f in frames.values():
        f.attrs = {}
    return frames


def handoff_workbook(frames: dict[str, pd.DataFrame]) -> bytes:
    """The hand-off as an xlsx: values only, never formulas; text kept as the files held it."""
    return exports.to_xlsx(frames)
