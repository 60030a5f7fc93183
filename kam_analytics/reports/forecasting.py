"""Forecasting reports built on ONE snapshot model (docs/metrics.md "Snapshot as of t",
sql/models/snapshot.sql): pipeline (sql/reports/pipeline.sql), pushes (docs/metrics.md "Push", sql/reports/pushes.sql),
slippage (docs/metrics.md "Slipped", sql/reports/slippage.sql) and the pipeline waterfall (docs/metrics.md
"Pipeline waterfall", sql/reports/waterfall.sql). No report derives a deal's state its own way;
forecast accuracy, attainment and the forecast range (forecast_quality.py) use it too."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from datetime import datetime

import duckdb
import pandas as pd

from .. import derived, dims, models, periods, settings, stage_list
from ..dates import end_of, parse_date, start_of
from ..errors import UsageError
from ..catalogue import PIPELINE_KEYS, PUSHES_KEYS, SLIPPAGE_KEYS, WATERFALL_KEYS

WATERFALL_CATEGORIES = ("start", "new", "pulled_in", "increased", "decreased", "pushed_out", "won", "lost", "end")


def snapshot_sql(as_of_param: str = "as_of") -> str:
    """sql/models/snapshot.sql with its as-of parameter named `as_of_param` (from a fixed set in this
    module, never user text), so that one query can hold two snapshots."""
    return models.query("snapshot").replace("$as_of", f"${as_of_param}")


_SNAPSHOT_PARAMS = ("won_stages", "lost_stages", "currency")


def share_snapshots(con: duckdb.DuckDBPyConnection) -> None:
    """Ask with_snapshots to make each snapshot once on this (read-only) connection: for
    a caller about to run several reports at one as-of (the Forecast page's rerun, the
    forecast range with its forecasts). A lone report is faster with its snapshot inlined,
    where DuckDB pushes the report's filters into it."""
    con.execute("set variable kam_share_snapshots = true")


@contextmanager
def snapshots_inlined(con: duckdb.DuckDBPyConnection):
    """Inside the block every snapshot is inlined even on a sharing connection: for a loop
    that reads each as-of once (the accuracy history's quarter starts), where shared tables
    would only fill memory."""
    was = con.execute("select coalesce(getvariable('kam_share_snapshots'), false)").fetchone()[0]
    con.execute("set variable kam_share_snapshots = false")
    try:
        yield
    finally:
        con.execute(f"set variable kam_share_snapshots = {'true' if was else 'false'}")


def with_snapshots(con: duckdb.DuckDBPyConnection, name: str | None, params: dict, once: tuple[str, ...] = (),
                   fill: dict[str, str] | None = None, **slots: str) -> tuple[str, dict]:
    """The query named `name` (models.query, with the other slots in `fill`; None: the snapshot
    alone) with each {slot} filled by the snapshot at params[slot's as-of parameter], and the
    parameters the result uses. On a read-only connection that asked for it
    (share_snapshots) each snapshot is made once into a temp table and shared by every query
    of that connection at the same as-of: the Forecast page reads four reports at one date.
    Otherwise, and always on a read-write connection (the data may change under it), the
    snapshot is inlined; so are the slots named in `once`, which no other report of the
    connection asks for (making the table would cost more than it saves)."""
    shared = con.execute("select current_setting('access_mode') = 'read_only' "
                         "and coalesce(getvariable('kam_share_snapshots'), false)").fetchone()[0]
    texts: dict[str, str] = {}
    for slot, as_of_param in slots.items():
        if shared and slot not in once:
            key = repr((params[as_of_param], *(params[k] for k in _SNAPSHOT_PARAMS)))
            table = "kam_snapshot_" + hashlib.sha1(key.encode()).hexdigest()[:16]
            made = con.execute("select count(*) from duckdb_tables() where temporary and table_name = ?",
                               [table]).fetchone()[0]
            if not made:
                con.execute(f"create temp table {table} as {snapshot_sql()}",
                            {"as_of": params[as_of_param], **{k: params[k] for k in _SNAPSHOT_PARAMS}})
            text = f"select * from temp.{table}"
        else:
            text = snapshot_sql(as_of_param)
        texts[slot] = text
    query = texts["snapshot"] if name is None else models.query(name, **(fill or {}), **texts)
    return query, models.used_params(query, params)


def as_of_or_default(con, as_of) -> datetime:
    """An --as-of date as the start of that day; default: the end of the data's date."""
    return start_of(parse_date(as_of, "--as-of")) or derived.default_as_of(con)


