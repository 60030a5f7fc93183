"""Values from text to the canonical types, decided per column, never guessed per row
(DESIGN.md "Bad input"): the decimal mark from the column's values (and the file's
delimiter as a hint), dd/mm vs mm/dd from values that only fit one, Excel serial numbers,
Italian and English month names. A column that cannot be decided is an error saying how
to fix it; a value that does not fit is a row error naming what was expected."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError

MONTHS = {
    "gen": 1, "gennaio": 1, "jan": 1, "january": 1, "feb": 2, "febbraio": 2, "february": 2,
    "mar": 3, "marzo": 3, "march": 3, "apr": 4, "aprile": 4, "april": 4, "mag": 5, "maggio": 5,
    "may": 5, "giu": 6, "giugno": 6, "jun": 6, "june": 6, "lug": 7, "luglio": 7, "jul": 7, "july": 7,
    "ago": 8, "agosto": 8, "aug": 8, "august": 8, "set": 9, "settembre": 9, "sep": 9, "sept": 9,
    "september": 9, "ott": 10, "ottobre": 10, "oct": 10, "october": 10, "nov": 11, "novembre": 11,
    "november": 11, "dic": 12, "dicembre": 12, "dec": 12, "december": 12,
}
MIN_YEAR, MAX_YEAR = 1990, 2100
_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_NAMED = re.compile(r"^(\d{1,2})[ -]([a-zA-Z\u00e0-\u00f9]+)\.?[ -,]*(\d{4})$")
_NAMED_US = re.compile(r"^([a-zA-Z]+)\.? (\d{1,2}),? (\d{4})$")
_DATE_EXPECTED = f"a date such as 2026-03-31 (years {MIN_YEAR}-{MAX_YEAR}; a real calendar day)"
_CURRENCY = re.compile(r"[€$£\s\u00a0]|EUR|USD|GBP|CHF")


@dataclass
class Converted:
    values: pd.Series          # typed; NaN/NaT/None where missing or bad
    bad: pd.Series             # bool mask of values that did not fit
    expected: str              # what was expected, for the error message
    note: str | None = None    # how the column was read ("dates as dd/mm/yyyy")


def _arrow_cast(s: pd.Series, typ: str) -> pd.Series | None:
    """The whole column cast by Arrow's vectorised parser (float64, or timestamps written as
    ISO 8601), or None when any value does not parse, so the general path decides."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pc.cast(pa.array(s, type=pa.string(), from_pandas=True),
                      pa.float64() if typ == "float" else pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    out = arr.to_pandas()
    out.index = s.index
    return out


def unquote(s: pd.Series) -> pd.Series:
    """Text the product exported with a protective leading ' comes back as it was."""
    return s.where(~s.str.match(r"^'+[=+\-@\t\r]", na=False), s.str[1:])


# A number written with a decimal comma (1.234,56; 1234,5; 12) or a decimal point (1,234.56;
# 1234.5; 1e6); the thousands separator, where used, groups three digits.
_COMMA_DECIMAL = r"[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?"
_DOT_DECIMAL = r"[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"


def to_number(s: pd.Series, header: str, delimiter: str | None = None) -> Converted:
    plain = _arrow_cast(s, "float") if len(s) > 100_000 else None
    if plain is not None:
        return Converted(plain.astype("float64"), pd.Series(False, index=s.index), "a number such as 1234.56")
    plain = pd.to_numeric(s, errors="coerce")
    if not (s.notna() & plain.isna()).any():   # plain numbers (most files): nothing to decide
        return Converted(plain.astype("float64"), pd.Series(False, index=s.index), "a number such as 1234.56")
    t = s.astype("string").str.strip()
    pct = t.str.endswith("%", na=False)
    t = t.str.replace("%", "", regex=False).str.replace(_CURRENCY, "", regex=True)
    t = t.str.replace(r"^\((.*)\)$", r"-\1", regex=True)        # (1,234) accounting negatives
    both = t.str.contains(",", na=False, regex=False) & t.str.contains(".", na=False, regex=False)
    last_comma = both & (t.str.rfind(",") > t.str.rfind("."))
    comma_decimal = t.str.contains(r"\d,(?:\d{1,2}|\d{4,})$", na=False)
    any_comma = t.str.contains(",", na=False, regex=False).any()
    if last_comma.any() or comma_decimal.any() or (delimiter == ";" and any_comma and not (both & ~last_comma).any()):
        dec, note = ",", "decimal comma"
        shape = _COMMA_DECIMAL
    else:
        dec, note = ".", None
        shape = _DOT_DECIMAL
    # every value must be written the column's one way: '2,345.67' in a decimal-comma column
    # is not read as 2.34567, it is a bad value
    fits = t.str.fullmatch(shape, na=False)
    t = (t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False) if dec == ","
         else t.str.replace(",", "", regex=False))
    num = pd.to_numeric(t, errors="coerce").astype("float64")
    num = num.where(~pct, num / 100.0)
    num = num.where(fits)
    bad = s.notna() & num.isna()
    return Converted(num, bad, "a number such as 1234.56" if dec == "." else "a number such as 1.234,56",
                     f"{header}: {note}" if note and s.notna().any() else None)


