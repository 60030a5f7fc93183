"""Recognise which canonical table a table is and map its columns (docs/data.md "The flow"):
by synonyms (synonyms.json: English, Italian and CRM export headers), ignoring case,
accents, punctuation and units. Confidence = the share of the kind's required fields
matched. Columns "date entered <stage>" (or "<stage>_date" where <stage> begins a stage
name) make the wide history shape. Unknown columns stay visible as not used."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .fields import TABLES
from .read import Table, norm

MIN_CONFIDENCE = 0.6


@cache
def synonyms() -> dict[str, dict[str, set[str]]]:
    raw = json.loads((Path(__file__).parent / "synonyms.json").read_text(encoding="utf-8"))
    out: dict[str, dict[str, set[str]]] = {}
    for table, fields in raw.items():
        if table.startswith("_"):
            continue
        out[table] = {f: {norm(x) for x in [f, *xs]} for f, xs in fields.items()}
    return out


def kind_fields() -> dict[str, list[str]]:
    """The fields a file of each kind can map its columns to."""
    return {kind: list(fields) for kind, fields in synonyms().items()}


def known_headers() -> set[str]:
    return {x for fields in synonyms().values() for xs in fields.values() for x in xs}


@dataclass
class Mapping:
    kind: str
    confidence: float
    columns: dict[str, str | None]                 # header as written -> field (None: not used)
    stage_columns: dict[str, str] = field(default_factory=dict)   # header -> stage entered
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    # (header, field): a header that means a field another column already maps to
    conflicts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def fields(self) -> dict[str, str]:
        return {f: h for h, f in self.columns.items() if f}


_ENTERED = re.compile(r"^(?:date entered|entered|data ingresso|data entrata|ingresso in)\s+(.+?)(?:\s+date)?$")
_STAGE_DATE = re.compile(r"^(.+?)\s+(?:date|data)$")


# The stage as written after an explicit "date entered" prefix (quotes, a pipeline's name in
# brackets and a trailing "date" dropped): `Date entered "Closed won (Sales Pipeline)"`.
_ENTERED_WRITTEN = re.compile(r'^\s*(?:date\s+entered|entered|data\s+(?:di\s+)?(?:ingresso|entrata)(?:\s+in)?|ingresso\s+in)'
                              r'[\s:_-]+["\'“]?(.+?)["\'”]?(?:\s*\([^)]*pipeline\))?["\'”]?(?:[\s_-]+(?:date|data))?\s*$',
                              re.IGNORECASE)


def _stage_of(header: str, stage_names: list[str]) -> str | None:
    h = norm(header)
    m = _ENTERED.match(h)
    target = m.group(1) if m else None
    explicit = target is not None
    if target is None:
        m = _STAGE_DATE.match(h)
        target = m.group(1) if m else None
    if not target:
        return None
    exact = [s for s in stage_names if norm(s) in (target, re.sub(r"\s+sales pipeline$", "", target))]
    if exact:
        return exact[0]
    if explicit:   # "date entered X" names its stage, whether or not a deal is in X now
        w = _ENTERED_WRITTEN.match(str(header))
        return w.group(1).strip() if w else None
    # a stem: "engage_date" -> Engaging; only when exactly one stage fits
    stem = target[:-1] if target.endswith("e") else target
    fits = [s for s in stage_names if len(stem) >= 4 and norm(s).startswith(stem)]
    return fits[0] if len(fits) == 1 else None


def detect(table: Table, stage_names: list[str], override: dict | None = None) -> Mapping:
    """The best kind for `table`, its column mapping and confidence. `override` (from
    --mapping or the Import page) may fix the kind and any column."""
    syn = synonyms()
    override = override or {}
    candidates = []
    for kind, fields in syn.items():
        if override.get("kind") and override["kind"] != kind:
            continue
        cols: dict[str, str | None] = {}
        used: set[str] = set()
        clash = []
        for h in table.headers:
            nh = norm(h)
            means = [f for f, xs in fields.items() if nh in xs]
            match = next((f for f in means if f not in used), None)
            if match:
                used.add(match)
            elif means:
                clash.append((h, means[0]))
            cols[h] = match
        required = TABLES[kind][1]
        hit = sum(1 for r in required if r in used or (r == "account_name" and "account_id" in used))
        conf = hit / len(required)
        candidates.append((conf, len(used), kind, cols, clash))
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    conf, _n, kind, cols, clash = candidates[0]
    for h, f in (override.get("columns") or {}).items():
        if h in cols:
            cols[h] = f or None
    stage_cols = {}
    if kind == "deals":
        for h, f in cols.items():
            if f is None:
                s = _stage_of(h, stage_names)
                if s:
                    stage_cols[h] = s
    if override.get("columns"):
        required = TABLES[kind][1]
        used = set(f for f in cols.values() if f)
        conf = sum(1 for r in required if r in used or (r == "account_name" and "account_id" in used)) / len(required)
    alts = [(k, c) for c, _, k, _, _ in candidates[1:4] if c > 0]
    told = override.get("columns") or {}
    unresolved = []
    for h, f in clash:
        if h in told:
            continue                      # the user said what this column is
        if f not in cols.values():
            cols[h] = f                   # the other column was set aside by the user: this one is it
        else:
            unresolved.append((h, f))
    clash = unresolved
    return Mapping(kind, conf, cols, stage_cols, alts, clash)


def describe(m: Mapping) -> str:
    used = ", ".join(f"{h!r} → {f}" for h, f in m.columns.items() if f)
    extra = ", ".join(f"{h!r} → entered {s}" for h, s in m.stage_columns.items())
    unused = ", ".join(repr(h) for h, f in m.columns.items() if not f and h not in m.stage_columns)
    parts = [f"kind {m.kind} (confidence {m.confidence:.0%})", f"columns: {used}"]
    if extra:
        parts.append(f"stage dates: {extra}")
    if unused:
        parts.append(f"not used: {unused}")
    return "; ".join(parts)
