"""Key accounts (docs/metrics.md "Key accounts"; the Italian seed's key-account plan): the portfolio
(`accounts`: value of the last 12 months, potential, relationship, plan coverage and which of
the plan's seven elements are filled), the goals with their progress measured from the deals
(`account-goals`), and one account in full for the Account page: its profile, plan, goals,
account map as an org chart (several roots, managers missing from the map and reporting
cycles said aloud), action plan, deals with their risk band and MAP status, and the account
plan back as the template workbook refreshed with the numbers. SQL: sql/reports/accounts.sql and
sql/reports/account_goals.sql over sql/models/closed_deals.sql and sql/models/snapshot.sql."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from .. import derived, formatting, models, periods, settings, stage_list, templates
from ..catalogue import (
    ACCOUNTS_EXTRA as EXTRA, ACCOUNTS_KEYS as KEYS, ACCOUNT_GOALS_EXTRA as GOAL_EXTRA,
    ACCOUNT_GOALS_KEYS as GOAL_KEYS, PLAN_ELEMENTS as ELEMENTS,
)
from ..dates import parse_date, start_of
from ..errors import InputError, UsageError
from ..importing.read import norm
from . import mutual_plans as _mutual_plans
from . import risk as _risk

COVERAGE = (     # docs/metrics.md "Coverage": the criteria, one yes/no each: (column, what is missing when no)
    ("plan_reviewed", "no plan reviewed within 180 days"),
    ("has_decision_maker", "no decision maker on the map"),
    ("has_economic_buyer", "no economic buyer on the map"),
    ("has_champion", "no champion on the map"),
    ("no_overdue_actions", "overdue actions"),
)
# A goal's status from its progress against the time elapsed (progress_status): the progress as a
# share of the progress expected by the as-of; at least GOAL_ON_TRACK is on track, at least
# GOAL_AT_RISK at risk, below it off track; a goal already reached is on track.
GOAL_ON_TRACK, GOAL_AT_RISK = 0.9, 0.7
GOAL_STATUSES = ("on track", "at risk", "off track")
CUMULATIVE_METRICS = ("won amount", "won deals")       # they grow over the year; the others are levels
SCOPES = ("key", "all")
KEY_TIERS = ("key", "strategic", "chiave", "strategico")
KEY_ROLES = ("decision maker", "economic buyer", "champion")
# Goal metrics measurable from the deals: their names (normalised as headers are) -> the metric.
GOAL_METRICS = {
    "won amount": ("won amount", "won revenue", "revenue won", "won value", "bookings", "closed won amount",
                   "fatturato vinto", "importo vinto", "valore vinto", "vendite vinte"),
    "won deals": ("won deals", "deals won", "number of won deals", "won opportunities", "new deals won",
                  "trattative vinte", "opportunita vinte", "contratti vinti", "numero trattative vinte"),
    "open pipeline": ("open pipeline", "pipeline", "pipeline aperta", "open opportunities amount"),
    "win rate": ("win rate", "win ratio", "tasso di vittoria", "tasso di successo", "percentuale di vittoria"),
}
_METRIC_OF = {w: k for k, words in GOAL_METRICS.items() for w in words}

DEFINITIONS = {
    "key_accounts": "accounts with tier key (key, strategic, chiave, strategico; case-insensitive), else accounts "
                    "with an account plan",
    "value_12m": "won amount with closed_date in the 12 months before as_of (settings currency)",
    "potential": "the revenue potential recorded for the account, else its open pipeline",
    "open_pipeline": "the amount of the account's deals open at the as-of (settings currency)",
    "relationship_strength": "1–5: very weak 1, weak 2, moderate 3, strong 4, very strong 5 (debole 2, buona 3, "
                             "forte 4 in Italian)",
    "plan_age_days": "days from the latest account plan's plan_date to the as-of",
    "plan_reviewed": "the latest plan_date within 180 days of as_of",
    "has_decision_maker": "a decision maker on the account map",
    "has_economic_buyer": "an economic buyer on the account map",
    "has_champion": "a champion on the account map",
    "overdue_actions": "action-plan steps due before the as-of and not done (rejected and done actions are never "
                       "overdue)",
    "coverage_score": "the share of the coverage criteria met: the latest plan_date within 180 days of as_of; a "
                      "decision maker, an economic buyer and a champion on the map; no overdue actions",
    "plan_elements": "how many of the seven plan elements are filled: customer profile, situation analysis, goals "
                     "and objectives, strategies and tactics, action plan, resource allocation, performance "
                     "monitoring (goals and the action plan count when the account has any)",
    "progress": "the actual / the target, over the fiscal year of the goal's due date, as of the as-of: won amount "
                "and won deals closed in that year, win rate = won / (won + lost) closed in it, open pipeline = "
                "open deals whose close date falls in it",
    "expected_progress": "the progress expected by the as-of: for won amount and won deals the share of time "
                         "elapsed from the fiscal year's start to the goal's due date (the year's end without "
                         "one); for open pipeline and win rate, levels to hold at any time, 100%",
    "progress_status": f"from the progress against the time elapsed: on track when the progress is at least "
                       f"{GOAL_ON_TRACK:.0%} of the progress expected by now (or the goal is reached), at risk from "
                       f"{GOAL_AT_RISK:.0%}, off track below; none when the progress cannot be measured. The status "
                       "typed in the account plan is shown apart as the owner's status",
}


def _as_of(con, as_of) -> datetime:
    return start_of(parse_date(as_of, "--as-of")) or derived.default_as_of(con)


def _params(con, conf: dict, as_of_ts: datetime) -> dict:
    cfg = stage_list.stage_config(con, conf)
    return {"as_of": as_of_ts, "currency": conf["currency"], "won_stages": list(cfg.won),
            "lost_stages": list(cfg.lost), "key_tiers": list(KEY_TIERS), "segment": None}


def _query(name: str) -> str:
    """sql/<name>.sql composed (its {closed_deals} and {snapshot} models in place), without a
    split dimension."""
    return models.query(name, dim="null", joins="")


def _frame(con, as_of_ts: datetime, conf: dict, scope: str = "key", account_id: str | None = None) -> pd.DataFrame:
    if scope not in SCOPES:
        raise UsageError(f"--scope: expected key or all, got {scope!r}")
    date_from = _frame_from(as_of_ts)
    params = {**_params(con, conf, as_of_ts), "date_from": date_from, "date_to": as_of_ts, "scope": scope,
              "account_id": account_id}
    query = _query("accounts")
    df = con.execute(query, models.used_params(query, params)).df()
    df.attrs["date_from"] = date_from
    return df


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    """The derived columns: coverage (yes/no each, the score), gaps and plan elements."""
    df["no_overdue_actions"] = df["overdue_actions"].to_numpy() == 0
    met = np.column_stack([df[c].to_numpy(dtype=bool) for c, _ in COVERAGE]) if len(df) else np.zeros((0, 5), bool)
    df["coverage_met"] = met.sum(axis=1).astype("int64")
    df["coverage_score"] = (df["coverage_met"] / len(COVERAGE)).astype("float64").round(6)
    gaps = [[] for _ in range(len(df))]
    for j, (col, words) in enumerate(COVERAGE):
        for i in np.flatnonzero(~met[:, j]).tolist():
            gaps[i].append(words)
    df["gaps"] = gaps
    filled = np.column_stack([df[c].to_numpy(dtype=bool) for c, _ in ELEMENTS]) if len(df) else np.zeros((0, 7), bool)
    df["plan_elements"] = filled.sum(axis=1).astype("int64")
    df["missing_elements"] = [[label for (_, label), f in zip(ELEMENTS, row) if not f] for row in filled]
    for c in ("plan_age_days", "relationship_strength"):
        df[c] = df[c].astype("Int64")
    for c in ("value_12m", "potential", "open_pipeline", "revenue_potential", "annual_revenue"):
        df[c] = df[c].astype("float64")
    for c in ("overdue_actions", "open_deals", "won_deals_12m", "plans", "map_people", "actions", "goals"):
        df[c] = df[c].astype("int64")
    return df


def accounts(con: duckdb.DuckDBPyConnection, as_of=None, scope: str = "key") -> pd.DataFrame:
    """The key accounts (or every account) at the as-of: value of the last 12 months,
    potential, relationship, plan coverage (yes/no per criterion and the score) and which of
    the plan's seven elements are filled; the weakest coverage first, then the largest value."""
    conf = settings.load(con)
    as_of_ts = _as_of(con, as_of)
    df = _finish(_frame(con, as_of_ts, conf, scope))
    df = df.sort_values(["coverage_score", "value_12m", "account_name"], ascending=[True, False, True])
    out = df[[*KEYS, *EXTRA]].reset_index(drop=True)
    notes = [_scope_note(scope, out),
             f"Value: won amount closed from {_frame_from(as_of_ts).date()} to before {as_of_ts.date()}, in "
             f"{conf['currency']}. Potential: {DEFINITIONS['potential']} at the as-of.",
             "Coverage score: " + DEFINITIONS["coverage_score"] + f" ({len(COVERAGE)} criteria, each a yes/no column).",
             "Plan elements: " + DEFINITIONS["plan_elements"] + "."]
    without = int(df["won_without_rate"].sum() + df["open_without_rate"].sum()) if len(df) else 0
    if without:
        notes.append(f"{without:,} deal(s) have no rate into {conf['currency']} (fx_rates): not in the amounts.")
    out.attrs.update({"report": "accounts", "as_of": as_of_ts, "notes": notes})
    return out


