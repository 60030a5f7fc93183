"""Validating converted rows: required fields, keys repeated in a file, values out of range
(DESIGN.md "Bad input"); and, when names become keys, one row per account and key."""

from __future__ import annotations


import numpy as np
import pandas as pd

from ..errors import InputError
from .convert import AMOUNT_FIELDS, reject
from .names import account_ids
from .fields import TABLES
from .mapping import Mapping
from .read import Table
from .staged import Staged


def key_text(s: pd.Series) -> pd.Series:
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


def validate_table(t: Table, m: Mapping, df: pd.DataFrame, raw: pd.DataFrame, rejects: list) -> pd.Series:
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
            reject(rejects, t, int(df.at[i, "_row"]), headers.get(col, col), None, f"{col} is required; expected a value")
        bad |= missing
    for f in AMOUNT_FIELDS & set(df.columns):
        neg = df[f].notna() & (df[f] < 0)
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
        norm_key = key_text(df[key_cols[0]])
        for k in key_cols[1:]:
            norm_key = norm_key + "\x1f" + key_text(df[k])
        dup = norm_key.duplicated(keep="first") & df[key_cols].notna().all(axis=1)
        if dup.any():   # name the row each duplicate repeats (only duplicates are looked at)
            firsts = df.loc[norm_key.isin(set(norm_key[dup])) & ~dup, "_row"]
            first_row = dict(zip(norm_key[firsts.index], firsts))
            for i in df.index[dup]:
                reject(rejects, t, int(df.at[i, "_row"]), headers.get(key_cols[0], key_cols[0]), written(i, key_cols[0]),
                        f"a second row with the same key (first at row {first_row[norm_key[i]]}); expected one row per key")
            bad |= dup
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
