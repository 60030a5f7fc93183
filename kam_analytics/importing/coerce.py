"""Values from text to the canonical types, decided per column, never guessed per row
(docs/data.md "Bad input", "Reading values"): the decimal mark from the values with one reading
only, in the column, else in the file's number columns (never from the delimiter); dd/mm vs
mm/dd from values that only fit one, the clock (24-hour, or 12-hour when AM/PM is written),
a time zone written and dropped, Excel serial numbers, Italian and English month names. A
column that cannot be decided is an error saying how to fix it; a value that does not fit is a
row error naming what was expected."""

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
# A time after a date: T, a space or ", "; seconds and their fraction optional; AM/PM
# (a.m., pm) optional; then Z, UTC/GMT or an offset (+01:00, +0100, +01) optional.
_TIME = (r"(?:(?:T|,?\s+)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d+))?)?"
         r"(?:\s*(?P<AP>[AaPp])\.?[Mm]\.?)?(?:\s*(?P<TZ>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?)?")
# (RE2 syntax, for Arrow: no back-reference, so both separators are taken and compared)
_YMD = r"^(?P<Y>\d{4})(?P<sep>[-/.])(?P<A>\d{1,2})(?P<sep2>[-/.])(?P<B>\d{1,2})" + _TIME + "$"
_DMY = r"^(?P<A>\d{1,2})(?P<sep>[/.-])(?P<B>\d{1,2})(?P<sep2>[/.-])(?P<Y>\d{4}|\d{2})" + _TIME + "$"
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_NAMED = re.compile(r"^(\d{1,2})[ -]([a-zA-Z\u00e0-\u00f9]+)\.?[ -,]*(\d{4})$")
_NAMED_US = re.compile(r"^([a-zA-Z]+)\.? (\d{1,2}),? (\d{4})$")
_DATE_EXPECTED = f"a date such as 2026-03-31 (years {MIN_YEAR}-{MAX_YEAR}; a real calendar day)"
_CURRENCY = re.compile(r"[€$£¥]|EUR|USD|GBP|CHF")


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


MARKS = ("decimal_comma", "decimal_point")
_EXPECTED = {"decimal_point": "a number such as 1234.56", "decimal_comma": "a number such as 1.234,56"}
# The two readings of a number's marks. Thousands groups are three digits each after a first
# group of 1-3 digits that does not start with 0; a decimal part is any number of digits.
_EXP = r"(?:[eE][-+]?\d+)?"
_COMMA_DECIMAL = r"[-+]?(?:(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+)(?:,\d*)?|,\d+)" + _EXP
_DOT_DECIMAL = r"[-+]?(?:(?:[1-9]\d{0,2}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)" + _EXP
# The only values the two readings read differently: one mark, 1-3 digits before it (not
# starting with 0), exactly 3 after it. Written with a point, pandas and Arrow read them.
_AMBIGUOUS_DOT = r"^\s*[-+]?[1-9]\d{0,2}\.\d{3}" + _EXP + r"\s*$"
_SPACED = re.compile(r"^[-+]?\s*\d{1,3}(?:\s\d{3})*(?:[.,]\d*)?" + _EXP + r"$|^[-+]\s*[\d.,]+" + _EXP + "$")


@dataclass
class _Readings:
    """A text column read both ways (NaN where a reading does not fit the value)."""
    pct: pd.Series
    comma: pd.Series
    point: pd.Series

    @property
    def votes(self) -> tuple[int, int]:
        """How many values only the decimal comma reads, and how many only the decimal point."""
        c, p = self.comma.notna(), self.point.notna()
        return int((c & ~p).sum()), int((p & ~c).sum())

    @property
    def ambiguous(self) -> pd.Series:
        return self.comma.notna() & self.point.notna() & (self.comma != self.point)


