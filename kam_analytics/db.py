"""The database: where it lives, short-lived connections, schema migrations, the data
version and the meta facts. The bottom of the write path: it imports nothing of the project
but its errors (the layers are listed in pyproject.toml, [tool.importlinter]). A write batch
(import, settings, undo) is batches.batch, built on write() here.

The database is opened only while a command or a page rerun reads or writes, so the CLI
works beside a running app. DuckDB lets one process write at a time; a busy database is
retried for a few seconds and then reported in one clear message.
"""

from __future__ import annotations

import os
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import duckdb

from .errors import DatabaseBusy, InputError

DEFAULT_DB = Path("data") / "kam.duckdb"
BUSY_TIMEOUT_SECONDS = float(os.environ.get("KAM_BUSY_TIMEOUT", "5"))
# DuckDB's own default is 80 % of the machine's memory; a cap keeps the app and the CLI
# small beside each other (DuckDB spills to disk beyond it).
MEMORY_LIMIT = os.environ.get("KAM_MEMORY_LIMIT", "1GB")
# A write batch (import, undo) holds the file's columns in Python beside DuckDB's working
# memory; a lower cap for DuckDB there keeps an 8,000,000-row import under 1.5 GB in all
# (bench/import.py). An import lets its frames go before the derived tables are rebuilt
# (Batch.frames_released), and the rebuild gets MEMORY_LIMIT: at 8,000,000 history rows
# 21-22 s instead of 24-25 s, peak RSS 1.25-1.31 GB either way (1.2 GB for the rebuild: 1.54 GB).
WRITE_MEMORY_LIMIT = os.environ.get("KAM_WRITE_MEMORY_LIMIT", "600MB")
SCHEMA_DIR = Path(__file__).parent / "sql" / "schema"
MACROS = (Path(__file__).parent / "sql" / "macros.sql").read_text(encoding="utf-8")

# Tables that hold user data (every row carries batch_id), in load order: parents first.
DATA_TABLES = (
    "accounts", "owners", "products", "fx_rates", "deals", "deal_history", "deal_snapshots",
    "deal_field_changes",
    "account_plans", "account_goals", "stakeholders", "account_actions",
    "plans", "plan_steps", "forecast_calls", "quotas", "settings",
)
# What a schema upgrade asks of the layer above: the derived tables rebuilt from the data
# (a new release may derive more). derived.py registers it when imported; the upgrade leaves
# the meta flag `derived_stale` set until it has run, so a process that never loaded derived.py
# (which reads no derived table) leaves the rebuild to the next one that does.
_rebuild_derived: Callable[[duckdb.DuckDBPyConnection], None] | None = None