def _frame_from(as_of_ts: datetime) -> datetime:
    """The as-of 12 months earlier (28 February for 29 February)."""
    try:
        return as_of_ts.replace(year=as_of_ts.year - 1)
    except ValueError:      # 29 February
        return as_of_ts.replace(year=as_of_ts.year - 1, day=28)


def _scope_note(scope: str, out: pd.DataFrame) -> str:
    if scope == "all":
        return f"Every account ({len(out):,})."
    if len(out) and (out["key_reason"] == "tier").any():
        return (f"Key accounts ({len(out):,}): accounts whose tier is key, strategic, chiave or strategico "
                "(case-insensitive).")
    return (f"Key accounts ({len(out):,}): no account has a key tier (key, strategic, chiave, strategico), so the "
            "accounts with an account plan.")


# ---- goals ---------------------------------------------------------------------------------

def metric_key(metric) -> str | None:
    """The deal metric a goal's metric names (won amount, won deals, open pipeline, win rate),
    else None: not measurable from deals."""
    if formatting.is_missing(metric):
        return None
    return _METRIC_OF.get(norm(metric))


def year_bounds(fy: int, start_month: int) -> tuple[date, date]:
    return periods.bounds(f"FY{fy}-Q1", start_month)[0], periods.bounds(f"FY{fy + 1}-Q1", start_month)[0]


