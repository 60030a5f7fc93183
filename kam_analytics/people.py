"""Removing a person everywhere (issue 10, "Data that belongs to people"; issue 27, "forget that
forgets"): a stakeholder or an owner asks to be forgotten. Their own rows (the stakeholder on
each account map, the owners row) are deleted; every other place their name is written - deals'
owner, managers, plan and action owners, who a stakeholder reports to, forecast calls, quotas,
free text such as notes and the import log with its undo images - gets a pseudonym, "removed
person N" (N the batch), so the deals, quotas and team roll-ups stay whole. The remembered
answers of the importer (account aliases, value answers, column mappings) that hold the name are
deleted, in the settings and in their undo images. It runs as one batch that keeps no copy of
the name, and so cannot be undone.

Then what the tables no longer show is taken out of the bytes too: the database file is
rebuilt from its current tables and swapped in (backup.rebuild), so the freed blocks of the old
rows go with the old file; the copies of uploaded files kept in the temp folder that hold the
name are deleted; and the likely other spellings of the name found in the data (e-mail forms,
"Surname, Name", joined, initial and surname) are listed for the user to confirm and forget too.

The name matches ignoring case and spacing, as whole words ("Ann Lee" is not found inside
"Joanne Leeds")."""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from . import backup, batches, db
from .backup import LOG_TABLES
from .errors import InputError

# The rows that are the person: deleted, not renamed.
OWN_ROWS = {"stakeholders": "name", "owners": "owner"}
MIN_NAME_CHARS = 3
_TEXT_TYPES = ("VARCHAR", "JSON")
# The importer's remembered answers (settings): an entry that holds the name is deleted.
REMEMBERED = ("account_aliases", "value_mappings", "mapping_overrides")
# Folders of the temp folder where the app keeps copies of uploaded and prepared files.
KEPT_FILE_FOLDERS = ("kam-upload-", "kam-restore-", "kam-export-", "kam-backup-")
MAX_SCANNED_BYTES = 1 << 30     # a kept zip that unpacks beyond this is deleted unread
MAX_SPELLINGS = 20


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


# --- the importer's remembered answers ----------------------------------------------------

def _norm(text) -> str:
    """Case, accents, spaces and punctuation ignored (as the norm_key macro): 'Nora Taylor',
    'nora.taylor' and 'NORATAYLOR' alike."""
    text = unicodedata.normalize("NFKD", str(text))
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in text if not unicodedata.combining(c)).lower())


def _prune(value, key: str):
    """`value` without the entries (keys or values, at any depth) whose text holds the name's
    key; returns (the pruned value, how many entries went)."""
    if isinstance(value, dict):
        out, gone = {}, 0
        for k, v in value.items():
            if key in _norm(k) or (not isinstance(v, (dict, list)) and key in _norm(v)):
                gone += 1
                continue
            v2, g = _prune(v, key)
            out[k] = v2
            gone += g
        return out, gone
    if isinstance(value, list):
        out, gone = [], 0
        for v in value:
            if not isinstance(v, (dict, list)) and key in _norm(v):
                gone += 1
                continue
            v2, g = _prune(v, key)
            out.append(v2)
            gone += g
        return out, gone
    return value, 0


def _as_json(value):
    return json.loads(value) if isinstance(value, str) else value


def _remembered(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[str, str, object, int]]:
    """The remembered answers that hold the name: (where: 'settings' or 'undo_log', the row's id,
    the pruned value, entries gone), in the settings and in the settings' undo images."""
    key = _norm(name)
    out = []
    for setting, value in con.execute("select key, value from settings where list_contains($r, key)",
                                      {"r": list(REMEMBERED)}).fetchall():
        pruned, gone = _prune(_as_json(value), key)
        if gone:
            out.append(("settings", setting, pruned, gone))
    for rowid, image in con.execute(
            "select rowid, row_json from undo_log where table_name = 'settings' "
            "and list_contains($r, row_json->>'key')", {"r": list(REMEMBERED)}).fetchall():
        image = _as_json(image)
        pruned, gone = _prune(_as_json(image.get("value")), key)
        if gone:
            out.append(("undo_log", rowid, {**image, "value": pruned}, gone))
    return out