def _readings(s: pd.Series) -> _Readings:
    t = s.astype("string").str.strip()
    pct = t.str.endswith("%", na=False)
    t = t.str.replace("%", "", regex=False).str.replace(_CURRENCY, "", regex=True).str.strip()
    t = t.str.replace(r"^\((.*)\)$", r"-\1", regex=True).str.strip()        # (1,234) accounting negatives
    # a space inside a number only groups thousands (12 500,00) or follows a sign (- 500)
    spaced = t.str.contains(r"\s", na=False)
    if spaced.any():
        t = t.where(~spaced | t.str.match(_SPACED, na=False), "?").str.replace(r"\s+", "", regex=True)
    comma = pd.to_numeric(t.where(t.str.fullmatch(_COMMA_DECIMAL, na=False))
                          .str.replace(".", "", regex=False).str.replace(",", ".", regex=False), errors="coerce")
    point = pd.to_numeric(t.where(t.str.fullmatch(_DOT_DECIMAL, na=False))
                          .str.replace(",", "", regex=False), errors="coerce")
    return _Readings(pct, comma.astype("float64"), point.astype("float64"))


def _count_matches(s: pd.Series, pattern: str) -> int:
    """How many filled values of a text column contain the pattern (Arrow's regex for a large
    string column, nothing copied)."""
    if s.dtype.kind in "biufc" or not s.notna().any():
        return 0
    if len(s) > 100_000 and isinstance(s.dtype, pd.StringDtype):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(s, type=pa.large_string(), from_pandas=True)
        return int(pc.sum(pc.match_substring_regex(arr, pattern)).as_py() or 0)
    return int(s.astype("string").str.contains(pattern, na=False, regex=True).sum())


def _has_marks(s: pd.Series, pattern: str = r"[.,]") -> bool:
    return _count_matches(s, pattern) > 0


def number_votes(s: pd.Series) -> tuple[int, int]:
    """(decimal comma, decimal point): how many of the column's values have that reading only."""
    if not _has_marks(s):
        return 0, 0
    if len(s) > 100_000 and _arrow_cast(s, "float") is not None:
        # plain numbers: no comma anywhere, so a value with a point decides unless it is ambiguous
        return 0, _count_matches(s, r"\.") - _count_matches(s, _AMBIGUOUS_DOT)
    return _readings(s).votes


def file_marks(columns: list[pd.Series]) -> str | None:
    """The file's decimal mark from all its number columns' deciding values (the mark more
    of them have), or None when none decides or as many decide each way."""
    comma = point = 0
    for s in columns:
        c, p = number_votes(s)
        comma, point = comma + c, point + p
    return "decimal_comma" if comma > point else "decimal_point" if point > comma else None


def _g(v: float) -> str:
    return f"{v:.15g}"


