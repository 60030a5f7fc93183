"""SQL models: load the named queries in sql/, rebuild the derived tables, and the
small shared facts every report needs (the data's date, the inferred stage order)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).parent / "sql"


@cache
def sql(name: str) -> str:
    """The text of sql/<name>.sql (a CTE chain ending `select * from final`)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@cache
def compose(name: str) -> str:
    """sql/<name>.sql with every `{model}` placeholder that names another sql/ file replaced by
    that model, composed the same way (the shared CTE bodies of the win-loss and mutual-plan
    models). Other placeholders ({dim}, {joins}, ...) are left for the caller."""
    def part(m: re.Match) -> str:
        return compose(m.group(1)) if (SQL_DIR / f"{m.group(1)}.sql").exists() else m.group(0)

    return re.sub(r"\{([a-z_]+)\}", part, sql(name))


def used_params(query: str, params: dict) -> dict:
    """The named parameters `query` refers to ($name) outside its -- comments: DuckDB refuses
    unused ones."""
    code = re.sub(r"--[^\n]*", "", query)
    return {k: v for k, v in params.items() if re.search(rf"\${re.escape(k)}\b", code)}


def derive_deal_dates(con: duckdb.DuckDBPyConnection, closed_stages: list[str], batch_id: int | None) -> None:
    """Created and closed dates not given in a file, derived again from the history
    (sql/derive_deal_dates.sql): for the deals batch `batch_id` wrote, whose history it wrote,
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
    con.execute(f"create or replace temp table date_fix as {sql('derive_deal_dates')}", {"closed_stages": closed_stages})
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
    from . import settings

    if touched & {"deals", "deal_history", "settings"}:
        won, lost = settings.closed_stages(con)
        closed_key = json.dumps([won, lost])
        closed_changed = get_meta(con, "closed_stages") != closed_key
        if touched & {"deals", "deal_history"} or closed_changed:
            derive_deal_dates(con, [*won, *lost], None if closed_changed else batch_id)
    if touched & {"deals", "deal_history"}:
        con.execute("delete from deal_states")
        con.execute(f"insert into deal_states by name select * from ({sql('deal_states')})")
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
            con.execute(f"insert into stage_visits by name select * from ({compose('stage_visits')})",
                        {"closed_stages": [*won, *lost]})
            set_meta(con, "closed_stages", closed_key)
    # Facts derived from the whole data set, kept in meta so reports need not rescan it.
    order, undecided = _infer_stage_order(con)
    set_meta(con, "inferred_stages", json.dumps(order))
    set_meta(con, "undecided_stages", json.dumps(undecided))
    d = con.execute(sql("data_date")).fetchone()[0]
    set_meta(con, "data_date", d.isoformat() if d else "")
    from . import closing_plan

    closing_plan.rebuild_stats(con, touched)


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("insert or replace into meta values (?, ?)", [key, value])


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("select value from meta where key = ?", [key]).fetchone()
    return row[0] if row else None


def infer_stage_order(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The inferred stage list, as computed at the last write (see _infer_stage_order)."""
    stored = get_meta(con, "inferred_stages")
    return json.loads(stored) if stored is not None else _infer_stage_order(con)[0]


def undecided_stages(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Neighbouring stages of the inferred list that no evidence orders (computed at the last write)."""
    stored = get_meta(con, "undecided_stages")
    return [tuple(p) for p in json.loads(stored)] if stored else _infer_stage_order(con)[1]


def _infer_stage_order(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[tuple[str, str]]]:
    """DESIGN.md "Stages" (kam_analytics/stages.py): the list from the evidence in
    sql/stage_order.sql, and the neighbours it leaves undecided."""
    from . import stages
    from .settings import is_lost_name, is_won_name

    rows = con.execute(sql("stage_order")).fetchall()
    evidence = [stages.Evidence(stage, pos, prob, cat) for stage, pos, _deals, prob, cat in rows]
    return stages.infer_order(evidence, is_won_name, is_lost_name)


def unknown_path_count(con: duckdb.DuckDBPyConnection, closed_stages: list[str], as_of: datetime) -> int:
    """How many deals first known before `as_of` have an unknown path (sql/unknown_path_deals.sql):
    the stage reports leave them out and say so."""
    return con.execute(f"select count(*) from ({sql('unknown_path_deals')}) where first_known_at < $as_of",
                       {"closed_stages": closed_stages, "as_of": as_of}).fetchone()[0]


def unknown_path_note(count: int) -> str:
    return (f"{count:,} deal{'s' if count != 1 else ''} first seen closed (no known path through the stages) "
            f"{'are' if count != 1 else 'is'} left out.")


def data_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest date found in the data, shown on every page as "data as of" (computed at
    the last write)."""
    stored = get_meta(con, "data_date")
    if stored is None:
        return con.execute(sql("data_date")).fetchone()[0]
    return date.fromisoformat(stored) if stored else None


def default_as_of(con: duckdb.DuckDBPyConnection) -> datetime:
    """The default as-of: the whole of the data's date (its next day at 00:00), so that the
    last day's changes are in the snapshot. An explicit --as-of D means D 00:00."""
    d = data_date(con)
    if d is None:
        d = date.today()
    return datetime.combine(d + timedelta(days=1), datetime.min.time())
