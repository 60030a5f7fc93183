"""The derived tables and facts: rebuilt from the data inside every write's transaction
(batches.batch calls refresh_derived), read by every report. deal_states, stage_visits,
deals_without_history, the deals' derived created and closed dates, the per-stage figures
of closing plans (stage_stats) for the data's date, and in meta: the inferred stage list and
the data's date."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from . import db, dims, models, settings, stage_list
from .errors import UsageError

# How a deal's visits of one stage add up to its time there (the revisit rule); SQL fragments
# chosen by code, never built from user text.
RULE_DAYS = {"cumulative": "sum(days)", "first": "arg_min(days, visit_no)", "latest": "arg_max(days, visit_no)"}


def derive_deal_dates(con: duckdb.DuckDBPyConnection, closed_stages: list[str], batch_id: int | None) -> None:
    """Created and closed dates not given in a file, derived again from the history
    (sql/derived/derive_deal_dates.sql): for the deals batch `batch_id` wrote, whose history it wrote,
    or whose rows it replaced or deleted (its undo log); None: every deal (an undo, a restore,
    a change of the closed stages)."""
    if batch_id is None:
        con.execute("create or replace temp table date_deals as select deal_id from deals")
    else:
        con.execute("""
            create or replace temp table date_deals as
            select deal_id from deals where batch_id = $b
            union select deal_id from deal_history where batch_id = $b
            union select (row_json ->> 'deal_id') from undo_log
                  where batch_id = $b and table_name in ('deals', 'deal_history')
        """, {"b": batch_id})
    con.execute(f"create or replace temp table date_fix as {models.query('derive_deal_dates')}", {"closed_stages": closed_stages})
    con.execute("""
        update deals d set created_date = x.new_created, created_derived = x.new_created_derived,
                           closed_date = x.new_closed, closed_derived = x.new_closed_derived
        from date_fix x where d.deal_id = x.deal_id
    """)
    con.execute("drop table date_fix")
    con.execute("drop table date_deals")


def refresh_derived(con: duckdb.DuckDBPyConnection, touched: set[str], batch_id: int | None = None) -> None:
    """Rebuild what is derived from the tables a batch touched, inside its transaction.
    Measured at 1,000,000 deals (bench/stage_durations.py): a materialised stage_visits
    table makes stage-durations several times faster than windowing the raw history on
    every report, for about 1.5 s once per write. A settings write that changes which stages
    are won or lost rebuilds it too: each visit carries its deal's first closing."""
    if touched & {"deals", "deal_history", "settings"}:
        won, lost = stage_list.closed_stages(con)
        closed_key = json.dumps([won, lost])
        closed_changed = db.get_meta(con, "closed_stages") != closed_key
        if touched & {"deals", "deal_history"} or closed_changed:
            derive_deal_dates(con, [*won, *lost], None if closed_changed else batch_id)
    if touched & {"deals", "deal_history"}:
        con.execute("delete from deal_states")
        con.execute(f"insert into deal_states by name select * from ({models.query('deal_states')})")
        con.execute("delete from deals_without_history")
        con.execute("insert into deals_without_history select deal_id from deals d "
                    "where not exists (select 1 from deal_history h where h.deal_id = d.deal_id)")
    if touched & {"deals", "deal_history", "settings"}:
        # which stages close a deal is a setting: the deals' status and each visit's
        # closed_at (its deal's first closing) follow it; a save of other settings keeps them
        if touched & {"deals", "deal_history"} or closed_changed:
            con.execute("update deals set status = case when list_contains($won, stage) then 'won' "
                        "when list_contains($lost, stage) then 'lost' else 'open' end",
                        {"won": list(won), "lost": list(lost)})
            con.execute("delete from stage_visits")
            con.execute(f"insert into stage_visits by name select * from ({models.query('stage_visits')})",
                        {"closed_stages": [*won, *lost]})
            db.set_meta(con, "closed_stages", closed_key)
    # Facts derived from the whole data set, kept in meta so reports need not rescan it.
    order, undecided = stage_list.compute_stage_order(con)
    db.set_meta(con, "inferred_stages", json.dumps(order))
    db.set_meta(con, "undecided_stages", json.dumps(undecided))
    d = con.execute(models.query("data_date")).fetchone()[0]
    db.set_meta(con, "data_date", d.isoformat() if d else "")
    rebuild_stats(con, touched)


def unknown_path_count(con: duckdb.DuckDBPyConnection, closed_stages: list[str], as_of: datetime) -> int:
    """How many deals first known before `as_of` have an unknown path (sql/derived/unknown_path_deals.sql):
    the stage reports leave them out and say so."""
    return con.execute(f"select count(*) from ({models.query('unknown_path_deals')}) where first_known_at < $as_of",
                       {"closed_stages": closed_stages, "as_of": as_of}).fetchone()[0]


