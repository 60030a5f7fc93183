"""Validating converted rows: required fields, keys repeated in a file, values out of range
(docs/data.md "Bad input"); and, when names become keys, one row per account and key."""

from __future__ import annotations


import numpy as np
import pandas as pd

from ..errors import InputError
from . import coerce
from .convert import AMOUNT_FIELDS, reject
from .names import account_ids
from .fields import ID_FIELDS, TABLES
from .mapping import Mapping
from .read import Table
from .staged import Staged


def key_part(df: pd.DataFrame, field: str) -> pd.Series:
    """One key column as compared for duplicates in a file: an id as stored (coerce.to_id: as
    written, trimmed, NFKC - case-sensitive, as the database compares it), a name as key_text."""
    return df[field].astype("string") if field in ID_FIELDS else key_text(df[field])


def key_text(s: pd.Series) -> pd.Series:
    """A name in a key as compared for duplicates: stripped and case-folded. Arrow lower-cases the
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


def validate_table(t: Table, m: Mapping, df: pd.DataFrame, raw: pd.DataFrame, rejects: list) -> pd.Series:
    """Row rules on converted values; messages quote the cell as written in the file."""
    bad = pd.Series(False, index=df.index)
    headers = {f: h for h, f in m.columns.items() if f}

    def written(i, f):
        return raw.at[i, headers[f]] if f in headers else df.at[i, f]

    keys, required = TABLES[m.kind]
    bad |= _ids(t, df, raw, headers, rejects)
    for r in required:
        col = r if r in df else ("account_id" if r == "account_name" and "account_id" in df else None)
        if col is None:
            continue
        missing = raw[headers[col]].isna() if col in headers else df[col].isna()  # absent, not unreadable
        if col in ID_FIELDS:     # an id of spaces only (' ', a full-width space) is none
            missing = missing | df[col].isna()
        for i in df.index[missing]:
            reject(rejects, t, int(df.at[i, "_row"]), headers.get(col, col), None, f"{col} is required; expected a value")
        bad |= missing
    huge = _out_of_range(t, df, raw, headers, rejects)
    bad |= huge
    bad |= _contradicting_currency(t, df, raw, headers, rejects)
    for f in AMOUNT_FIELDS & set(df.columns):
        neg = df[f].notna() & (df[f] < 0) & ~huge
        for i in df.index[neg]:
            reject(rejects, t, int(df.at[i, "_row"]), headers.get(f, f), written(i, f), "expected an amount of 0 or more")
        bad |= neg
    if "influence" in df:
        off = df["influence"].notna() & ~df["influence"].between(1, 5)
        for i in df.index[off]:
            reject(rejects, t, int(df.at[i, "_row"]), headers["influence"], written(i, "influence"), "expected influence 1-5")
        bad |= off
    key_cols = [k for k in keys if k in df] or (["account_name"] if keys and keys[0] == "account_id" and "account_name" in df else [])
    if key_cols and len(key_cols) == len([k for k in keys if k in df or k == "account_id"]):
        norm_key = key_part(df, key_cols[0])
        for k in key_cols[1:]:
            norm_key = norm_key + "\x1f" + key_part(df, k)
        dup = norm_key.duplicated(keep="first") & df[key_cols].notna().all(axis=1)
        if dup.any():   # name the row each duplicate repeats (only duplicates are looked at)
            firsts = df.loc[norm_key.isin(set(norm_key[dup])) & ~dup, "_row"]
            first_row = dict(zip(norm_key[firsts.index], firsts))
            for i in df.index[dup]:
                reject(rejects, t, int(df.at[i, "_row"]), headers.get(key_cols[0], key_cols[0]), written(i, key_cols[0]),
                        f"a second row with the same key (first at row {first_row[norm_key[i]]}); expected one row per key")
            bad |= dup
    return bad


def _ids(t: Table, df: pd.DataFrame, raw: pd.DataFrame, headers: dict, rejects: list) -> pd.Series:
    """Every id column in its compared form (coerce.to_id: as written, trimmed, NFKC), in
    place; an id holding an invisible character is a bad value naming the character."""
    bad = pd.Series(False, index=df.index)
    for f in ID_FIELDS:
        if f not in df:
            continue
        c = coerce.to_id(df[f])
        df[f] = c.values
        for i in df.index[c.bad]:
            value = raw.at[i, headers[f]] if f in headers else df.at[i, f]
            shown = "".join(ch for ch in str(c.values[i]) if not coerce.invisible_char(ch))
            reject(rejects, t, int(df.at[i, "_row"]), headers.get(f, f), value,
                   f"the ID holds an invisible character, {coerce.invisible_char(str(c.values[i]))}: it looks like "
                   f"{shown!r} but would be another ID; expected {coerce.ID_EXPECTED}. Delete the character (or "
                   "type the ID again), then import again")
        bad |= c.bad
        # a long numeric id that a spreadsheet program showed in scientific notation (1.23457E+11)
        # and saved that way: its last digits are lost
        sci = (c.values.str.fullmatch(r"[-+]?\d(?:[.,]\d+)?[eE][+]?\d+", na=False).to_numpy(dtype=bool)
               & ~c.bad.to_numpy(dtype=bool))
        for i in df.index[sci]:
            value = raw.at[i, headers[f]] if f in headers else df.at[i, f]
            reject(rejects, t, int(df.at[i, "_row"]), headers.get(f, f), value,
                   "an ID in scientific notation: a spreadsheet program turned a long number into a rounded one, "
                   "and its last digits are lost; expected the ID as the CRM writes it. Format the column as text "
                   "in the spreadsheet (or export the file again as csv) and import again")
        bad |= pd.Series(sci, index=df.index)
    return bad


# numbers with their own range (probability 0-100 %, influence 1-5), and numbers the importer makes
_OWN_RANGE = {"probability", "influence", "relationship_strength", "_row"}
# whole numbers stored as 32-bit integers (the schema's INTEGER columns read from files)
INTEGER_FIELDS = {"step_no": 2_147_483_647}


def _out_of_range(t: Table, df: pd.DataFrame, raw: pd.DataFrame, headers: dict, rejects: list) -> pd.Series:
    """Numbers (amounts, quotas, revenues, targets, rates, step numbers; a field-change log's
    old and new amounts) that are not finite or beyond coerce.MAX_NUMBER: bad values."""
    bad = pd.Series(False, index=df.index)
    cols = [(f, None) for f in df.columns if f not in _OWN_RANGE and not str(f).startswith("__")
            and pd.api.types.is_numeric_dtype(df[f]) and not pd.api.types.is_bool_dtype(df[f])]
    if "logged_field" in df:
        amounts = df["logged_field"] == "amount"
        cols += [(f, amounts) for f in ("old_value", "new_value") if f in df and amounts.any()]
    for f, rows in cols:
        values = df[f] if rows is None else df[f].where(rows)
        off = coerce.out_of_range(values)
        expected = coerce.NUMBER_RANGE
        if f in INTEGER_FIELDS:
            top = INTEGER_FIELDS[f]
            v = values.astype("float64")
            off = (v.notna() & ~(v.abs() <= top)).astype(bool)
            expected = f"a whole number from -{top + 1:,} to {top:,}"
        for i in df.index[off]:
            value = raw.at[i, headers[f]] if f in headers else df.at[i, f]
            reject(rejects, t, int(df.at[i, "_row"]), headers.get(f, f), value, f"expected {expected}")
        bad |= off
    for f in sorted(AMOUNT_FIELDS & set(df.columns) & set(headers)):
        # '50%' in an amount column would read as 0.5: a percentage is no amount
        pct = (raw[headers[f]].astype("string").str.contains("%", regex=False, na=False).to_numpy(dtype=bool)
               & df[f].notna().to_numpy(dtype=bool) & ~bad.to_numpy(dtype=bool))     # unreadable ones: said
        for i in df.index[pct]:
            reject(rejects, t, int(df.at[i, "_row"]), headers[f], raw.at[i, headers[f]],
                   "a percentage; expected an amount (a percentage belongs in a probability column)")
        bad |= pct
    return bad


def _contradicting_currency(t: Table, df: pd.DataFrame, raw: pd.DataFrame, headers: dict, rejects: list) -> pd.Series:
    """An amount written with a currency ('1000 USD', '$ 1,000') that its row's currency
    column contradicts (EUR): a bad value naming both, never stored in the column's currency."""
    bad = pd.Series(False, index=df.index)
    if "currency" not in df:
        return bad
    for f in sorted((AMOUNT_FIELDS - {"rate"}) & set(df.columns)):
        if f not in headers:
            continue
        written = raw[headers[f]]
        marked = (written.astype("string").str.contains(r"[€$£¥]|[A-Za-z]{3}", na=False, regex=True).to_numpy(dtype=bool)
                  & df[f].notna().to_numpy(dtype=bool))         # an unreadable amount is said as such
        for i in df.index[marked]:
            said = coerce.written_currency(written[i])
            cur = df.at[i, "currency"]
            if said is None or cur is None or cur is pd.NA or cur != cur or cur in said[1]:
                continue
            reject(rejects, t, int(df.at[i, "_row"]), headers[f], written[i],
                   f"the amount is written in {said[0]} but the row's currency "
                   f"({headers.get('currency', 'currency')!r}) is {cur}; expected an amount in the row's currency. "
                   "Write the number alone, or correct the currency, then import again")
            bad.at[i] = True
    return bad


def one_row_per_key(st: Staged, df: pd.DataFrame) -> None:
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


def key_clashes(con, staged: list[Staged], aliases: dict) -> list[str]:
    """one_row_per_key for every staged table whose key holds an account, said at the check:
    its account ids derived here as the load will derive them (nothing is written)."""
    out = []
    for st in staged:
        keys = TABLES[st.kind][0]
        if "account_id" not in keys or len(keys) < 2 or not {"account_name", "account_id"} & set(st.frame):
            continue
        try:
            one_row_per_key(st, account_ids(st.frame.copy(), con, aliases))
        except InputError as exc:
            out.append(str(exc))
    return out