def _goals(con, as_of_ts: datetime, conf: dict, account_ids: list[str]) -> pd.DataFrame:
    goals = con.execute(
        "select g.account_id, a.account_name, g.goal, g.metric, g.target_value, g.due_date, g.status "
        "from account_goals g left join accounts a on a.account_id = g.account_id "
        "where list_contains(?, g.account_id) order by a.account_name, g.account_id, g.due_date nulls last, g.goal",
        [list(account_ids)]).df()
    start_month = int(conf["fiscal_year_start_month"])
    notes = [None] * len(goals)
    keys = [metric_key(m) for m in goals["metric"]]
    due = pd.to_datetime(goals["due_date"])
    fys = []
    for i, d in enumerate(due):
        if pd.isna(d):
            fys.append(periods.fiscal_year((as_of_ts - timedelta(days=1)).date(), start_month))
            notes[i] = "no due date: measured over the fiscal year of the as-of"
        else:
            fys.append(periods.fiscal_year(d.date(), start_month))
    goals["fiscal_year"] = [f"FY{y}" for y in fys]
    goals["metric_key"] = keys
    goals["measured"] = ["from deals" if k else "not measurable from deals" for k in keys]
    bounds = {y: year_bounds(y, start_month) for y in set(fys)}
    goals["_fy_start"] = [bounds[y][0] for y in fys]
    goals["_fy_end"] = [bounds[y][1] for y in fys]
    actual = np.full(len(goals), np.nan)
    m = np.array([k is not None for k in keys], dtype=bool)
    if m.any():
        sel = goals[m]
        params = {**_params(con, conf, as_of_ts), "date_from": None, "date_to": as_of_ts,
                  "accounts": sel["account_id"].tolist(), "fy_starts": sel["_fy_start"].tolist(),
                  "fy_ends": sel["_fy_end"].tolist()}
        query = _query("account_goals")
        facts = con.execute(query, models.used_params(query, params)).df()
        facts["_fy_start"] = pd.to_datetime(facts.pop("fy_start")).dt.date
        got = goals[["account_id", "_fy_start"]].merge(facts, on=["account_id", "_fy_start"], how="left")
        key_of = np.array(keys, dtype=object)
        for key, column in (("won amount", "won_amount"), ("won deals", "won_deals"),
                            ("open pipeline", "open_pipeline"), ("win rate", "win_rate")):
            pick = key_of == key
            actual[pick] = got.loc[pick, column].astype("float64").to_numpy()
        for i in np.flatnonzero((key_of == "win rate") & np.isnan(actual)).tolist():
            notes[i] = "no deal of the account closed in the year yet"
        without = got["without_rate"].fillna(0).to_numpy()
        for i in np.flatnonzero((key_of == "won amount") & (without > 0)).tolist():
            notes[i] = f"{int(without[i])} won deal(s) without a rate into {conf['currency']}: not counted"
    target = goals["target_value"].astype("float64").to_numpy().copy()
    for i in np.flatnonzero(m).tolist():
        if keys[i] == "win rate" and target[i] > 1:
            notes[i] = f"target {target[i]:g} read as {target[i]:g}% (a rate is a fraction)"
            target[i] = target[i] / 100
    with np.errstate(divide="ignore", invalid="ignore"):
        progress = np.where(m & (target > 0), actual / np.where(target > 0, target, 1), np.nan)
    goals["actual"] = actual
    goals["progress"] = np.round(progress, 6)
    goals["note"] = notes
    expected = [expected_progress(k, s, e, d, as_of_ts) for k, s, e, d in
                zip(keys, goals["_fy_start"], goals["_fy_end"], due)]
    goals["expected_progress"] = np.round(np.array(expected, dtype="float64"), 6)
    goals["progress_status"] = [goal_status(p, x) for p, x in zip(goals["progress"], goals["expected_progress"])]
    return goals.drop(columns=["_fy_start", "_fy_end"])


