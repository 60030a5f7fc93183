"""Converting: a recognised table's columns to their fields' types (dates, numbers, words of
a fixed vocabulary, stage names, a field-change log's old and new values), each bad value
recorded with its file, sheet, row, column and what was expected."""

from __future__ import annotations


import pandas as pd

from .. import stage_list
from . import coerce, vocabulary
from .fields import LOGGED_FIELDS
from .mapping import Mapping
from .read import Table, norm as _norm


AMOUNT_FIELDS = {"amount", "annual_revenue", "revenue_potential", "list_price", "rate", "commit", "best_case"}
ITALIAN_STAGE_WORDS = {"vinto": "won", "vinta": "won", "chiuso vinto": "won", "perso": "lost", "persa": "lost",
                       "chiuso perso": "lost"}


def reject(rejects: list, t: Table, row: int | None, column: str | None, value, reason: str) -> None:
    rejects.append({"file_name": t.file, "sheet": t.sheet, "row_number": row, "column_name": column,
                    "value": None if value is None else str(value)[:200], "reason": reason})


def stage_mapper(cfg: stage_list.StageConfig):
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


def convert_table(t: Table, m: Mapping, types: dict[str, str], stage_map, delimiter, overrides, rejects,
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
                reject(rejects, t, t.row_numbers[i], header, s[i], f"expected {c.expected}")
        bad |= c.bad
        out[fld] = c.values
    for h, stage in m.stage_columns.items():
        c = coerce.to_timestamp(raw[h], h, t.file, date_formats.get(h))
        for i in raw.index[c.bad]:
            reject(rejects, t, t.row_numbers[i], h, raw[h][i], f"expected {c.expected}")
        bad |= c.bad
        out[f"__entered__{stage}"] = c.values
    if m.kind == "deal_field_history":
        bad |= parse_logged_values(t, m, raw, out, stage_map, delimiter, rejects, notes, answers, questions,
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
            reject(rejects, t, row, header, value, reason)
            bad.at[position[row]] = True
    out["_row"] = t.row_numbers
    return out, {"bad": bad, "notes": notes, "raw": raw, "questions": questions}


def parse_logged_values(t: Table, m: Mapping, raw: pd.DataFrame, out: pd.DataFrame, stage_map, delimiter,
                         rejects: list, notes: list, answers: dict, questions: list, number_formats: dict,
                         in_file: dict) -> pd.Series:
    """A field-change log's old and new values, each parsed as the field it belongs to;
    fields other than stage, amount, close date, forecast category and probability are
    left out and counted."""
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
                reject(rejects, t, t.row_numbers[i], headers[which], raw.at[i, headers[which]],
                        f"expected {c.expected} (the field is {out.at[i, 'field']})")
            bad.loc[s.index] |= c.bad
            parsed.loc[s.index] = c.values.astype(object).to_numpy()
        out[which] = parsed
    return bad
