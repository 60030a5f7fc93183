"""Dimensions to split a report by (docs/metrics.md "Dimensions", DIM): the
named dimensions, size_band, and any other text column of deals, accounts, owners or products
with at most 50 distinct values; ids, names, amounts and dates are never dimensions. Where a
name is on several tables the deal's wins; `account_<name>`, `owner_<name>`, `product_<name>`
reach the others. Column names come from this whitelist and are quoted; values are parameters."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from .errors import UsageError
from .settings import size_band_labels

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
# Dimensions by name: offered whatever their number of values.
NAMED = ("segment", "region", "owner", "source", "product", "industry", "tier", "manager", "team", "loss_reason",
         "competitor", "product_family")
MAX_VALUES = 50
# Text columns that are never dimensions: ids, names (of deals, accounts, people), and the deal's
# own state, which the reports lay out themselves (stage, status, forecast category).
_NOT_DIMENSIONS = {"deal_id", "account_id", "deal_name", "account_name", "champion", "economic_buyer", "stage",
                   "status", "forecast_category"}
_WHAT = ("ids, names, amounts and dates are not dimensions, nor text columns with more than "
         f"{MAX_VALUES} values")


@dataclass(frozen=True)
class Dim:
    name: str
    expr: str          # SQL expression over aliases d, a, o, p
    joins: str         # the joins it needs
    params: dict       # parameters the expression uses


def _text_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_name = ? and data_type = 'VARCHAR' "
        "order by ordinal_position", [table]
    ).fetchall()
    return [r[0] for r in rows if r[0] not in _HIDDEN | _NOT_DIMENSIONS]


def _few_values(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> set[str]:
    """The columns of `table` with at most MAX_VALUES distinct values."""
    if not columns:
        return set()
    counts = con.execute("select " + ", ".join(f'count(distinct "{c}")' for c in columns)
                         + f' from "{table}"').fetchone()
    return {c for c, n in zip(columns, counts) if n <= MAX_VALUES}


def available(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """name -> (alias, column) of every dimension, in the order a picker should offer them."""
    out: dict[str, tuple[str, str]] = {}
    for alias, table, prefix in _TABLES:
        text = [c for c in _text_columns(con, table) if c not in _KEYS.get(alias, set())]
        few = _few_values(con, table, [c for c in text if c not in NAMED])
        for col in text:
            if col not in NAMED and col not in few:
                continue
            if col not in out:
                out[col] = (alias, col)
            if prefix:
                out[prefix + col] = (alias, col)
    return out


def names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [*available(con), "size_band"]


def _refused(con: duckdb.DuckDBPyConnection, name: str) -> UsageError:
    """Not a dimension: the reason, and the dimensions there are."""
    known = any(name in (c, p + c) for _alias, table, p in _TABLES
                for (c,) in con.execute("select column_name from information_schema.columns where table_name = ?",
                                        [table]).fetchall())
    why = f"{name!r} is not a dimension to split by ({_WHAT})" if known else f"unknown dimension {name!r}"
    return UsageError(f"{why}. Known dimensions: {', '.join(names(con))}")


def resolve(con: duckdb.DuckDBPyConnection, name: str | None, conf: dict) -> Dim:
    """The SQL for dimension `name` (None: no split)."""
    if not name:
        return Dim("", "null::varchar", "", {})
    if name == "size_band":
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
        raise _refused(con, name)
    alias, col = avail[name]
    return Dim(name, f'{alias}."{col}"', _JOINS.get(alias, ""), {})


def name_split(df, dim: Dim):
    """The split column `dim` of a result named as its dimension; dropped without a split, or
    when the result already shows that column (the deals behind a row split by owner list
    their owner): a column name is never there twice."""
    if not dim.name or dim.name in df.columns:
        return df.drop(columns=["dim"])
    return df.rename(columns={"dim": dim.name})
