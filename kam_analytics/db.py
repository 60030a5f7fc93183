"""The database: where it lives, short-lived connections, schema migrations, the data
version, and write batches (DESIGN.md "One database, many processes").

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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

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

# Tables that hold user data (every row carries batch_id), in load order: parents first.
DATA_TABLES = (
    "accounts", "owners", "products", "fx_rates", "deals", "deal_history", "deal_snapshots",
    "deal_field_changes",
    "account_plans", "account_goals", "stakeholders", "account_actions",
    "plans", "plan_steps", "forecast_calls", "quotas", "settings",
)
# Tables derived from the data and rebuilt in the same transaction as every write.
DERIVED_TABLES = ("deal_states", "deals_without_history", "stage_visits", "stage_stats")


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


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    try:        # asked directly: a catalog lookup would cost a third of each open
        row = con.execute("select value from meta where key = 'schema_version'").fetchone()
    except duckdb.CatalogException:     # no meta table: a new file
        return 0
    return int(row[0]) if row else 0


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
        con.commit()
    if 0 < current < SCHEMA_VERSION:    # a new release may derive more: rebuild it all once
        from . import models

        _prepare(con)
        con.begin()
        models.refresh_derived(con, {"deals", "deal_history", "settings"})
        _bump_data_version(con)
        con.commit()
    return SCHEMA_VERSION


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("select current_setting('memory_limit')")  # connection is alive
    con.execute("set memory_limit = ?", [MEMORY_LIMIT])
    con.execute("set preserve_insertion_order = false")
    con.execute("set enable_progress_bar = false")     # long queries must not draw on a user's terminal
    # Names match after normalisation: case, accents, spaces and punctuation ignored
    # (DESIGN.md "Keys from names").
    con.execute(
        "create or replace temp macro norm_key(x) as "
        "regexp_replace(lower(strip_accents(x::varchar)), '[^a-z0-9]', '', 'g')"
    )
    # A plan step's name for grouping (DESIGN.md "Plan steps"): case, accents, punctuation and
    # a leading number ("1.", "Step 2 -", "Passo 3)") ignored.
    con.execute(
        "create or replace temp macro step_key(x) as "
        "regexp_replace(regexp_replace(lower(strip_accents(x::varchar)), "
        "'^[^a-z0-9]*((step|passo|fase)[^a-z0-9]*)?[0-9]+([^a-z0-9]+|$)', ''), '[^a-z0-9]', '', 'g')"
    )
    # Won so far, the one definition (DESIGN.md "Forecast accuracy": won_by_a = won IN P before a):
    # a deal whose status in the snapshot at the as-of is won counts when its closed_date is in
    # [P's first day p0, P's end p1) and before the as-of, i.e. in [p0, min(p1, as_of)). A win after
    # P's end belongs to a later period, however late the as-of. Used by forecast accuracy (and so
    # the forecast range, the Forecast page) and attainment.
    con.execute(
        "create or replace temp macro won_so_far(status, closed_date, p0, p1, as_of) as "
        "status = 'won' and closed_date >= p0 and closed_date < p1 and closed_date < as_of"
    )
    # The fiscal quarter of a date, named as periods.fiscal_quarter names it (DESIGN.md "Periods").
    con.execute(
        "create or replace temp macro fiscal_quarter(d, start_month) as "
        "'FY' || (year(d) + case when start_month > 1 and month(d) >= start_month then 1 else 0 end)::varchar "
        "|| '-Q' || ((month(d) - start_month + 12) % 12 // 3 + 1)::varchar"
    )


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
                version = _schema_version(con)
                if version == SCHEMA_VERSION:
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


def _bump_data_version(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(
        "update meta set value = (value::bigint + 1)::varchar where key = 'data_version'"
    )
    return data_version(con)


@dataclass
class Batch:
    """One write: an import, the demo load, saved settings or an undo. Everything it
    writes carries `batch_id`; the rows it overwrites are kept in `undo_log`."""

    con: duckdb.DuckDBPyConnection
    batch_id: int
    rows_loaded: int = 0
    rows_rejected: int = 0
    touched: set[str] = field(default_factory=set)
    frames_released: bool = False   # the body holds no file-sized frames any more (see WRITE_MEMORY_LIMIT)

    def save_prior_rows(self, table: str, where_sql: str, params: list) -> None:
        """Keep the current image of the rows about to be overwritten or deleted.
        `where_sql` is code, never user text; values go in `params`."""
        self.con.execute(
            f'insert into undo_log select ?, ?, to_json(t) from "{table}" t where {where_sql}',
            [self.batch_id, table, *params],
        )


def _next_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select coalesce(max(batch_id), 0) + 1 from import_batches").fetchone()[0])


@contextmanager
def batch(path: str | os.PathLike | None, action: str, description: str = "") -> Iterator[Batch]:
    """Open the database, run the body in ONE transaction as a logged batch, rebuild the
    derived tables, bump the data version and commit; on any error roll everything back."""
    from . import models  # late import: models builds on db

    with write(path) as con:
        con.execute("set memory_limit = ?", [WRITE_MEMORY_LIMIT])
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
                con.execute("set memory_limit = ?", [MEMORY_LIMIT])
            # an undo or a restore changes rows of other batches: derive every deal's dates again
            models.refresh_derived(con, b.touched, None if action in ("undo", "restore") else b.batch_id)
            con.execute(
                "update import_batches set status = 'loaded', finished_at = ?, rows_loaded = ?, "
                "rows_rejected = ? where batch_id = ?",
                [datetime.now(), b.rows_loaded, b.rows_rejected, b.batch_id],
            )
            _bump_data_version(con)
            con.commit()
        except BaseException:
            con.rollback()
            raise


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: int(con.execute(f'select count(*) from "{t}"').fetchone()[0]) for t in DATA_TABLES}