def on_upgrade(rebuild: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    """Register the rebuild of the derived tables that follows a schema upgrade (derived.py)."""
    global _rebuild_derived
    _rebuild_derived = rebuild


def db_path(path: str | os.PathLike | None = None) -> Path:
    """`--db`, else `$KAM_DB`, else data/kam.duckdb."""
    return Path(path or os.environ.get("KAM_DB") or DEFAULT_DB)


def migrations() -> list[tuple[int, str]]:
    out = []
    for f in sorted(SCHEMA_DIR.glob("*.sql")):
        m = re.match(r"(\d+)_", f.name)
        if m:
            out.append((int(m.group(1)), f.read_text(encoding="utf-8")))
    return out


SCHEMA_VERSION = max(v for v, _ in migrations())


class _ReadWriteLock:
    """Within one process (the app serves many sessions from threads) DuckDB cannot hold a
    read-only and a read-write connection to one file at once: readers share, a writer
    waits for them and excludes them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._readers:
                self._cond.wait()
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


_LOCK = _ReadWriteLock()


def _is_busy(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if not _is_busy(exc):
                raise InputError(f"cannot open the database {path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"the database {path} is busy: another process is writing to it. "
                    f"Tried for {BUSY_TIMEOUT_SECONDS:g} s; try again when that work is done."
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        except duckdb.Error as exc:
            raise InputError(f"cannot open the database {path}: {exc}") from None


def _schema_state(con: duckdb.DuckDBPyConnection) -> tuple[int, bool]:
    """The schema version and whether the derived tables await their rebuild after an upgrade,
    in one query (each open asks it)."""
    try:        # asked directly: a catalog lookup would cost a third of each open
        rows = dict(con.execute("select key, value from meta where key in ('schema_version', 'derived_stale')")
                    .fetchall())
    except duckdb.CatalogException:     # no meta table: a new file
        return 0, False
    return int(rows.get("schema_version") or 0), rows.get("derived_stale") == "1"


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    return _schema_state(con)[0]


def migrate(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> int:
    """Apply the migrations the database lacks, each in its own transaction."""
    current = _schema_version(con)
    if current > SCHEMA_VERSION:
        raise _newer_release(path or Path("(this database)"), current)
    for version, sql in migrations():
        if version <= current:
            continue
        con.begin()
        con.execute(sql)
        con.execute(
            "insert or replace into meta values ('schema_version', ?)", [str(version)]
        )
        con.execute("insert or ignore into meta values ('data_version', '0')")
        if current > 0:     # a new release may derive more: rebuild it all once (flagged in the same
            set_meta(con, "derived_stale", "1")     # transaction, so a kill cannot skip it)
        con.commit()
    if _rebuild_derived is not None and get_meta(con, "derived_stale") == "1":
        _prepare(con)
        con.begin()
        _rebuild_derived(con)
        set_meta(con, "derived_stale", "")
        bump_data_version(con)
        con.commit()
    return SCHEMA_VERSION


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("select current_setting('memory_limit')")  # connection is alive
    con.execute("set memory_limit = ?", [MEMORY_LIMIT])
    con.execute("set preserve_insertion_order = false")
    con.execute("set enable_progress_bar = false")     # long queries must not draw on a user's terminal
    con.execute(MACROS)     # sql/macros.sql: norm_key, step_key, won_so_far, fiscal_quarter


def _newer_release(path: Path, version: int) -> InputError:
    return InputError(
        f"the database {path} was made by a newer release (schema {version}; this release "
        f"knows up to {SCHEMA_VERSION}). Upgrade KAM Analytics to open it."
    )


@contextmanager
def read(path: str | os.PathLike | None = None, must_exist: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection for one command or page rerun; closed on exit. The schema
    version is checked on that same connection (one open per read); a missing or older
    database is created or migrated first. With `must_exist` a missing file is reported."""
    p = db_path(path)
    if must_exist and not p.exists():
        raise InputError(f"no database at {p}: load data first (`demo` or `import`), or pass --db PATH")
    while True:
        with _LOCK.read():
            if p.exists():
                con = _open(p, read_only=True)
                version, stale = _schema_state(con)
                if version == SCHEMA_VERSION and not (_rebuild_derived and stale):
                    try:
                        _prepare(con)
                        yield con
                    finally:
                        con.close()
                    return
                con.close()
                if version > SCHEMA_VERSION:
                    raise _newer_release(p, version)
        with write(p):      # create or migrate it, then read
            pass


@contextmanager
def write(path: str | os.PathLike | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection (no transaction of its own), migrated first; closed on exit."""
    p = db_path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK.write():
        con = _open(p, read_only=False)
        try:
            migrate(con, p)
            _prepare(con)
            yield con
        finally:
            con.close()


def data_version(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("select value from meta where key = 'data_version'").fetchone()
    return int(row[0]) if row else 0


def bump_data_version(con: duckdb.DuckDBPyConnection) -> int:
    """Inside a write's transaction: every cached read keyed by the old version goes stale."""
    con.execute(
        "update meta set value = (value::bigint + 1)::varchar where key = 'data_version'"
    )
    return data_version(con)


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("insert or replace into meta values (?, ?)", [key, value])


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("select value from meta where key = ?", [key]).fetchone()
    return row[0] if row else None


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: int(con.execute(f'select count(*) from "{t}"').fetchone()[0]) for t in DATA_TABLES}

