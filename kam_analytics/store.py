"""The write primitives every writer shares: the batch a write belongs to (its rows' batch_id,
the prior image of what it overwrites), the upsert of a table's rows, the schema's types.

FRAMES_BY_NAME: inside an import's transaction a pandas frame is read by its variable's name
in the SQL (DuckDB's replacement scan finds it among the calling function's local variables),
never through con.register: DuckDB keeps a registered frame alive until the transaction
commits, even after unregister. That held an 8,000,000-row history file's columns (880 MB)
through the whole rebuild of the derived tables (tests/importing/test_import_memory.py).
Every writer hands frames to DuckDB this way (load.py, history.py, the import log)."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from .importing.fields import TABLES


@dataclass
class Batch:
    """One write: an import, the demo load, saved settings or an undo (batches.batch opens
    it). Everything it writes carries `batch_id`; the rows it overwrites are kept in `undo_log`."""

    con: duckdb.DuckDBPyConnection
    batch_id: int
    rows_loaded: int = 0
    rows_rejected: int = 0
    touched: set[str] = field(default_factory=set)
    frames_released: bool = False   # the body holds no file-sized frames any more (see db.WRITE_MEMORY_LIMIT)

    def save_prior_rows(self, table: str, where_sql: str, params: list) -> None:
        """Keep the current image of the rows about to be overwritten or deleted.
        `where_sql` is code, never user text; values go in `params`."""
        self.con.execute(
            f'insert into undo_log select ?, ?, to_json(t) from "{table}" t where {where_sql}',
            [self.batch_id, table, *params],
        )


def schema_types(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """table -> column -> DuckDB type, for every table (read once per load)."""
    out: dict[str, dict[str, str]] = {}
    for t, c, ty in con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'main'").fetchall():
        out.setdefault(t, {})[c] = ty
    return out


DERIVED_DATES = {"deals": {"created_date": "created_derived", "closed_date": "closed_derived"}}


def upsert(b: Batch, table: str, frame: pd.DataFrame, columns: list[str], table_cols: list[str]) -> tuple[int, int, int]:
    """Insert new keys, replace changed rows (their prior image kept for undo), skip equal
    ones. Columns the file does not provide keep their stored values; so does a date the file
    leaves empty where the stored one was derived (it is derived again after the load)."""
    con = b.con
    keys = list(TABLES[table][0])
    all_cols = [c for c in table_cols if c != "batch_id"]
    key_list = ", ".join(f'"{k}"' for k in keys)
    stored = f'exists (select 1 from "{table}" e where ' + " and ".join(f'e."{k}" = n."{k}"' for k in keys) + ")"
    in_changed = f"({key_list}) in (select ({key_list}) from changed_keys)"
    incoming = frame[[c for c in columns if c in all_cols]]  # read by its name in the SQL (FRAMES_BY_NAME)
    join = " and ".join(f'e."{k}" = i."{k}"' for k in keys)
    derived = {c: flag for c, flag in DERIVED_DATES.get(table, {}).items() if c in columns}

    def chosen(c: str) -> str:
        if c in derived:          # empty in the file, derived in the database: keep the derived date
            return f'case when i."{c}" is null and e."{derived[c]}" then e."{c}" else i."{c}" end'
        if c in derived.values():
            d = next(k for k, v in derived.items() if v == c)
            return f'coalesce(i."{d}" is null and e."{c}", i."{d}" is null)'
        return f'i."{c}"' if c in columns else f'e."{c}"'

    select = ", ".join(chosen(c) + f' as "{c}"' for c in all_cols)
    con.execute(f'create or replace temp table inc_full as select {select}, ? as batch_id '
                f'from incoming i left join "{table}" e on {join}', [b.batch_id])
    differs = " or ".join(f'n."{c}" is distinct from e."{c}"' for c in all_cols if c not in keys)
    con.execute(f'create or replace temp table changed_keys as select {", ".join(f"n.{chr(34)}{k}{chr(34)}" for k in keys)} '
                f'from inc_full n join "{table}" e using ({key_list}) where {differs or "false"}')
    new = con.execute(f"select count(*) from inc_full n where not {stored}").fetchall()[0][0]
    changed = con.execute("select count(*) from changed_keys").fetchall()[0][0]
    if changed:
        con.execute(f'insert into undo_log select ?, ?, to_json(t) from "{table}" t where {in_changed}',
                    [b.batch_id, table])
        con.execute(f'delete from "{table}" where {in_changed}')
    con.execute(f'insert into "{table}" by name select * from inc_full n where {in_changed} or not {stored}')
    unchanged = len(frame) - new - changed
    if new or changed:
        b.touched.add(table)
    return int(new), int(changed), int(unchanged)