def _dmy_order(matches: pd.DataFrame, header: str, file: str, override: str | None) -> str:
    if override in ("dmy", "mdy"):
        return override
    a = matches[0].astype(int)
    b = matches[1].astype(int)
    first_big, second_big = (a > 12).any(), (b > 12).any()
    if first_big and second_big:
        raise InputError(f"{file}, column {header!r}: the dates mix dd/mm/yyyy and mm/dd/yyyy "
                         f"(e.g. {matches.iloc[int(np.argmax(a > 12))].name} and another with month > 12); "
                         "write them as ISO dates such as 2026-03-31")
    if first_big:
        return "dmy"
    if second_big or (a == b).all():
        return "mdy" if second_big else "dmy"
    example = f"{a.iloc[0]:02d}/{b.iloc[0]:02d}/{matches[2].iloc[0]}"
    raise InputError(
        f"{file}, column {header!r}: cannot tell dd/mm/yyyy from mm/dd/yyyy (no value has a day "
        f"above 12, e.g. {example!r}). Write the dates as ISO (2026-03-31), or pass --mapping "
        f"FILE.json with {{\"date_formats\": {{\"{header}\": \"dmy\"}}}} (or \"mdy\")")


def to_timestamp(s: pd.Series, header: str, file: str, override: str | None = None) -> Converted:
    large = len(s) > 100_000
    if large and _all_match(s, _ISO.pattern):   # a large ISO column as written: nothing to strip or match
        t, iso = s, s.notna()
    else:
        t = s.astype("string").str.strip()
        iso = t.str.match(_ISO, na=False)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    fmts = []

    rest = t.notna()
    if iso.any():
        whole = not (rest & ~iso).any()     # every filled value is ISO: the column as it is, no subset
        part = t if whole else t[iso]
        parsed = _arrow_cast(part, "timestamp") if large else None
        if parsed is None:
            parsed = pd.to_datetime(part.str.replace("T", " ", regex=False), errors="coerce", format="ISO8601")
        if whole:
            out = parsed.astype("datetime64[us]")
        else:
            out[iso] = parsed.astype("datetime64[us]")
        fmts.append("ISO")
        rest &= ~iso
    dm = pd.Series(False, index=s.index)
    if rest.any():
        m = t[rest].str.extract(_DMY)
        dm = m[0].notna().reindex(s.index, fill_value=False)
        if dm.any():
            m = m[m[0].notna()]
            order = _dmy_order(m, header, file, override)
            day, month = (m[0], m[1]) if order == "dmy" else (m[1], m[0])
            year = m[2].where(m[2].str.len() == 4, "20" + m[2])
            parts = pd.DataFrame({"year": year, "month": month, "day": day, "hour": m[3].fillna("0"),
                                  "minute": m[4].fillna("0"), "second": m[5].fillna("0")})
            out[dm] = pd.to_datetime(parts.astype("int64"), errors="coerce").astype("datetime64[us]")
            fmts.append("dd/mm/yyyy" if order == "dmy" else "mm/dd/yyyy")
            rest &= ~dm
    serial = rest & t.str.match(_SERIAL, na=False)
    if serial.any():
        v = pd.to_numeric(t[serial], errors="coerce")
        ok = (v >= 20000) & (v <= 80000)
        out[serial & ok.reindex(s.index, fill_value=False)] = (
            pd.Timestamp("1899-12-30") + pd.to_timedelta(v[ok], unit="D")).astype("datetime64[us]")
        fmts.append("Excel serial numbers")
        rest &= ~serial
    if rest.any():   # what is left: day/month names ("3 marzo 2026", "March 3, 2026")
        named = t.where(rest).str.extract(_NAMED)
        us = t.where(rest).str.extract(_NAMED_US)
        nm = named[0].notna() & rest
        nu = us[0].notna() & rest & ~nm
        for mask, d, mo, y in ((nm, named[0], named[1], named[2]), (nu, us[1], us[0], us[2])):
            if mask.any():
                month = mo[mask].str.lower().map(MONTHS)
                parts = pd.DataFrame({"year": y[mask], "month": month, "day": d[mask]})
                valid = parts["month"].notna()
                conv = pd.to_datetime(parts[valid].astype("int64"), errors="coerce").astype("datetime64[us]")
                out[conv.index] = conv
                fmts.append("month names")
    years = out.dt.year
    out_of_range = out.notna() & ((years < MIN_YEAR) | (years > MAX_YEAR))
    out = out.where(~out_of_range)
    bad = s.notna() & out.isna()
    fmts = list(dict.fromkeys(fmts))
    note = f"{header}: dates read as {', '.join(fmts)}" if any(f != "ISO" for f in fmts) else None
    return Converted(out, bad, _DATE_EXPECTED, note)


