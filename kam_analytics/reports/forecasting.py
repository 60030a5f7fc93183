"""Forecasting reports built on ONE snapshot model (DESIGN.md "Snapshot as of t",
sql/snapshot.sql): pushes (DESIGN.md "Push", sql/pushes.sql) and slippage (DESIGN.md
"Slipped", sql/slippage.sql). No report derives a deal's state its own way."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from .. import models, periods, settings
from ..dates import parse_date, start_of
from ..errors import UsageError

PUSHES_KEYS = ("deal_id", "pushes", "pull_ins", "days_pushed", "first_close_date", "close_date")
SLIPPAGE_KEYS = ("period", "expected_deals", "expected_amount", "won_deals", "won_amount", "lost_deals",
                 "lost_amount", "slipped_deals", "slipped_amount", "slippage_rate", "slippage_count_rate",
                 "open_deals", "open_amount")


def snapshot_sql(as_of_param: str = "as_of") -> str:
    """sql/snapshot.sql with its as-of parameter named `as_of_param` (from a fixed set in this
    module, never user text), so that one query can hold two snapshots."""
    return models.sql("snapshot").replace("$as_of", f"${as_of_param}")


def _base_params(con, conf: dict) -> dict:
    cfg = settings.stage_config(con, conf)
    return {"won_stages": list(cfg.won), "lost_stages": list(cfg.lost), "currency": conf["currency"]}


def snapshot(con: duckdb.DuckDBPyConnection, as_of=None) -> pd.DataFrame:
    """Every deal as it stood at the as-of (the start of that day; default: the end of the
    data's date): stage, status, amount, close date, forecast category, probability, and the
    amount in the settings currency."""
    conf = settings.load(con)
    as_of_ts = start_of(parse_date(as_of, "--as-of")) or models.default_as_of(con)
    df = con.execute(snapshot_sql(), {"as_of": as_of_ts, **_base_params(con, conf)}).df()
    df.attrs.update({"report": "snapshot", "as_of": as_of_ts})
    return df


def pushes(con: duckdb.DuckDBPyConnection, as_of=None) -> pd.DataFrame:
    """Per deal existing at the as-of: close-date pushes and pull-ins over its history, the
    days pushed (pushes only), its first close date and its close date then."""
    conf = settings.load(con)
    as_of_ts = start_of(parse_date(as_of, "--as-of")) or models.default_as_of(con)
    query = models.sql("pushes").replace("{snapshot}", snapshot_sql())
    df = con.execute(query, {"as_of": as_of_ts, **_base_params(con, conf)}).df()
    for c in ("pushes", "pull_ins", "days_pushed"):
        df[c] = df[c].astype("int64")
    df = df[list(PUSHES_KEYS)]
    df.attrs.update({"report": "pushes", "as_of": as_of_ts,
                     "notes": ["A push is a later close date between two consecutive history rows; a change "
                               "from or to no date is neither a push nor a pull-in."]})
    return df


def period_window(con, period: str | None, conf: dict) -> tuple[str, datetime, datetime]:
    """The period's name and [first day, first day after) as timestamps; default: the fiscal
    quarter holding the data's date."""
    start_month = int(conf["fiscal_year_start_month"])
    if not period:
        d = models.data_date(con)
        if d is None:
            raise UsageError("--period: no data is loaded, so there is no current period; give one such as FY2026-Q1")
        period = periods.fiscal_quarter(d, start_month)
    p0, p1 = periods.bounds(period, start_month)
    return period.strip().upper(), start_of(p0), start_of(p1)


def slippage(con: duckdb.DuckDBPyConnection, period: str | None = None, as_of=None) -> pd.DataFrame:
    """One row for the period: the deals expected to close in it (open at its first day, or
    at an as-of inside it, with close_date in it) and how they ended: won, lost, slipped, or
    still open and due while the period runs. Amounts are the snapshot's."""
    conf = settings.load(con)
    name, p0, p1 = period_window(con, period, conf)
    start_at = start_of(parse_date(as_of, "--as-of")) or p0
    if not p0 <= start_at < p1:
        raise UsageError(f"--as-of {start_at.date()} is not inside {name} ({p0.date()} to {(p1 - pd.Timedelta(days=1)).date()})")
    data_at = models.default_as_of(con)
    ended = p1 <= data_at
    end_at = p1 if ended else max(data_at, start_at)
    query = (models.sql("slippage").replace("{snapshot_start}", snapshot_sql("start_at"))
             .replace("{snapshot_end}", snapshot_sql("end_at")))
    params = {"start_at": start_at, "end_at": end_at, "p0": p0.date(), "p1": p1.date(), "ended": ended,
              "period": name, **_base_params(con, conf)}
    df = con.execute(query, params).df()
    without = int(df["without_amount"].iloc[0])
    df = df[list(SLIPPAGE_KEYS)]
    for c in SLIPPAGE_KEYS:
        if c.endswith("_deals"):
            df[c] = df[c].astype("int64")
    for c in ("slippage_rate", "slippage_count_rate"):
        df[c] = df[c].astype("float64").round(6)
    notes = [f"Expected: open at {start_at.date()} with close_date in {name}; judged at "
             + (f"the end of {name}." if ended else f"the data's date ({(end_at - pd.Timedelta(days=1)).date()}), "
                f"as {name} has not ended: open deals whose close date is still in it are open and due.")]
    if without:
        notes.append(f"{without:,} expected deal(s) have no rate into {conf['currency']} (fx_rates): counted, "
                     "not in the amounts.")
    df.attrs.update({"report": "slippage", "as_of": start_at, "period": name, "ended": ended, "notes": notes})
    return df