def _skip_remembered(table: str) -> str:
    """SQL that leaves the remembered answers to _remembered (they are deleted, not renamed)."""
    names = ", ".join(f"'{k}'" for k in REMEMBERED)
    if table == "settings":
        return f" and key not in ({names})"
    if table == "undo_log":
        return f" and not (table_name = 'settings' and coalesce(row_json->>'key', '') in ({names}))"
    return ""


# --- where the name is ------------------------------------------------------------------

def _by_table(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, typ in _text_columns(con):
        out.setdefault(table, []).append((column, typ))
    return out


def _py(pattern: str) -> re.Pattern:
    """One of _patterns' RE2 patterns for Python's re: a letter or digit is [^\\W_]."""
    return re.compile(pattern.replace("(?i)", "").replace("[^\\pL\\pN]", "[\\W_]"), re.IGNORECASE)


def _candidates(con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]], needle: str,
                extra_where: str = "") -> list[tuple]:
    """The rows of a table where some text column holds `needle` (lower case, a plain substring):
    one scan, no regular expression (compiling one per column costs more than the scan)."""
    texts = [f"{_q(c)}::varchar" for c, _t in columns]
    hit = " or ".join(f"contains(lower({t}), $n)" for t in texts)
    return con.execute(f"select {', '.join(texts)} from {_q(table)} where ({hit}){extra_where}",
                       {"n": needle}).fetchall()


def _needle(words: list[str]) -> str:
    return max(words, key=len).lower()


def places(con: duckdb.DuckDBPyConnection, name: str) -> list[dict]:
    """Where the name is written: one record per table and column, with how many rows and
    whether they are deleted (the person's own rows), get the pseudonym, or are remembered
    answers of the importer (deleted). One scan per table."""
    pattern, full = _patterns(name)
    rx, rx_full = _py(pattern), _py(full)
    needle = _needle(name.split())
    out = []
    for table, columns in _by_table(con).items():
        own = OWN_ROWS.get(table)
        rows = _candidates(con, table, columns, needle, _skip_remembered(table))
        for i, (column, _t) in enumerate(columns):
            n = sum(1 for r in rows if r[i] is not None and rx.search(r[i]))
            if not n:
                continue
            gone = sum(1 for r in rows if r[i] is not None and rx_full.search(r[i])) if own == column else 0
            if gone:
                out.append({"table": table, "column": column, "rows": gone, "change": "row deleted"})
            if n - gone:
                out.append({"table": table, "column": column, "rows": n - gone, "change": "name replaced"})
    remembered: dict[tuple[str, str], int] = {}
    for where, rowid, _pruned, gone in _remembered(con, name):
        column = rowid if where == "settings" else "row_json (remembered answers)"
        remembered[(where, column)] = remembered.get((where, column), 0) + gone
    for (where, column), gone in remembered.items():
        out.append({"table": where, "column": column, "rows": gone, "change": "remembered entry deleted"})
    return out