def to_date(s: pd.Series, header: str, file: str, override: str | None = None) -> Converted:
    c = to_timestamp(s, header, file, override)
    return Converted(c.values.dt.floor("D"), c.bad, c.expected, c.note)


def to_words(s: pd.Series, words: dict, what: str) -> Converted:
    key = s.astype("string").str.strip().str.lower().str.replace(r"[_\-]+", " ", regex=True)
    out = key.map(lambda k: words.get(k) if isinstance(k, str) else None)
    bad = s.notna() & out.isna()
    expected = f"{what}: one of " + ", ".join(sorted({str(v) for v in words.values()}))
    return Converted(out.astype(object), bad, expected)


def _all_match(s: pd.Series, pattern: str) -> bool:
    """Every filled value matches (Arrow's regex over the column, nothing copied)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s, type=pa.large_string(), from_pandas=True)
    return bool(pc.all(pc.match_substring_regex(arr, pattern), skip_nulls=True).as_py() is not False)


def to_probability(s: pd.Series, header: str, delimiter: str | None = None) -> Converted:
    """A probability as a fraction: '40%' and 40 are 0.4, 0.4 stays; outside 0-100 % is bad."""
    c = to_number(s, header, delimiter)
    pct = s.astype("string").str.strip().str.endswith("%", na=False)
    v = c.values.where(pct | ~(c.values > 1), c.values / 100.0)
    off = v.notna() & ~v.between(0, 1)
    return Converted(v.where(~off), c.bad | off, "a probability from 0 to 100 %", c.note)


_CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "US$": "USD", "£": "GBP", "¥": "JPY", "CHF": "CHF", "FR.": "CHF"}


def to_currency(s: pd.Series) -> Converted:
    """An ISO 4217 code (EUR, usd), or one of the common signs (€, $, £)."""
    t = s.astype("string").str.strip().str.upper()
    t = t.map(lambda v: _CURRENCY_SIGNS.get(v, v) if isinstance(v, str) else v).astype("string")
    ok = t.str.fullmatch(r"[A-Z]{3}", na=False)
    return Converted(t.where(ok), s.notna() & ~ok, "a three-letter currency code such as EUR or USD")


def to_text(s: pd.Series) -> Converted:
    if len(s) > 100_000 and isinstance(s.dtype, pd.StringDtype) and _all_match(s, r"^[^\s'].*[^\s]$|^[^\s']$"):
        return Converted(s, pd.Series(False, index=s.index), "text")   # nothing to strip or unquote: no copy
    t = s.astype("string").str.strip()
    t = unquote(t)   # stays a string column (arrow-backed): no Python object per cell
    return Converted(t, pd.Series(False, index=s.index), "text")
