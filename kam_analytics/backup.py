"""The whole database out and back in (issue 10, "Data that belongs to people"): a zip of one
csv or parquet file per table with a manifest naming the schema version, and a restore that
replaces every table in one transaction. The import log and the undo images travel too, so
`batches` and `undo` work the same after a restore; the derived tables are rebuilt.

csv follows DESIGN.md "Exports": text that a spreadsheet would run as a formula gets a leading
`'`, which the restore (like the importer) strips again - byte for byte the same data."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import duckdb

from . import db, models
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


def export(path, out: Path, fmt: str = "csv", progress=None) -> dict:
    """Write every table to `out` (a zip). Returns the manifest."""
    if fmt not in FORMATS:
        raise InputError(f"unknown backup format {fmt!r}; expected csv or parquet")
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp, db.read(path) as con:
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
        partial = out.with_name(out.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(Path(tmp) / MANIFEST, MANIFEST)
            for f in files:
                z.write(f, f.name)
        os.replace(partial, out)      # a half-written backup never carries the final name
    return manifest


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
    with tempfile.TemporaryDirectory() as tmp:
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
                next_id = con.execute("select coalesce(max(batch_id), 0) + 1 from import_batches").fetchone()[0]
                con.execute("insert into import_batches (batch_id, action, description, started_at, finished_at, "
                            "status, rows_loaded, rows_rejected) values (?, 'restore', ?, ?, ?, 'loaded', ?, 0)",
                            [next_id, f"restored from {name} (backup of {manifest.get('created_at', '?')}, "
                                      f"schema {manifest['schema_version']})", datetime.now(), datetime.now(),
                             sum(manifest["tables"].get(t, 0) for t in db.DATA_TABLES)])
                models.refresh_derived(con, set(db.DATA_TABLES))
                db._bump_data_version(con)
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
