"""Removing a person everywhere (issue 10, "Data that belongs to people"): a stakeholder or an
owner asks to be forgotten. Their own rows (the stakeholder on each account map, the owners
row) are deleted; every other place their name is written - deals' owner, managers, plan and
action owners, who a stakeholder reports to, forecast calls, quotas, free text such as notes
and the import log with its undo images - gets a pseudonym, "removed person N" (N the batch),
so the deals, quotas and team roll-ups stay whole. It runs as one batch that keeps no copy of
the name, and so cannot be undone.

The name matches ignoring case and spacing, as whole words ("Ann Lee" is not found inside
"Joanne Leeds")."""

from __future__ import annotations

import re

import duckdb

from . import db
from .backup import LOG_TABLES
from .errors import InputError

# The rows that are the person: deleted, not renamed.
OWN_ROWS = {"stakeholders": "name", "owners": "owner"}
MIN_NAME_CHARS = 3
_TEXT_TYPES = ("VARCHAR", "JSON")


def _patterns(name: str) -> tuple[str, str]:
    """RE2 patterns (DuckDB) for the name as whole words inside a text, and for a text that is
    the name alone: case-insensitive, any spacing, never inside a longer word (\\pL letters,
    \\pN digits)."""
    words = name.split()
    if len("".join(words)) < MIN_NAME_CHARS:
        raise InputError(f"the name {name!r} is too short to remove safely; expected at least "
                         f"{MIN_NAME_CHARS} letters (a full name is best)")
    core = r"\s+".join(re.escape(w) for w in words)
    return r"(?i)(^|[^\pL\pN])(" + core + r")([^\pL\pN]|$)", r"(?i)^\s*" + core + r"\s*$"


def _text_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    tables = (*db.DATA_TABLES, *LOG_TABLES)
    rows = con.execute("select table_name, column_name, data_type from information_schema.columns "
                       "where table_schema = 'main' and list_contains($t, table_name) and list_contains($k, data_type) "
                       "order by table_name, ordinal_position", {"t": list(tables), "k": list(_TEXT_TYPES)}).fetchall()
    return rows


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def places(con: duckdb.DuckDBPyConnection, name: str) -> list[dict]:
    """Where the name is written: one record per table and column, with how many rows and
    whether they are deleted (the person's own rows) or get the pseudonym."""
    pattern, full = _patterns(name)
    out = []
    for table, column, _type in _text_columns(con):
        n = con.execute(f"select count(*) from {_q(table)} where regexp_matches({_q(column)}::varchar, $p)",
                        {"p": pattern}).fetchone()[0]
        if not n:
            continue
        own = OWN_ROWS.get(table) == column
        gone = con.execute(f"select count(*) from {_q(table)} where regexp_matches({_q(column)}::varchar, $p)",
                           {"p": full}).fetchone()[0] if own else 0
        if gone:
            out.append({"table": table, "column": column, "rows": int(gone), "change": "row deleted"})
        if n - gone:
            out.append({"table": table, "column": column, "rows": int(n - gone), "change": "name replaced"})
    return out


def forget(path, name: str) -> tuple[int, list[dict]]:
    """Remove `name` everywhere, as one batch. Returns (batch id, the places changed)."""
    name = " ".join(name.split())
    with db.batch(path, "forget", "a person removed everywhere (the name is not kept)") as b:
        found = places(b.con, name)
        if not found:
            raise InputError(f"the name {name!r} is not in the database: nothing to remove")
        pattern, full = _patterns(name)
        pseudonym = f"removed person {b.batch_id}"
        for table, column in OWN_ROWS.items():
            if any(p["table"] == table and p["change"] == "row deleted" for p in found):
                b.con.execute(f"delete from {_q(table)} where regexp_matches({_q(column)}, $p)", {"p": full})
        for _ in range(4):      # a name written twice with one space between: the next pass takes the second
            for table, column, typ in _text_columns(b.con):
                if not any(p["table"] == table and p["column"] == column for p in found):
                    continue
                cast = "::json" if typ == "JSON" else ""
                b.con.execute(
                    f"update {_q(table)} set {_q(column)} = regexp_replace({_q(column)}::varchar, $p, $r, 'g'){cast} "
                    f"where regexp_matches({_q(column)}::varchar, $p)",
                    {"p": pattern, "r": "\\1" + pseudonym + "\\3"})
            if not places(b.con, name):
                break
        else:
            raise InputError("the name is still written somewhere after four passes; nothing was changed")
        b.touched |= {p["table"] for p in found if p["table"] in db.DATA_TABLES}
        b.rows_loaded = sum(p["rows"] for p in found)
        return b.batch_id, found
