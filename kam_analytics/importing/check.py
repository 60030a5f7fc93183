"""The check step, what the preview runs: every file read, its tables found, recognised,
converted and validated, and nothing written (stage_files; preview wraps it). Unknown words
and possible stage synonyms come back as questions; the value answers of a mapping are
checked here."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from .. import db, settings, stage_list
from ..errors import InputError
from ..store import schema_types
from . import vocabulary
from .convert import AMOUNT_FIELDS, convert_table, stage_mapper
from .fields import FILE_ONLY_TYPES
from .history import snapshot_clashes
from .mapping import MIN_CONFIDENCE, Mapping, describe, detect, known_headers
from .names import name_aliases, possible_aliases
from .read import pictures_note, read_tables
from .staged import FileReport, ImportResult, PREVIEW_ROWS, Staged
from .tables import header_signature, header_table, repeated_headers, table_date, with_context
from .validate import key_clashes, validate_table


CURRENCY_KINDS = ("deals",)                        # tables with amounts and a currency column
NO_CURRENCY_KINDS = ("products", "quotas", "forecast_calls")   # amounts, no currency column: the settings one


def file_currency(rep: FileReport, m: Mapping, good: pd.DataFrame, default: str, given: str | None,
                   source: str) -> pd.DataFrame:
    """docs/metrics.md "Currency": the rows of a file with amounts carry its currency. A file's own
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


def stage_files(paths: list[Path], con, overrides: dict | None = None, names: list[str] | None = None,
                snapshot_date: date | None = None, currency: str | None = None,
                currency_source: str = "given with --currency") -> tuple[list[Staged], list[dict], list[FileReport], list[str]]:
    """Read, map, convert and validate every file; nothing is written. `currency`: the
    currency of the files with amounts but no currency column (default the settings
    currency), `currency_source` where it was given (for the summary)."""
    types = {**schema_types(con), **FILE_ONLY_TYPES}
    overrides, value_errors = checked_values(overrides)
    conf = settings.load(con)
    cfg = stage_list.stage_config(con, conf)
    remembered = conf["mapping_overrides"]
    aliases = {**conf["account_aliases"], **((overrides or {}).get("*", {}).get("aliases") or {})}
    stage_map = stage_mapper(cfg)
    remembered_values = conf["value_mappings"]

    def answers_for(override: dict) -> dict:
        """Value mappings: remembered, then the whole command's, then this file's."""
        out = {f: dict(ws) for f, ws in remembered_values.items()}
        for part in ((overrides or {}).get("values") or {}, override.get("values") or {}):
            for f, ws in part.items():
                out.setdefault(f, {}).update(ws or {})
        return out

    known = known_headers()
    staged, rejects, reports, errors = [], [], [], list(value_errors)
    for idx, path in enumerate(paths):
        name = names[idx] if names else path.name
        override = (overrides or {}).get(name) or (overrides or {}).get("*") or {}
        try:
            found = read_tables(path, known, name)
        except InputError as exc:
            errors.append(str(exc))
            reports.append(FileReport(name, None, None, None, 0.0, "", notes=[str(exc)]))
            continue
        tables = [h for t in found if (h := header_table(t)) is not None]
        tables += [with_context(t) for t in found if t.n_rows]
        if not tables:
            msg = (f"{name}: no table with data rows was found (a header row and at least one row "
                   f"below it){pictures_note(path)}; the file yields no rows")
            errors.append(msg)
            reports.append(FileReport(name, None, None, None, 0.0, "", notes=[msg]))
            continue
        # key-value lines that head no table and are no plan's header (an export's Numbers
        # sheet): said aloud, never taken for data
        aside = [t for t in found if t.meta and not t.n_rows and header_table(t) is None]
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
            repeated = repeated_headers(t.headers)
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
                df, info = convert_table(t, m, types.get(m.kind, {}), stage_map, t.delimiter, override, rejects,
                                    answers_for(override))
            except InputError as exc:
                errors.append(str(exc))
                continue
            rep.notes += info["notes"]
            rep.questions = info["questions"]
            bad = info["bad"] | validate_table(t, m, df, info["raw"], rejects)
            rep.rejected = int(bad.sum())
            good = df[~bad].copy() if bad.any() else df
            good = file_currency(rep, m, good, conf["currency"], currency, currency_source)
            shown = good.drop(columns=[c for c in good.columns if c.startswith("__")]).head(PREVIEW_ROWS).copy()
            for c in shown.columns:   # dates without a time read as dates
                if str(shown[c].dtype).startswith("datetime64") and (shown[c].dropna().dt.normalize() == shown[c].dropna()).all():
                    shown[c] = shown[c].dt.date
            rep.preview = shown
            provided = [c for c in good.columns if not c.startswith("_") and not c.startswith("__entered__")]
            snap = table_date(t, snapshot_date) if m.kind == "deals" else None
            keep = (sig, {"kind": m.kind, "columns": m.columns}) if sig and used is override and used else None
            if "account_name" in good:
                rep.aliases = possible_aliases(con, good["account_name"], aliases)
                for new, old, acc in rep.aliases:
                    rep.notes.append(f"possible alias: {new!r} looks like the account {old!r} ({acc}); it loads as a "
                                     f"new account unless merged (Import page, or --mapping "
                                     f'{{"*": {{"aliases": {{"{new}": "{acc}"}}}}}})')
            staged.append(Staged(rep, m.kind, good, provided, m.stage_columns, snap, keep))
        if aside and len(reports) > first_report:
            for t in aside:
                labels = ", ".join(repr(lbl) for lbl, _v, _r in list(t.meta.values())[:3])
                reports[first_report].notes.append(
                    f"{'sheet ' + repr(t.sheet) if t.sheet else 'the file'}: {len(t.meta)} key-value line(s) "
                    f"({labels}{', …' if len(t.meta) > 3 else ''}) head no table and are no plan's header: not imported")
    name_aliases(con, staged)
    errors += key_clashes(con, staged, aliases)
    errors += snapshot_clashes(con, staged)
    if stage_map is None:
        errors += stage_synonyms(staged, cfg.stages, answers_for({}).get("stage", {}))
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


