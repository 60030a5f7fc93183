"""stage-durations: docs/metrics.md "Time in stage". SQL: sql/models/stage_time_per_deal.sql and
sql/reports/stage_durations.sql."""

from __future__ import annotations

import duckdb
import pandas as pd

from .. import derived, dims, models, settings, stage_list
from ..dates import end_of, parse_date, start_of
from ..errors import UsageError
from ..catalogue import STAGE_DURATIONS_KEYS as KEYS

OUTCOMES = ("all", "won", "lost")
# SQL fragments chosen by code (never built from user text).
OUTCOME_FILTER = "and deal_id in (select deal_id from state_at_as_of where outcome = $outcome)"


def _params(con, by, outcome, revisits, as_of, created_from, created_to):
    conf = settings.load(con)
    if outcome not in OUTCOMES:
        raise UsageError(f"--outcome: expected one of {', '.join(OUTCOMES)}, got {outcome!r}")
    rule = revisits or conf["revisit_rule"]
    if rule not in settings.REVISIT_RULES:
        raise UsageError(f"--revisits: expected one of {', '.join(settings.REVISIT_RULES)}, got {rule!r}")
    as_of_ts = start_of(parse_date(as_of, "--as-of")) or derived.default_as_of(con)
    cfrom = parse_date(created_from, "--created-from")
    cto = parse_date(created_to, "--created-to")
    if cfrom and cto and cfrom > cto:
        raise UsageError(f"--created-from {cfrom} is after --created-to {cto}")
    dim = dims.resolve(con, by, conf)
    cfg = stage_list.stage_config(con, conf)
    params = {
        "as_of": as_of_ts,
        "created_from": cfrom, "created_to": end_of(cto),
        "open_stages": list(cfg.open), "won_stages": list(cfg.won), "lost_stages": list(cfg.lost),
        **dim.params,
    }
    if outcome != "all":
        params["outcome"] = outcome
    scoped = bool(dim.name or cfrom or cto)
    slots = dict(
        dim=dim.expr, joins=dim.joins, rule_days=derived.RULE_DAYS[rule],
        visit_dim="s.dim" if scoped else "null::varchar",
        scope_join="join deal_scope s using (deal_id)" if scoped else "",
        outcome_filter=OUTCOME_FILTER if outcome != "all" else "")
    return dim, rule, as_of_ts, cfg, params, slots


def _attrs(df, con, dim, rule, outcome, as_of_ts, cfg, created_from, created_to):
    undated = con.execute(
        "select count(*) from deals where created_date is null and "
        "not exists (select 1 from deal_history h where h.deal_id = deals.deal_id)"
    ).fetchone()[0]
    notes = []
    if undated and not (created_from or created_to):
        notes.append(f"{undated:,} deal(s) without any date are left out (time-based report).")
    unknown = derived.unknown_path_count(con, [*cfg.won, *cfg.lost], as_of_ts)
    if unknown:
        notes.append(derived.unknown_path_note(unknown))
    if cfg.note:
        notes.append(cfg.note)
    df.attrs.update({
        "report": "stage-durations", "as_of": as_of_ts, "revisits": rule, "outcome": outcome,
        "by": dim.name or None, "stages": list(cfg.open), "notes": notes,
    })
    return df


def stage_durations(con: duckdb.DuckDBPyConnection, by: str | None = None, outcome: str = "all",
                    revisits: str | None = None, as_of=None, created_from=None,
                    created_to=None) -> pd.DataFrame:
    """One row per (dimension value,) open stage: deals, mean/median/p75/p90 days of
    completed time in stage under the revisit rule, and deals in progress with their
    median age. The rule and outcome are named in every row, so exports carry them."""
    dim, rule, as_of_ts, cfg, params, slots = _params(
        con, by, outcome, revisits, as_of, created_from, created_to)
    query = models.query("stage_durations", **slots)
    params["by_dim"] = bool(dim.name)
    df = con.execute(query, params).df()
    df = df.drop(columns=["stage_order"])
    if dim.name:
        df = df.rename(columns={"dim": dim.name})
        cols = [dim.name, *KEYS]
    else:
        df = df.drop(columns=["dim"])
        cols = list(KEYS)
    df = df[cols].copy()
    day_cols = [c for c in df.columns if c.endswith("_days")]
    df[day_cols] = df[day_cols].astype("float64").round(6)   # 0.09 s: float noise off exports
    df["deals"] = df["deals"].astype("int64")
    df["in_progress"] = df["in_progress"].astype("int64")
    df["revisits"] = rule
    df["outcome"] = outcome
    return _attrs(df, con, dim, rule, outcome, as_of_ts, cfg, created_from, created_to)


def stage_duration_deals(con: duckdb.DuckDBPyConnection, stage: str, by: str | None = None,
                         dim_value=None, outcome: str = "all", revisits: str | None = None,
                         as_of=None, created_from=None, created_to=None,
                         limit: int = 10_000) -> tuple[pd.DataFrame, int]:
    """The deals behind one row of stage-durations (drill-down): each deal's completed time
    in `stage` under the rule and its open visit's age. Returns (rows, total count)."""
    dim, rule, as_of_ts, cfg, params, slots = _params(
        con, by, outcome, revisits, as_of, created_from, created_to)
    params.update({"stage": stage, "dim_value": dim_value, "by_dim": bool(dim.name), "limit": limit})
    df = con.execute(models.query("stage_duration_deals", **slots), params).df()
    total = int(df["total"].iloc[0]) if len(df) else 0
    df = df.drop(columns=["total"])
    df = dims.name_split(df, dim)
    df.attrs.update({"as_of": as_of_ts, "revisits": rule, "stage": stage})
    return df, int(total)