def to_number(s: pd.Series, header: str, delimiter: str | None = None, *, file: str | None = None,
              marks: str | None = None, file_marks: str | None = None) -> Converted:
    """A number column, its decimal and thousands marks decided from the values that have one
    reading only (docs/data.md "Reading values"):

    - a value with both marks: the last one is the decimal mark (1.234,56 comma; 1,234.56 point);
    - one mark, repeated (1.234.567) or followed by anything but exactly 3 digits (1,5; 12.50;
      1.2345), or led by a 0 (0,250) or by 4+ digits (1234.567): that mark is the decimal mark;
    - space (or non-breaking space) groups of thousands: the mark after them is the decimal
      mark (12 500,00 comma; 12 500.50 point);
    - one mark, 1-3 digits not starting with 0 before it and exactly 3 after (25.000, 1,000):
      ambiguous, decides nothing; so does a number with no mark (1200).

    The mark that more of the column's deciding values have wins; else (none, or a tie) the
    file's decision (`file_marks`, from all its number columns); `marks` set by the user
    ("decimal_comma" or "decimal_point") comes first. A column with an ambiguous value (or a
    tie) that nothing decides is an InputError saying how to settle it. Once decided, a value
    the column's reading does not fit ('2,345.67' in a decimal-comma column) is a bad value.
    `delimiter` is not used: a delimiter decides nothing."""
    if marks is not None and marks not in MARKS:
        raise InputError(f"{file + ', ' if file else ''}column {header!r}: number_formats says {marks!r}; "
                         'expected "decimal_comma" or "decimal_point"')
    no_bad = pd.Series(False, index=s.index)
    if marks != "decimal_comma":   # plain numbers (most files): read at once, unless one is ambiguous
        plain = _arrow_cast(s, "float") if len(s) > 100_000 else None
        if plain is None:
            plain = pd.to_numeric(s, errors="coerce")
            if (s.notna() & plain.isna()).any():
                plain = None
        if plain is not None and (marks == "decimal_point" or not _has_marks(s, _AMBIGUOUS_DOT)):
            return Converted(plain.astype("float64"), no_bad, _EXPECTED["decimal_point"])
    r = _readings(s)
    comma, point = r.votes
    ambiguous = r.ambiguous
    how = None
    if marks:
        dec, how = marks, "as set in number_formats"
    elif comma != point:
        dec = "decimal_comma" if comma > point else "decimal_point"
    elif file_marks:
        dec, how = file_marks, "as in the file's other number columns"
    elif ambiguous.any() or comma:
        where = f"{file}, column {header!r}" if file else f"column {header!r}"
        if ambiguous.any():
            i = ambiguous.idxmax()
            why = (f"{str(s[i]).strip()!r} is {_g(r.comma[i])} with a decimal comma, {_g(r.point[i])} with a "
                   "decimal point, and no value in the column or in the file's other number columns has one "
                   "reading only, such as 1.234,56 or 1,234.56")
        else:
            only_c = r.comma.notna() & r.point.isna()
            only_p = r.point.notna() & r.comma.isna()
            why = (f"as many values have a decimal comma (e.g. {str(s[only_c.idxmax()]).strip()!r}) as a decimal "
                   f"point (e.g. {str(s[only_p.idxmax()]).strip()!r}), and the file's other number columns "
                   "do not decide it")
        fix = (f'. Pass --mapping FILE.json with {{"{file}": {{"number_formats": {{"{header}": "decimal_comma"}}}}}} '
               '(or "decimal_point")' if file else ". Write the numbers without thousands marks")
        raise InputError(f"{where}: cannot tell a decimal comma from a decimal point ({why}){fix}")
    else:
        dec = "decimal_point"     # every value reads the same either way
    num = r.comma if dec == "decimal_comma" else r.point
    num = num.where(~r.pct, num / 100.0)
    bad = s.notna() & num.isna()
    note = None
    if s.notna().any() and (dec == "decimal_comma" or how or ambiguous.any()):
        note = f"{header}: {dec.replace('_', ' ')}" + (f", {how}" if how else "")
    return Converted(num, bad, _EXPECTED[dec], note)


def _dmy_order(a: pd.Series, b: pd.Series, written: pd.Series, header: str, file: str,
               override: str | None) -> str:
    """dd/mm or mm/dd for the whole column, from the values whose first (a) or second (b)
    number is above 12; a clock (AM/PM or not) decides nothing."""
    if override in ("dmy", "mdy"):
        return override
    first_big, second_big = a > 12, b > 12
    if first_big.any() and second_big.any():
        raise InputError(f"{file}, column {header!r}: the dates mix dd/mm/yyyy and mm/dd/yyyy "
                         f"(e.g. {written[first_big].iloc[0]!r} and {written[second_big].iloc[0]!r}); "
                         "write them as ISO dates such as 2026-03-31")
    if first_big.any():
        return "dmy"
    if second_big.any() or (a == b).all():
        return "mdy" if second_big.any() else "dmy"
    raise InputError(
        f"{file}, column {header!r}: cannot tell dd/mm/yyyy from mm/dd/yyyy (no value has a day "
        f"above 12, e.g. {written.iloc[0]!r}). Write the dates as ISO (2026-03-31), or pass --mapping "
        f"FILE.json with {{\"date_formats\": {{\"{header}\": \"dmy\"}}}} (or \"mdy\")")


