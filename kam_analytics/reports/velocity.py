"""conversion and cycle: docs/metrics.md "Reached, conversion, win rate from stage" and "Sales
cycle". SQL: sql/reports/conversion.sql and sql/reports/cycle.sql."""

from __future__ import annotations

import duckdb
import pandas as pd

from .. import derived, dims, models, settings, stage_list
from ..dates import parse_date, start_of
from ..catalogue import CONVERSION_KEYS, CYCLE_KEYS
from .stage_durations import _params



def _query(name: str, dim) -> str:
    """sql/<name>.sql with the dimension filled in (conversion and its drill-down through the
    shared reached_per_deal model)."""
    if name == "cycle":
        return cycle_query(dim, histogram=not dim.name)
    scope_join = "join deal_scope s using (deal_id)" if dim.name else "cross join (select null as dim) s"
    return models.query(name, dim=dim.expr, joins=dim.joins, scope_join=scope_join)


def cycle_query(dim, histogram: bool) -> str:
    """sql/reports/cycle.sql with its figures from the day histogram or from median(). Measured at
    1,000,000 deals: not split, the histogram takes 9 ms against median()'s 25 ms; split by
    600 owners it has nearly a row per deal and its running counts sort it (100 ms against
    35 ms). Both give the same numbers (tests/unit/test_velocity.py)."""
    figures = "{cycle_histogram}" if histogram else "{cycle_median}"
    return models.query("cycle", figures=figures, dim=dim.expr, joins=dim.joins)


def _run(con, name: str, by: str | None, as_of, keys: tuple[str, ...], drop: str) -> pd.DataFrame:
    conf = settings.load(con)
    as_of_ts = start_of(parse_date(as_of, "--as-of")) or derived.default_as_of(con)
    dim = dims.resolve(con, by, conf)
    cfg = stage_list.stage_config(con, conf)
    params = {"as_of": as_of_ts, "won_stages": list(cfg.won), "lost_stages": list(cfg.lost),
              "by_dim": bool(dim.name), **dim.params}
    if name == "conversion":
        params["open_stages"] = list(cfg.open)
    query = _query(name, dim)
    df = con.execute(query, models.used_params(query, params)).df().drop(columns=[drop])
    if dim.name:
        df = df.rename(columns={"dim": dim.name})[[dim.name, *keys]]
    else:
        df = df[list(keys)]
    notes = []
    if cfg.note:
        notes.append(cfg.note)
    df.attrs.update({"report": name, "as_of": as_of_ts, "by": dim.name or None, "stages": list(cfg.open),
                     "won_stage": cfg.won_stage, "notes": notes})
    return df


def conversion(con: duckdb.DuckDBPyConnection, by: str | None = None, as_of=None) -> pd.DataFrame:
    """Per (dimension value,) open stage: closed deals that reached it, conversion to the
    next stage (the won stage after the last open one) and the win rate from it."""
    df = _run(con, "conversion", by, as_of, CONVERSION_KEYS, "stage_order")
    df["reached"] = df["reached"].astype("int64")
    for c in ("conversion_to_next", "win_rate_from_stage"):
        df[c] = df[c].astype("float64").round(6)
    df.attrs["notes"].insert(0, "Closed deals only: open deals have not finished their path.")
    cfg = stage_list.stage_config(con)
    unknown = derived.unknown_path_count(con, [*cfg.won, *cfg.lost], df.attrs["as_of"])
    if unknown:
        df.attrs["notes"].append(derived.unknown_path_note(unknown))
    return df


def cycle(con: duckdb.DuckDBPyConnection, by: str | None = None, as_of=None) -> pd.DataFrame:
    """Per (dimension value,) outcome (won, lost, all closed): deals and the mean and median
    days from created_date to closed_date."""
    df = _run(con, "cycle", by, as_of, CYCLE_KEYS, "outcome_order")
    df["deals"] = df["deals"].astype("int64")
    for c in ("mean_days", "median_days"):
        df[c] = df[c].astype("float64").round(6)
    undated = con.execute(
        "select count(*) from deals where status <> 'open' and (created_date is null or closed_date is null)"
    ).fetchone()[0]
    if undated:
        df.attrs["notes"].append(f"{undated:,} closed deal(s) without a created or closed date are left out.")
    return df


def conversion_deals(con: duckdb.DuckDBPyConnection, stage: str, by: str | None = None, dim_value=None,
                     as_of=None, limit: int = 10_000) -> tuple[pd.DataFrame, int]:
    """The closed deals behind one row of `conversion` (drill-down): those that reached
    `stage`, won ones first. Returns (rows, total count)."""
    conf = settings.load(con)
    as_of_ts = start_of(parse_date(as_of, "--as-of")) or derived.default_as_of(con)
    dim = dims.resolve(con, by, conf)
    cfg = stage_list.stage_config(con, conf)
    params = {"as_of": as_of_ts, "won_stages": list(cfg.won), "lost_stages": list(cfg.lost),
              "open_stages": list(cfg.open), "stage": stage, "by_dim": bool(dim.name), "dim_value": dim_value,
              **dim.params}
    base = _query("conversion_deals", dim)
    total = con.execute(f"select count(*) from ({base})", params).fetchone()[0]
    df = con.execute(f"{base} order by outcome desc, amount desc nulls last, deal_id limit $limit",
                     {**params, "limit": limit}).df()
    df = dims.name_split(df, dim)
    df.attrs.update({"as_of": as_of_ts, "stage": stage})
    return df, int(total)


def stage_time_spread(con: duckdb.DuckDBPyConnection, by: str | None = None, revisits: str | None = None,
                      as_of=None) -> pd.DataFrame:
    """Per (dimension value,) open stage: p10, p25, median, p75 and p90 of deals' completed
    time in the stage (all outcomes), for a box plot; in-progress visits are not in it."""
    dim, rule, as_of_ts, cfg, params, slots = _params(con, by, "all", revisits, as_of, None, None)
    query = models.query("stage_time_quantiles", **slots)
    df = con.execute(query, params).df().drop(columns=["stage_order"])
    df = df.rename(columns={"dim": dim.name}) if dim.name else df.drop(columns=["dim"])
    df["deals"] = df["deals"].astype("int64")
    df.attrs.update({"as_of": as_of_ts, "revisits": rule})
    return df
