"""The closing-plan generator (docs/metrics.md "Closing plan generator"): for an open deal, the
remaining time of its current stage, one step per later open stage that at least half of the
comparable won deals passed through, and the mutual-plan template's steps for those stages,
each due at as_of + the cumulative median (or mean) of the stages up to the one it serves.

The per-stage figures come from derived.stage_stats (sql/derived/stage_stats.sql): materialised at every
write for the data's date (so a plan is a few small queries), computed live for any other as-of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from . import batches, derived, dims, formatting, models, settings, stage_list, templates
from .dates import parse_date, start_of
from .errors import InputError, UsageError
from .importing.coerce import id_text  # a typed id compared as stored ids are
from .store import schema_types, upsert

STATS = ("median", "mean")
KEYS = ("deal_id", "step_no", "step", "stage", "side", "owner", "due_date", "cumulative_days", "stage_days",
        "stage_deals", "basis")
# Deal-level facts, repeated on every step so that each record stands alone (flat JSON).
DEAL_KEYS = ("realistic_close_date", "owner_close_date", "gap_days", "likely_close_from", "likely_close_to")


# ---- the deal ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DealFacts:
    deal_id: str
    deal_name: str | None
    account_id: str | None
    account_name: str | None
    owner: str | None
    close_date: date | None
    amount: float | None
    group: object                 # its value of the comparable dimension
    stage: str | None             # its stage as of as_of (None: no dated state)
    stage_started: datetime | None
    status: str                   # open | won | lost, as of as_of
    champion: str | None          # from the deal, else the account map
    economic_buyer: str | None
    has_mutual_plan: bool


def deal_facts(con: duckdb.DuckDBPyConnection, deal_id: str, as_of_ts: datetime, conf: dict,
               cfg: stage_list.StageConfig) -> DealFacts:
    dim = dims.resolve(con, conf["comparable_by"], conf)
    query = models.query("plan_deal", dim=dim.expr, joins=dim.joins)
    rows = con.execute(query, {"deal_id": id_text(deal_id) or "", "as_of": as_of_ts, **dim.params}).fetchall()
    if not rows:
        raise InputError(f"deal {deal_id!r} not found: deal IDs are matched exactly (find one by ID, name or "
                         "account on the Closing plan page, or browse the deals on the Data page)")
    (d_id, name, acc_id, acc_name, owner, close_date, amount, group, stage, started, champion, econ,
     has_mutual) = rows[0]
    return DealFacts(d_id, name, acc_id, acc_name, owner, close_date, amount, group, stage, started,
                     cfg.status_of(stage) if stage is not None else "open", champion, econ, bool(has_mutual))


def search_deals(con: duckdb.DuckDBPyConnection, text: str = "", limit: int = 50,
                 open_only: bool = True, mutual_only: bool = False, as_of=None) -> pd.DataFrame:
    """Deals whose ID, name or account holds `text` (case and accents ignored), exact IDs
    first, then the largest amounts: the Closing plan page's picker (a million deals cannot be
    scrolled). `open_only`: the deals a plan can be made for as of the as-of (default the data's
    date): open in a stage of the list then; attrs["left_out"] counts the deals open now that
    no search can offer then (no known stage). `mutual_only`: the deals with a mutual plan (the MAP
    page's picker), open first."""
    cfg = stage_list.stage_config(con)
    as_of_ts = start_of(parse_date(as_of, "--as-of")) or derived.default_as_of(con)
    params = {"text": (text or "").strip(), "limit": int(limit), "open_only": bool(open_only),
              "mutual_only": bool(mutual_only), "as_of": as_of_ts, "open_stages": list(cfg.open)}
    df = con.execute(models.query("deal_search"), params).df()
    if open_only:   # the open deals no search can offer then: the page says how many
        df.attrs["left_out"] = int(con.execute(
            f"select count(*) from deals where status = 'open' and deal_id not in ({models.query('plannable')})",
            {"as_of": as_of_ts, "open_stages": list(cfg.open)}).fetchone()[0])
    return df


# ---- the plan ------------------------------------------------------------------------------

def _template_stage(name: str, cfg: stage_list.StageConfig) -> str | None:
    """A template step's stage in the stage list: "won" is the won stage; others by name
    (case and punctuation ignored)."""
    if settings.stage_key(name) == "won":
        return cfg.won_stage
    return {settings.stage_key(s): s for s in cfg.stages}.get(settings.stage_key(name))


def _at(as_of_ts: datetime, days: float) -> date:
    """The calendar day of as_of + days (a due date)."""
    return (as_of_ts + timedelta(days=float(days))).date()


def generate(con: duckdb.DuckDBPyConnection, deal_id: str, as_of=None, stat: str = "median") -> pd.DataFrame:
    """The closing plan of one open deal: one row per step (KEYS, then DEAL_KEYS), with the
    plan's header, the per-stage figures and notes in .attrs."""
    if stat not in STATS:
        raise UsageError(f"--stat: expected median or mean, got {stat!r}")
    conf = settings.load(con)
    cfg = stage_list.stage_config(con, conf)
    as_of_ts = start_of(parse_date(as_of, "--as-of")) or derived.default_as_of(con)
    deal = deal_facts(con, deal_id, as_of_ts, conf, cfg)
    when = formatting.when(as_of_ts)
    if deal.stage is None:
        raise InputError(f"deal {deal.deal_id!r} has no known stage as of {when}: it was created later, "
                         "or it has neither a created date nor a history")
    if deal.status != "open":
        raise InputError(f"deal {deal.deal_id!r} is {deal.status} ({deal.stage}) as of {when}: "
                         "a closing plan is for open deals")
    if deal.stage not in cfg.open:
        raise InputError(f"deal {deal.deal_id!r} is in stage {deal.stage!r}, which is not in the stage list "
                         f"({', '.join(cfg.stages)}); add it on the Settings page")
    stats = derived.stage_stats(con, deal.group, as_of_ts, conf, cfg)
    by_scope = {scope: frame.set_index("stage") for scope, frame in stats.groupby("scope")}
    age = (as_of_ts - pd.Timestamp(deal.stage_started).to_pydatetime()).total_seconds() / 86400
    later = list(cfg.open[cfg.open.index(deal.stage) + 1:])
    minimum = int(conf["comparable_min_visits"])

    def needed(scope: str) -> list[str]:
        s = by_scope[scope]
        won = int(s["won_deals"].iloc[0]) if len(s) else 0
        return [deal.stage] + [t for t in later if won and s.at[t, "won_passed"] / won >= 0.5]

    by_name = conf["comparable_by"]
    basis_note = ""
    scope = "all"
    if deal.group is None or pd.isna(deal.group):
        basis_note = f"the deal has no {by_name}, so all deals are used"
    elif "group" in by_scope:
        short = [s for s in needed("group") if by_scope["group"].at[s, "visits"] < minimum]
        if short:
            basis_note = (f"{by_name} {deal.group} has fewer than {minimum} completed visits of "
                          + ", ".join(short) + ", so each stage's figures come from all deals")
        else:
            scope = "group"
    else:
        basis_note = f"no deal of {by_name} {deal.group} has a completed visit yet, so all deals are used"
    basis = f"{by_name} {deal.group}" if scope == "group" else "all deals"
    s = by_scope[scope]
    stages = needed(scope)
    notes = []
    if basis_note:
        notes.append("Comparable deals: " + basis_note + ".")
    else:
        notes.append(f"Comparable deals: {basis} (every needed stage has at least {minimum} completed visits).")
    if int(s["won_deals"].iloc[0]) == 0:
        notes.append("No comparable deal has been won yet, so no later stage can be judged needed: the plan "
                     "holds the current stage only.")
    skipped = [t for t in later if t not in stages]
    if skipped:
        notes.append("Left out: " + ", ".join(skipped) + " (fewer than half of the comparable won deals "
                     "passed through).")

    # cumulative days at the end of each needed stage: the central figure and the p25/p75 range
    col = "median_days" if stat == "median" else "mean_days"
    ends, cum, lo, hi = {}, 0.0, 0.0, 0.0
    stage_rows = []
    for i, stage in enumerate(stages):
        row = s.loc[stage]
        figure, p25, p75 = (None if pd.isna(row[c]) else float(row[c]) for c in (col, "p25_days", "p75_days"))
        if figure is None:
            notes.append(f"No comparable deal has a completed visit of {stage}: it counts as 0 days.")
        if i == 0:
            days = max(0.0, (figure or 0.0) - age)
            lo += max(0.0, (p25 or 0.0) - age)
            hi += max(0.0, (p75 or 0.0) - age)
        else:
            days = figure or 0.0
            lo += p25 or 0.0
            hi += p75 or 0.0
        cum += days
        ends[stage] = cum
        stage_rows.append((stage, days, int(row["deals"])))

    # the steps: per needed stage, its template steps, then the stage's own milestone; the
    # won stage's template steps fall on the realistic close date
    seller = deal.owner
    buyer = deal.champion or deal.economic_buyer
    owner_of = {"seller": seller, "buyer": buyer,
                "joint": " / ".join(x for x in (seller, buyer) if x) or None}
    template = conf["mutual_plan_template"]
    placed = {id(t): _template_stage(t["stage"], cfg) for t in template}
    unplaced = sorted({t["stage"] for t in template if placed[id(t)] is None})
    if unplaced:
        notes.append("Template steps for stages not in the stage list are left out: " + ", ".join(unplaced)
                     + " (edit the template on the Settings page).")
    steps = []
    figures = {stage: (days, n) for stage, days, n in stage_rows}
    for stage in [*stages, *([cfg.won_stage] if cfg.won_stage else [])]:
        at = ends[stage] if stage in ends else cum
        for t in template:
            if placed[id(t)] == stage:
                steps.append((t["step"], stage, t["side"], owner_of[t["side"]], at, "template"))
        if stage in ends:
            label = f"{stage} completed" if stage != deal.stage else f"{stage} completed (current stage)"
            steps.append((label, stage, "seller", seller, at, "stage"))
    close = _at(as_of_ts, cum)
    owner_close = deal.close_date
    gap = (close - owner_close).days if owner_close else None
    records = []
    for no, (step, stage, side, owner, at, kind) in enumerate(steps, start=1):
        days, n = figures.get(stage, (None, None)) if kind == "stage" else (None, None)
        records.append({
            "deal_id": deal.deal_id, "step_no": no, "step": step, "stage": stage, "side": side, "owner": owner,
            "due_date": _at(as_of_ts, at), "cumulative_days": round(at, 6),
            "stage_days": None if days is None else round(days, 6),
            "stage_deals": n, "basis": basis,
            "realistic_close_date": close, "owner_close_date": owner_close, "gap_days": gap,
            "likely_close_from": _at(as_of_ts, lo), "likely_close_to": _at(as_of_ts, hi),
        })
    df = pd.DataFrame.from_records(records, columns=[*KEYS, *DEAL_KEYS])
    df["stage_deals"] = df["stage_deals"].astype("Int64")
    df["gap_days"] = df["gap_days"].astype("Int64")
    figures_df = s.reset_index()[["stage", "deals", "visits", "mean_days", "p25_days", "median_days", "p75_days",
                                  "p90_days", "won_passed", "won_deals"]].copy()
    figures_df["won_share"] = [p / w if w else None for p, w in zip(figures_df["won_passed"], figures_df["won_deals"])]
    figures_df["needed"] = figures_df["stage"].isin(stages)
    # the day the plan is dated: the given as-of day, else the data's date
    plan_date = as_of_ts.date() if as_of else (derived.data_date(con) or as_of_ts.date())
    df.attrs.update({
        "report": "plan", "as_of": as_of_ts, "plan_date": plan_date, "stat": stat, "won_stage": cfg.won_stage,
        "stages": list(cfg.stages), "deal_id": deal.deal_id, "deal_name": deal.deal_name,
        "account_name": deal.account_name, "owner": deal.owner, "amount": deal.amount, "stage": deal.stage,
        "stage_age_days": age, "basis": basis, "scope": scope, "group": deal.group, "comparable_by": by_name,
        "realistic_close_date": close, "owner_close_date": owner_close, "gap_days": gap,
        "likely_close_from": _at(as_of_ts, lo), "likely_close_to": _at(as_of_ts, hi),
        "champion": deal.champion, "economic_buyer": deal.economic_buyer, "has_mutual_plan": deal.has_mutual_plan,
        "revisits": conf["revisit_rule"], "figures": figures_df.to_dict("records"), "notes": notes,
    })
    return df


# ---- export and conversion -------------------------------------------------------------------

def _plan_values(df: pd.DataFrame, plan_type: str, signed: bool = False) -> tuple[dict, list[dict]]:
    """The plan as a `plans` header and `plan_steps` rows (their canonical fields)."""
    a = df.attrs
    header = {
        "deal_id": a["deal_id"], "plan_type": plan_type, "seller_owner": a["owner"],
        "buyer_owner": a["champion"] or a["economic_buyer"], "problem": None, "proposed_solution": None,
        "target_date": a["realistic_close_date"], "created_date": a["plan_date"],
        "converted_date": a["plan_date"] if plan_type == "mutual" else None,
        "seller_signed_date": None, "buyer_signed_date": None,
    }
    steps = [{
        "step_no": int(r.step_no), "step": r.step, "stage": r.stage, "owner": r.owner, "side": r.side,
        "original_due_date": r.due_date, "due_date": r.due_date, "completed_date": None, "status": "not started",
    } for r in df.itertuples(index=False)]
    return header, steps


def to_workbook(df: pd.DataFrame, stages: list[str] | None = None, lang: str = "en") -> bytes:
    """The plan as an xlsx in the mutual-action-plan template's shape (plan type closing): it
    imports back as this deal's closing plan with every value intact. The stage drop-down
    lists the plan's stage list unless `stages` is given."""
    header, steps = _plan_values(df, "closing")
    return templates.build("mutual-plan", lang, stages or df.attrs["stages"], values=header, rows=steps)


def can_convert(df: pd.DataFrame) -> str | None:
    """Why the plan cannot become a mutual plan (None: it can): a mutual plan needs a champion
    and an economic buyer, from the deal or the account map."""
    a = df.attrs
    if a["has_mutual_plan"]:
        return f"deal {a['deal_id']} already has a mutual plan; edit that one instead"
    missing = [w for w, v in (("a champion", a["champion"]), ("an economic buyer", a["economic_buyer"])) if not v]
    if missing:
        return (f"deal {a['deal_id']} has no " + " and no ".join(x.split(" ", 1)[1] for x in missing)
                + " (neither on the deal nor on its account map): add " + " and ".join(missing)
                + " first, then convert")
    return None


def convert_to_mutual(path, deal_id: str, as_of=None, stat: str = "median") -> tuple[int, pd.DataFrame]:
    """Store the deal's generated plan as its mutual plan (one undoable batch): a `plans` row
    of type mutual with converted_date, seller and buyer owners, and its steps with
    original_due_date set (the seed's rule: the first target is kept, so slippage is measured
    from it). Refused when the deal has no champion or economic buyer, or a mutual plan."""
    with batches.batch(path, "plan", f"closing plan of {deal_id} converted to a mutual plan") as b:
        df = generate(b.con, deal_id, as_of=as_of, stat=stat)
        why = can_convert(df)
        if why:
            raise InputError(why)
        header, steps = _plan_values(df, "mutual")
        types = schema_types(b.con)
        upsert(b, "plans", pd.DataFrame([header]), list(header), list(types["plans"]))
        frame = pd.DataFrame(steps).assign(deal_id=header["deal_id"], plan_type="mutual")
        upsert(b, "plan_steps", frame, list(frame.columns), list(types["plan_steps"]))
        b.rows_loaded += 1 + len(frame)
        return b.batch_id, df
