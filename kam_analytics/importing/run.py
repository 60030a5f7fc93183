"""One import: every file read and checked whole before anything is written, then ONE
transaction in dependency order, as one undoable batch (docs/data.md "Bad input").

By default any bad row rejects the whole batch and every data table stays exactly as it
was (only import_batches and import_rejects record the attempt); with keep_good_rows the
good rows of every file load. Either way every bad row is listed with file, sheet, row,
column, value and what was expected. Importing the same file twice changes nothing.

The path of a file, one module a step: read.py (decoding, workbooks and their safety
checks, the table with its banner and summary lines) -> tables.py (key-value blocks, a
deals export's date) -> mapping.py (kind and columns) -> convert.py (types, words) ->
validate.py -> check.py (all of it for every file: what the preview runs, no writes) ->
load.py (one transaction) with history.py (the four history shapes)."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pandas as pd

from .. import batches, db, demo, derived
from .check import given_values, rejects_frame, stage_files
from .load import load_staged
from .staged import ImportResult

__all__ = ["import_files", "preview"]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()



class _Unchanged(Exception):
    pass


@contextmanager
def _without_demo(path, found: dict | None):
    """A connection to check the files against: the database as it is, or, when the import
    replaces the demo data, as it will be without it (its rows removed and the derived tables,
    the inferred stage list among them, rebuilt in a transaction that is rolled back), so no
    question or alias is about the demo's names."""
    if not found:
        with db.read(path) as con:
            yield con
        return
    with db.write(path) as con:
        con.begin()
        try:
            derived.refresh_derived(con, demo.remove_rows(con, found))
            yield con
        finally:
            con.rollback()


def preview(path, files: list[Path], names: list[str] | None = None, overrides: dict | None = None,
            snapshot_date: date | None = None, currency: str | None = None,
            currency_source: str = "given with --currency", demo_data: str | None = None) -> ImportResult:
    """check.preview; with demo_data "replace", checked against the database without the demo."""
    found = None
    if demo_data == "replace":
        with db.read(path) as con:
            found = demo.present(con)
    with _without_demo(path, found) as con:
        _staged, rejects, reports, errors = stage_files([Path(f) for f in files], con, overrides, names, snapshot_date,
                                                        currency, currency_source)
    return ImportResult("rejected" if errors else "ready", None, reports, rejects_frame(rejects), "; ".join(errors))



def import_files(path, files: list[Path], keep_good_rows: bool = False, overrides: dict | None = None,
                 names: list[str] | None = None, snapshot_date: date | None = None, currency: str | None = None,
                 currency_source: str = "given with --currency", demo_data: str | None = None) -> ImportResult:
    """`demo_data`: what to do with the demo data when the database holds it (demo.present):
    "replace" removes it in this import's batch (undoing the batch brings it back), "keep"
    loads beside it; without a choice such an import is refused (demo.must_choose)."""
    files = [Path(f) for f in files]
    with db.read(path) as con:
        found = demo.present(con)
    if found and demo_data not in ("replace", "keep"):
        raise demo.must_choose(found)
    replace = found if demo_data == "replace" else None
    with _without_demo(path, replace) as con:
        staged, rejects, reports, errors = stage_files(files, con, overrides, names, snapshot_date, currency,
                                                       currency_source)
    rej = rejects_frame(rejects)
    description = "import: " + ", ".join(names or [f.name for f in files]) + (
        f" (the demo data, batch {', '.join(map(str, replace['batch_ids']))}, removed)" if replace else "")
    if errors or (len(rej) and not keep_good_rows):
        _log_rejected(path, description, files, names, reports, rej, errors)
        what = [*errors]
        asked = [q for r in reports for q in r.questions]
        if asked:
            what.append(f"{len(asked)} word(s) to map to a known value: " + "; ".join(q.text() for q in asked[:10])
                        + ("; …" if len(asked) > 10 else "") + ". Answer on the Import page, or with --mapping FILE.json "
                        '{"values": {"<field>": {"<word>": "<value>"}}}')
        if len(rej):
            what.append(f"{len(rej):,} bad value(s) in {rej['row_number'].nunique():,} row(s)")
        msg = ("rejected, nothing was loaded: " + "; ".join(what)
               + ("" if errors else ". Fix them, or load the good rows with --keep-good-rows."))
        return ImportResult("rejected", None, reports, rej, msg)
    try:
        with batches.batch(path, "import", description) as b:
            if replace:
                b.touched |= demo.remove_rows(b.con, replace, keep_in=b)
            load_staged(b, staged, (overrides or {}).get("*", {}).get("aliases"), given_values(overrides))
            for i, f in enumerate(files):
                nm, digest = (names[i] if names else f.name), _sha256(f)
                for r in [r for r in reports if r.file == nm]:
                    b.con.execute("insert into import_files values (?, ?, ?, ?, ?, ?, ?)",
                                  [b.batch_id, nm, digest, r.sheet, r.kind, r.new + r.changed, r.rejected])
            if len(rej):   # read by name (FRAMES_BY_NAME, load.py)
                b.con.execute("insert into import_rejects select ?, * from rej", [b.batch_id])
            b.rows_rejected = len(rej)
            if not b.rows_loaded:
                raise _Unchanged
            batch_id, written = b.batch_id, b.rows_loaded
    except _Unchanged:
        return ImportResult("unchanged", None, reports, rej,
                            "nothing changed: every row is already in the database as it is in the file(s)")
    msg = f"loaded as batch {batch_id}: {written:,} row(s) written (new or changed rows, and history rows)"
    if len(rej):
        msg += f"; {len(rej):,} bad value(s) left out (kept in the import log)"
    if replace:
        msg += (f". The demo data ({replace['deals']:,} deals) was removed in the same batch: undo batch {batch_id} "
                "brings it back")
    return ImportResult("loaded", batch_id, reports, rej, msg)



def _log_rejected(path, description, files, names, reports, rej: pd.DataFrame, errors: list[str]) -> None:
    """A rejected attempt: only the import log records it; every data table is unchanged."""
    file_errors = pd.DataFrame([{"file_name": None, "sheet": None, "row_number": None, "column_name": None,
                                 "value": None, "reason": e} for e in errors],
                               columns=rej.columns)
    all_rej = pd.concat([file_errors, rej], ignore_index=True) if len(file_errors) else rej
    with db.write(path) as con:
        con.begin()
        batch_id = batches.log_entry(con, "import", description, "rejected", rows_rejected=len(all_rej))
        for i, f in enumerate(files):
            nm = names[i] if names else f.name
            if f.is_file():
                con.execute("insert into import_files values (?, ?, ?, ?, ?, 0, ?)",
                            [batch_id, nm, _sha256(f), None, None, int((rej["file_name"] == nm).sum())])
        if len(all_rej):   # read by name (FRAMES_BY_NAME, load.py)
            con.execute("insert into import_rejects select ?, * from all_rej", [batch_id])
        con.commit()