def expected_progress(metric: str | None, fy_start: date, fy_end: date, due, as_of_ts: datetime) -> float | None:
    """The progress a goal should show by the as-of (DEFINITIONS["expected_progress"]): for a
    cumulative metric the share of its time elapsed, from the fiscal year's start to the end of
    its due date (the year's end without one, never past it), 0 to 1; 1 for a level; None when
    not measurable."""
    if metric is None:
        return None
    if metric not in CUMULATIVE_METRICS:
        return 1.0
    start = datetime.combine(fy_start, datetime.min.time())
    end = datetime.combine(fy_end, datetime.min.time())
    if not formatting.is_missing(due):
        end = min(end, datetime.combine(pd.Timestamp(due).date() + timedelta(days=1), datetime.min.time()))
    if end <= start:
        return 1.0
    return min(1.0, max(0.0, (as_of_ts - start) / (end - start)))


def goal_status(progress, expected) -> str | None:
    """on track / at risk / off track from the progress against the progress expected by now
    (GOAL_ON_TRACK, GOAL_AT_RISK); None when either is unknown."""
    if formatting.is_missing(progress) or formatting.is_missing(expected):
        return None
    if progress >= 1 or progress >= GOAL_ON_TRACK * expected:
        return "on track"
    return "at risk" if progress >= GOAL_AT_RISK * expected else "off track"


