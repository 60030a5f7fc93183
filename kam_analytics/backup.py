"""The whole database out and back in (issue 10, "Data that belongs to people"): a zip of one
csv or parquet file per table with a manifest naming the schema version, and a restore that
replaces every table in one transaction. The import log and the undo images travel too, so
`batches` and `undo` work the same after a restore; the derived tables are rebuilt.

csv follows docs/data.md "Exports": text that a spreadsheet would run as a formula gets a leading
`'`, which the restore (like the importer) strips again - byte for byte the same data.

Also the files the product leaves beside a database (issue 27): a restore unpacks into
`.<db>.restore-partial-<pid>` beside the database (never a temp folder that a killed process
leaves full), a file rebuild writes `.<db>.rebuild-<pid>`; both are removed at the end, and
`clean_leftovers` removes those of dead processes at the next start. `rebuild` writes the
database file anew from its current tables and swaps it in (forget: freed blocks that still
hold a removed name go with the old file). `backup_target` and `stored_name` keep the names
of files the product writes valid."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import zipfile
from datetime import datetime
from pathlib import Path

import duckdb

from . import batches, db, derived
from .errors import InputError

FORMATS = ("csv", "parquet")
LOG_TABLES = ("import_batches", "import_files", "import_rejects", "undo_log")
TABLES = (*db.DATA_TABLES, *LOG_TABLES)
MANIFEST = "manifest.json"
PRODUCT = "KAM Analytics"
# A backup zip is read under the same caps as a workbook (importing/read.py): its directory is
# checked before anything is unpacked.
MAX_UNPACKED = 64 << 30
MAX_RATIO = 200
# SQL regular expressions of the csv rule (exports.RISKY): a value starting with = + - @ tab or
# carriage return, after any quotes already there, gets one more quote; the restore takes one off.
_RISKY = "^'*[=+\\-@\t\r]"
_QUOTED = "^'+[=+\\-@\t\r]"


def _columns(con, table: str) -> list[tuple[str, str]]:
    return con.execute("select column_name, data_type from information_schema.columns "
                       "where table_name = ? and table_schema = 'main' order by ordinal_position", [table]).fetchall()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def backup_target(out, now: datetime | None = None) -> Path:
    """Where a backup asked for as `out` is written: an existing folder gets a default file name
    inside it (kam-backup-YYYYMMDD-HHMMSS.zip); a folder that does not exist, or a name that is
    a device or cannot be written there, is one clear message (before anything is exported)."""
    out = Path(out)
    if str(out).strip() == "":
        raise InputError("the backup needs a file name (-o FILE.zip) or an existing folder")
    if out.is_dir():
        out = out / f"kam-backup-{(now or datetime.now()):%Y%m%d-%H%M%S}.zip"
    folder = out.parent
    if not folder.exists():
        raise InputError(f"cannot write the backup {out}: the folder {folder} does not exist; create it first "
                         "or name another folder")
    if not folder.is_dir():
        raise InputError(f"cannot write the backup {out}: {folder} is a file, not a folder")
    if out.exists() and not out.is_file():
        raise InputError(f"cannot write the backup {out}: it exists and is not a regular file (expected a new or "
                         "an existing .zip file, or a folder)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write the backup {out}: the folder {folder} is not writable")
    if len(out.name.encode("utf-8")) > 240:
        raise InputError(f"cannot write the backup: the file name is {len(out.name.encode('utf-8'))} bytes long; "
                         "expected at most 240")
    return out


def export(path, out: Path, fmt: str = "csv", progress=None) -> dict:
    """Write every table to `out` (a zip; an existing folder gets a default name, see
    backup_target). Returns the manifest, with the file written under `file` (not in the zip)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown backup format {fmt!r}; expected csv or parquet")
    out = backup_target(out)
    clean_leftovers(path)
    # the tables' files are written beside the database (never a temp folder a kill leaves full)
    with _beside(path, "backup-partial") as tmp, db.read(path) as con:
        manifest = {"product": PRODUCT, "schema_version": db.SCHEMA_VERSION, "format": fmt,
                    "data_version": db.data_version(con), "created_at": datetime.now().isoformat(timespec="seconds"),
                    "tables": {}}
        files = []
        for i, table in enumerate(TABLES):
            cols = _columns(con, table)
            target = Path(tmp) / f"{table}.{fmt}"
            if fmt == "csv":
                select = ", ".join(
                    f"case when regexp_matches({_q(c)}, $risky) then '''' || {_q(c)} else {_q(c)} end as {_q(c)}"
                    if t == "VARCHAR" else _q(c) for c, t in cols)
                con.execute(f"copy (select {select} from {_q(table)} order by all) to '{_path_sql(target)}' "
                            "(format csv, header true)", {"risky": _RISKY} if any(t == "VARCHAR" for _c, t in cols) else {})
            else:
                con.execute(f"copy (select * from {_q(table)} order by all) to '{_path_sql(target)}' (format parquet)")
            manifest["tables"][table] = int(con.execute(f"select count(*) from {_q(table)}").fetchone()[0])
            files.append(target)
            if progress:
                progress((i + 1) / len(TABLES), table)
        (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
        try:
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
                z.write(Path(tmp) / MANIFEST, MANIFEST)
                for f in files:
                    z.write(f, f.name)
            os.replace(partial, out)      # a half-written backup never carries the final name
        except OSError as exc:
            raise InputError(f"cannot write the backup {out}: {exc.strerror or exc}") from None
        finally:
            partial.unlink(missing_ok=True)
    return {**manifest, "file": str(out)}


def _path_sql(p: Path) -> str:
    """A temp path inside a COPY statement (COPY takes no parameter for its target); our own
    temp folder, never user text, with quotes doubled all the same."""
    return str(p).replace("'", "''")


def read_manifest(zip_path: Path, name: str | None = None) -> dict:
    name = name or Path(zip_path).name
    try:
        with zipfile.ZipFile(zip_path) as z:
            infos = {i.filename: i for i in z.infolist()}
            if MANIFEST not in infos:
                raise InputError(f"{name}: not a {PRODUCT} backup (it has no {MANIFEST}); expected a zip written by "
                                 "`backup` or the Data page")
            if sum(i.file_size for i in infos.values()) > MAX_UNPACKED or any(
                    i.file_size > (64 << 20) and i.file_size > MAX_RATIO * max(i.compress_size, 1) for i in infos.values()):
                raise InputError(f"{name}: the zip unpacks far beyond its size (a zip bomb?); it was not read")
            manifest = json.loads(z.read(MANIFEST))
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{name}: the file is damaged or is not a zip ({exc}); expected a {PRODUCT} backup") from None
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{name}: its {MANIFEST} is not valid JSON; expected a {PRODUCT} backup") from None
    if not isinstance(manifest, dict) or manifest.get("product") != PRODUCT or manifest.get("format") not in FORMATS:
        raise InputError(f"{name}: not a {PRODUCT} backup (its manifest names no product and format)")
    version = manifest.get("schema_version")
    if not isinstance(version, int) or version > db.SCHEMA_VERSION:
        raise InputError(f"{name}: the backup was made by a newer release (schema {version}; this release knows up "
                         f"to {db.SCHEMA_VERSION}). Upgrade KAM Analytics to restore it")
    missing = [t for t in manifest.get("tables", {}) if t not in TABLES]
    if missing:
        raise InputError(f"{name}: the backup holds tables this release does not know ({', '.join(missing)})")
    return manifest


def restore(path, zip_path: Path, replace: bool = False, name: str | None = None, progress=None) -> dict:
    """Replace every table with the backup's, in one transaction (all or nothing). A database
    that holds data is replaced only when `replace` is given. Returns the manifest."""
    name = name or Path(zip_path).name
    manifest = read_manifest(zip_path, name)
    fmt = manifest["format"]
    clean_leftovers(path)
    with _beside(path, "restore-partial") as tmp:   # beside the database: a kill leaves it where the next start looks
        with zipfile.ZipFile(zip_path) as z:
            present = set(z.namelist())
            for table in manifest["tables"]:
                member = f"{table}.{fmt}"
                if member not in present:
                    raise InputError(f"{name}: the manifest lists {table} but the zip has no {member}; the backup is "
                                     "incomplete")
                with z.open(member) as src, open(Path(tmp) / member, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
        with db.write(path) as con:
            if not replace and any(db.table_counts(con).values()):
                raise InputError("the database holds data: restoring replaces all of it (every table and the import "
                                 "history). Pass --replace to do so, or restore into an empty database with --db")
            con.execute("set memory_limit = ?", [db.WRITE_MEMORY_LIMIT])
            con.begin()
            try:
                for table in reversed(TABLES):
                    con.execute(f"delete from {_q(table)}")
                for i, table in enumerate(manifest["tables"]):
                    _load(con, table, Path(tmp) / f"{table}.{fmt}", fmt)
                    got = con.execute(f"select count(*) from {_q(table)}").fetchone()[0]
                    if got != manifest["tables"][table]:
                        raise InputError(f"{name}: {table} holds {got:,} rows, the manifest says "
                                         f"{manifest['tables'][table]:,}; the backup is damaged and nothing was restored")
                    if progress:
                        progress((i + 1) / len(manifest["tables"]), table)
                batches.log_entry(con, "restore", f"restored from {name} (backup of "
                                  f"{manifest.get('created_at', '?')}, schema {manifest['schema_version']})",
                                  "loaded", rows_loaded=sum(manifest["tables"].get(t, 0) for t in db.DATA_TABLES))
                derived.refresh_derived(con, set(db.DATA_TABLES))
                db.bump_data_version(con)
                con.commit()
            except BaseException as exc:
                con.rollback()
                if isinstance(exc, InputError):
                    raise
                if isinstance(exc, duckdb.Error):
                    raise InputError(f"{name}: the backup could not be restored ({str(exc).splitlines()[0]}); "
                                     "nothing was changed") from None
                raise
    return manifest


def _load(con, table: str, file: Path, fmt: str) -> None:
    cols = _columns(con, table)
    if fmt == "parquet":
        con.execute(f"insert into {_q(table)} by name select * from read_parquet(?)", [str(file)])
        return
    # every column read with the table's own type; "" stays an empty text, an empty field is missing
    header = con.execute("select * from read_csv(?, header = true, all_varchar = true) limit 0", [str(file)]).description
    known = dict(cols)
    names = [d[0] for d in header]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"{file.name}: columns this release does not know ({', '.join(unknown)})")
    types = "{" + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': '{known[n]}'" for n in names) + "}"
    con.execute(f"insert into {_q(table)} by name select * from read_csv(?, header = true, columns = {types}, "
                "allow_quoted_nulls = false, auto_detect = false, quote = '\"', escape = '\"')", [str(file)])
    for c, t in cols:
        if t == "VARCHAR" and c in names:
            con.execute(f"update {_q(table)} set {_q(c)} = substr({_q(c)}, 2) where regexp_matches({_q(c)}, $q)",
                        {"q": _QUOTED})


# --- files beside the database -------------------------------------------------------------

_LEFTOVER_KINDS = ("restore-partial", "restore-upload", "backup-partial", "rebuild")


def _leftover_name(db_file: Path, kind: str, pid: int | None = None) -> str:
    return f".{db_file.name}.{kind}-{os.getpid() if pid is None else pid}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (OverflowError, ValueError):     # no process has such a number: a name made by hand
        return True
    except ProcessLookupError:
        return False
    except PermissionError:     # another user's process: alive
        return True
    except OSError:
        return False
    return True


def clean_leftovers(path) -> list[Path]:
    """Remove what a killed restore or file rebuild left beside the database (a process id that
    no longer runs). Returns what was removed. Cheap: one listing of the database's folder."""
    db_file = Path(os.path.realpath(db.db_path(path)))
    folder = db_file.parent
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    prefix = f".{db_file.name}."
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        rest = entry.name[len(prefix):]
        for kind in _LEFTOVER_KINDS:
            if not rest.startswith(kind + "-"):
                continue
            pid_text = rest[len(kind) + 1:].split(".", 1)[0]      # .rebuild-123 and its .rebuild-123.wal
            if not (pid_text.isascii() and pid_text.isdigit()) or _alive(int(pid_text)):
                continue
            try:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                removed.append(entry)
            except OSError:
                pass
    return removed


class _beside:
    """A working folder beside the database, removed on exit (and, after a kill, by clean_leftovers).
    `kind` is one of _LEFTOVER_KINDS."""

    def __init__(self, path, kind: str) -> None:
        db_file = Path(os.path.realpath(db.db_path(path)))
        self.kind = kind
        self.folder = db_file.parent / _leftover_name(db_file, kind)

    def __enter__(self) -> str:
        try:
            self.folder.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir()
        except OSError:     # a database folder we may not write in: the temp folder after all
            self.folder = Path(tempfile.mkdtemp(prefix=f"kam-{self.kind}-"))
        return str(self.folder)

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _catalog(con, database: str) -> list[tuple]:
    """Every object of a database as SQL text (tables, views, indexes, sequences, macros)."""
    return sorted(con.execute(
        "select 'table', table_name, sql from duckdb_tables() where database_name = $d union all "
        "select 'view', view_name, sql from duckdb_views() where database_name = $d and not internal union all "
        "select 'index', index_name, sql from duckdb_indexes() where database_name = $d union all "
        "select 'sequence', sequence_name, sql from duckdb_sequences() where database_name = $d union all "
        "select 'macro', function_name, macro_definition from duckdb_functions() "
        "where database_name = $d and not internal and function_type in ('macro', 'table_macro')",
        {"d": database}).fetchall(), key=repr)


def rebuild(path) -> float:
    """Write the database file anew from its current tables and swap it in atomically
    (os.replace); the old file, with its freed blocks and old compression dictionaries, goes.
    Every table, the meta facts (schema and data version) and the catalog come across as they
    are: nothing a reader sees changes. Taken as a write (db.write: the file lock, so no other
    process has it open while it is copied). Returns the seconds it took."""
    start = time.monotonic()
    clean_leftovers(path)
    p = db.db_path(path)
    if not p.exists():
        raise InputError(f"no database at {p}: nothing to rebuild")
    real = Path(os.path.realpath(p))
    if not real.is_file():      # never swap a file in over a device or a folder
        raise InputError(f"the database {p} is not a regular file; it was not rebuilt")
    fresh = real.parent / _leftover_name(real, "rebuild")
    for f in (fresh, Path(f"{fresh}.wal")):
        f.unlink(missing_ok=True)
    try:
        with db.write(p) as con:
            con.execute("checkpoint")      # everything in the old file, its WAL empty
            current = con.execute("select current_database()").fetchone()[0]
            con.execute("attach ? as kam_rebuild", [str(fresh)])
            try:
                con.execute(f"copy from database {_q(current)} to kam_rebuild")
                if _catalog(con, current) != _catalog(con, "kam_rebuild"):
                    raise InputError("the rebuilt file's tables differ from the database's; the database was kept "
                                     "as it was")
                tables = [r[0] for r in con.execute("select table_name from duckdb_tables() where database_name = ?",
                                                    [current]).fetchall()]
                for table in tables:
                    a = con.execute(f"select count(*) from {_q(current)}.main.{_q(table)}").fetchone()[0]
                    b = con.execute(f"select count(*) from kam_rebuild.main.{_q(table)}").fetchone()[0]
                    if a != b:
                        raise InputError(f"the rebuilt file's {table} holds {b:,} rows, the database {a:,}; the "
                                         "database was kept as it was")
            finally:
                con.execute("detach kam_rebuild")     # checkpoints the new file: no WAL beside it
            shutil.copymode(real, fresh)
            # swapped while this connection still holds the old file: no other process can have
            # opened it, and one that opens the path from now on gets the new file. Closing this
            # connection writes nothing (the checkpoint above left no WAL).
            os.replace(fresh, real)
    except duckdb.Error as exc:
        raise InputError(f"the database file could not be rebuilt ({str(exc).splitlines()[0]}); it was kept as "
                         "it was") from None
    except OSError as exc:
        raise InputError(f"the database file could not be rebuilt ({exc.strerror or exc}; is the disk full?); it "
                         "was kept as it was") from None
    finally:
        for f in (fresh, Path(f"{fresh}.wal")):
            f.unlink(missing_ok=True)
    return time.monotonic() - start


def stored_name(name: str, max_bytes: int = 120) -> str:
    """A file name the product can write for a name given by a user (an upload's name, up to
    any length): the folder part dropped, at most `max_bytes` bytes in UTF-8 (file systems allow
    255), the extension kept, a short hash of the whole name added when it had to be shortened
    (two long names alike in their first part stay two files). Shown names stay the original."""
    base = Path(str(name).replace("\\", "/")).name.replace("\x00", "") or "upload"
    if base in (".", ".."):
        base = "upload"
    if len(base.encode("utf-8")) <= max_bytes:
        return base
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem or len(ext.encode("utf-8")) > 16:
        stem, ext = base, ""
    tag = "~" + hashlib.sha1(base.encode("utf-8")).hexdigest()[:10]
    room = max_bytes - len(tag.encode()) - (len(ext.encode("utf-8")) + 1 if ext else 0)
    short = stem.encode("utf-8")[:room].decode("utf-8", "ignore")     # never half a character
    return short + tag + ("." + ext if ext else "")


def working_folder(path, kind: str = "restore-upload") -> _beside:
    """A folder beside the database for a file on its way in (the Data page's uploaded backup):
    `with working_folder(path) as folder: ...`; removed on exit, and after a kill at the next start."""
    if kind not in _LEFTOVER_KINDS:
        raise ValueError(kind)
    return _beside(path, kind)