def unknown_path_note(count: int) -> str:
    return (f"{count:,} deal{'s' if count != 1 else ''} first seen closed (no known path through the stages) "
            f"{'are' if count != 1 else 'is'} left out.")


def data_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest date found in the data, shown on every page as "data as of" (computed at
    the last write)."""
    stored = db.get_meta(con, "data_date")
    if stored is None:
        return con.execute(models.query("data_date")).fetchone()[0]
    return date.fromisoformat(stored) if stored else None


def default_as_of(con: duckdb.DuckDBPyConnection) -> datetime:
    """The default as-of: the whole of the data's date (its next day at 00:00), so that the
    last day's changes are in the snapshot. An explicit --as-of D means D 00:00."""
    d = data_date(con)
    if d is None:
        d = date.today()
    return datetime.combine(d + timedelta(days=1), datetime.min.time())


# ---- per-stage figures of closing plans ---------------------------------------------------

def stats_key(as_of_ts: datetime, conf: dict, cfg: stage_list.StageConfig) -> str:
    return json.dumps({"as_of": as_of_ts.isoformat(), "rule": conf["revisit_rule"], "by": conf["comparable_by"],
                       "open": list(cfg.open), "won": list(cfg.won)})


def stats_query(con: duckdb.DuckDBPyConnection, conf: dict) -> tuple[str, dims.Dim]:
    dim = dims.resolve(con, conf["comparable_by"], conf)
    query = models.query("stage_stats", dim=f"({dim.expr})::varchar", joins=dim.joins,
                         rule_days=RULE_DAYS[conf["revisit_rule"]])
    return query, dim


def stats_params(cfg: stage_list.StageConfig, as_of_ts: datetime | list[datetime], dim: dims.Dim) -> dict:
    as_ofs = as_of_ts if isinstance(as_of_ts, list) else [as_of_ts]
    return {"as_ofs": as_ofs, "won_stages": list(cfg.won), "open_stages": list(cfg.open), **dim.params}


def rebuild_stats(con: duckdb.DuckDBPyConnection, touched: set[str]) -> None:
    """Inside a write (refresh_derived): rebuild stage_stats for the data's date when
    the data or the settings it rests on changed. Measured at 1,000,000 deals: ~2 s per write,
    against ~1.6 s on every plan if computed live (bench/velocity.py prints `plan`)."""
    conf = settings.load(con)
    cfg = stage_list.stage_config(con, conf)
    as_of_ts = default_as_of(con)
    key = stats_key(as_of_ts, conf, cfg)
    if not (touched & {"deals", "deal_history"}) and db.get_meta(con, "stage_stats_key") == key:
        return
    con.execute("delete from stage_stats")
    try:
        query, dim = stats_query(con, conf)
    except UsageError:          # the saved comparable dimension is gone: plans compute live
        db.set_meta(con, "stage_stats_key", "")
        return
    con.execute(f"insert into stage_stats select * exclude (as_of) from ({query})", stats_params(cfg, as_of_ts, dim))
    db.set_meta(con, "stage_stats_key", key)


def stage_stats(con: duckdb.DuckDBPyConnection, group, as_of_ts: datetime, conf: dict,
                cfg: stage_list.StageConfig) -> pd.DataFrame:
    """Per open stage and scope ('group': the deal's comparable group; 'all'): the figures of
    sql/derived/stage_stats.sql. From the materialised table when it was built for this as-of and
    these settings, else computed live."""
    cols = "stage, stage_order, deals, visits, mean_days, p25_days, median_days, p75_days, p90_days, " \
           "won_passed, won_deals"
    pick = (f"select case when all_deals then 'all' else 'group' end as scope, {cols} from {{src}} "
            "where all_deals or (grp is not distinct from $grp and $has_group) order by scope, stage_order")
    params = {"grp": None if group is None else str(group), "has_group": group is not None}
    if db.get_meta(con, "stage_stats_key") == stats_key(as_of_ts, conf, cfg):
        return con.execute(pick.format(src="stage_stats"), params).df()
    query, dim = stats_query(con, conf)
    return con.execute(pick.format(src=f"({query})"), {**params, **stats_params(cfg, as_of_ts, dim)}).df()


def _rebuild_all(con: duckdb.DuckDBPyConnection) -> None:
    """After a schema upgrade (db.migrate): everything derived, built again from the data."""
    refresh_derived(con, {"deals", "deal_history", "settings"})


db.on_upgrade(_rebuild_all)
