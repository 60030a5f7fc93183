"""One import: every file read and checked whole before anything is written, then ONE
transaction in dependency order, as one undoable batch (DESIGN.md "Bad input").

By default any bad row rejects the whole batch and every data table stays exactly as it
was (only import_batches and import_rejects record the attempt); with keep_good_rows the
good rows of every file load. Either way every bad row is listed with file, sheet, row,
column, value and what was expected. Importing the same file twice changes nothing."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .. import db, models, settings
from ..errors import InputError
from . import coerce
from . import vocabulary
from .fields import FILE_ONLY_TYPES, LOAD_ORDER, LOGGED_FIELDS, TABLES
from .mapping import MIN_CONFIDENCE, Mapping, describe, detect, known_headers, synonyms
from .read import Table, norm, pictures_note, read_tables, release_arrow_memory

# FRAMES_BY_NAME: inside an import's transaction a pandas frame is read by its variable's name
# in the SQL (DuckDB's replacement scan finds it among the calling function's local variables),
# never through con.register: DuckDB keeps a registered frame alive until the transaction
# commits, even after unregister. That held an 8,000,000-row history file's columns (880 MB)
# through the whole rebuild of the derived tables (tests/importing/test_import_memory.py).
PREVIEW_ROWS = 20
AMOUNT_FIELDS = {"amount", "annual_revenue", "revenue_potential", "list_price", "rate", "commit", "best_case"}
ITALIAN_STAGE_WORDS = {"vinto": "won", "vinta": "won", "chiuso vinto": "won", "perso": "lost", "persa": "lost",
                       "chiuso perso": "lost"}


@dataclass
class FileReport:
    file: str
    sheet: str | None
    header_row: int | None
    kind: str | None
    confidence: float
    mapping: str
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: int = 0
    notes: list[str] = field(default_factory=list)
    detected: Mapping | None = None          # for the Import page's editable mapping
    aliases: list[tuple[str, str, str]] = field(default_factory=list)  # (name in file, existing name, its id)
    remembered: bool = False                 # the mapping came from an earlier confirmed override
    preview: pd.DataFrame | None = None      # the first rows as they will be stored
    questions: list = field(default_factory=list)   # unknown words of a fixed vocabulary (vocabulary.Question)
    currency: str | None = None              # the currency the import gave rows with amounts but none of their own
    currency_from: str | None = None         # column (the file's own) | given (--currency, the page) | settings


@dataclass
class ImportResult:
    status: str                     # loaded | rejected | unchanged
    batch_id: int | None
    files: list[FileReport]
    rejects: pd.DataFrame
    message: str


class _Unchanged(Exception):
    pass


@dataclass
class _Staged:
    report: FileReport
    kind: str
    frame: pd.DataFrame             # converted good rows; `_row` the spreadsheet row
    columns: list[str]              # canonical columns the file provides
    stage_columns: dict[str, str]   # wide history: header -> stage
    snapshot: tuple[datetime, str] | None = None   # a deals export's date, and where it came from
    remember: tuple[str, dict] | None = None       # header signature -> override, kept on load


SNAPSHOT_LABELS = {"snapshot date", "as of", "report date", "data report", "exported", "export date", "data estrazione",
                   "date", "data"}
_DATE_IN_TEXT = re.compile(r"(20\d{2})[-_./]?([01]\d)[-_./]?([0-3]\d)")
_DMY_IN_TEXT = re.compile(r"\b([0-3]?\d)[/.]([01]?\d)[/.](20\d{2})\b")


def _snapshot_date(t: Table, given: date | None) -> tuple[datetime, str]:
    """--snapshot-date, else a date in the file's banner or key-value block, else in its
    name, else the import date; the summary says which."""
    if given:
        return datetime.combine(given, datetime.min.time()), "--snapshot-date"
    texts = [("the file's banner", line) for line in t.banner]
    texts += [("the file's header block", v) for k, (_l, v, _r) in t.meta.items() if k in SNAPSHOT_LABELS]
    texts.append(("the file name", t.file))
    for where, text in texts:
        m = _DATE_IN_TEXT.search(text)
        parts = (m.group(1), m.group(2), m.group(3)) if m else None
        if not parts:
            d = _DMY_IN_TEXT.search(text)
            parts = (d.group(3), d.group(2), d.group(1)) if d else None
        if parts:
            try:
                return datetime(int(parts[0]), int(parts[1]), int(parts[2])), where
            except ValueError:
                continue
    return datetime.combine(date.today(), datetime.min.time()), "the import date"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def schema_types(con) -> dict[str, dict[str, str]]:
    """table -> column -> DuckDB type, for every table (read once per load)."""
    out: dict[str, dict[str, str]] = {}
    for t, c, ty in con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'main'").fetchall():
        out.setdefault(t, {})[c] = ty
    return out


def _reject(rejects: list, t: Table, row: int | None, column: str | None, value, reason: str) -> None:
    rejects.append({"file_name": t.file, "sheet": t.sheet, "row_number": row, "column_name": column,
                    "value": None if value is None else str(value)[:200], "reason": reason})


def _stage_mapper(cfg: settings.StageConfig):
    """Saved list: names matched ignoring case and spacing, Italian won/lost words to the
    won/lost stage; unknown names are errors. Inferred list: names kept as written."""
    if cfg.inferred:
        return None
    by_key = {" ".join(s.lower().split()): s for s in cfg.stages}
    for word, kind in ITALIAN_STAGE_WORDS.items():
        target = cfg.won_stage if kind == "won" else (cfg.lost[0] if cfg.lost else None)
        if target:
            by_key.setdefault(word, target)
    return by_key


def _convert(t: Table, m: Mapping, types: dict[str, str], stage_map, delimiter, overrides, rejects,
             answers: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """The table's columns converted to their fields' types. `answers` are the user's value
    mappings (field -> word -> canonical value); unknown words come back as questions."""
    raw = t.raw_frame()      # an empty cell is missing (converters strip what they read)
    out = pd.DataFrame(index=raw.index)
    bad = pd.Series(False, index=raw.index)
    notes: list[str] = []
    questions: list[vocabulary.Question] = []
    answers = answers or {}
    date_formats = (overrides or {}).get("date_formats", {})
    number_formats = (overrides or {}).get("number_formats", {})
    numeric = [h for h, f in m.columns.items() if f and (f == "probability" or (
        f != "relationship_strength" and types.get(f, "VARCHAR") in ("DOUBLE", "INTEGER", "BIGINT")))]
    # the file's decimal mark, from all its number columns: for a column none of whose values decides
    in_file = {"file": t.file, "file_marks": coerce.file_marks([raw[h] for h in numeric]) if len(numeric) > 1 else None}
    said = {(row, header) for row, header, *_ in t.problems}
    for header, fld in m.columns.items():
        if not fld:
            continue
        s = raw[header]
        ty = types.get(fld, "VARCHAR")
        if fld in vocabulary.VOCABULARIES and (fld != "status" or m.kind in ("account_actions", "plan_steps")):
            c, asked = vocabulary.convert(s, fld, header, vocabulary.lookup(fld, answers.get(fld)),
                                          vocabulary.VOCABULARIES[fld][1])
            questions += asked
        elif fld == "currency":
            c = coerce.to_currency(s)
        elif fld == "stage" and stage_map is not None:
            known = list(dict.fromkeys(stage_map.values()))
            stage_answers = {w: v for w, v in (answers.get(fld) or {}).items() if v in known}   # only stages of the list
            c, asked = vocabulary.convert(s, fld, header, vocabulary.lookup(fld, stage_answers, stage_map),
                                          "a stage of the saved list (or a new stage added in Settings)", known)
            questions += asked
        elif fld == "stage" and answers.get("stage"):   # an inferred list: names as written, or as the user answered
            c = coerce.to_text(s)
            table = {vocabulary.word_key(w): v for w, v in answers["stage"].items() if v}
            written = c.values.astype(object)
            answered = written.map({v: table.get(vocabulary.word_key(v)) for v in written.dropna().unique()})
            c = coerce.Converted(answered.where(answered.notna(), written), c.bad, c.expected)
        elif fld == "probability":
            c = coerce.to_probability(s, header, marks=number_formats.get(header), **in_file)
        elif ty in ("DOUBLE", "INTEGER", "BIGINT"):
            c = coerce.to_number(s, header, marks=number_formats.get(header), **in_file)
            if ty != "DOUBLE":
                frac = c.values.notna() & (c.values != c.values.round())
                c.bad = c.bad | frac
                c.expected = "a whole number"
        elif ty == "DATE":
            c = coerce.to_date(s, header, t.file, date_formats.get(header))
        elif ty.startswith("TIMESTAMP"):
            c = coerce.to_timestamp(s, header, t.file, date_formats.get(header))
        else:
            c = coerce.to_text(s)
        if c.note:
            notes.append(c.note)
        for i in raw.index[c.bad]:
            if (t.row_numbers[i], header) not in said:     # a formula error is said once, as such
                _reject(rejects, t, t.row_numbers[i], header, s[i], f"expected {c.expected}")
        bad |= c.bad
        out[fld] = c.values
    for h, stage in m.stage_columns.items():
        c = coerce.to_timestamp(raw[h], h, t.file, date_formats.get(h))
        for i in raw.index[c.bad]:
            _reject(rejects, t, t.row_numbers[i], h, raw[h][i], f"expected {c.expected}")
        bad |= c.bad
        out[f"__entered__{stage}"] = c.values
    if m.kind == "deal_field_history":
        bad |= _parse_logged_values(t, m, raw, out, stage_map, delimiter, rejects, notes, answers, questions,
                                    number_formats, in_file)
    if m.kind == "plan_steps":
        if "step_no" not in out:
            out["step_no"] = range(1, len(out) + 1)
            notes.append("steps numbered in the order of the rows")
        if "plan_type" not in out:
            out["plan_type"] = "mutual"
            notes.append("no plan type given: taken as a mutual plan")
    if t.problems:   # what the reader found: formula errors, over-long values, values under no column
        position = {r: i for i, r in zip(raw.index, t.row_numbers)}
        for row, header, value, reason, mapped_only in t.problems:
            if mapped_only and not (header in m.columns and (m.columns[header] or header in m.stage_columns)):
                continue
            _reject(rejects, t, row, header, value, reason)
            bad.at[position[row]] = True
    out["_row"] = t.row_numbers
    return out, {"bad": bad, "notes": notes, "raw": raw, "questions": questions}


def _parse_logged_values(t: Table, m: Mapping, raw: pd.DataFrame, out: pd.DataFrame, stage_map, delimiter,
                         rejects: list, notes: list, answers: dict, questions: list, number_formats: dict,
                         in_file: dict) -> pd.Series:
    """A field-change log's old and new values, each parsed as the field it belongs to;
    fields other than stage, amount, close date, forecast category and probability are
    left out and counted."""
    from .read import norm as _norm

    bad = pd.Series(False, index=out.index)
    names = {f: LOGGED_FIELDS.get(_norm(f)) for f in out["field"].dropna().unique()}   # each field name once
    out["logged_field"] = out["field"].map(names)
    other = out["logged_field"].isna() & out["field"].notna()
    if other.any():
        names = ", ".join(sorted(set(out.loc[other, "field"]))[:5])
        notes.append(f"{int(other.sum()):,} change(s) of other fields left out ({names})")
    headers = {f: h for h, f in m.columns.items() if f}
    for which in ("old_value", "new_value"):
        if which not in out:
            continue
        parsed = pd.Series(None, index=out.index, dtype=object)
        for fld in ("stage", "amount", "close_date", "forecast_category", "probability"):
            sel = out["logged_field"] == fld
            if not sel.any():
                continue
            s = out.loc[sel, which]
            if fld == "amount":
                c = coerce.to_number(s, headers[which], marks=number_formats.get(headers[which]), **in_file)
            elif fld == "probability":
                c = coerce.to_probability(s, headers[which], marks=number_formats.get(headers[which]), **in_file)
            elif fld == "close_date":
                c = coerce.to_date(s, headers[which], t.file)
            elif fld == "stage" and stage_map is not None:
                c, asked = vocabulary.convert(s, fld, headers[which], vocabulary.lookup(fld, answers.get(fld), stage_map),
                                              "a stage of the saved list", list(dict.fromkeys(stage_map.values())))
                questions += asked
            elif fld == "forecast_category":
                c, asked = vocabulary.convert(s, fld, headers[which], vocabulary.lookup(fld, answers.get(fld)),
                                              vocabulary.VOCABULARIES[fld][1])
                questions += asked
            else:
                c = coerce.to_text(s)
            for i in s.index[c.bad]:
                _reject(rejects, t, t.row_numbers[i], headers[which], raw.at[i, headers[which]],
                        f"expected {c.expected} (the field is {out.at[i, 'field']})")
            bad.loc[s.index] |= c.bad
            parsed.loc[s.index] = c.values.astype(object).to_numpy()
        out[which] = parsed
    return bad


HISTORY_FIELDS = {"stage": "string", "amount": "float64", "close_date": "datetime64[us]", "forecast_category": "string",
                  "probability": "float64"}


def _field_log_history(con, st: _Staged) -> str | None:
    """Full-state rows from a field-change log, built in DuckDB (sql/field_log_history.sql):
    the name of a temp table of them, or None when the log changes no history field. The
    file's old and new values, parsed per field, become one typed column per field here."""
    log = st.frame[st.frame["logged_field"].notna()]
    if log.empty:
        return None
    flog_frame = pd.DataFrame({"deal_id": log["deal_id"].astype("string"), "changed_at": log["changed_at"],
                         "f": log["logged_field"].astype("string"), "_row": log["_row"]})
    for f, dtype in HISTORY_FIELDS.items():
        sel = log["logged_field"] == f
        for which in ("new", "old"):
            values = log[f"{which}_value"] if f"{which}_value" in log else pd.Series(None, index=log.index)
            flog_frame[f"{which}_{f}"] = values.where(sel).astype(object).where(sel, None).astype(dtype)
    log_ids = pd.DataFrame({"deal_id": flog_frame["deal_id"].unique()})   # read by their names (FRAMES_BY_NAME)
    con.execute("create or replace temp table flog as select * from flog_frame")
    con.execute("create or replace temp table flog_current as select deal_id, "
                "case when not created_derived then created_date end as created_date, stage, amount, close_date, "
                "forecast_category from deals where deal_id in (select deal_id from log_ids)")
    con.execute(f"create or replace temp table flog_rows as {models.sql('field_log_history')}")
    con.execute("drop table flog")
    con.execute("drop table flog_current")
    return "flog_rows"


