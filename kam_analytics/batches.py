"""Write batches and the import log: every write (import, demo, settings, plan, forget, undo)
runs as one logged batch, and this module is the only writer of the log (import_batches),
refused imports and restores included. A batch can be undone; undo refuses a batch whose rows a
later batch changed, unless told to undo the later ones too (cascade)."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

import duckdb
import pandas as pd

from . import db, derived
from .errors import InputError
from .importing.history import rebuild_field_log_rows, rebuild_snapshot_rows
from .store import Batch


def _next_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select coalesce(max(batch_id), 0) + 1 from import_batches").fetchone()[0])


@contextmanager
def batch(path: str | os.PathLike | None, action: str, description: str = "") -> Iterator[Batch]:
    """Open the database, run the body in ONE transaction as a logged batch, rebuild the
    derived tables, bump the data version and commit; on any error roll everything back."""
    with db.write(path) as con:
        con.execute("set memory_limit = ?", [db.WRITE_MEMORY_LIMIT])
        con.begin()
        try:
            b = Batch(con, _next_batch_id(con))
            con.execute(
                "insert into import_batches (batch_id, action, description, started_at, status) "
                "values (?, ?, ?, ?, 'loading')",
                [b.batch_id, action, description, datetime.now()],
            )
            yield b
            if b.frames_released:
                con.execute("set memory_limit = ?", [db.MEMORY_LIMIT])
            # an undo or a restore changes rows of other batches: derive every deal's dates again
            derived.refresh_derived(con, b.touched, None if action in ("undo", "restore") else b.batch_id)
            con.execute(
                "update import_batches set status = 'loaded', finished_at = ?, rows_loaded = ?, "
                "rows_rejected = ? where batch_id = ?",
                [datetime.now(), b.rows_loaded, b.rows_rejected, b.batch_id],
            )
            db.bump_data_version(con)
            con.commit()
        except BaseException:
            con.rollback()
            raise


def log_entry(con: duckdb.DuckDBPyConnection, action: str, description: str, status: str,
              rows_loaded: int = 0, rows_rejected: int = 0) -> int:
    """A finished entry of the log written inside the caller's transaction, for what is not a
    batch body: a refused import (status 'rejected', no data changed) or a restore (which
    replaced the log itself). Returns its batch id."""
    batch_id = _next_batch_id(con)
    now = datetime.now()
    con.execute("insert into import_batches (batch_id, action, description, started_at, finished_at, status, "
                "rows_loaded, rows_rejected) values (?, ?, ?, ?, ?, ?, ?, ?)",
                [batch_id, action, description, now, now, status, rows_loaded, rows_rejected])
    return batch_id


def list_batches(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """
        select b.batch_id, b.action, b.description, b.started_at, b.finished_at, b.status,
               b.rows_loaded, b.rows_rejected, b.undone_by,
               string_agg(f.file_name, '; ' order by f.file_name) as files
        from import_batches b left join import_files f using (batch_id)
        group by all
        order by b.batch_id desc
        """
    ).df()


def _later_dependents(con: duckdb.DuckDBPyConnection, batch_id: int) -> list[int]:
    """Batches (not undone) that overwrote or deleted rows written by `batch_id`."""
    rows = con.execute(
        """
        select distinct u.batch_id
        from undo_log u join import_batches b using (batch_id)
        where u.batch_id > ? and b.status = 'loaded'
          and (u.row_json ->> 'batch_id')::bigint = ?
        order by 1 desc
        """,
        [batch_id, batch_id],
    ).fetchall()
    return [r[0] for r in rows]


def _undo_one(b: Batch, batch_id: int) -> int:
    con = b.con
    changed = 0
    for table in db.DATA_TABLES:
        n = con.execute(f'select count(*) from "{table}" where batch_id = ?', [batch_id]).fetchone()[0]
        if n and table == "deal_snapshots":   # their deals' snapshot history is rebuilt after the undo
            con.execute("insert into snap_deals select distinct deal_id from deal_snapshots where batch_id = ?",
                        [batch_id])
        if n and table in ("deal_field_changes", "deals"):   # so is the field-log history of these deals
            con.execute(f'insert into flog_deals select distinct deal_id from "{table}" where batch_id = ?', [batch_id])
        if n:
            con.execute(f'delete from "{table}" where batch_id = ?', [batch_id])
            changed += n
            b.touched.add(table)
        # Restore the rows this batch overwrote or deleted, exactly as they were.
        prior = con.execute(
            "select count(*) from undo_log where batch_id = ? and table_name = ?", [batch_id, table]
        ).fetchone()[0]
        if prior:
            cols = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_name = ? order by ordinal_position", [table]).fetchall()
            structure = json.dumps({c: t for c, t in cols})
            names = ", ".join(f'"{c}"' for c, _ in cols)
            con.execute(
                f'insert into "{table}" ({names}) select unnest(from_json(row_json, ?)) '
                "from undo_log where batch_id = ? and table_name = ?",
                [structure, batch_id, table],
            )
            changed += prior
            b.touched.add(table)
    con.execute(
        "update import_batches set status = 'undone', undone_by = ? where batch_id = ?",
        [b.batch_id, batch_id],
    )
    return changed


def undo(path, batch_id: int, cascade: bool = False) -> list[int]:
    """Undo `batch_id` (and with cascade the later batches that changed its rows, newest
    first), as one new batch. Returns the batch ids undone."""
    with batch(path, "undo", f"undo of batch {batch_id}") as b:
        row = b.con.execute(
            "select status, action from import_batches where batch_id = ?", [batch_id]
        ).fetchone()
        if row is None:
            raise InputError(f"no batch {batch_id}; `batches` lists them")
        status, action = row
        if status != "loaded":
            raise InputError(f"batch {batch_id} is {status}: there is nothing to undo")
        if action in ("forget", "restore"):
            raise InputError(f"batch {batch_id} ({action}) cannot be undone: "
                             + ("it removed a person and keeps no copy of the name" if action == "forget" else
                                "it replaced the whole database; restore another backup instead"))
        order: list[int] = []

        def collect(bid: int) -> None:
            for later in _later_dependents(b.con, bid):
                if later not in order:
                    collect(later)
            if bid not in order:
                order.append(bid)

        dependents = _later_dependents(b.con, batch_id)
        if dependents and not cascade:
            raise InputError(
                f"batch {batch_id} cannot be undone alone: later batch(es) "
                f"{', '.join(map(str, dependents))} changed its rows. Undo those first, or "
                f"pass --cascade to undo them too."
            )
        collect(batch_id)
        for t in ("snap_deals", "flog_deals"):
            b.con.execute(f"create or replace temp table {t} (deal_id varchar)")
        for bid in order:
            b.rows_loaded += _undo_one(b, bid)
        # the snapshots and field changes left give their deals' history again, as if the undone
        # batches never came (a change seen first in an undone snapshot is dated by the next one)
        if b.con.execute("select count(*) from snap_deals").fetchone()[0]:
            rebuild_snapshot_rows(b)
        b.con.execute("insert into flog_deals select (row_json ->> 'deal_id') from undo_log "
                      "where table_name = 'deals' and batch_id in (select unnest(?::bigint[]))", [order])
        if b.con.execute("select count(*) from flog_deals").fetchone()[0]:
            rebuild_field_log_rows(b)
        for t in ("snap_deals", "flog_deals"):
            b.con.execute(f"drop table {t}")
        b.con.execute(
            "update import_batches set description = ? where batch_id = ?",
            [f"undo of batch(es) {', '.join(map(str, order))}", b.batch_id],
        )
        return order
