"""Finding tables, after reading: a key-value header block (a plan's deal, owners, dates) made
into a one-row table or carried into the rows below it as context, repeated headers, the
header signature a remembered mapping is keyed by, and a deals export's date (its banner,
header block or name)."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime


from .fields import TABLES
from .mapping import synonyms
from .read import Table, norm


SNAPSHOT_LABELS = {"snapshot date", "as of", "report date", "data report", "exported", "export date", "data estrazione",
                   "date", "data"}
_DATE_IN_TEXT = re.compile(r"(20\d{2})[-_./]?([01]\d)[-_./]?([0-3]\d)")


_DMY_IN_TEXT = re.compile(r"\b([0-3]?\d)[/.]([01]?\d)[/.](20\d{2})\b")


def table_date(t: Table, given: date | None) -> tuple[datetime, str]:
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


CONTEXT_FIELDS = ("account_name", "deal_id", "plan_type")
CONTEXT_LABELS = {"account_name": "Account", "deal_id": "Deal ID", "plan_type": "Plan type"}


HEADER_KINDS = ("account_plans", "plans")


def header_fields(kind: str, meta: dict) -> dict[str, str]:
    """field -> normalised label, for the key-value lines of `meta` that are fields of `kind`."""
    syn = synonyms()[kind]
    out: dict[str, str] = {}
    for key in meta:
        for f, xs in syn.items():
            # two lines for one field ('Deal: Acme renewal', 'Deal ID: D1'): the one naming an id wins
            if key in xs and (f not in out or ("id" in key.split() and "id" not in out[f].split())):
                out[f] = key
    return out


def plan_meta(t: Table) -> tuple[dict, str | None]:
    """The key-value block, with the plan type a plan header does not write (docs/data.md "Reading
    values"): mutual when it names a buyer owner or a buyer signature, else closing; and the
    note that says so."""
    fields = header_fields("plans", t.meta)
    if "deal_id" not in fields or "plan_type" in fields or len(fields) < 2:
        return t.meta, None
    mutual = "buyer_owner" in fields or "buyer_signed_date" in fields
    kind = "mutual" if mutual else "closing"
    meta = {**t.meta, "plan type": ("Plan type", kind, min(r for _l, _v, r in t.meta.values()))}
    return meta, (f"no plan type written: a {kind} plan ("
                  + ("the header names a buyer owner or a buyer signature)" if mutual else
                     "the header names no buyer owner and no buyer signature)"))


def with_context(t: Table) -> Table:
    """The key-value block's account, deal and plan type as columns of the table below it
    (a template's action plan or plan steps name their account or deal once, above)."""
    syn = synonyms()
    present = {f for h in t.headers for kind in syn.values() for f, xs in kind.items() if norm(h) in xs}
    meta, _note = plan_meta(t)
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


def header_table(t: Table) -> Table | None:
    """A key-value block that is an account plan's or a plan's header, as a one-row table. A
    plan header always gives a plan row, its type written or inferred (plan_meta)."""
    if not t.meta:
        return None
    meta, note = plan_meta(t)
    for kind in HEADER_KINDS:
        fields = header_fields(kind, meta)
        if all(r in fields for r in TABLES[kind][1]):
            lines = [(lbl, v, r) for key, (lbl, v, r) in meta.items() if key in fields.values()]
            first_row = min(r for _l, _v, r in lines)
            return Table(t.file, t.sheet, first_row, [lbl for lbl, _v, _r in lines], [[v for _l, v, _r in lines]],
                         [first_row], {}, [note] if note and kind == "plans" else [], t.delimiter)
    return None


def repeated_headers(headers: list[str]) -> str | None:
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