def _key_text(s: pd.Series) -> pd.Series:
    """A key as compared for duplicates: stripped and case-folded. Arrow lower-cases the
    column at once (for ASCII text the same as casefold); Python's casefold, a call per
    value, runs only on the values that are not ASCII ("Straße" and "STRASSE" are one key)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = s.astype("string").str.strip()
    ascii_ = pc.string_is_ascii(pa.array(t, type=pa.large_string(), from_pandas=True))
    other = ~np.asarray(pc.fill_null(ascii_, True).to_numpy(zero_copy_only=False), dtype=bool)
    out = t.str.lower()
    if other.any():
        out[other] = t[other].str.casefold()
    return out


def _validate(t: Table, m: Mapping, df: pd.DataFrame, raw: pd.DataFrame, rejects: list) -> pd.Series:
    """Row rules on converted values; messages quote the cell as written in the file."""
    bad = pd.Series(False, index=df.index)
    headers = {f: h for h, f in m.columns.items() if f}

    def written(i, f):
        return raw.at[i, headers[f]] if f in headers else df.at[i, f]

    keys, required = TABLES[m.kind]
    for r in required:
        col = r if r in df else ("account_id" if r == "account_name" and "account_id" in df else None)
        if col is None:
            continue
        missing = raw[headers[col]].isna() if col in headers else df[col].isna()  # absent, not unreadable
        for i in df.index[missing]:
            _reject(rejects, t, int(df.at[i, "_row"]), headers.get(col, col), None, f"{col} is required; expected a value")
        bad |= missing
    for f in AMOUNT_FIELDS & set(df.columns):
        neg = df[f].notna() & (df[f] < 0)
        for i in df.index[neg]:
            _reject(rejects, t, int(df.at[i, "_row"]), headers.get(f, f), written(i, f), "expected an amount of 0 or more")
        bad |= neg
    if "influence" in df:
        off = df["influence"].notna() & ~df["influence"].between(1, 5)
        for i in df.index[off]:
            _reject(rejects, t, int(df.at[i, "_row"]), headers["influence"], written(i, "influence"), "expected influence 1-5")
        bad |= off
    key_cols = [k for k in keys if k in df] or (["account_name"] if keys and keys[0] == "account_id" and "account_name" in df else [])
    if key_cols and len(key_cols) == len([k for k in keys if k in df or k == "account_id"]):
        norm_key = _key_text(df[key_cols[0]])
        for k in key_cols[1:]:
            norm_key = norm_key + "\x1f" + _key_text(df[k])
        dup = norm_key.duplicated(keep="first") & df[key_cols].notna().all(axis=1)
        if dup.any():   # name the row each duplicate repeats (only duplicates are looked at)
            firsts = df.loc[norm_key.isin(set(norm_key[dup])) & ~dup, "_row"]
            first_row = dict(zip(norm_key[firsts.index], firsts))
            for i in df.index[dup]:
                _reject(rejects, t, int(df.at[i, "_row"]), headers.get(key_cols[0], key_cols[0]), written(i, key_cols[0]),
                        f"a second row with the same key (first at row {first_row[norm_key[i]]}); expected one row per key")
            bad |= dup
    return bad


CONTEXT_FIELDS = ("account_name", "deal_id", "plan_type")
CONTEXT_LABELS = {"account_name": "Account", "deal_id": "Deal ID", "plan_type": "Plan type"}
HEADER_KINDS = ("account_plans", "plans")


def _header_fields(kind: str, meta: dict) -> dict[str, str]:
    """field -> normalised label, for the key-value lines of `meta` that are fields of `kind`."""
    syn = synonyms()[kind]
    out: dict[str, str] = {}
    for key in meta:
        for f, xs in syn.items():
            # two lines for one field ('Deal: Acme renewal', 'Deal ID: D1'): the one naming an id wins
            if key in xs and (f not in out or ("id" in key.split() and "id" not in out[f].split())):
                out[f] = key
    return out


def _plan_meta(t: Table) -> tuple[dict, str | None]:
    """The key-value block, with the plan type a plan header does not write (DESIGN "Reading
    values"): mutual when it names a buyer owner or a buyer signature, else closing; and the
    note that says so."""
    fields = _header_fields("plans", t.meta)
    if "deal_id" not in fields or "plan_type" in fields or len(fields) < 2:
        return t.meta, None
    mutual = "buyer_owner" in fields or "buyer_signed_date" in fields
    kind = "mutual" if mutual else "closing"
    meta = {**t.meta, "plan type": ("Plan type", kind, min(r for _l, _v, r in t.meta.values()))}
    return meta, (f"no plan type written: a {kind} plan ("
                  + ("the header names a buyer owner or a buyer signature)" if mutual else
                     "the header names no buyer owner and no buyer signature)"))


def _with_context(t: Table) -> Table:
    """The key-value block's account, deal and plan type as columns of the table below it
    (a template's action plan or plan steps name their account or deal once, above)."""
    syn = synonyms()
    present = {f for h in t.headers for kind in syn.values() for f, xs in kind.items() if norm(h) in xs}
    meta, _note = _plan_meta(t)
    extra = []
    for key, (label, value, _row) in meta.items():
        for fld in CONTEXT_FIELDS:
            if fld not in present and any(key in kind.get(fld, ()) for kind in syn.values()):
                # named as every kind knows it ('Trattativa: D1' is the steps' Deal ID)
                extra.append((CONTEXT_LABELS[fld], value))
                present.add(fld)
                break
    if not extra or not t.n_rows:
        return t
    if t.frame is not None:
        frame = t.frame.assign(**{f"__ctx{i}": v for i, (_l, v) in enumerate(extra)})
        frame.columns = [*t.headers, *(lbl for lbl, _ in extra)]
        return Table(t.file, t.sheet, t.header_row, list(frame.columns), [], t.row_numbers, t.meta, t.skipped,
                     t.delimiter, t.banner, frame, t.problems)
    return Table(t.file, t.sheet, t.header_row, [*t.headers, *(lbl for lbl, _ in extra)],
                 [[*r, *(v for _, v in extra)] for r in t.rows], t.row_numbers, t.meta, t.skipped, t.delimiter,
                 problems=t.problems)


def _header_table(t: Table) -> Table | None:
    """A key-value block that is an account plan's or a plan's header, as a one-row table. A
    plan header always gives a plan row, its type written or inferred (_plan_meta)."""
    if not t.meta:
        return None
    meta, note = _plan_meta(t)
    for kind in HEADER_KINDS:
        fields = _header_fields(kind, meta)
        if all(r in fields for r in TABLES[kind][1]):
            lines = [(lbl, v, r) for key, (lbl, v, r) in meta.items() if key in fields.values()]
            first_row = min(r for _l, _v, r in lines)
            return Table(t.file, t.sheet, first_row, [lbl for lbl, _v, _r in lines], [[v for _l, v, _r in lines]],
                         [first_row], {}, [note] if note and kind == "plans" else [], t.delimiter)
    return None


def _repeated_headers(headers: list[str]) -> str | None:
    """'the header 'Amount' is on columns F and G' for the first header written twice."""
    seen: dict[str, list[int]] = {}
    for j, h in enumerate(headers):
        seen.setdefault(h.strip().casefold(), []).append(j)
    for h, cols in seen.items():
        if len(cols) > 1:
            from openpyxl.utils import get_column_letter

            letters = " and ".join(f"{get_column_letter(j + 1)} ({j + 1})" for j in cols)
            return f"the header {headers[cols[0]]!r} is on columns {letters}"
    return None


def header_signature(headers: list[str]) -> str:
    """Files with the same headers (normalised, in order) share a remembered override."""
    return hashlib.sha1("\x1f".join(norm(h) for h in headers).encode()).hexdigest()[:16]


ALIAS_SCORE = 90              # DESIGN.md "Keys from names": similarity >= 90 of 100
ALIAS_MAX_NEW = 20_000        # new names looked at per file (the first ones, in the file's order)
_ALIAS_CELLS = 32_000_000     # names x existing names scored at once (32 MB: one byte a score)


def _alias_form(name: str) -> str:
    """A name as compared for closeness: case and accents dropped, punctuation a space, the
    words in sorted order (so the score is rapidfuzz's token sort ratio)."""
    import unicodedata

    t = unicodedata.normalize("NFKD", name.casefold())
    t = "".join(c if c.isalnum() else " " for c in t if not unicodedata.combining(c))
    return " ".join(sorted(t.split()))


def _possible_aliases(con, names: pd.Series, known: dict, existing: list[tuple[str, str]] | None = None
                      ) -> list[tuple[str, str, str]]:
    """New names close to an existing one (not equal after normalisation): shown, never merged
    silently (DESIGN.md "Keys from names"). `existing` is (id, name) pairs; default the
    accounts. Close: 90 or more on rapidfuzz's token sort ratio (the words in any order). Not
    its token ratio: that scores 100 whenever one name's words are among the other's ('GTX
    Basic' and 'GTX Plus Basic', 'Acme' and 'Acme Corporation' are different names).
    Returns (name in file, closest existing name, its id), one per new name."""
    from rapidfuzz import fuzz, process

    if existing is None:
        rows = con.execute("select account_id, account_name, norm_key(account_name) from accounts "
                           "where account_name is not null order by account_id").fetchall()
    else:
        rows = [(i, n, k) for (i, n), k in zip(existing, _name_keys(con, [n for _i, n in existing]))]
    by_key: dict[str, tuple[str, str]] = {}
    for i, n, k in rows:
        if isinstance(k, str) and k:
            by_key.setdefault(k, (i, n))
    if not by_key:
        return []
    uniq = list(pd.Series(names, dtype="string").dropna().unique())
    new: dict[str, str] = {}
    for name, key in zip(uniq, _name_keys(con, uniq)):
        if isinstance(key, str) and key and key not in by_key and key not in known and key not in new:
            new[key] = name
            if len(new) >= ALIAS_MAX_NEW:
                break
    if not new:
        return []
    old = list(by_key.values())
    old_forms = np.array([_alias_form(n) for _i, n in old], dtype=object)
    old_len = np.array([len(f) for f in old_forms])
    new_forms = pd.Series([_alias_form(n) for n in new.values()], index=list(new.values()), dtype=object)
    best: dict[str, tuple[float, int]] = {}
    # a ratio of 90 needs the longer form at most 11/9 of the shorter: only such pairs are scored
    for length, group in new_forms.groupby(new_forms.map(len)):
        near = np.flatnonzero((old_len * 9 <= length * 11) & (length * 9 <= old_len * 11))
        if not len(near):
            continue
        step, near_forms = max(1, _ALIAS_CELLS // len(near)), list(old_forms[near])
        for lo in range(0, len(group), step):
            part = group.iloc[lo:lo + step]
            # below the cutoff a score is 0; above it, rounded (89.7 is 0, never 90)
            scores = process.cdist(list(part), near_forms, scorer=fuzz.ratio, score_cutoff=ALIAS_SCORE,
                                   dtype=np.uint8, workers=1)
            top = scores.argmax(axis=1)
            for name, row, j in zip(part.index, scores, top):
                if row[j] >= ALIAS_SCORE:
                    best[name] = (row[j], int(near[j]))
    return [(name, old[best[name][1]][1], old[best[name][1]][0]) for name in new.values() if name in best]


CURRENCY_KINDS = ("deals",)                        # tables with amounts and a currency column
NO_CURRENCY_KINDS = ("products", "quotas", "forecast_calls")   # amounts, no currency column: the settings one


def _file_currency(rep: FileReport, m: Mapping, good: pd.DataFrame, default: str, given: str | None,
                   source: str) -> pd.DataFrame:
    """DESIGN.md "Currency": the rows of a file with amounts carry its currency. A file's own
    currency column wins; a file without one (or an empty cell of it) is in the currency given
    for the import (--currency, the Import page), else the settings currency. The summary says
    which currency, and where it came from."""
    if m.kind in NO_CURRENCY_KINDS and given and given != default and AMOUNT_FIELDS & set(good.columns):
        rep.notes.append(f"the currency {given} ({source}) is not stored for {m.kind}: the table has no "
                         f"currency column, its amounts count in the settings currency ({default})")
    if m.kind not in CURRENCY_KINDS or "amount" not in good:
        return good
    cur = given or default
    said = f"{cur}, {source}" if given else (
        f"{cur}, the settings currency (if they are in another currency, say it with --currency CUR "
        "or on the Import page)")
    if "currency" in good:
        header = next((h for h, f in m.columns.items() if f == "currency"), "currency")
        empty = good["currency"].isna()
        codes = sorted(set(good.loc[~empty, "currency"]))
        rep.currency_from = "column"
        rep.notes.append(f"currency from the file's column {header!r}"
                         + (f" ({', '.join(codes[:5])}{', …' if len(codes) > 5 else ''})" if codes else ""))
        if empty.any():
            rep.currency = cur
            good = good.assign(currency=good["currency"].astype("string").fillna(cur))
            rep.notes.append(f"{int(empty.sum()):,} row(s) with no currency in the column {header!r}: their amounts "
                             f"taken in {said}")
        return good
    rep.currency, rep.currency_from = cur, ("given" if given else "settings")
    rep.notes.append(f"the file has no currency column: its amounts taken in {said}")
    return good.assign(currency=pd.Series(cur, index=good.index, dtype="string"))


ALIAS_NOTES = 20   # possible aliases of products or owners said one by one per file; the rest counted
NAME_FIELDS = {   # field -> the tables (and kinds of file) naming it
    "product": ("products", "deals"),
    "owner": ("owners", "deals", "quotas", "forecast_calls"),
}


def _name_aliases(con, staged: list[_Staged]) -> None:
    """Products and owners as accounts (DESIGN.md "Keys from names"): names equal after
    normalisation simply match (the joins compare norm_key); a name close to one already known
    (stored, or in another file of the batch) is said once per pair, as a possible alias, and
    loads as written, never merged."""
    for fld, tables in NAME_FIELDS.items():
        files = [st for st in staged if st.kind in tables and fld in st.frame]
        if not files:
            continue
        union = " union ".join(f'select "{fld}" from "{t}"' for t in tables)
        stored = [r[0] for r in con.execute(f"select * from ({union}) where {fld} is not null order by 1").fetchall()]
        in_file = {id(st): list(pd.Series(st.frame[fld], dtype="string").dropna().unique()) for st in files}
        said: set[frozenset] = set()
        for st in files:
            others = [("stored", n) for n in stored]     # (where, name)
            others += [(o.report.file, n) for o in files if o is not st for n in in_file[id(o)]]
            if not others:
                continue
            found = _possible_aliases(con, pd.Series(in_file[id(st)], dtype="string"), {}, others)
            keys = _name_keys(con, [n for new, old, _w in found for n in (new, old)])
            shown = 0
            for k, (new, old, where) in enumerate(found):
                pair = frozenset((keys[2 * k], keys[2 * k + 1]))
                if pair in said:
                    continue
                said.add(pair)
                shown += 1
                if shown <= ALIAS_NOTES:
                    st.report.notes.append(
                        f"{fld} {new!r} looks like {old!r} ({'already stored' if where == 'stored' else 'in ' + where}): "
                        f"a possible alias, loaded as written (close names are never merged); if they are one {fld}, "
                        "write it the same way everywhere")
            if shown > ALIAS_NOTES:
                st.report.notes.append(f"… and {shown - ALIAS_NOTES:,} more {fld} name(s) that look like another one: "
                                       "possible aliases, loaded as written")


def stage_files(paths: list[Path], con, overrides: dict | None = None, names: list[str] | None = None,
                snapshot_date: date | None = None, currency: str | None = None,
                currency_source: str = "given with --currency") -> tuple[list[_Staged], list[dict], list[FileReport], list[str]]:
    """Read, map, convert and validate every file; nothing is written. `currency`: the
    currency of the files with amounts but no currency column (default the settings
    currency), `currency_source` where it was given (for the summary)."""
    types = {**schema_types(con), **FILE_ONLY_TYPES}
    conf = settings.load(con)
    cfg = settings.stage_config(con, conf)
    remembered = conf["mapping_overrides"]
    aliases = {**conf["account_aliases"], **((overrides or {}).get("*", {}).get("aliases") or {})}
    stage_map = _stage_mapper(cfg)
    remembered_values = conf["value_mappings"]

    def answers_for(override: dict) -> dict:
        """Value mappings: remembered, then the whole command's, then this file's."""
        out = {f: dict(ws) for f, ws in remembered_values.items()}
        for part in ((overrides or {}).get("values") or {}, override.get("values") or {}):
            for f, ws in part.items():
                out.setdefault(f, {}).update(ws or {})
        return out

    known = known_headers()
    staged, rejects, reports, errors = [], [], [], []
    for idx, path in enumerate(paths):
        name = names[idx] if names else path.name
        override = (overrides or {}).get(name) or (overrides or {}).get("*") or {}
        try:
            found = read_tables(path, known, name)
        except InputError as exc:
            errors.append(str(exc))
            reports.append(FileReport(name, None, None, None, 0.0, "", notes=[str(exc)]))
            continue
        tables = [h for t in found if (h := _header_table(t)) is not None]
        tables += [_with_context(t) for t in found if t.n_rows]
        if not tables:
            msg = (f"{name}: no table with data rows was found (a header row and at least one row "
                   f"below it){pictures_note(path)}; the file yields no rows")
            errors.append(msg)
            reports.append(FileReport(name, None, None, None, 0.0, "", notes=[msg]))
            continue
        # key-value lines that head no table and are no plan's header (an export's Numbers
        # sheet): said aloud, never taken for data
        aside = [t for t in found if t.meta and not t.n_rows and _header_table(t) is None]
        first_report = len(reports)
        for t in tables:
            # stage-date columns are recognised against the known stages and the file's own
            stage_names = list(cfg.stages)
            stage_col = next((h for h, f in detect(t, [], override).columns.items() if f == "stage"), None)
            if stage_col is not None:
                stage_names += sorted(t.values(stage_col))
            sig = header_signature(t.headers) if t.headers else None
            used = override if (override.get("kind") or override.get("columns")) else remembered.get(sig, {})
            m = detect(t, list(dict.fromkeys(stage_names)), used)
            rep = FileReport(name, t.sheet, t.header_row, m.kind, m.confidence, describe(m), rows=t.n_rows,
                             notes=list(t.skipped), detected=m, remembered=bool(used) and used is not override)
            if rep.remembered:
                rep.notes.append("mapping as confirmed for an earlier file with the same headers")
            reports.append(rep)
            where = f"{name}{', sheet ' + repr(t.sheet) if t.sheet else ''}, header row {t.header_row}"
            repeated = _repeated_headers(t.headers)
            if repeated:
                errors.append(f"{where}: {repeated}; expected each column to have its own header. Rename one of "
                              "them in the file")
                continue
            if m.conflicts:
                h, f = m.conflicts[0]
                other = next(o for o, g in m.columns.items() if g == f)
                errors.append(f"{where}: the columns {other!r} and {h!r} both mean {f}; expected one column for it. "
                              f"Delete one, or say which to use with --mapping FILE.json, e.g. "
                              f'{{"{name}": {{"columns": {{"{h}": null}}}}}} (on the Import page: set it to not used)')
                continue
            taken: dict[str, str] = {}
            twice = None
            for h, f in m.columns.items():
                if f and f in taken:
                    twice = (taken[f], h, f)
                    break
                if f:
                    taken[f] = h
            if twice:
                first, second, fld = twice
                errors.append(f"{name}: the columns {first!r} and {second!r} both map to the field {fld}; "
                              "map one of them to (not used)")
                continue
            if m.confidence < MIN_CONFIDENCE:
                msg = (f"{name}{', sheet ' + repr(t.sheet) if t.sheet else ''}: not sure what this table is "
                       f"(best guess {describe(m)}). Confirm with --mapping FILE.json, e.g. "
                       f'{{"{name}": {{"kind": "{m.kind}", "columns": {{"<header>": "<field>"}}}}}}')
                errors.append(msg)
                continue
            try:
                df, info = _convert(t, m, types.get(m.kind, {}), stage_map, t.delimiter, override, rejects,
                                    answers_for(override))
            except InputError as exc:
                errors.append(str(exc))
                continue
            rep.notes += info["notes"]
            rep.questions = info["questions"]
            bad = info["bad"] | _validate(t, m, df, info["raw"], rejects)
            rep.rejected = int(bad.sum())
            good = df[~bad].copy() if bad.any() else df
            good = _file_currency(rep, m, good, conf["currency"], currency, currency_source)
            shown = good.drop(columns=[c for c in good.columns if c.startswith("__")]).head(PREVIEW_ROWS).copy()
            for c in shown.columns:   # dates without a time read as dates
                if str(shown[c].dtype).startswith("datetime64") and (shown[c].dropna().dt.normalize() == shown[c].dropna()).all():
                    shown[c] = shown[c].dt.date
            rep.preview = shown
            provided = [c for c in good.columns if not c.startswith("_") and not c.startswith("__entered__")]
            snap = _snapshot_date(t, snapshot_date) if m.kind == "deals" else None
            keep = (sig, {"kind": m.kind, "columns": m.columns}) if sig and used is override and used else None
            if "account_name" in good:
                rep.aliases = _possible_aliases(con, good["account_name"], aliases)
                for new, old, acc in rep.aliases:
                    rep.notes.append(f"possible alias: {new!r} looks like the account {old!r} ({acc}); it loads as a "
                                     f"new account unless merged (Import page, or --mapping "
                                     f'{{"*": {{"aliases": {{"{new}": "{acc}"}}}}}})')
            staged.append(_Staged(rep, m.kind, good, provided, m.stage_columns, snap, keep))
        if aside and len(reports) > first_report:
            for t in aside:
                labels = ", ".join(repr(lbl) for lbl, _v, _r in list(t.meta.values())[:3])
                reports[first_report].notes.append(
                    f"{'sheet ' + repr(t.sheet) if t.sheet else 'the file'}: {len(t.meta)} key-value line(s) "
                    f"({labels}{', …' if len(t.meta) > 3 else ''}) head no table and are no plan's header: not imported")
    _name_aliases(con, staged)
    if stage_map is None:
        errors += _stage_synonyms(staged, cfg.stages, answers_for({}).get("stage", {}))
    return staged, rejects, reports, errors


_CLOSED_WORDS = {"closed", "chiusa", "chiuso", "chiuse", "chiusi"}


def _synonym_key(name: str) -> str:
    """Stage names that may be one stage: equal once closed/chiusa/chiuso and case are dropped,
    or of the same closed kind (Won and Closed Won, Vinto and Chiusa vinta)."""
    if settings.is_won_name(name):
        return "\x00won"
    if settings.is_lost_name(name):
        return "\x00lost"
    return " ".join(w for w in vocabulary.word_key(name).split() if w not in _CLOSED_WORDS)


def _stage_synonyms(staged: list[_Staged], known: tuple[str, ...], answered: dict) -> list[str]:
    """DESIGN "Stages": a new stage name that looks like a synonym of a known one (or of another
    new one) is asked about, never merged or kept apart silently. The answer is a value mapping
    of the stage: to the other name (the same stage) or to itself (a stage of its own)."""
    seen: dict[str, dict[str, tuple[_Staged, int]]] = {}
    for name in known:
        seen.setdefault(_synonym_key(name), {})[name] = (None, 0)
    for st in staged:
        counts = st.frame["stage"].value_counts(sort=False) if "stage" in st.frame else pd.Series(dtype="int64")
        counts = pd.concat([counts, pd.Series(0, index=list(st.stage_columns.values()), dtype="int64")])
        for name, n in counts.groupby(level=0).sum().items():
            seen.setdefault(_synonym_key(str(name)), {}).setdefault(str(name), (st, int(n)))
    out = []
    for group in seen.values():
        if len(group) < 2:
            continue
        for name, (st, n) in group.items():
            if st is None or vocabulary.word_key(name) in {vocabulary.word_key(w) for w in answered}:
                continue     # already in the data, or answered: the new names are the ones asked about
            others = tuple(o for o in group if o != name)
            if any(o in known for o in others) or name == sorted(group)[-1]:
                q = vocabulary.Question("stage", "stage", name, n, (*others, name))
                st.report.questions.append(q)
                out.append(f"{st.report.file}: the stage {name!r} may be the same stage as "
                           f"{' or '.join(repr(o) for o in others)}: say which (answer {name!r} itself to keep it a "
                           f"stage of its own) on the Import page, or with --mapping FILE.json "
                           f'{{"values": {{"stage": {{"{name}": "<stage>"}}}}}}')
    return out


def _rejects_frame(rejects: list[dict]) -> pd.DataFrame:
    """The bad values as a frame; a missing sheet (a csv) stays None, never the text 'nan'."""
    rej = pd.DataFrame(rejects, columns=["file_name", "sheet", "row_number", "column_name", "value", "reason"])
    for c in ("file_name", "sheet", "column_name", "value", "reason"):
        rej[c] = rej[c].astype(object).where(rej[c].notna(), None)
    return rej


def preview(path, files: list[Path], names: list[str] | None = None, overrides: dict | None = None,
            snapshot_date: date | None = None, currency: str | None = None,
            currency_source: str = "given with --currency") -> ImportResult:
    """What an import would do, without writing: kinds, mappings, the first rows as they
    would be stored, every bad value and every file-level error."""
    with db.read(path) as con:
        _staged, rejects, reports, errors = stage_files([Path(f) for f in files], con, overrides, names, snapshot_date,
                                                        currency, currency_source)
    rej = _rejects_frame(rejects)
    status = "rejected" if errors else "ready"
    return ImportResult(status, None, reports, rej, "; ".join(errors))


DERIVED_DATES = {"deals": {"created_date": "created_derived", "closed_date": "closed_derived"}}


def upsert(b: db.Batch, table: str, frame: pd.DataFrame, columns: list[str], table_cols: list[str]) -> tuple[int, int, int]:
    """Insert new keys, replace changed rows (their prior image kept for undo), skip equal
    ones. Columns the file does not provide keep their stored values; so does a date the file
    leaves empty where the stored one was derived (it is derived again after the load)."""
    con = b.con
    keys = list(TABLES[table][0])
    all_cols = [c for c in table_cols if c != "batch_id"]
    key_list = ", ".join(f'"{k}"' for k in keys)
    stored = f'exists (select 1 from "{table}" e where ' + " and ".join(f'e."{k}" = n."{k}"' for k in keys) + ")"
    in_changed = f"({key_list}) in (select ({key_list}) from changed_keys)"
    incoming = frame[[c for c in columns if c in all_cols]]  # read by its name in the SQL (FRAMES_BY_NAME)
    join = " and ".join(f'e."{k}" = i."{k}"' for k in keys)
    derived = {c: flag for c, flag in DERIVED_DATES.get(table, {}).items() if c in columns}

    def chosen(c: str) -> str:
        if c in derived:          # empty in the file, derived in the database: keep the derived date
            return f'case when i."{c}" is null and e."{derived[c]}" then e."{c}" else i."{c}" end'
        if c in derived.values():
            d = next(k for k, v in derived.items() if v == c)
            return f'coalesce(i."{d}" is null and e."{c}", i."{d}" is null)'
        return f'i."{c}"' if c in columns else f'e."{c}"'

    select = ", ".join(chosen(c) + f' as "{c}"' for c in all_cols)
    con.execute(f'create or replace temp table inc_full as select {select}, ? as batch_id '
                f'from incoming i left join "{table}" e on {join}', [b.batch_id])
    differs = " or ".join(f'n."{c}" is distinct from e."{c}"' for c in all_cols if c not in keys)
    con.execute(f'create or replace temp table changed_keys as select {", ".join(f"n.{chr(34)}{k}{chr(34)}" for k in keys)} '
                f'from inc_full n join "{table}" e using ({key_list}) where {differs or "false"}')
    new = con.execute(f"select count(*) from inc_full n where not {stored}").fetchall()[0][0]
    changed = con.execute("select count(*) from changed_keys").fetchall()[0][0]
    if changed:
        con.execute(f'insert into undo_log select ?, ?, to_json(t) from "{table}" t where {in_changed}',
                    [b.batch_id, table])
        con.execute(f'delete from "{table}" where {in_changed}')
    con.execute(f'insert into "{table}" by name select * from inc_full n where {in_changed} or not {stored}')
    unchanged = len(frame) - new - changed
    if new or changed:
        b.touched.add(table)
    return int(new), int(changed), int(unchanged)


HISTORY_TYPES = {"deal_id": "varchar", "changed_at": "timestamp", "stage": "varchar", "amount": "double",
                 "close_date": "date", "forecast_category": "varchar", "probability": "double"}


def _insert_history(b: db.Batch, source: pd.DataFrame | str, shape: str) -> tuple[int, int]:
    """History rows (a frame, or the name of a temp table with the same columns) are
    de-duplicated: a row equal to a stored one is not added again. `shape` records where
    they came from (full, field_log, wide, snapshot)."""
    con = b.con
    cols = list(HISTORY_TYPES)
    if isinstance(source, pd.DataFrame):
        f = source[[c for c in cols + ["_order"] if c in source]]   # absent fields are nulls below
        for c in ("probability", "amount"):
            if c in f and not pd.api.types.is_float_dtype(f[c]):
                f = f.assign(**{c: pd.to_numeric(f[c], errors="coerce")})
        incoming_history = f  # read by its name in the SQL (FRAMES_BY_NAME)
        rel, n, present = "incoming_history", len(f), set(f.columns)
    else:
        rel, n, present = source, con.execute(f"select count(*) from {source}").fetchall()[0][0], set(cols)
    same = " and ".join(f'h."{c}" is not distinct from n."{c}"' for c in cols)
    top = con.execute("select coalesce(max(seq), 0) from deal_history").fetchone()[0]
    con.execute(f"""
        insert into deal_history
        with n as (
            select {", ".join(f'{("i." + chr(34) + c + chr(34)) if c in present else "null"}::{t} as "{c}"'
                              for c, t in HISTORY_TYPES.items())},
                   i._order
            from {rel} i
        )
        select deal_id, changed_at, stage, amount, close_date, forecast_category, probability,
               ? + _order - (select min(_order) from {rel}) + 1, ?, ?
        from n
        where not exists (select 1 from deal_history h where {same})
    """, [top, b.batch_id, shape])   # seq keeps the rows' order (_order is unique): no sort needed
    added = con.execute("select count(*) from deal_history where seq > ?", [top]).fetchall()[0][0]
    if added:
        b.touched.add("deal_history")
    return int(added), int(n - added)


def _name_keys(con, names) -> pd.Series:
    """Names in their normalised key form (the norm_key macro): each distinct name once, in one query."""
    names = pd.Series(names, dtype="string").reset_index(drop=True)
    uniq = names.dropna().unique()
    keys = dict(con.execute("select n, norm_key(n) from (select unnest(?::varchar[]) as n)", [list(uniq)]).fetchall())
    return names.map(keys).astype("string")


def _account_ids(df: pd.DataFrame, con, aliases: dict | None = None) -> pd.DataFrame:
    """account_id where the file gives only names: a name the user merged into an existing
    account (an alias) takes that account's id; a name equal after normalisation to the one
    account already of that name takes its id (DESIGN.md "Keys from names": an account plan
    written for the CRM's "Alpha Foods" joins ACC-17, not a new account); else the
    normalised name itself."""
    if "account_name" in df and ("account_id" not in df or df["account_id"].isna().any()):
        aliases = aliases or {}
        keys = _name_keys(con, df["account_name"]).set_axis(df.index)
        known = dict(con.execute(
            "select norm_key(account_name), min(account_id) from accounts "
            "where norm_key(account_name) in (select unnest(?::varchar[])) group by 1 having count(*) = 1",
            [list(keys.dropna().unique())]).fetchall())
        derived = keys.map(known).astype("string").fillna(keys) if known else keys
        derived = keys.map(aliases).astype("string").fillna(derived) if aliases else derived
        derived = derived.where(derived != "")
        df["account_id"] = df["account_id"].where(df["account_id"].notna(), derived) if "account_id" in df else derived
    return df


def _wide_history(df: pd.DataFrame, stage_columns: dict[str, str]) -> pd.DataFrame:
    """Wide "date entered <stage>" columns as full-state history rows; fields the shape does
    not record come from the deal's current values. A closed deal whose current stage has no
    date column entered it at its closed date (else its close date)."""
    parts = []
    for _h, stage in stage_columns.items():
        col = f"__entered__{stage}"
        rows = df[df[col].notna()]
        parts.append(pd.DataFrame({"deal_id": rows["deal_id"], "changed_at": rows[col], "stage": stage,
                                   "_row": rows["_row"]}))
    entered = set(stage_columns.values())
    closed_at = df["closed_date"] if "closed_date" in df else pd.Series(pd.NaT, index=df.index)
    if "close_date" in df:
        closed_at = closed_at.fillna(df["close_date"])
    closed = df["stage"].map(lambda s: isinstance(s, str) and (settings.is_won_name(s) or settings.is_lost_name(s)))
    tail = df[closed & ~df["stage"].isin(entered) & closed_at.notna()]
    parts.append(pd.DataFrame({"deal_id": tail["deal_id"], "changed_at": closed_at[tail.index], "stage": tail["stage"],
                               "_row": tail["_row"]}))
    hist = pd.concat(parts, ignore_index=True)
    current = df.set_index("deal_id")
    for f in ("amount", "close_date", "forecast_category", "probability"):
        hist[f] = hist["deal_id"].map(current[f]) if f in current else None
    hist["_order"] = range(len(hist))
    return hist.sort_values(["deal_id", "changed_at", "_order"])


def import_files(path, files: list[Path], keep_good_rows: bool = False, overrides: dict | None = None,
                 names: list[str] | None = None, snapshot_date: date | None = None, currency: str | None = None,
                 currency_source: str = "given with --currency") -> ImportResult:
    files = [Path(f) for f in files]
    with db.read(path) as con:
        staged, rejects, reports, errors = stage_files(files, con, overrides, names, snapshot_date, currency,
                                                       currency_source)
    rej = _rejects_frame(rejects)
    description = "import: " + ", ".join(names or [f.name for f in files])
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
        with db.batch(path, "import", description) as b:
            _load(b, staged, (overrides or {}).get("*", {}).get("aliases"), _given_values(overrides))
            for i, f in enumerate(files):
                nm, digest = (names[i] if names else f.name), _sha256(f)
                for r in [r for r in reports if r.file == nm]:
                    b.con.execute("insert into import_files values (?, ?, ?, ?, ?, ?, ?)",
                                  [b.batch_id, nm, digest, r.sheet, r.kind, r.new + r.changed, r.rejected])
            if len(rej):   # read by name (FRAMES_BY_NAME)
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
    return ImportResult("loaded", batch_id, reports, rej, msg)


def _given_values(overrides: dict | None) -> dict:
    """Every value mapping of a command (its top-level `values` and each file's), field -> word -> value."""
    out: dict[str, dict] = {}
    parts = [(overrides or {}).get("values")] + [o.get("values") for o in (overrides or {}).values() if isinstance(o, dict)]
    for part in parts:
        for f, ws in (part or {}).items():
            out.setdefault(f, {}).update(ws or {})
    return out


def _load(b: db.Batch, staged: list[_Staged], new_aliases: dict | None = None, new_values: dict | None = None) -> None:
    con = b.con
    conf = settings.load(con)
    aliases = conf["account_aliases"]
    if new_aliases:   # merges the user confirmed: by normalised name, remembered in this batch
        keys = dict(zip(_name_keys(con, list(new_aliases)), new_aliases.values()))
        if {**aliases, **keys} != aliases:
            aliases = {**aliases, **keys}
            settings.write_in_batch(b, "account_aliases", aliases)
    if new_values:   # value mappings the user gave: remembered for later files
        merged = {f: dict(ws) for f, ws in conf["value_mappings"].items()}
        for f, ws in new_values.items():
            merged.setdefault(f, {}).update({vocabulary.word_key(w): v for w, v in (ws or {}).items() if v})
        if merged != conf["value_mappings"]:
            settings.write_in_batch(b, "value_mappings", merged)
    remember = {sig: o for st in staged if st.remember for sig, o in [st.remember]}
    if remember and {**conf["mapping_overrides"], **remember} != conf["mapping_overrides"]:
        settings.write_in_batch(b, "mapping_overrides", {**conf["mapping_overrides"], **remember})
    by_kind: dict[str, list[_Staged]] = {}
    # successive snapshots in the order of their dates, not of the command line: the latest-dated
    # one gives the deals' current fields
    for st in sorted(staged, key=lambda st: st.snapshot[0] if st.snapshot and not st.stage_columns else datetime.min):
        by_kind.setdefault(st.kind, []).append(st)
    types = schema_types(con)
    for kind in LOAD_ORDER:
        for st in by_kind.get(kind, []):
            _load_one(b, st, aliases, types)
            st.frame = None   # its rows are in the database now: free them before the next file and the refresh
    release_arrow_memory()
    b.frames_released = True
    _snapshot_history(b, [st for st in staged if st.kind == "deals" and st.snapshot and not st.stage_columns])
    _say_derived_dates(b, staged)


def _load_one(b: db.Batch, st: _Staged, aliases: dict, types: dict) -> None:
    con, kind, df = b.con, st.kind, st.frame
    if "account_name" in df or "account_id" in df:
        df = _account_ids(df, con, aliases)
        _one_row_per_key(st, df)
        if kind != "accounts":
            _ensure_accounts(b, df)
    if kind in ("deal_field_history", "deal_history") or (kind == "deals" and st.stage_columns):
        _replace_snapshot_rows(b, st, df)
    if kind == "deal_field_history":
        rows = _field_log_history(con, st)
        added, _same = _insert_history(b, rows, "field_log") if rows else (0, 0)
        if rows:
            con.execute(f"drop table {rows}")
        st.report.new = added
        b.rows_loaded += added
        st.report.notes.append(f"{added:,} full-state history row(s) built from {len(df):,} field change(s)")
        return
    if kind == "deal_history":
        added, same = _insert_history(b, df.assign(_order=df["_row"]), "full")
        st.report.new, st.report.unchanged = added, same
        b.rows_loaded += added
        return
    if kind == "deals" and not st.stage_columns:
        df = _observe_snapshot(b, st, df)
    cols = [c for c in df.columns if not c.startswith("_") and c in types[kind]]
    new, changed, unchanged = upsert(b, kind, df, cols, list(types[kind]))
    st.report.new, st.report.changed, st.report.unchanged = new, changed, unchanged
    b.rows_loaded += new + changed
    if kind == "plan_steps":
        _plans_for_steps(b, st)
    if kind == "deals" and st.stage_columns:
        wide = _wide_history(df, st.stage_columns)
        added, _same = _insert_history(b, wide, "wide")
        b.rows_loaded += added
        st.report.notes.append(
            f"{added:,} history row(s) from the stage-date column(s) "
            f"{', '.join(repr(h) for h in st.stage_columns)} and closed deals' closing dates; their "
            "amount, close date, forecast category and probability are the deal's current values")


def _one_row_per_key(st: _Staged, df: pd.DataFrame) -> None:
    """Two names that are one account once normalised ('Acme S.p.A.', 'ACME SpA') give one
    account id: their rows must not then repeat a key (a goal twice). Said with both rows;
    the batch changes nothing."""
    keys = [k for k in TABLES[st.kind][0] if k in df]
    if "account_id" not in keys or len(keys) < 2:
        return
    dup = df.duplicated(keys, keep=False) & df[keys].notna().all(axis=1)
    if dup.any():
        rows = df[dup].sort_values(keys).head(2)
        names = rows["account_name"].tolist() if "account_name" in rows else rows["account_id"].tolist()
        raise InputError(f"{st.report.file}: rows {int(rows['_row'].iloc[0])} and {int(rows['_row'].iloc[1])} name the "
                         f"accounts {names[0]!r} and {names[1]!r}, which are one account once case, accents and "
                         f"punctuation are ignored, and repeat {keys[1]} {rows[keys[1]].iloc[0]!r}; expected one row "
                         "per account and key. Give the account IDs, or one name per account")


def _plans_for_steps(b: db.Batch, st: _Staged) -> None:
    """Steps whose deal has no plan of their type get one (DESIGN "Reading values"): reports
    never silently ignore stored steps."""
    added = b.con.execute("""
        insert into plans (deal_id, plan_type, batch_id)
        select distinct s.deal_id, s.plan_type, ? from plan_steps s
        where s.batch_id = ? and not exists (select 1 from plans p where p.deal_id = s.deal_id
                                             and p.plan_type = s.plan_type)
        returning deal_id
    """, [b.batch_id, b.batch_id]).fetchall()
    if added:
        b.touched.add("plans")
        b.rows_loaded += len(added)
        st.report.notes.append(f"{len(added):,} deal(s) had steps but no plan of their type: a plan row was created "
                               "for each (fill in its owners and dates with a plan header or the plan template)")


def _replace_snapshot_rows(b: db.Batch, st: _Staged, df: pd.DataFrame) -> None:
    """History of another shape replaces the snapshot rows of its deals (DESIGN deal_history):
    deals first and history in a later batch give the same history as both at once. The
    replaced rows are kept for undo."""
    con = b.con
    history_ids = pd.DataFrame({"deal_id": pd.Series(df["deal_id"], dtype="string").dropna().unique()})  # read by its name (FRAMES_BY_NAME)
    con.execute("""create or replace temp table replaced as
                   select seq, deal_id from deal_history
                   where shape = 'snapshot' and deal_id in (select deal_id from history_ids)""")
    n, deals = con.execute("select count(*), count(distinct deal_id) from replaced").fetchone()
    if n:
        b.save_prior_rows("deal_history", "seq in (select seq from replaced)", [])
        con.execute("delete from deal_history where seq in (select seq from replaced)")
        b.touched.add("deal_history")
        b.rows_loaded += n
        st.report.notes.append(f"{n:,} history row(s) built earlier from snapshots of {deals:,} deal(s) replaced by "
                               "this file's history (undo brings them back)")
    con.execute("drop table replaced")


def _observe_snapshot(b: db.Batch, st: _Staged, df: pd.DataFrame) -> pd.DataFrame:
    """A plain deals export is a snapshot of its deals as of its date (DESIGN deal_history):
    every deal of it is recorded in deal_snapshots. A field the file has no column for is the
    deal's stored value, never an empty one (a file without amounts changes no amount).
    Returns the rows whose current fields it gives: a deal with a later-dated snapshot (this
    batch or earlier) keeps that one's. Two snapshots of the same date that disagree about a
    deal are an error naming both files."""
    con = b.con
    when, source = st.snapshot
    cols = {"stage": "varchar", "amount": "double", "close_date": "date", "forecast_category": "varchar",
            "created_date": "date", "closed_date": "date"}
    observed = df[["deal_id", *(c for c in cols if c in df)]]   # read by its name (FRAMES_BY_NAME)
    observed = observed[observed["deal_id"].notna()]
    value = {c: (f"o.{c}::{t}" if c in df else f"d.{c}") for c, t in cols.items()}
    select = ", ".join(f"{v} as {c}" for c, v in value.items())
    con.execute(f"create or replace temp table obs as select o.deal_id, {select} "
                "from observed o left join deals d on d.deal_id = o.deal_id")
    if source == "the import date":
        # no date anywhere: a later export of the same day is a newer state, not a disagreement
        # (the one case where the order of imports can change a result: the summary says so)
        where = ("snapshot_at = ? and batch_id <> ? and exists (select 1 from obs o where o.deal_id = t.deal_id and "
                 "(o.stage, o.amount, o.close_date, o.forecast_category) is distinct from "
                 "(t.stage, t.amount, t.close_date, t.forecast_category))")
        b.save_prior_rows("deal_snapshots", where, [when, b.batch_id])
        con.execute(f"delete from deal_snapshots t where {where}", [when, b.batch_id])
        st.report.notes.append("no snapshot date in the file, its name or --snapshot-date: dated by the import date, "
                               "so a later export imported the same day replaces this one's states (give each "
                               "export its date to keep them apart)")
    clash = con.execute("""
        select o.deal_id, s.source from obs o join deal_snapshots s
          on s.deal_id = o.deal_id and s.snapshot_at = $when
        where (s.stage, s.amount, s.close_date, s.forecast_category)
              is distinct from (o.stage, o.amount, o.close_date, o.forecast_category)
        limit 1
    """, {"when": when}).fetchone()
    if clash:
        raise InputError(f"{st.report.file} and {clash[1].rsplit(' (', 1)[0]} are both snapshots dated {when.date()} "
                         f"and disagree about the deal {clash[0]!r}; expected one state per deal and date. Give one "
                         "of them another date (--snapshot-date, or the date in its name)")
    later = {r[0] for r in con.execute(
        "select distinct deal_id from deal_snapshots where snapshot_at > ? and deal_id in (select deal_id from obs)",
        [when]).fetchall()}
    added = con.execute("""
        insert into deal_snapshots
        select o.deal_id, $when, o.stage, o.amount, o.close_date, o.forecast_category, o.created_date, o.closed_date,
               $source, $b
        from obs o
        where not exists (select 1 from deal_snapshots s where s.deal_id = o.deal_id and s.snapshot_at = $when)
    """, {"when": when, "source": f"{st.report.file} ({source})", "b": b.batch_id}).fetchone()[0]
    con.execute("drop table obs")
    if added:   # a snapshot seen is data, even when it changes no history row (an older export)
        b.touched.add("deal_snapshots")
        b.rows_loaded += added
    if later:
        st.report.notes.append(f"{len(later):,} deal(s) already have a later-dated snapshot: their current fields "
                               "come from it, this older export adds to their history only")
        return df[~df["deal_id"].astype("string").isin(later)]
    return df


def _snapshot_history(b: db.Batch, snaps: list[_Staged]) -> None:
    """The snapshot rows of deal_history for every deal this batch observed, rebuilt from all
    of its snapshots (sql/snapshot_history.sql), so the history never depends on the order of
    the files or their split into batches. The rows replaced are kept for undo."""
    if not snaps:
        return
    con = b.con
    con.execute("create or replace temp table snap_deals as "
                "select distinct deal_id from deal_snapshots where batch_id = ?", [b.batch_id])
    won, lost = settings.closed_stages(con)
    con.execute(f"create or replace temp table snap_rows as {models.sql('snapshot_history')}",
                {"closed_stages": [*won, *lost]})
    # only the difference is written: rows no longer due go (kept for undo), new ones come
    same = " and ".join(f'h."{c}" is not distinct from n."{c}"' for c in HISTORY_TYPES)
    where = (f"shape = 'snapshot' and deal_id in (select deal_id from snap_deals) "
             f"and not exists (select 1 from snap_rows n where {same.replace('h.', 'deal_history.')})")
    con.execute(f"insert into undo_log select ?, 'deal_history', to_json(t) from deal_history t "
                f"where {where.replace('deal_history.', 't.')}", [b.batch_id])
    before = con.execute(f"select count(*) from deal_history where {where}").fetchone()[0]
    con.execute(f"delete from deal_history where {where}")
    added, _same = _insert_history(b, "snap_rows", "snapshot")
    if before:
        b.touched.add("deal_history")
    b.rows_loaded += added + before
    for st in snaps:
        when, source = st.snapshot
        st.report.notes.append(f"snapshot dated {when.date().isoformat()} (from {source})")
    snaps[-1].report.notes.append(
        f"history from the snapshots: {added:,} row(s) added and {before:,} replaced for the deals these exports hold, "
        "one at each deal's created date and one at each later snapshot date where it changed")
    missing = con.execute("""
        select count(distinct deal_id) from deal_snapshots
        where deal_id not in (select deal_id from snap_deals)
    """).fetchone()[0]
    if missing:
        snaps[-1].report.notes.append(f"{missing:,} deal(s) seen in earlier snapshots are not in "
                                      f"{'this export' if len(snaps) == 1 else 'these exports'}; they are kept")
    con.execute("drop table snap_rows")
    con.execute("drop table snap_deals")


def _ensure_accounts(b: db.Batch, deals: pd.DataFrame) -> None:
    """Accounts named by deals, plans or maps but not loaded get a row (name and derived id)
    in this batch, so every account_id refers to an account."""
    if "account_id" not in deals:
        return
    con = b.con
    pairs = deals[["account_id"] + (["account_name"] if "account_name" in deals else [])].dropna(subset=["account_id"])
    pairs = pairs.drop_duplicates("account_id")
    if "account_name" not in pairs:
        pairs = pairs.assign(account_name=pairs["account_id"])
    named_accounts = pairs  # read by its name in the SQL (FRAMES_BY_NAME)
    con.execute("""
        insert into accounts (account_id, account_name, batch_id)
        select account_id, coalesce(account_name, account_id), ? from named_accounts n
        where not exists (select 1 from accounts a where a.account_id = n.account_id)
    """, [b.batch_id])
    b.touched.add("accounts")


def _say_derived_dates(b: db.Batch, staged: list[_Staged]) -> None:
    """The summary of DESIGN "Dates of a deal" for the deals this batch wrote: how many
    created and closed dates will be derived from the history (models.derive_deal_dates does
    it, at the end of every batch, for every deal whose history changed)."""
    won, lost = settings.closed_stages(b.con)
    filled, filled_closed = b.con.execute("""
        select count(*) filter (where (created_date is null or created_derived)
                                and exists (select 1 from deal_history h where h.deal_id = d.deal_id)),
               count(*) filter (where list_contains($closed, stage) and (closed_date is null or closed_derived))
        from deals d where batch_id = $b
    """, {"closed": [*won, *lost], "b": b.batch_id}).fetchone()
    for st in staged:
        if st.kind == "deals":
            if filled:
                st.report.notes.append(f"{filled:,} deal(s) had no created date: filled from their earliest history date")
            if filled_closed:
                st.report.notes.append(f"{filled_closed:,} closed deal(s) had no closed date: filled from "
                                       "their history, else their close date")
            break


def _log_rejected(path, description, files, names, reports, rej: pd.DataFrame, errors: list[str]) -> None:
    """A rejected attempt: only the import log records it; every data table is unchanged."""
    file_errors = pd.DataFrame([{"file_name": None, "sheet": None, "row_number": None, "column_name": None,
                                 "value": None, "reason": e} for e in errors],
                               columns=rej.columns)
    all_rej = pd.concat([file_errors, rej], ignore_index=True) if len(file_errors) else rej
    with db.write(path) as con:
        con.begin()
        batch_id = int(con.execute("select coalesce(max(batch_id), 0) + 1 from import_batches").fetchone()[0])
        con.execute("insert into import_batches (batch_id, action, description, started_at, finished_at, status, "
                    "rows_loaded, rows_rejected) values (?, 'import', ?, ?, ?, 'rejected', 0, ?)",
                    [batch_id, description, datetime.now(), datetime.now(), len(all_rej)])
        for i, f in enumerate(files):
            nm = names[i] if names else f.name
            if f.is_file():
                con.execute("insert into import_files values (?, ?, ?, ?, ?, 0, ?)",
                            [batch_id, nm, _sha256(f), None, None, int((rej["file_name"] == nm).sum())])
        if len(all_rej):   # read by name (FRAMES_BY_NAME)
            con.execute("insert into import_rejects select ?, * from all_rej", [batch_id])
        con.commit()