def account_goals(con: duckdb.DuckDBPyConnection, as_of=None, scope: str = "key") -> pd.DataFrame:
    """Every goal of the key accounts (or every account) with its progress: the actual from
    the deals over the fiscal year of the goal's due date where the metric is won amount, won
    deals, open pipeline or win rate; other metrics are "not measurable from deals"."""
    conf = settings.load(con)
    as_of_ts = _as_of(con, as_of)
    chosen = _frame(con, as_of_ts, conf, scope)
    out = _goals(con, as_of_ts, conf, chosen["account_id"].tolist())[[*GOAL_KEYS, *GOAL_EXTRA]]
    notes = [_scope_note(scope, chosen),
             "Progress: " + DEFINITIONS["progress"] + f"; amounts in {conf['currency']}.",
             "Measurable metrics: " + ", ".join(GOAL_METRICS) + "; other metrics show \"not measurable from deals\"."]
    out.attrs.update({"report": "account-goals", "as_of": as_of_ts, "notes": notes})
    return out


# ---- one account ---------------------------------------------------------------------------

def search_accounts(con: duckdb.DuckDBPyConnection, text: str = "", limit: int = 50) -> pd.DataFrame:
    """Accounts whose ID or name holds `text` (case and accents ignored): an exact ID first, then
    key-tier accounts, then by name (the Account page's picker)."""
    return con.execute(
        "select account_id, account_name, tier, segment, account_owner from accounts "
        "where $text = '' or contains(strip_accents(lower(account_id)), strip_accents(lower($text))) "
        "   or contains(strip_accents(lower(account_name)), strip_accents(lower($text))) "
        "order by lower(account_id) <> lower($text), not list_contains($key_tiers, lower(trim(tier))), "
        "         account_name, account_id limit $limit",
        {"text": (text or "").strip(), "limit": int(limit), "key_tiers": list(KEY_TIERS)}).df()


def resolve(con: duckdb.DuckDBPyConnection, account: str) -> str:
    """An account ID from an ID or a name (names match after normalisation)."""
    text = str(account or "").strip()
    row = con.execute("select account_id from accounts where account_id = ?", [text]).fetchone()
    if row:
        return row[0]
    rows = con.execute("select account_id from accounts where norm_key(account_name) = norm_key(?) "
                       "order by account_id", [text]).fetchall()
    if len(rows) == 1:
        return rows[0][0]
    if len(rows) > 1:
        raise InputError(f"{len(rows)} accounts are named {text!r} ({', '.join(r[0] for r in rows[:5])}): give "
                         "the account ID")
    raise InputError(f"no account {text!r} in the database (by ID or name); `report accounts --scope all` lists them")


def account_map(con: duckdb.DuckDBPyConnection, account_id: str) -> dict:
    """The account map as an org chart: each person's manager on the map (from reports_to,
    names matched after normalisation), their level below the top, and what is wrong with the
    reporting lines: managers missing from the map, reporting cycles (never followed forever).
    Several people without a manager make several roots."""
    people = con.execute(
        "select name, title, role, reports_to, influence, sentiment, preferred_communication from stakeholders "
        "where account_id = ? order by name", [account_id]).df()
    return analyse_map(people)