def _clock(m: pd.DataFrame, h12: bool) -> tuple[pd.Series, pd.Series]:
    """The time of day of each matched value (a timedelta; 0 without a time) and whether it
    is a real one: 0-23 h on a 24-hour clock; 1-12 with AM/PM on a 12-hour clock, where a
    time without AM/PM is not read (9:40 could be either)."""
    timed = m["H"].notna()
    hour = m["H"].fillna("0").astype("int64")
    minute = m["M"].fillna("0").astype("int64")
    second = m["S"].fillna("0").astype("int64")
    micro = m["F"].fillna("0").str.slice(0, 6).str.ljust(6, "0").astype("int64")
    if h12:
        ap = m["AP"].str.upper()
        ok = ~timed | (ap.notna() & hour.between(1, 12)).fillna(False).astype(bool)
        hour = hour % 12 + (ap == "P").fillna(False).astype(bool).astype("int64") * 12
    else:
        ok = hour <= 23
    ok = ok & (minute <= 59) & (second <= 59)
    return pd.to_timedelta(hour * 3600 + minute * 60 + second, unit="s") + pd.to_timedelta(micro, unit="us"), ok


def _calendar(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    year = year.where(year.str.len() == 4, "20" + year)
    parts = pd.DataFrame({"year": year, "month": month, "day": day}).astype("int64")
    return pd.to_datetime(parts, errors="coerce")


def to_timestamp(s: pd.Series, header: str, file: str, override: str | None = None) -> Converted:
    """A date or timestamp column read with one format decided from all its values: ISO
    (yyyy-mm-dd, T or a space, seconds and fractions optional, Z or an offset), yyyy/mm/dd,
    dd/mm/yyyy or mm/dd/yyyy (with / . or -; one order for the column, see _dmy_order), a
    24-hour or - when any value has AM/PM - a 12-hour clock, Excel serial numbers, month
    names. A time is taken as written: Z or an offset is dropped, never converted. A value
    that fits none of these is a bad value."""
    large = len(s) > 100_000
    t = s
    if not (large and _all_match(s, _ISO.pattern)):   # a large ISO column as written: nothing to strip or match
        t = s.astype("string").str.strip()
        if (t.notna() & ~t.str.match(_ISO, na=False)).any():
            return _to_timestamp_decided(t, s, header, file, override)
    parsed = _arrow_cast(t, "timestamp") if large else None
    if parsed is None:
        parsed = pd.to_datetime(t.str.replace("T", " ", regex=False), errors="coerce", format="ISO8601")
    return _in_range(s, parsed.astype("datetime64[us]"), None)


def _in_range(s: pd.Series, out: pd.Series, note: str | None) -> Converted:
    years = out.dt.year
    out = out.where(~(out.notna() & ((years < MIN_YEAR) | (years > MAX_YEAR))))
    return Converted(out, s.notna() & out.isna(), _DATE_EXPECTED, note)


def _extract(t: pd.Series, pattern: str) -> pd.DataFrame:
    """The named groups of a date pattern, one text column each (Arrow's vectorised regex);
    missing where the value does not match, or its two date separators differ."""
    import pyarrow as pa
    import pyarrow.compute as pc

    st = pc.extract_regex(pa.array(t, type=pa.large_string(), from_pandas=True), pattern)
    cols = {}
    for name in re.findall(r"\(\?P<(\w+)>", pattern):
        child = pc.struct_field(st, name)
        # by position: the column's own index (a subset of a file's rows) is put back below
        cols[name] = pc.if_else(pc.equal(child, ""), pa.scalar(None, child.type), child).to_pandas().to_numpy()
    out = pd.DataFrame(cols, index=t.index).astype("string")
    return out.where((out["sep"] == out["sep2"]).fillna(False).astype(bool))


def _to_timestamp_decided(t: pd.Series, s: pd.Series, header: str, file: str, override: str | None) -> Converted:
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    fmts: list[str] = []
    rest = t.notna()
    ymd, dmy = _extract(t, _YMD), _extract(t, _DMY)
    is_ymd, is_dmy = ymd["Y"].notna(), dmy["Y"].notna()
    h12 = bool(ymd["AP"].notna().any() or dmy["AP"].notna().any())      # the column's clock
    zones = list(dict.fromkeys(pd.concat([ymd["TZ"], dmy["TZ"]]).dropna()))
    if is_ymd.any():
        m = ymd[is_ymd]
        time, ok = _clock(m, h12)
        out[is_ymd] = (_calendar(m["Y"], m["A"], m["B"]) + time).where(ok).astype("datetime64[us]")
        fmts += [{"-": "ISO", "/": "yyyy/mm/dd", ".": "yyyy.mm.dd"}[sep] for sep in dict.fromkeys(m["sep"])]
        rest &= ~is_ymd
    if is_dmy.any():
        m = dmy[is_dmy]
        order = _dmy_order(m["A"].astype(int), m["B"].astype(int), t[is_dmy], header, file, override)
        day, month = (m["A"], m["B"]) if order == "dmy" else (m["B"], m["A"])
        time, ok = _clock(m, h12)
        out[is_dmy] = (_calendar(m["Y"], month, day) + time).where(ok).astype("datetime64[us]")
        first = "dd{0}mm" if order == "dmy" else "mm{0}dd"
        for sep, digits in dict.fromkeys(zip(m["sep"], m["Y"].str.len())):
            fmts.append(first.format(sep) + sep + ("yyyy" if digits == 4 else "yy"))
        rest &= ~is_dmy
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
    fmts = list(dict.fromkeys(fmts))
    note = None
    if h12 or zones or any(f != "ISO" for f in fmts):
        note = f"{header}: dates read as {', '.join(fmts)}" + (" with a 12-hour clock" if h12 else "")
        if zones:
            shown = ", ".join(zones[:3]) + (", ..." if len(zones) > 3 else "")
            note += (f"; times as written, the time zone ({shown}) left out (no time-zone conversion)")
    return _in_range(s, out, note)


def to_date(s: pd.Series, header: str, file: str, override: str | None = None) -> Converted:
    c = to_timestamp(s, header, file, override)
    return Converted(c.values.dt.floor("D"), c.bad, c.expected, c.note)


def _all_match(s: pd.Series, pattern: str) -> bool:
    """Every filled value matches (Arrow's regex over the column, nothing copied)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s, type=pa.large_string(), from_pandas=True)
    return bool(pc.all(pc.match_substring_regex(arr, pattern), skip_nulls=True).as_py() is not False)


def to_probability(s: pd.Series, header: str, delimiter: str | None = None, **marks) -> Converted:
    """A probability as a fraction: '40%' and 40 are 0.4, 0.4 stays; outside 0-100 % is bad.
    Its marks are decided as any number's (to_number: file, marks, file_marks)."""
    c = to_number(s, header, delimiter, **marks)
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


# --- identifiers (issue 27 item 7) ------------------------------------------------------
# One rule for every id column of every table (deal_id, account_id): an id is compared as
# written - case-sensitive, as CRM ids can be (Salesforce's 15-character ids are) - after
# trimming the spaces around it and Unicode NFKC (full-width ＤＯ０１ is DO01, a ligature its
# letters). Invisible characters (zero-width spaces, direction marks and other format
# characters, control characters, line and paragraph separators) are bad values: an id
# holding one looks like another id but is a different one. In-file duplicates, the match
# against the database and the links of plans and steps to their deals all compare this form.
ID_INVISIBLE = ("Cf", "Cc", "Zl", "Zp")
ID_EXPECTED = "an ID of visible characters only"
_CONTROL_NAMES = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", "\x00": "a NUL byte"}


def id_text(value) -> str | None:
    """One id in its compared form: trimmed, NFKC, trimmed again (a full-width space
    becomes a space); None for a missing one."""
    import unicodedata

    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    s = unicodedata.normalize("NFKC", str(value).strip()).strip()
    return s or None


def invisible_char(value: str) -> str | None:
    """The first invisible character of a text, said for a user: "U+200B (ZERO WIDTH SPACE)
    after 'BF00'"; None when there is none."""
    import unicodedata

    for k, ch in enumerate(value):
        if unicodedata.category(ch) in ID_INVISIBLE:
            name = _CONTROL_NAMES.get(ch) or unicodedata.name(ch, "a control character")
            where = f"after {value[:k][-12:]!r}" if k else "at its start"
            return f"U+{ord(ch):04X} ({name}) {where}"
    return None


def to_id(s: pd.Series) -> Converted:
    """An id column in its compared form (id_text); `bad` marks ids holding an invisible
    character. ASCII ids (nearly all) are checked at once by Arrow: NFKC leaves them as they
    are, and their only invisible characters are the control ones; the others one by one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s, type=pa.large_string(), from_pandas=True)
    if pc.any(pc.match_substring_regex(arr, r"^\s|\s$")).as_py():
        t = s.astype("string").str.strip()
        arr = pa.array(t, type=pa.large_string(), from_pandas=True)
    else:
        t = s if isinstance(s.dtype, pd.StringDtype) else s.astype("string")     # nothing to strip: no copy
    other = ~np.asarray(pc.fill_null(pc.string_is_ascii(arr), True).to_numpy(zero_copy_only=False), dtype=bool)
    control = np.asarray(pc.fill_null(pc.match_substring_regex(arr, r"[\x00-\x1f\x7f]"), False)
                         .to_numpy(zero_copy_only=False), dtype=bool)
    bad = pd.Series(control, index=s.index)
    if other.any():
        uniq = t[other].unique()
        normal = {v: id_text(v) for v in uniq}
        t = t.copy()
        t[other] = t[other].map(normal)
        hidden = {v for v in normal.values() if v is not None and invisible_char(v)}
        bad |= pd.Series(other, index=s.index) & t.isin(hidden).fillna(False).astype(bool)
    if other.any() or pc.any(pc.equal(arr, "")).as_py():
        t = t.where(t != "")
    return Converted(t, bad & s.notna(), ID_EXPECTED)


# --- amounts in a sane range, in the row's currency (issue 27 item 6) ---------------------
# The largest amount (or any number) a row may hold, in absolute value: a thousand trillion.
# No deal, quota or revenue comes near it (the world's GDP is about 1e14 USD), and sums of
# millions of such values stay exact to the cent in a double. 1e308 (read fine, but its sum
# overflows to infinity and totals turn empty) or -1e400 (read as minus infinity) are bad values.
MAX_NUMBER = 1e15
NUMBER_RANGE = f"a number from -{MAX_NUMBER:,.0f} to {MAX_NUMBER:,.0f} (a thousand trillion: no real amount is larger)"


def out_of_range(values: pd.Series) -> pd.Series:
    """Numbers that are not finite or larger than MAX_NUMBER in absolute value."""
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    return (v.notna() & ~(v.abs() <= MAX_NUMBER)).astype(bool)


# A currency written in an amount: a code or a sign before or after the number. A sign may
# stand for several currencies ($ for USD, CAD, AUD...): only a currency it never writes
# contradicts it.
_WRITTEN_CODE = re.compile(r"(?<![A-Za-z])(EUR|USD|GBP|CHF)(?![A-Za-z])", re.I)
_SIGN_CURRENCIES = {"€": ("EUR",), "£": ("GBP", "GIP", "FKP", "SHP", "EGP"), "¥": ("JPY", "CNY"),
                    "$": ("USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "ARS", "CLP", "COP", "TWD", "BRL",
                          "UYU", "FJD", "BSD", "BBD", "BZD", "BMD", "BND", "KYD", "JMD", "LRD", "NAD", "SBD",
                          "SRD", "TTD", "XCD", "GYD", "ZWL")}


def written_currency(text) -> tuple[str, tuple[str, ...]] | None:
    """The currency an amount's text writes ('1000 USD' -> ('USD', ('USD',)), '$ 5' -> ('$',
    (USD, CAD, ...))): what is written and the codes it may mean; None when it writes none."""
    if not isinstance(text, str) or not text:
        return None
    m = _WRITTEN_CODE.search(text)
    if m:
        code = m.group(1).upper()
        return code, (code,)
    if "US$" in text.upper():
        return "US$", ("USD",)
    for sign, codes in _SIGN_CURRENCIES.items():
        if sign in text:
            return sign, codes
    return None
