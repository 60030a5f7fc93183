"""Browsing the canonical tables (the Data page): filtering, paging and downloads run in
SQL, so a table is never loaded whole into pandas. Table and column names come from the
schema and are quoted; the search text is a parameter."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from . import db
from .errors import UsageError

MAX_ROWS = 10_000
BROWSABLE = (*db.DATA_TABLES, "import_batches", "import_files", "import_rejects")


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    if table not in BROWSABLE:
        raise UsageError(f"unknown table {table!r}; tables: {', '.join(BROWSABLE)}")
    return con.execute("select column_name, data_type from information_schema.columns where table_name = ? "
                       "order by ordinal_position", [table]).fetchall()


def _where(con, table: str, search: str | None, column: str | None, value: str | None) -> tuple[str, dict]:
    cols = columns(con, table)
    clauses, params = [], {}
    if search:
        texts = [c for c, t in cols if t == "VARCHAR"]
        if texts:
            clauses.append("(" + " or ".join(f'"{c}" ilike $search' for c in texts) + ")")
            params["search"] = f"%{search}%"
    if column and value not in (None, ""):
        if column not in {c for c, _ in cols}:
            raise UsageError(f"unknown column {column!r} of {table}")
        clauses.append(f'"{column}"::varchar = $value')
        params["value"] = value
    return (" where " + " and ".join(clauses)) if clauses else "", params


def page(con: duckdb.DuckDBPyConnection, table: str, search: str | None = None, column: str | None = None,
         value: str | None = None, offset: int = 0, limit: int = 1000) -> tuple[pd.DataFrame, int]:
    """One page of `table` (at most MAX_ROWS rows) and how many rows match in all."""
    where, params = _where(con, table, search, column, value)
    total = con.execute(f'select count(*) from "{table}"{where}', params).fetchall()[0][0]
    limit = max(1, min(int(limit), MAX_ROWS))
    df = con.execute(f'select * from "{table}"{where} order by all limit {limit} offset {max(0, int(offset))}',
                     params).df()
    for c, t in columns(con, table):
        if t == "DATE" and c in df:          # pandas would show 00:00:00 on every date
            df[c] = df[c].dt.date
    return df, int(total)


def export_csv(con: duckdb.DuckDBPyConnection, table: str, target: Path, search: str | None = None,
               column: str | None = None, value: str | None = None) -> int:
    """Every matching row to a csv file by DuckDB's COPY, text made safe as docs/data.md "Exports" says (a
    leading ' before = + - @ tab or carriage return)."""
    where, params = _where(con, table, search, column, value)
    select = ", ".join(
        (f"""case when regexp_matches("{c}", '^[=+\\-@\\t\\r]') then '''' || "{c}" else "{c}" end as "{c}\""""
         if t == "VARCHAR" else f'"{c}"')
        for c, t in columns(con, table))
    con.execute(f"copy (select {select} from \"{table}\"{where} order by all) to '{_sql_path(target)}' "
                "(header, delimiter ',')", params)
    return con.execute(f'select count(*) from "{table}"{where}', params).fetchall()[0][0]


def _sql_path(p: Path) -> str:
    """A path of our own temp folder, quoted for COPY (which takes no parameter)."""
    return str(p).replace("'", "''")