def other_spellings(con: duckdb.DuckDBPyConnection, name: str) -> list[dict]:
    """Likely other spellings of the name written in the data, which `forget` leaves alone:
    e-mail and user-name forms (nora.taylor@example.com, nora_taylor, ntaylor, n.taylor),
    "Surname, Name" and "Surname Name", joined (NoraTaylor), "N. Taylor". Matching ignores case;
    the name itself (any case and spacing) is not listed. Returns [{spelling, rows, where}],
    the most frequent first (at most MAX_SPELLINGS)."""
    words = name.split()
    _, full = _patterns(name)
    if len(words) < 2:
        return []
    first, last = re.escape(words[0]), re.escape(words[-1])
    initial = re.escape(words[0][0])
    sep = r"[._\-]"
    email = r"(?:@[\w.\-]+\.[^\W\d_]{2,})?"
    forms = [
        rf"{first}{sep}?{last}{email}",                 # nora.taylor@…, nora_taylor, norataylor
        rf"{last}{sep}?{first}{email}",                 # taylor.nora, taylornora
        rf"{initial}(?:\.\s*|{sep}|\s+)?{last}{email}",  # n.taylor, ntaylor, N. Taylor, N Taylor
        rf"{last}\s*,\s*{first}",                       # Taylor, Nora
        rf"{last}\s+{first}",                           # Taylor Nora
    ]
    # never inside a longer word, an e-mail address or a user name
    rx = re.compile(r"(?<![\w@.\-])(" + "|".join(f"(?:{f})" for f in forms) + r")(?![\w@\-]|\.\w)", re.IGNORECASE)
    itself = _py(full)
    found: dict[str, dict] = {}
    for table, columns in _by_table(con).items():      # one scan per table
        for row in _candidates(con, table, columns, words[-1].lower()):
            for (column, _t), text in zip(columns, row):
                if text is None:
                    continue
                for spelling in dict.fromkeys(m.group(1) for m in rx.finditer(text)):
                    if itself.search(spelling):
                        continue
                    rec = found.setdefault(spelling, {"spelling": spelling, "rows": 0, "where": []})
                    rec["rows"] += 1
                    place = f"{table}.{column}"
                    if place not in rec["where"]:
                        rec["where"].append(place)
    out = sorted(found.values(), key=lambda r: (-r["rows"], r["spelling"].casefold()))[:MAX_SPELLINGS]
    return [{**r, "where": ", ".join(r["where"])} for r in out]


# --- kept files --------------------------------------------------------------------------

def _text_pattern(name: str) -> re.Pattern:
    return re.compile(r"\s+".join(re.escape(w) for w in name.split()), re.IGNORECASE)


def _chunks_hold(chunks, rx: re.Pattern, overlap: int) -> bool:
    """Whether a stream of bytes holds the name, read as UTF-8, Latin-1 (and so ASCII) or
    UTF-16 in either byte order."""
    tail = b""
    for chunk in chunks:
        data = tail + chunk
        texts = [data.decode("utf-8", "ignore"), data.decode("latin-1")]
        for start in (0, 1):
            part = data[start:]
            part = part[:len(part) - len(part) % 2]
            texts += [part.decode("utf-16-le", "ignore"), part.decode("utf-16-be", "ignore")]
        if any(rx.search(t) for t in texts):
            return True
        tail = data[-overlap:]
    return False


def _read_chunks(f, size: int = 1 << 20, budget: list | None = None):
    while chunk := f.read(size):
        if budget is not None:
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise _TooBig
        yield chunk


class _TooBig(Exception):
    pass


def file_holds(path: Path, name: str) -> bool:
    """Whether a file holds the name: its bytes, and inside a zip (xlsx, ods, a backup) every
    member unpacked. A zip that unpacks beyond MAX_SCANNED_BYTES counts as holding it."""
    rx = _text_pattern(name)
    overlap = 8 * len(name) + 16
    with open(path, "rb") as f:
        if _chunks_hold(_read_chunks(f), rx, overlap):
            return True
    if not zipfile.is_zipfile(path):
        return False
    budget = [MAX_SCANNED_BYTES]
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if _norm(name) in _norm(info.filename):
                    return True
                with z.open(info) as member:
                    if _chunks_hold(_read_chunks(member, budget=budget), rx, overlap):
                        return True
    except _TooBig:
        return True
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
        return False
    return False