def analyse_map(people: pd.DataFrame) -> dict:
    people = people.reset_index(drop=True).copy()
    keys = [norm(n) for n in people["name"]]
    index = {}
    for i, k in enumerate(keys):
        index.setdefault(k, i)
    manager = []
    missing = []        # (person, the manager named who is not on the map)
    for i, rt in enumerate(people["reports_to"]):
        if formatting.is_missing(rt) or not str(rt).strip():
            manager.append(None)
        elif norm(rt) in index:
            manager.append(index[norm(rt)])
        else:
            manager.append(None)
            missing.append((people["name"].iat[i], str(rt).strip()))
    # cycles: follow each chain once, colouring nodes (0 new, 1 on the current path, 2 done)
    state = [0] * len(people)
    in_cycle = [False] * len(people)
    cycles = []
    for s in range(len(people)):
        path = []
        v = s
        while v is not None and state[v] == 0:
            state[v] = 1
            path.append(v)
            v = manager[v]
        if v is not None and state[v] == 1:           # the chain came back to itself
            loop = path[path.index(v):]
            for u in loop:
                in_cycle[u] = True
            cycles.append([people["name"].iat[u] for u in loop])
        for u in path:
            state[u] = 2
    # levels below the top: every chain outside a cycle ends at a root (level 0) or at a
    # cycle (no level: nobody in or below a cycle can be placed); each person is walked once
    level = [None] * len(people)
    placed = [False] * len(people)
    for s in range(len(people)):
        chain, v = [], s
        while v is not None and not placed[v] and not in_cycle[v]:
            chain.append(v)
            placed[v] = True
            v = manager[v]
        base = -1 if v is None else (None if in_cycle[v] else level[v])
        for depth, u in enumerate(reversed(chain), start=1):
            level[u] = None if base is None else base + depth
    people["manager"] = [None if m is None else people["name"].iat[m] for m in manager]
    people["level"] = pd.array([lv for lv in level], dtype="Int64")
    people["in_cycle"] = in_cycle
    people["manager_missing"] = [bool(not formatting.is_missing(rt) and str(rt).strip()) and m is None
                                 for rt, m in zip(people["reports_to"], manager)]
    roles = set(people["role"].dropna())
    missing_roles = [r for r in KEY_ROLES if r not in roles]
    problems = [f"No {r} on the account map." for r in missing_roles]
    for who, boss in missing:
        problems.append(f"{who} reports to {boss}, who is not on the account map: {who} is drawn at the top of a "
                        "separate branch; add " + boss + " to the map or correct reports_to.")
    for loop in cycles:
        problems.append("Reporting cycle: " + " → ".join([*loop, loop[0]]) + ". Nobody in it can be placed above "
                        "the others; correct reports_to in the account map.")
    roots = [people["name"].iat[i] for i in range(len(people)) if manager[i] is None]
    return {"people": people, "roots": roots, "missing_roles": missing_roles, "missing_managers": missing,
            "cycles": cycles, "problems": problems}


def actions(con: duckdb.DuckDBPyConnection, account_id: str, as_of_ts: datetime) -> pd.DataFrame:
    """The account's action plan, overdue steps marked (due before the as-of's day, neither done
    nor rejected, not completed before it), the overdue first, then by due date."""
    df = con.execute(
        "select action_step, owner, description, status, external_stakeholders, due_date, completed_date, notes, "
        "due_date < $as_of::date and coalesce(status, '') not in ('done', 'rejected') "
        "  and (completed_date is null or completed_date >= $as_of::date) as overdue, "
        "case when due_date < $as_of::date then datediff('day', due_date, $as_of::date) end as days_past_due "
        "from account_actions where account_id = $account_id "
        "order by overdue desc, due_date nulls last, action_step",
        {"as_of": as_of_ts, "account_id": account_id}).df()
    df["overdue"] = df["overdue"].fillna(False).astype(bool)
    df["days_overdue"] = pd.array(np.where(df["overdue"], df["days_past_due"], np.nan), dtype="Int64") \
        if len(df) else pd.array([], dtype="Int64")
    return df.drop(columns=["days_past_due"])


def _map_status(row) -> str:
    if formatting.is_missing(row.get("steps")):
        return "closing plan only" if row.get("has_closing_plan") else "no mutual plan"
    signed = "signed" if row.get("signed") else "unsigned"
    text = f"{signed} · {formatting.percent(row['completion'])} done"
    late = []
    if row["overdue_buyer_steps"]:
        late.append(f"{int(row['overdue_buyer_steps'])} buyer-side")
    if row["overdue_seller_steps"]:
        late.append(f"{int(row['overdue_seller_steps'])} seller-side")
    return text + (" · overdue: " + ", ".join(late) if late else "")


