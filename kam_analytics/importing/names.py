"""Keys from names (docs/data.md "Keys from names"): account ids derived from names, names equal
after normalisation matched, close names (rapidfuzz token sort ratio) offered as possible
aliases, never merged silently."""

from __future__ import annotations


import numpy as np
import pandas as pd

from .staged import Staged


ALIAS_SCORE = 90              # docs/data.md "Keys from names": similarity >= 90 of 100
ALIAS_MAX_NEW = 20_000        # new names looked at per file (the first ones, in the file's order)


_ALIAS_CELLS = 32_000_000     # names x existing names scored at once (32 MB: one byte a score)


def _alias_form(name: str) -> str:
    """A name as compared for closeness: case and accents dropped, punctuation a space, the
    words in sorted order (so the score is rapidfuzz's token sort ratio)."""
    import unicodedata

    t = unicodedata.normalize("NFKD", name.casefold())
    t = "".join(c if c.isalnum() else " " for c in t if not unicodedata.combining(c))
    return " ".join(sorted(t.split()))


def possible_aliases(con, names: pd.Series, known: dict, existing: list[tuple[str, str]] | None = None
                      ) -> list[tuple[str, str, str]]:
    """New names close to an existing one (not equal after normalisation): shown, never merged
    silently (docs/data.md "Keys from names"). `existing` is (id, name) pairs; default the
    accounts. Close: 90 or more on rapidfuzz's token sort ratio (the words in any order). Not
    its token ratio: that scores 100 whenever one name's words are among the other's ('GTX
    Basic' and 'GTX Plus Basic', 'Acme' and 'Acme Corporation' are different names).
    Returns (name in file, closest existing name, its id), one per new name."""
    from rapidfuzz import fuzz, process

    if existing is None:
        rows = con.execute("select account_id, account_name, norm_key(account_name) from accounts "
                           "where account_name is not null order by account_id").fetchall()
    else:
        rows = [(i, n, k) for (i, n), k in zip(existing, name_keys(con, [n for _i, n in existing]))]
    by_key: dict[str, tuple[str, str]] = {}
    for i, n, k in rows:
        if isinstance(k, str) and k:
            by_key.setdefault(k, (i, n))
    if not by_key:
        return []
    uniq = list(pd.Series(names, dtype="string").dropna().unique())
    new: dict[str, str] = {}
    for name, key in zip(uniq, name_keys(con, uniq)):
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


ALIAS_NOTES = 20   # possible aliases of products or owners said one by one per file; the rest counted
NAME_FIELDS = {   # field -> the tables (and kinds of file) naming it
    "product": ("products", "deals"),
    "owner": ("owners", "deals", "quotas", "forecast_calls"),
}


def name_aliases(con, staged: list[Staged]) -> None:
    """Products and owners as accounts (docs/data.md "Keys from names"): names equal after
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
            found = possible_aliases(con, pd.Series(in_file[id(st)], dtype="string"), {}, others)
            keys = name_keys(con, [n for new, old, _w in found for n in (new, old)])
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


def name_keys(con, names) -> pd.Series:
    """Names in their normalised key form (the norm_key macro): each distinct name once, in one query."""
    names = pd.Series(names, dtype="string").reset_index(drop=True)
    uniq = names.dropna().unique()
    keys = dict(con.execute("select n, norm_key(n) from (select unnest(?::varchar[]) as n)", [list(uniq)]).fetchall())
    return names.map(keys).astype("string")


def account_ids(df: pd.DataFrame, con, aliases: dict | None = None) -> pd.DataFrame:
    """account_id where the file gives only names: a name the user merged into an existing
    account (an alias) takes that account's id; a name equal after normalisation to the one
    account already of that name takes its id (docs/data.md "Keys from names": an account plan
    written for the CRM's "Alpha Foods" joins ACC-17, not a new account); else the
    normalised name itself."""
    if "account_name" in df and ("account_id" not in df or df["account_id"].isna().any()):
        aliases = aliases or {}
        keys = name_keys(con, df["account_name"]).set_axis(df.index)
        known = dict(con.execute(
            "select norm_key(account_name), min(account_id) from accounts "
            "where norm_key(account_name) in (select unnest(?::varchar[])) group by 1 having count(*) = 1",
            [list(keys.dropna().unique())]).fetchall())
        derived = keys.map(known).astype("string").fillna(keys) if known else keys
        derived = keys.map(aliases).astype("string").fillna(derived) if aliases else derived
        derived = derived.where(derived != "")
        df["account_id"] = df["account_id"].where(df["account_id"].notna(), derived) if "account_id" in df else derived
    return df