def _base_params(con, conf: dict) -> dict:
    cfg = stage_list.stage_config(con, conf)
    return {"won_stages": list(cfg.won), "lost_stages": list(cfg.lost), "currency": conf["currency"]}


def snapshot(con: duckdb.DuckDBPyConnection, as_of=None) -> pd.DataFrame:
    """Every deal as it stood at the as-of (the start of that day; default: the end of the
    data's date): stage, status, amount, close date, forecast category, probability, and the
    amount in the settings currency."""
    conf = settings.load(con)
    as_of_ts = as_of_or_default(con, as_of)
    df = con.execute(*with_snapshots(con, None, {"as_of": as_of_ts, **_base_params(con, conf)},
                                     snapshot="as_of")).df()
    df.attrs.update({"report": "snapshot", "as_of": as_of_ts})
    return df


def pushes(con: duckdb.DuckDBPyConnection, as_of=None) -> pd.DataFrame:
    """Per deal existing at the as-of: close-date pushes and pull-ins over its history, the
    days pushed (pushes only), its first close date and its close date then."""
    conf = settings.load(con)
    as_of_ts = as_of_or_default(con, as_of)
    df = con.execute(*with_snapshots(con, "pushes", {"as_of": as_of_ts, **_base_params(con, conf)},
                                     snapshot="as_of")).df()
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
        d = derived.data_date(con)
        if d is None:
            raise UsageError("--period: no data is loaded, so there is no current period; give one such as FY2026-Q1")
        period = periods.fiscal_quarter(d, start_month)
    p0, p1 = periods.bounds(period, start_month)
    return period.strip().upper(), start_of(p0), start_of(p1)


def _slippage_params(con, period, as_of) -> tuple[dict, dict]:
    """The parameters of sql/models/slippage_deals.sql (the deals expected in the period), and what it judged."""
    conf = settings.load(con)
    name, p0, p1 = period_window(con, period, conf)
    start_at = start_of(parse_date(as_of, "--as-of")) or p0
    if not p0 <= start_at < p1:
        raise UsageError(f"--as-of {start_at.date()} is not inside {name} ({p0.date()} to {(p1 - pd.Timedelta(days=1)).date()})")
    data_at = derived.default_as_of(con)
    ended = p1 <= data_at
    end_at = p1 if ended else max(data_at, start_at)
    params = {"start_at": start_at, "end_at": end_at, "p0": p0.date(), "p1": p1.date(), "ended": ended,
              "period": name, **_base_params(con, conf)}
    return params, {"name": name, "start_at": start_at, "end_at": end_at, "ended": ended, "conf": conf}


def slippage(con: duckdb.DuckDBPyConnection, period: str | None = None, as_of=None) -> pd.DataFrame:
    """One row for the period: the deals expected to close in it (open at its first day, or
    at an as-of inside it, with close_date in it) and how they ended: won, lost, slipped, or
    still open and due while the period runs. Amounts are the snapshot's."""
    params, judged = _slippage_params(con, period, as_of)
    name, start_at, end_at, ended, conf = (judged[k] for k in ("name", "start_at", "end_at", "ended", "conf"))
    df = con.execute(*with_snapshots(con, "slippage", params, snapshot_start="start_at", snapshot_end="end_at")).df()
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


def slippage_deals(con: duckdb.DuckDBPyConnection, period: str | None = None, as_of=None) -> pd.DataFrame:
    """The expected deals behind `slippage` (drill-down): each with its name, owner, its
    amount and close date at the start, its close date now, how it ended and its pushes."""
    params, judged = _slippage_params(con, period, as_of)
    df = con.execute(*with_snapshots(con, "slippage_deal_list", params, snapshot_start="start_at",
                                     snapshot_end="end_at")).df()
    df["pushes"] = df["pushes"].astype("int64")
    df.attrs.update({"period": judged["name"], "as_of": judged["start_at"]})
    return df


def deal_history(con: duckdb.DuckDBPyConnection, deal_id: str) -> pd.DataFrame:
    """One deal's states over time (the same-timestamp rule applied), each close-date move
    named push or pull-in with its days (docs/metrics.md "Push")."""
    df = con.execute(
        "select changed_at, stage, amount, close_date, forecast_category, "
        "case when close_date > previous_close_date then 'push' "
        "when close_date < previous_close_date then 'pull-in' end as close_date_move, "
        "date_diff('day', previous_close_date, close_date) as days_moved "
        "from deal_states where deal_id = ? order by changed_at", [deal_id]).df()
    df.attrs.update({"deal_id": deal_id})
    return df