def account_deals(con: duckdb.DuckDBPyConnection, account_id: str, as_of_ts: datetime, conf: dict) -> pd.DataFrame:
    """The account's deals that existed at the as-of, open ones first: their risk band (open
    deals, as on the Deals at risk page) and their mutual plan's status (MAP page)."""
    deals = con.execute(
        "select deal_id, deal_name, owner, stage, status, amount, currency, close_date, closed_date, created_date, "
        "deal_id in (select deal_id from plans where plan_type = 'closing') as has_closing_plan "
        "from deals where account_id = ? and (created_date is null or created_date < ?) "
        "order by status <> 'open', close_date desc nulls last, deal_id", [account_id, as_of_ts]).df()
    risk = _risk.facts(con, [as_of_ts], conf, account_id=account_id)
    scored = _risk.score_deals(con, risk, conf, as_of_ts)
    risk = pd.DataFrame({"deal_id": risk["deal_id"], "risk_score": scored["score"], "risk_band": scored["band"],
                         "stage_at_as_of": risk["stage"]})
    plans = _mutual_plans.plan_facts(con, as_of_ts, account_id=account_id)
    df = deals.merge(risk, on="deal_id", how="left").merge(
        plans[["deal_id", "steps", "completion", "overdue_buyer_steps", "overdue_seller_steps", "plan_signed"]]
        .rename(columns={"plan_signed": "signed"}), on="deal_id", how="left")
    df["map_status"] = [_map_status(r) for r in df.to_dict("records")]
    df["risk_score"] = df["risk_score"].astype(float)
    open_then = df["risk_band"].notna()           # open at the as-of: its stage then, whatever it is now
    df["stage"] = df["stage_at_as_of"].where(open_then, df["stage"])
    df["status"] = df["status"].where(~open_then, "open")
    df = df.sort_values(["status", "risk_score", "close_date"], ascending=[False, False, False],
                        key=lambda c: c.eq("open") if c.name == "status" else c, na_position="last")
    return df.drop(columns=["has_closing_plan", "stage_at_as_of"]).reset_index(drop=True)


def account_detail(con: duckdb.DuckDBPyConnection, account_id: str, as_of=None) -> dict:
    """Everything the Account page shows for one account at the as-of."""
    conf = settings.load(con)
    as_of_ts = _as_of(con, as_of)
    account_id = resolve(con, account_id)
    row = _finish(_frame(con, as_of_ts, conf, "all", account_id))
    summary = row.iloc[0].to_dict()
    plan = con.execute("select * exclude (batch_id) from account_plans where account_id = ? and plan_date < ? "
                       "order by plan_date desc limit 1", [account_id, as_of_ts]).df()
    plan = plan.iloc[0].to_dict() if len(plan) else None
    elements = []
    texts = {"has_customer_profile": "customer_profile", "has_situation_analysis": "situation_analysis",
             "has_strategies": "strategies", "has_resource_allocation": "resource_allocation",
             "has_performance_monitoring": "performance_monitoring"}
    for col, label in ELEMENTS:
        text = plan.get(texts[col]) if plan and col in texts else None
        elements.append({"element": label, "filled": bool(summary[col]), "text": text})
    return {
        "as_of": as_of_ts, "account": summary, "plan": plan, "elements": elements,
        "goals": _goals(con, as_of_ts, conf, [account_id])[[*GOAL_KEYS, *GOAL_EXTRA]],
        "map": account_map(con, account_id), "actions": actions(con, account_id, as_of_ts),
        "deals": account_deals(con, account_id, as_of_ts, conf), "currency": conf["currency"],
        "key": bool(summary["key_account"]),
    }


# ---- the account plan back as the template workbook -----------------------------------------

NUMBER_LABELS = {
    "en": {"as_of": "Numbers as of", "value_12m": "Value, last 12 months", "open_pipeline": "Open pipeline",
           "open_deals": "Open deals", "potential": "Potential", "potential_source": "Potential from",
           "relationship": "Relationship strength", "coverage_score": "Coverage score",
           "plan_age_days": "Plan age (days)", "gaps": "Coverage gaps", "plan_elements": "Plan elements filled",
           "missing_elements": "Plan elements missing", "overdue_actions": "Overdue actions",
           "actual": "Actual", "progress": "Progress", "title": "Numbers"},
    "it": {"as_of": "Numeri al", "value_12m": "Valore ultimi 12 mesi", "open_pipeline": "Pipeline aperta",
           "open_deals": "Trattative aperte", "potential": "Potenziale", "potential_source": "Potenziale da",
           "relationship": "Forza della relazione", "coverage_score": "Copertura del piano",
           "plan_age_days": "Età del piano (giorni)", "gaps": "Lacune di copertura",
           "plan_elements": "Elementi del piano compilati", "missing_elements": "Elementi del piano mancanti",
           "overdue_actions": "Azioni scadute", "actual": "Valore attuale", "progress": "Avanzamento",
           "title": "Numeri"},
}