def kept_files(name: str, temp_root: Path | None = None) -> list[Path]:
    """The copies of uploaded (and prepared) files the app keeps in the temp folder that hold
    the name (in their bytes or their file name)."""
    root = Path(temp_root or tempfile.gettempdir())
    out = []
    try:
        folders = [d for d in root.iterdir() if d.name.startswith(KEPT_FILE_FOLDERS) and d.is_dir()
                   and not d.is_symlink()]
    except OSError:
        return out
    key = _norm(name)
    for folder in folders:
        try:
            if folder.stat().st_uid != os.getuid():
                continue
            files = [f for f in folder.rglob("*") if f.is_file() and not f.is_symlink()]
        except OSError:
            continue
        for f in files:
            try:
                if key in _norm(f.name) or file_holds(f, name):
                    out.append(f)
            except OSError:
                continue
    return out


def delete_kept_files(name: str, temp_root: Path | None = None) -> list[str]:
    """Delete the kept copies that hold the name; returns the names of the files deleted (the
    folder is kept: a session that still shows the upload asks for it again)."""
    gone = []
    for f in kept_files(name, temp_root):
        try:
            f.unlink()
            gone.append(f.name)
        except OSError:
            continue
    return gone


# --- forget -------------------------------------------------------------------------------

@dataclass
class Forgotten:
    """What `forget` did: the batch, the places changed, how long the file's rebuild took, the
    kept files deleted and the other spellings left for the user to confirm."""
    batch_id: int
    places: list[dict]
    rebuild_seconds: float
    files_deleted: list[str] = field(default_factory=list)
    other_spellings: list[dict] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(p["rows"] for p in self.places)

    @property
    def pseudonym(self) -> str:
        return f"removed person {self.batch_id}"


def _forget_rows(path, name: str) -> tuple[int, list[dict]] | None:
    """The tables part: one batch. None when the name is in no table (nothing written)."""
    class _Nothing(Exception):
        pass

    try:
        with batches.batch(path, "forget", "a person removed everywhere (the name is not kept)") as b:
            found = places(b.con, name)
            if not found:
                raise _Nothing
            pattern, full = _patterns(name)
            pseudonym = f"removed person {b.batch_id}"
            # the remembered answers: entries deleted (no undo image: this batch cannot be undone)
            for where, rowid, pruned, _gone in _remembered(b.con, name):
                if where == "settings":
                    b.con.execute("update settings set value = ?::json where key = ?", [json.dumps(pruned), rowid])
                else:
                    b.con.execute("update undo_log set row_json = ?::json where rowid = ?", [json.dumps(pruned), rowid])
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
                        f"where regexp_matches({_q(column)}::varchar, $p)" + _skip_remembered(table),
                        {"p": pattern, "r": "\\1" + pseudonym + "\\3"})
                if not places(b.con, name):
                    break
            else:
                raise InputError("the name is still written somewhere after four passes; nothing was changed")
            b.touched |= {p["table"] for p in found if p["table"] in db.DATA_TABLES}
            b.rows_loaded = sum(p["rows"] for p in found)
            return b.batch_id, found
    except _Nothing:
        return None


def forget(path, name: str, temp_root: Path | None = None) -> Forgotten:
    """Remove `name` everywhere, as one batch; then rebuild the database file (so no freed
    block keeps an old copy), delete the kept files that hold the name and list its likely
    other spellings. A name in no table is an InputError, raised after the file's rebuild and
    the kept files' deletion all the same (an earlier forget's old copies go too)."""
    name = " ".join(name.split())
    _patterns(name)     # too short: refused before anything
    p = db.db_path(path)
    if not p.exists():
        raise InputError(f"no database at {p}: nothing to remove")
    done = _forget_rows(path, name)
    seconds = backup.rebuild(path)
    files = delete_kept_files(name, temp_root)
    if done is None:
        raise InputError(f"the name {name!r} is not in the database: nothing to remove (the database file was "
                         f"rebuilt all the same in {seconds:.1f} s, so no old copy stays in its free space"
                         + (f"; {len(files)} kept upload(s) holding it deleted" if files else "") + ")")
    with db.read(path) as con:
        others = other_spellings(con, name)
    return Forgotten(done[0], done[1], seconds, files, others)