def pushes_by_owner(con: duckdb.DuckDBPyConnection, as_of=None) -> pd.DataFrame:
    """Pushes per owner: deals, deals pushed at least once, pushes, pull-ins, days pushed."""
    per_deal = pushes(con, as_of)
    owners = con.execute("select deal_id, owner from deals").df()
    df = per_deal.merge(owners, on="deal_id", how="left")
    df["owner"] = df["owner"].fillna("(no owner)")
    out = (df.assign(pushed=df["pushes"] > 0)
           .groupby("owner").agg(deals=("deal_id", "size"), deals_pushed=("pushed", "sum"), pushes=("pushes", "sum"),
                                 pull_ins=("pull_ins", "sum"), days_pushed=("days_pushed", "sum"))
           .reset_index().sort_values(["pushes", "days_pushed"], ascending=False, kind="stable"))
    out["share_pushed"] = (out["deals_pushed"] / out["deals"]).round(6)
    out.attrs.update({"as_of": per_deal.attrs["as_of"]})
    return out


def _rate_note(count: int, currency: str, what: str = "deal(s)") -> list[str]:
    return ([f"{count:,} {what} have no rate into {currency} (fx_rates): counted, not in the amounts."]
            if count else [])


def pipeline(con: duckdb.DuckDBPyConnection, by: str | None = None, as_of=None) -> pd.DataFrame:
    """The open pipeline at the as-of (default: the data's date), by [dimension,] stage,
    forecast category and the fiscal quarter of the close date: deals and amount."""
    conf = settings.load(con)
    as_of_ts = as_of_or_default(con, as_of)
    dim = dims.resolve(con, by, conf)
    cfg = stage_list.stage_config(con, conf)
    params = {"as_of": as_of_ts, "fy_start": int(conf["fiscal_year_start_month"]),
              "open_stages": list(cfg.open), **_base_params(con, conf), **dim.params}
    df = con.execute(*with_snapshots(con, "pipeline", params, fill={"dim": dim.expr, "joins": dim.joins},
                                     snapshot="as_of")).df()
    without = int(df["without_amount"].sum())
    df["deals"] = df["deals"].astype("int64")
    df = df.rename(columns={"dim": dim.name})[[dim.name, *PIPELINE_KEYS]] if dim.name else df[list(PIPELINE_KEYS)]
    df.attrs.update({"report": "pipeline", "as_of": as_of_ts, "by": dim.name or None,
                     "notes": [f"Open deals as of {as_of_ts.date()}, in {conf['currency']}; period is the fiscal "
                               "quarter of the close date."] + _rate_note(without, conf["currency"])})
    return df


def waterfall_window(con, date_from, date_to, period, conf, as_of=None) -> tuple[str, datetime, datetime, datetime, datetime]:
    """(period name, W's first day, first day after W, t0, t1). Defaults: the period is the
    quarter of the data's date; the window is the period itself, ending at the as-of (the
    data's date) while the period runs."""
    name, w0, w1 = period_window(con, period, conf)
    t0 = start_of(parse_date(date_from, "--from")) or w0
    t1 = end_of(parse_date(date_to, "--to")) or min(w1, as_of_or_default(con, as_of))
    if t1 <= t0:
        raise UsageError(f"--to must be on or after --from (the window is {t0.date()} to "
                         f"{(t1 - pd.Timedelta(days=1)).date()})")
    return name, w0, w1, t0, t1


def waterfall_deals(con: duckdb.DuckDBPyConnection, date_from=None, date_to=None, period=None,
                    as_of=None) -> pd.DataFrame:
    """One row per deal in the waterfall: how it entered (start, new, pulled_in), its change
    of amount (in-start deals), how it left (won, lost, pushed_out, end) and its amounts."""
    conf = settings.load(con)
    name, w0, w1, t0, t1 = waterfall_window(con, date_from, date_to, period, conf, as_of)
    params = {"t0": t0, "t1": t1, "w0": w0.date(), "w1": w1.date(), **_base_params(con, conf)}
    df = con.execute(*with_snapshots(con, "waterfall", params, once=("snapshot_t0",),
                                     snapshot_t0="t0", snapshot_t1="t1")).df()
    df.attrs.update({"period": name, "from": t0, "to": t1, "currency": conf["currency"]})
    return df