def account_plan_workbook(con: duckdb.DuckDBPyConnection, account_id: str, lang: str = "en", as_of=None) -> bytes:
    """The account plan as the template workbook (docs/data.md "Exports": it imports back): the
    plan's header and action plan, the goals with their actual and progress, the account map,
    and a Numbers sheet with the figures as of the as-of (value, pipeline, potential, coverage)."""
    if lang not in templates.LANGS:
        raise UsageError(f"--lang: expected en or it, got {lang!r}")
    d = account_detail(con, account_id, as_of)
    a, plan = d["account"], d["plan"] or {}
    words = NUMBER_LABELS[lang]
    header = {"account_name": a["account_name"], **{k: v for k, v in plan.items() if k != "account_id"}}
    acts = d["actions"].drop(columns=["overdue", "days_overdue"]).to_dict("records")
    goals = d["goals"].to_dict("records")
    people = d["map"]["people"].to_dict("records")
    numbers = [
        (words["as_of"], (d["as_of"] - timedelta(days=1)).date()),
        (words["value_12m"], round(float(a["value_12m"]), 2)), (words["open_pipeline"], round(float(a["open_pipeline"]), 2)),
        (words["open_deals"], int(a["open_deals"])), (words["potential"], round(float(a["potential"]), 2)),
        (words["potential_source"], a["potential_source"]),
        (words["relationship"], None if pd.isna(a["relationship_strength"]) else int(a["relationship_strength"])),
        (words["coverage_score"], float(a["coverage_score"])),
        (words["plan_age_days"], None if pd.isna(a["plan_age_days"]) else int(a["plan_age_days"])),
        (words["gaps"], "; ".join(a["gaps"]) or "—"),
        (words["plan_elements"], f"{int(a['plan_elements'])} / {len(ELEMENTS)}"),
        (words["missing_elements"], "; ".join(a["missing_elements"]) or "—"),
        (words["overdue_actions"], int(a["overdue_actions"])),
    ]
    progress_cols = [templates.Col("actual", words["actual"], words["actual"]),
                     templates.Col("progress", words["progress"], words["progress"])]
    sheets = [
        templates.Sheet(*templates.KINDS["account-plan"][0], values=header, rows=acts),
        templates.Sheet(*templates.KINDS["account-plan"][1], values={"account_name": a["account_name"]}, rows=goals,
                        extra=progress_cols),
        templates.Sheet(*templates.KINDS["account-map"][0], values={"account_name": a["account_name"]}, rows=people),
    ]
    return templates.workbook(sheets, lang, stage_list.stage_config(con).stages, numbers=(words["title"], numbers))


def goals_for_people(goals: pd.DataFrame) -> pd.DataFrame:
    """The goals as a page shows them: target and actual written as their metric reads (a win
    rate as a percentage, amounts and counts with thousands separators), progress a fraction, the
    computed status (progress_status) beside the progress and the typed one apart as the
    owner's status."""
    def text(key, value, target: bool = False):
        if formatting.is_missing(value):
            return formatting.DASH
        if key == "win rate":
            return formatting.percent(value / 100 if target and value > 1 else value)
        return formatting.number(value, 0 if float(value).is_integer() or abs(value) >= 100 else 2)

    out = goals.drop(columns=["metric_key"]).copy()
    out["target_value"] = [text(k, v, True) for k, v in zip(goals["metric_key"], goals["target_value"])]
    out["actual"] = [text(k, v) if k else formatting.DASH for k, v in zip(goals["metric_key"], goals["actual"])]
    out = out.rename(columns={"target_value": "target", "status": "owner_status"})
    first = ["account_name", "goal", "metric", "target", "actual", "progress", "expected_progress",
             "progress_status", "owner_status", "due_date", "fiscal_year"]
    return out[[c for c in first if c in out.columns] + [c for c in out.columns if c not in first]]