def stage_synonyms(staged: list[Staged], known: tuple[str, ...], answered: dict) -> list[str]:
    """docs/metrics.md "Stages": a new stage name that looks like a synonym of a known one (or of another
    new one) is asked about, never merged or kept apart silently. The answer is a value mapping
    of the stage: to the other name (the same stage) or to itself (a stage of its own)."""
    seen: dict[str, dict[str, tuple[Staged, int]]] = {}
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


def rejects_frame(rejects: list[dict]) -> pd.DataFrame:
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
    rej = rejects_frame(rejects)
    status = "rejected" if errors else "ready"
    return ImportResult(status, None, reports, rej, "; ".join(errors))


def checked_values(overrides: dict | None) -> tuple[dict | None, list[str]]:
    """The mapping with every value answer (top-level `values` and each file's) checked and
    written as its field's canonical value (vocabulary.check_answers), and what was wrong."""
    if not overrides:
        return overrides, []
    out, errors = dict(overrides), []
    for key, part in overrides.items():
        if key == "values":
            out[key], errs = vocabulary.check_answers(part)
        elif isinstance(part, dict) and part.get("values"):
            vals, errs = vocabulary.check_answers(part["values"])
            out[key] = {**part, "values": vals}
        else:
            continue
        errors += [e if key == "values" else f"{key}: {e}" for e in errs if e not in errors]
    return out, errors


def given_values(overrides: dict | None) -> dict:
    """Every value mapping of a command (its top-level `values` and each file's), field -> word -> value."""
    out: dict[str, dict] = {}
    overrides, _errors = checked_values(overrides)   # stage_files refused the batch on any error
    parts = [(overrides or {}).get("values")] + [o.get("values") for o in (overrides or {}).values() if isinstance(o, dict)]
    for part in parts:
        for f, ws in (part or {}).items():
            out.setdefault(f, {}).update(ws or {})
    return out