def waterfall(con: duckdb.DuckDBPyConnection, date_from=None, date_to=None, period=None, as_of=None) -> pd.DataFrame:
    """The pipeline waterfall of the close-date window W (--period) over [--from, --to]:
    start + new + pulled_in + increased − decreased − pushed_out − won − lost = end.
    Without --to the window ends at the as-of (the start of that day), at the latest at W's end."""
    per_deal = waterfall_deals(con, date_from, date_to, period, as_of)
    df = summarise_waterfall(per_deal)
    a = per_deal.attrs
    t1_day = (a["to"] - pd.Timedelta(days=1)).date()
    notes = [f"Deals with close dates in {a['period']}, from {a['from'].date()} to {t1_day}; amounts in "
             f"{a['currency']}, a missing amount counting as 0."]
    notes += _rate_note(int(per_deal["no_amount"].sum()), a["currency"], "deal(s) have no amount or")
    df.attrs.update({"report": "waterfall", "as_of": a["to"], "period": a["period"], "from": a["from"],
                     "to": a["to"], "notes": notes, "deals": per_deal})
    return df


def summarise_waterfall(per_deal: pd.DataFrame) -> pd.DataFrame:
    """The nine categories of docs/metrics.md "Pipeline waterfall" from the per-deal rows."""
    entered = per_deal.groupby("entered")["final_amount"].agg(["size", "sum"])
    left = per_deal.groupby("left_as")["final_amount"].agg(["size", "sum"])
    start = per_deal[per_deal["entered"] == "start"]
    up, down = per_deal[per_deal["change"] > 0], per_deal[per_deal["change"] < 0]
    rows = {
        "start": (len(start), start["start_amount"].sum()),
        "increased": (len(up), up["change"].sum()),
        "decreased": (len(down), 0.0 - down["change"].sum()),
    }
    for cat in ("new", "pulled_in"):
        rows[cat] = tuple(entered.loc[cat]) if cat in entered.index else (0, 0.0)
    for cat in ("pushed_out", "won", "lost", "end"):
        rows[cat] = tuple(left.loc[cat]) if cat in left.index else (0, 0.0)
    return pd.DataFrame([{"category": c, "deals": int(rows[c][0]), "amount": round(float(rows[c][1]), 6)}
                         for c in WATERFALL_CATEGORIES])


def waterfall_bar_deals(con: duckdb.DuckDBPyConnection, category: str, date_from=None, date_to=None,
                        period=None, as_of=None) -> pd.DataFrame:
    """The deals behind one bar of the waterfall (drill-down), the largest first."""
    rows = bar_deals(waterfall_deals(con, date_from, date_to, period, as_of), category)
    return with_labels(rows, deal_labels(con, tuple(rows["deal_id"])))


def deal_labels(con: duckdb.DuckDBPyConnection, ids: tuple[str, ...] | str) -> pd.DataFrame:
    """Name, owner and current stage of the given deals (a drill-down's rows). `ids` may be
    one string, the ids joined by "\\x1f": a page's cache hashes that at once, where a tuple of a bar's
    thousands of ids costs it a call per id (0.08 s at 1,000,000 deals)."""
    ids = ids.split("\x1f") if isinstance(ids, str) else list(ids)
    return con.execute("select deal_id, deal_name, owner, stage as stage_now from deals "
                       "where deal_id in (select unnest($ids))", {"ids": ids}).df()


def with_labels(rows: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """bar_deals' rows with each deal's name, owner and stage now, in the drill-down's columns."""
    out = rows.merge(labels, on="deal_id", how="left")
    out = out[["deal_id", "deal_name", "owner", "entered", "left_as", "start_amount", "change", "final_amount",
               "stage_now"]]
    out.attrs = dict(rows.attrs)
    return out


def bar_deals(per_deal: pd.DataFrame, category: str) -> pd.DataFrame:
    """The rows of waterfall_deals (or a waterfall's attrs["deals"]) behind one bar."""
    if category not in WATERFALL_CATEGORIES:
        raise UsageError(f"unknown waterfall category {category!r}; known: {', '.join(WATERFALL_CATEGORIES)}")
    if category in ("start", "new", "pulled_in"):
        rows = per_deal[per_deal["entered"] == category]
    elif category == "increased":
        rows = per_deal[per_deal["change"] > 0]
    elif category == "decreased":
        rows = per_deal[per_deal["change"] < 0]
    else:
        rows = per_deal[per_deal["left_as"] == category]
    out = rows.drop(columns=["no_amount"]).sort_values(["final_amount", "deal_id"], ascending=[False, True])
    out.attrs = {k: v for k, v in per_deal.attrs.items() if k != "currency"}
    return out
