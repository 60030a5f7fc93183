"""Dimensions to split a report by (DESIGN.md "Command line", DIM): any deal column, any
account column, any owners column, any products column, or size_band. Where a name is on
several tables the deal's wins; `account_<name>`, `owner_<name>`, `product_<name>` reach
the others. Column names come from this whitelist and are quoted; values are parameters."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from .errors import UsageError

_JOINS = {
    "a": 'left join accounts a on a.account_id = d.account_id',
    "o": 'left join owners o on norm_key(o.owner) = norm_key(d.owner)',
    "p": 'left join products p on norm_key(p.product) = norm_key(d.product)',
}
_TABLES = (("d", "deals", ""), ("a", "accounts", "account_"), ("o", "owners", "owner_"),
           ("p", "products", "product_"))
_HIDDEN = {"batch_id"}
# Columns that are keys of the joined table (the deal already holds them).
_KEYS = {"a": {"account_id"}, "o": {"owner"}, "p": {"product"}}


@dataclass(frozen=True)
class Dim:
    name: str
    expr: str          # SQL expression over aliases d, a, o, p
    joins: str         # the joins it needs
    params: dict       # parameters the expression uses


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_name = ? "
        "order by ordinal_position", [table]
    ).fetchall()
    return [r[0] for r in rows if r[0] not in _HIDDEN]


def available(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """name -> (alias, column), in the order a picker should offer them."""
    out: dict[str, tuple[str, str]] = {}
    for alias, table, prefix in _TABLES:
        for col in _columns(con, table):
            if col in _KEYS.get(alias, set()):
                continue
            if col not in out:
                out[col] = (alias, col)
            if prefix:
                out[prefix + col] = (alias, col)
    return out


def names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [*available(con), "size_band"]


def resolve(con: duckdb.DuckDBPyConnection, name: str | None, conf: dict) -> Dim:
    """The SQL for dimension `name` (None: no split)."""
    if not name:
        return Dim("", "null::varchar", "", {})
    if name == "size_band":
        from .settings import size_band_labels

        bands = [float(x) for x in conf["size_bands"]]
        return Dim(
            name,
            "case when d.amount is null then null else "
            "$size_labels[1 + len(list_filter($size_bands, lambda b: d.amount >= b))] end",
            "",
            {"size_bands": bands, "size_labels": size_band_labels(bands)},
        )
    avail = available(con)
    if name not in avail:
        raise UsageError(
            f"unknown dimension {name!r}. Known dimensions: {', '.join(names(con))}"
        )
    alias, col = avail[name]
    return Dim(name, f'{alias}."{col}"', _JOINS.get(alias, ""), {})
