"""The SQL loader: the named queries in sql/, put together and with their parameters picked.
It imports nothing of the project (the derived tables built from these queries are derived.py).

sql/ is in folders by role — derived/ (rebuilt at every write), models/ (the shared steps
reports build on) and reports/ (one file a report, named as the report) — and a query is named
by its file's stem, wherever it lies. Values are always DuckDB parameters ($name). Text is put
into a query in two ways only, both checked by `query`:
- an include, `{name}` in the code (not in a -- comment), is replaced by sql/**/name.sql, itself put together the same way;
- a slot, `{name}` declared in the file's header by a line `-- slots: name, other`, is a
  fragment chosen by code from a fixed set (a dimension from dims.py's whitelist, a revisit
  rule), never user text; the caller passes every slot of the files it composes.
A caller may also pass text in place of an include (a snapshot shared as a temp table)."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path

from . import db

SQL_DIR = Path(__file__).parent / "sql"
_PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")
_SLOTS = re.compile(r"^--\s*slots:\s*(.*)$", re.MULTILINE)


class SqlError(Exception):
    """A query put together wrongly: a bug in the code, never a user's mistake."""


@cache
def _files() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for f in sorted(SQL_DIR.rglob("*.sql")):
        if f.parent.name == "schema" or f.parent == SQL_DIR:     # migrations; macros.sql (made by db.py)
            continue
        if f.stem in out:
            raise SqlError(f"two SQL files are named {f.stem}: {out[f.stem]} and {f}")
        out[f.stem] = f
    return out


def names() -> list[str]:
    """Every query's name (the schema migrations apart)."""
    return sorted(_files())


def path(name: str) -> Path:
    try:
        return _files()[name]
    except KeyError:
        raise SqlError(f"no SQL file is named {name!r}") from None


@cache
def sql(name: str) -> str:
    """The text of the file named `name`, as written (its includes and slots not filled)."""
    return path(name).read_text(encoding="utf-8")


@cache
def slots(name: str) -> tuple[str, ...]:
    """The slots the file declares in its `-- slots:` header line."""
    return tuple(s.strip() for line in _SLOTS.findall(sql(name)) for s in line.split(",") if s.strip())


def query(name: str, **fill: str) -> str:
    """The file named `name` with every include and slot filled. Refused (SqlError): a `{x}`
    that is neither an include nor a declared slot, a declared slot not given, and a value
    given that no file of the query asks for. Put together once per (name, slots): a page rerun
    asks for the same queries again."""
    return _query(name, tuple(sorted(fill.items())))


@cache
def _query(name: str, fill_items: tuple[tuple[str, str], ...]) -> str:
    fill = dict(fill_items)
    used: set[str] = set()

    def expand(text: str, where: str, stack: tuple[str, ...]) -> str:
        def part(m: re.Match) -> str:
            key = m.group(1)
            owner = stack[-1] if stack else name
            in_given = where.startswith("the text given")
            if key in fill and (key in _files() or key in slots(owner) or in_given):
                used.add(key)
                return expand(fill[key], f"the text given for {{{key}}}", stack)
            if key in _files():
                if key in stack:
                    raise SqlError(f"{where} includes itself through {' -> '.join((*stack, key))}")
                return expand(sql(key), f"sql {key}", (*stack, key))
            if key in slots(owner) or in_given:
                raise SqlError(f"{where} needs the slot {{{key}}}: pass {key}=... to models.query({name!r})")
            raise SqlError(f"{where} has {{{key}}}, which is neither another SQL file nor a slot declared in "
                           f"its `-- slots:` line")
        return "\n".join(_code_part(line, lambda code: _PLACEHOLDER.sub(part, code)) for line in text.split("\n"))

    text = expand(sql(name), f"sql {name}", (name,))
    unused = set(fill) - used
    if unused:
        raise SqlError(f"models.query({name!r}) was given {', '.join(sorted(unused))}, which no file of it asks for")
    return text


def _code_part(line: str, fill) -> str:
    """The line with `fill` applied to its code only, outside '…' and "…": a `{x}` in a -- comment
    or in a string is left as written (a filled fragment in a comment could end it)."""
    out, start, quote = [], 0, None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                out.append(line[start:i + 1])
                start, quote = i + 1, None
        elif ch in "'\"":
            out.append(fill(line[start:i]))
            start, quote = i, ch
        elif line.startswith("--", i):
            out.append(fill(line[start:i]))
            return "".join(out) + line[i:]
    out.append(line[start:] if quote else fill(line[start:]))
    return "".join(out)


def used_params(query: str, params: dict) -> dict:
    """The named parameters `query` refers to ($name) outside its -- comments: DuckDB refuses
    unused ones."""
    code = re.sub(r"--[^\n]*", "", query)
    return {k: v for k, v in params.items() if re.search(rf"\${re.escape(k)}\b", code)}


def literal(value) -> str:
    """A parameter's value written as a DuckDB literal (for shell_script)."""
    if hasattr(value, "item") and not isinstance(value, (list, tuple, str)) and getattr(value, "ndim", 1) == 0:
        value = value.item()                     # a numpy scalar: its Python value
    if value is None or (hasattr(value, "to_pydatetime") and value != value):     # pandas NaT
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"'{value}'::double"
    if isinstance(value, datetime):
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, (list, tuple)):       # an empty list: of text (the stage lists)
        return "[" + ", ".join(literal(v) for v in value) + "]" if value else "[]::varchar[]"
    if hasattr(value, "to_pydatetime"):           # a pandas Timestamp
        return literal(value.to_pydatetime())
    return "'" + str(value).replace("'", "''") + "'"


def shell_script(query: str, params: dict | None = None) -> str:
    """`query` as a script for a DuckDB shell opened on the database: sql/macros.sql, one
    `set variable` per parameter, and the query reading them with getvariable()."""
    params = params or {}
    lines = [db.MACROS.rstrip(), ""]
    lines += [f"set variable {k} = {literal(v)};" for k, v in sorted(params.items())]
    body = "\n".join(_code_part(line, lambda code: re.sub(
        r"\$([A-Za-z_][A-Za-z_0-9]*)\b", lambda m: f"getvariable('{m.group(1)}')" if m.group(1) in params else m.group(0),
        code)) for line in query.split("\n"))
    return "\n".join(lines) + "\n\n" + body.rstrip().rstrip(";") + ";\n"
