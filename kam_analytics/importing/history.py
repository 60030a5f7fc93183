"""Building deal_history from the four shapes (docs/data.md "Deal history"), each in one place:
full-state rows (inserted as they are), a field-change log (its changes kept in
deal_field_changes, rebuild_field_log_rows), wide "date entered" columns (wide_history) and
successive snapshots (kept in deal_snapshots: observe_snapshot, snapshot_history). The two kept
shapes are rebuilt for their deals whenever what they rest on changes - new changes or
snapshots, a deals file, an undo - so the order of files and batches never matters; history of
another shape replaces a deal's snapshot rows (replace_snapshot_rows)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from .. import models, settings, stage_list, store
from ..errors import InputError
from .staged import Staged


HISTORY_FIELDS = {"stage": "string", "amount": "float64", "close_date": "datetime64[us]", "forecast_category": "string",
                  "probability": "float64"}


def store_field_changes(b: store.Batch, st: Staged) -> int:
    """A field-change log's changes of history fields, kept as read (deal_field_changes: the old
    and new value typed per field), a change already stored not again; the deals it names go in
    temp table `flog_deals` for rebuild_field_log_rows. Returns how many were added."""
    con = b.con
    log = st.frame[st.frame["logged_field"].notna()]
    con.execute("create or replace temp table flog_deals (deal_id varchar)")
    if log.empty:
        return 0
    flog_frame = pd.DataFrame({"deal_id": log["deal_id"].astype("string"), "changed_at": log["changed_at"],
                               "f": log["logged_field"].astype("string"), "_row": log["_row"]})
    for f, dtype in HISTORY_FIELDS.items():
        sel = log["logged_field"] == f
        for which in ("old", "new"):
            values = log[f"{which}_value"] if f"{which}_value" in log else pd.Series(None, index=log.index)
            flog_frame[f"{which}_{f}"] = values.where(sel).astype(object).where(sel, None).astype(dtype)
    change_cols = [c for c in flog_frame.columns if c != "_row"]
    same = " and ".join(f's."{c}" is not distinct from n."{c}"' for c in change_cols)
    added = con.execute(f"""
        insert into deal_field_changes by name
        select n.*, $b as batch_id from flog_frame n
        where not exists (select 1 from deal_field_changes s where {same})
    """, {"b": b.batch_id}).fetchone()[0]   # flog_frame: read by its name (FRAMES_BY_NAME, load.py)
    if added:
        b.touched.add("deal_field_changes")
        b.rows_loaded += added
    con.execute("insert into flog_deals select distinct deal_id from flog_frame")
    return int(added)


def rebuild_field_log_rows(b: store.Batch) -> tuple[int, int]:
    """The field_log rows of deal_history for the deals in temp table `flog_deals` that have
    stored changes, built again from all their changes and their current fields
    (sql/derived/field_log_history.sql): a log imported before its deals, the deals after it, or an
    undo of either gives the same history as both at once. Only the difference is written
    (replaced rows kept for undo). Returns (added, removed)."""
    con = b.con
    con.execute("create or replace temp table flog as select * exclude (batch_id) from deal_field_changes "
                "where deal_id in (select deal_id from flog_deals)")
    con.execute("create or replace temp table flog_current as select deal_id, "
                "case when not created_derived then created_date end as created_date, stage, amount, close_date, "
                "forecast_category from deals where deal_id in (select deal_id from flog_deals)")
    con.execute(f"create or replace temp table flog_rows as {models.query('field_log_history')}")
    con.execute("create or replace temp table flog_rebuilt as select distinct deal_id from flog")
    added, removed = _write_rebuilt(b, "flog_rows", "flog_rebuilt", "field_log")
    for t in ("flog", "flog_current", "flog_rows", "flog_rebuilt"):
        con.execute(f"drop table {t}")
    return added, removed


def _write_rebuilt(b: store.Batch, rows: str, deals: str, shape: str) -> tuple[int, int]:
    """deal_history's rows of `shape` for the deals in temp table `deals` made equal to temp
    table `rows`: the rows no longer due go (kept for undo), the new ones come. Returns
    (added, removed)."""
    con = b.con
    same = " and ".join(f'h."{c}" is not distinct from n."{c}"' for c in HISTORY_TYPES)
    where = (f"shape = '{shape}' and deal_id in (select deal_id from {deals}) "
             f"and not exists (select 1 from {rows} n where {same.replace('h.', 'deal_history.')})")
    con.execute(f"insert into undo_log select ?, 'deal_history', to_json(t) from deal_history t "
                f"where {where.replace('deal_history.', 't.')}", [b.batch_id])
    removed = con.execute(f"select count(*) from deal_history where {where}").fetchone()[0]
    con.execute(f"delete from deal_history where {where}")
    added, _same = insert_history(b, rows, shape)
    if removed:
        b.touched.add("deal_history")
    b.rows_loaded += added + removed
    return added, int(removed)


HISTORY_TYPES = {"deal_id": "varchar", "changed_at": "timestamp", "stage": "varchar", "amount": "double",
                 "close_date": "date", "forecast_category": "varchar", "probability": "double"}


def insert_history(b: store.Batch, source: pd.DataFrame | str, shape: str) -> tuple[int, int]:
    """History rows (a frame, or the name of a temp table with the same columns) are
    de-duplicated: a row equal to a stored one is not added again. `shape` records where
    they came from (full, field_log, wide, snapshot)."""
    con = b.con
    cols = list(HISTORY_TYPES)
    if isinstance(source, pd.DataFrame):
        f = source[[c for c in cols + ["_order"] if c in source]]   # absent fields are nulls below
        for c in ("probability", "amount"):
            if c in f and not pd.api.types.is_float_dtype(f[c]):
                f = f.assign(**{c: pd.to_numeric(f[c], errors="coerce")})
        incoming_history = f  # read by its name in the SQL (FRAMES_BY_NAME, load.py)
        rel, n, present = "incoming_history", len(f), set(f.columns)
    else:
        rel, n, present = source, con.execute(f"select count(*) from {source}").fetchall()[0][0], set(cols)
    same = " and ".join(f'h."{c}" is not distinct from n."{c}"' for c in cols)
    top = con.execute("select coalesce(max(seq), 0) from deal_history").fetchone()[0]
    con.execute(f"""
        insert into deal_history
        with n as (
            select {", ".join(f'{("i." + chr(34) + c + chr(34)) if c in present else "null"}::{t} as "{c}"'
                              for c, t in HISTORY_TYPES.items())},
                   i._order
            from {rel} i
        )
        select deal_id, changed_at, stage, amount, close_date, forecast_category, probability,
               ? + _order - (select min(_order) from {rel}) + 1, ?, ?
        from n
        where not exists (select 1 from deal_history h where {same})
    """, [top, b.batch_id, shape])   # seq keeps the rows' order (_order is unique): no sort needed
    added = con.execute("select count(*) from deal_history where seq > ?", [top]).fetchall()[0][0]
    if added:
        b.touched.add("deal_history")
    return int(added), int(n - added)


def wide_history(df: pd.DataFrame, stage_columns: dict[str, str]) -> pd.DataFrame:
    """Wide "date entered <stage>" columns as full-state history rows; fields the shape does
    not record come from the deal's current values. A closed deal whose current stage has no
    date column entered it at its closed date (else its close date)."""
    parts = []
    for _h, stage in stage_columns.items():
        col = f"__entered__{stage}"
        rows = df[df[col].notna()]
        parts.append(pd.DataFrame({"deal_id": rows["deal_id"], "changed_at": rows[col], "stage": stage,
                                   "_row": rows["_row"]}))
    entered = set(stage_columns.values())
    closed_at = df["closed_date"] if "closed_date" in df else pd.Series(pd.NaT, index=df.index)
    if "close_date" in df:
        closed_at = closed_at.fillna(df["close_date"])
    closed = df["stage"].map(lambda s: isinstance(s, str) and (settings.is_won_name(s) or settings.is_lost_name(s)))
    tail = df[closed & ~df["stage"].isin(entered) & closed_at.notna()]
    parts.append(pd.DataFrame({"deal_id": tail["deal_id"], "changed_at": closed_at[tail.index], "stage": tail["stage"],
                               "_row": tail["_row"]}))
    hist = pd.concat(parts, ignore_index=True)
    current = df.set_index("deal_id")
    for f in ("amount", "close_date", "forecast_category", "probability"):
        hist[f] = hist["deal_id"].map(current[f]) if f in current else None
    hist["_order"] = range(len(hist))
    return hist.sort_values(["deal_id", "changed_at", "_order"])


def replace_snapshot_rows(b: store.Batch, st: Staged, df: pd.DataFrame) -> None:
    """History of another shape replaces the snapshot rows of its deals (docs/data.md "Deal history"):
    deals first and history in a later batch give the same history as both at once. The
    replaced rows are kept for undo."""
    con = b.con
    history_ids = pd.DataFrame({"deal_id": pd.Series(df["deal_id"], dtype="string").dropna().unique()})  # read by its name (FRAMES_BY_NAME, load.py)
    con.execute("""create or replace temp table replaced as
                   select seq, deal_id from deal_history
                   where shape = 'snapshot' and deal_id in (select deal_id from history_ids)""")
    n, deals = con.execute("select count(*), count(distinct deal_id) from replaced").fetchone()
    if n:
        b.save_prior_rows("deal_history", "seq in (select seq from replaced)", [])
        con.execute("delete from deal_history where seq in (select seq from replaced)")
        b.touched.add("deal_history")
        b.rows_loaded += n
        st.report.notes.append(f"{n:,} history row(s) built earlier from snapshots of {deals:,} deal(s) replaced by "
                               "this file's history (undo brings them back)")
    con.execute("drop table replaced")


def observe_snapshot(b: store.Batch, st: Staged, df: pd.DataFrame) -> pd.DataFrame:
    """A plain deals export is a snapshot of its deals as of its date (docs/data.md "Deal history"):
    every deal of it is recorded in deal_snapshots. A field the file has no column for is the
    deal's stored value, never an empty one (a file without amounts changes no amount).
    Returns the rows whose current fields it gives: a deal with a later-dated snapshot (this
    batch or earlier) keeps that one's. Two snapshots of the same date that disagree about a
    deal are an error naming both files."""
    con = b.con
    when, source = st.snapshot
    cols = {"stage": "varchar", "amount": "double", "close_date": "date", "forecast_category": "varchar",
            "created_date": "date", "closed_date": "date"}
    observed = df[["deal_id", *(c for c in cols if c in df)]]   # read by its name (FRAMES_BY_NAME, load.py)
    observed = observed[observed["deal_id"].notna()]
    value = {c: (f"o.{c}::{t}" if c in df else f"d.{c}") for c, t in cols.items()}
    select = ", ".join(f"{v} as {c}" for c, v in value.items())
    con.execute(f"create or replace temp table obs as select o.deal_id, {select} "
                "from observed o left join deals d on d.deal_id = o.deal_id")
    if source == "the import date":
        # no date anywhere: a later export of the same day is a newer state, not a disagreement
        # (the one case where the order of imports can change a result: the summary says so)
        where = ("snapshot_at = ? and batch_id <> ? and exists (select 1 from obs o where o.deal_id = t.deal_id and "
                 "(o.stage, o.amount, o.close_date, o.forecast_category) is distinct from "
                 "(t.stage, t.amount, t.close_date, t.forecast_category))")
        b.save_prior_rows("deal_snapshots", where, [when, b.batch_id])
        con.execute(f"delete from deal_snapshots t where {where}", [when, b.batch_id])
        st.report.notes.append("no snapshot date in the file, its name or --snapshot-date: dated by the import date, "
                               "so a later export imported the same day replaces this one's states (give each "
                               "export its date to keep them apart)")
    clash = con.execute("""
        select o.deal_id, s.source from obs o join deal_snapshots s
          on s.deal_id = o.deal_id and s.snapshot_at = $when
        where (s.stage, s.amount, s.close_date, s.forecast_category)
              is distinct from (o.stage, o.amount, o.close_date, o.forecast_category)
        limit 1
    """, {"when": when}).fetchone()
    if clash:   # snapshot_clashes says it at the check: only a change between check and load comes here
        raise InputError(_clash_text(st.report.file, clash[1].rsplit(' (', 1)[0], when, clash[0]))
    later = {r[0] for r in con.execute(
        "select distinct deal_id from deal_snapshots where snapshot_at > ? and deal_id in (select deal_id from obs)",
        [when]).fetchall()}
    added = con.execute("""
        insert into deal_snapshots
        select o.deal_id, $when, o.stage, o.amount, o.close_date, o.forecast_category, o.created_date, o.closed_date,
               $source, $b
        from obs o
        where not exists (select 1 from deal_snapshots s where s.deal_id = o.deal_id and s.snapshot_at = $when)
    """, {"when": when, "source": f"{st.report.file} ({source})", "b": b.batch_id}).fetchone()[0]
    con.execute("drop table obs")
    if added:   # a snapshot seen is data, even when it changes no history row (an older export)
        b.touched.add("deal_snapshots")
        b.rows_loaded += added
    if later:
        st.report.notes.append(f"{len(later):,} deal(s) already have a later-dated snapshot: their current fields "
                               "come from it, this older export adds to their history only")
        return df[~df["deal_id"].astype("string").isin(later)]
    return df


def rebuild_snapshot_rows(b: store.Batch) -> tuple[int, int]:
    """The snapshot rows of deal_history for the deals in temp table `snap_deals`, rebuilt
    from all their snapshots in deal_snapshots (sql/derived/snapshot_history.sql), whatever the order
    or batch they came in. Only the difference is written: rows no longer due go (kept for
    undo), new ones come. Returns (added, removed)."""
    con = b.con
    won, lost = stage_list.closed_stages(con)
    con.execute(f"create or replace temp table snap_rows as {models.query('snapshot_history')}",
                {"closed_stages": [*won, *lost]})
    added, removed = _write_rebuilt(b, "snap_rows", "snap_deals", "snapshot")
    con.execute("drop table snap_rows")
    return added, removed


SNAPSHOT_FIELDS = ("stage", "amount", "close_date", "forecast_category")   # what a snapshot's state is


def _clash_text(file: str, other: str, when: datetime, deal: str) -> str:
    return (f"{file} and {other} are both snapshots dated {when.date()} and disagree about the deal {deal!r}; "
            "expected one state per deal and date. Give one of them another date (--snapshot-date, or the "
            "date in its name)")


def snapshot_clashes(con, staged: list[Staged]) -> list[str]:
    """docs/data.md "Deal history": two snapshots of the same date that disagree about a deal are an
    error naming both files - said at the check (no writes), for the deals exports of the batch
    among themselves and against the stored snapshots, on the fields each file has. Exports
    dated by the import date are left out: a later one of the same day is a newer state."""
    snaps = [st for st in staged if st.kind == "deals" and st.snapshot and not st.stage_columns
             and st.snapshot[1] != "the import date"]
    out: list[str] = []
    for i, st in enumerate(snaps):
        when = st.snapshot[0]
        fields = [f for f in SNAPSHOT_FIELDS if f in st.frame]
        mine = st.frame[["deal_id", *fields]]   # read by its name (FRAMES_BY_NAME, load.py)
        differs = " or ".join(f"o.{f}::{'date' if f == 'close_date' else 'varchar' if f != 'amount' else 'double'} "
                              f"is distinct from s.{f}" for f in fields) or "false"
        clash = con.execute(f"""
            select o.deal_id, s.source from mine o join deal_snapshots s
              on s.deal_id = o.deal_id and s.snapshot_at = $when
            where {differs} limit 1""", {"when": when}).fetchone()
        if clash:
            out.append(_clash_text(st.report.file, clash[1].rsplit(" (", 1)[0], when, clash[0]))
            continue
        for other in snaps[i + 1:]:
            if other.snapshot[0] != when:
                continue
            shared = [f for f in fields if f in other.frame]
            theirs = other.frame[["deal_id", *shared]]   # read by its name (FRAMES_BY_NAME, load.py)
            differs = " or ".join(f"o.{f} is distinct from s.{f}" for f in shared) or "false"
            clash = con.execute(f"select o.deal_id from mine o join theirs s on s.deal_id = o.deal_id "
                                f"where {differs} limit 1").fetchone()
            if clash:
                out.append(_clash_text(st.report.file, other.report.file, when, clash[0]))
                break
    return out


def snapshot_history(b: store.Batch, snaps: list[Staged]) -> None:
    """The snapshot rows of deal_history for every deal this batch observed, rebuilt from all
    of its snapshots, so the history never depends on the order of the files or their split
    into batches."""
    if not snaps:
        return
    con = b.con
    con.execute("create or replace temp table snap_deals as "
                "select distinct deal_id from deal_snapshots where batch_id = ?", [b.batch_id])
    added, before = rebuild_snapshot_rows(b)
    for st in snaps:
        when, source = st.snapshot
        st.report.notes.append(f"snapshot dated {when.date().isoformat()} (from {source})")
    snaps[-1].report.notes.append(
        f"history from the snapshots: {added:,} row(s) added and {before:,} replaced for the deals these exports hold, "
        "one at each deal's created date and one at each later snapshot date where it changed")
    missing = con.execute("""
        select count(distinct deal_id) from deal_snapshots
        where deal_id not in (select deal_id from snap_deals)
    """).fetchone()[0]
    if missing:
        snaps[-1].report.notes.append(f"{missing:,} deal(s) seen in earlier snapshots are not in "
                                      f"{'this export' if len(snaps) == 1 else 'these exports'}; they are kept")
    con.execute("drop table snap_deals")
