"""Settings: defaults in code, overrides stored in the `settings` table (each save is a
batch, so it can be undone), validation, and the stage list (DESIGN.md "Stages")."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass

import duckdb

from .errors import InputError

# DESIGN.md "Mutual-plan template": (step, side, stage); "won" means the won stage.
MUTUAL_PLAN_TEMPLATE = [
    {"step": "Recap of needs agreed", "side": "joint", "stage": "Discovery"},
    {"step": "Success criteria signed off", "side": "buyer", "stage": "Discovery"},
    {"step": "Solution demo or technical validation", "side": "seller", "stage": "Proposal"},
    {"step": "Security and IT review", "side": "buyer", "stage": "Proposal"},
    {"step": "Proposal presented", "side": "seller", "stage": "Proposal"},
    {"step": "Business case approved by the economic buyer", "side": "buyer", "stage": "Negotiation"},
    {"step": "Legal and procurement review", "side": "buyer", "stage": "Negotiation"},
    {"step": "Contract signed", "side": "joint", "stage": "Negotiation"},
    {"step": "Kick-off and onboarding hand-off", "side": "joint", "stage": "won"},
]

DEFAULTS: dict = {
    # None: inferred from the data until the user saves a list.
    "stages": None,
    "won_stages": None,
    "lost_stages": None,
    "fiscal_year_start_month": 1,
    "currency": "EUR",
    "min_sample": 5,
    "revisit_rule": "cumulative",
    "size_bands": [10_000, 50_000, 250_000],
    "comparable_min_visits": 20,
    # remembered by the importer: normalised account name -> account_id the user merged it
    # into; header signature -> the kind/column override the user confirmed
    "account_aliases": {},
    "mapping_overrides": {},
    "mutual_plan_template": MUTUAL_PLAN_TEMPLATE,
    "risk": {
        "pushed_repeatedly_pushes": 2,
        "pushed_repeatedly_days": 30,
        "amount_dropped_share": 0.8,
        "no_plan_stage": "Proposal",
        "unsigned_plan_stage": "Negotiation",
        "single_threaded_contacts": 2,
        "stale_days": 30,
        "weights": {
            "stalled": 2, "past_close_date": 2, "behind_schedule": 2, "overdue_buyer_steps": 2,
            "pushed_repeatedly": 1, "amount_dropped": 1, "overdue_seller_steps": 1,
            "no_plan": 1, "unsigned_plan": 1, "no_champion": 1, "no_economic_buyer": 1,
            "single_threaded": 1, "stale": 1,
        },
        "bands": {"medium": 2, "high": 4},
    },
}

REVISIT_RULES = ("cumulative", "first", "latest")
_WON = re.compile(r"\b(won|vinto|vinta)\b", re.IGNORECASE)
_LOST = re.compile(r"\b(lost|perso|persa)\b", re.IGNORECASE)


def is_won_name(stage: str) -> bool:
    return bool(_WON.search(stage))


def is_lost_name(stage: str) -> bool:
    return bool(_LOST.search(stage))


def load(con: duckdb.DuckDBPyConnection) -> dict:
    """Defaults overlaid with what the user saved."""
    out = copy.deepcopy(DEFAULTS)
    for key, value in con.execute("select key, value from settings").fetchall():
        out[key] = json.loads(value)
    return out


def validate(changes: dict) -> dict:
    """Check a set of changes; raise InputError naming the setting and what was expected."""
    clean = {}
    for key, value in changes.items():
        if key not in DEFAULTS:
            raise InputError(f"unknown setting {key!r}; known: {', '.join(sorted(DEFAULTS))}")
        if key == "stages":
            if not isinstance(value, list) or not value or not all(isinstance(s, str) and s.strip() for s in value):
                raise InputError("stages: expected a non-empty list of stage names")
            names = [s.strip() for s in value]
            if len({s.casefold() for s in names}) != len(names):
                raise InputError("stages: a stage name is listed twice")
            value = names
        elif key in ("won_stages", "lost_stages"):
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise InputError(f"{key}: expected a list of stage names")
        elif key == "fiscal_year_start_month":
            if not isinstance(value, int) or not 1 <= value <= 12:
                raise InputError(f"fiscal_year_start_month: expected a month number 1-12, got {value!r}")
        elif key == "min_sample":
            if not isinstance(value, int) or value < 1:
                raise InputError(f"min_sample: expected a whole number of at least 1, got {value!r}")
        elif key == "revisit_rule":
            if value not in REVISIT_RULES:
                raise InputError(f"revisit_rule: expected one of {', '.join(REVISIT_RULES)}, got {value!r}")
        elif key == "size_bands":
            if (not isinstance(value, list) or not value
                    or not all(isinstance(x, (int, float)) and x > 0 for x in value)
                    or sorted(value) != value or len(set(value)) != len(value)):
                raise InputError("size_bands: expected increasing positive amounts, e.g. [10000, 50000, 250000]")
        elif key in ("account_aliases", "mapping_overrides"):
            if not isinstance(value, dict):
                raise InputError(f"{key}: expected an object")
        elif key == "currency":
            if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
                raise InputError(f"currency: expected a three-letter ISO code such as EUR, got {value!r}")
        clean[key] = value
    merged_stages = clean.get("stages")
    if merged_stages is not None:
        for key in ("won_stages", "lost_stages"):
            for s in clean.get(key) or []:
                if s not in merged_stages:
                    raise InputError(f"{key}: {s!r} is not in the stage list ({', '.join(merged_stages)})")
        won = clean.get("won_stages") or [s for s in merged_stages if is_won_name(s)]
        if not won:
            raise InputError("stages: the list needs a won stage (mark one in won_stages)")
    return clean


def save(path, changes: dict) -> int:
    """Save settings as one batch (undoable). Returns the batch id."""
    from . import db

    clean = validate(changes)
    with db.batch(path, "settings", "settings saved: " + ", ".join(sorted(clean))) as b:
        for key, value in clean.items():
            write_in_batch(b, key, value)
        return b.batch_id


def write_in_batch(b, key: str, value) -> None:
    """Store one setting inside a batch (its prior value kept for undo)."""
    b.save_prior_rows("settings", "key = ?", [key])
    b.con.execute("delete from settings where key = ?", [key])
    b.con.execute("insert into settings values (?, ?, ?)", [key, json.dumps(value), b.batch_id])
    b.rows_loaded += 1
    b.touched.add("settings")


def size_band_labels(bands: list[float]) -> list[str]:
    """[10000, 50000, 250000] -> ['<10k', '10k-50k', '50k-250k', '>=250k']."""
    def short(x: float) -> str:
        for div, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
            if x >= div:
                v = x / div
                return (f"{v:g}") + suffix
        return f"{x:g}"

    labels = [f"<{short(bands[0])}"]
    labels += [f"{short(a)}-{short(b)}" for a, b in zip(bands, bands[1:])]
    labels.append(f">={short(bands[-1])}")
    return labels


@dataclass(frozen=True)
class StageConfig:
    stages: tuple[str, ...]        # the whole ordered list
    won: tuple[str, ...]
    lost: tuple[str, ...]
    inferred: bool                 # True until the user saves a list

    @property
    def open(self) -> tuple[str, ...]:
        closed = set(self.won) | set(self.lost)
        return tuple(s for s in self.stages if s not in closed)

    @property
    def won_stage(self) -> str | None:
        return self.won[0] if self.won else None

    def status_of(self, stage: str | None) -> str:
        if stage in self.won:
            return "won"
        if stage in self.lost:
            return "lost"
        return "open"


def stage_config(con: duckdb.DuckDBPyConnection, conf: dict | None = None) -> StageConfig:
    """The saved stage list, else the one inferred from the data."""
    conf = conf or load(con)
    if conf.get("stages"):
        stages = tuple(conf["stages"])
        won = tuple(conf.get("won_stages") or [s for s in stages if is_won_name(s)])
        lost = tuple(conf.get("lost_stages") or [s for s in stages if is_lost_name(s) and s not in won])
        return StageConfig(stages, won, lost, inferred=False)
    from . import models

    stages = tuple(models.infer_stage_order(con))
    won = tuple(s for s in stages if is_won_name(s))
    lost = tuple(s for s in stages if is_lost_name(s) and s not in won)
    return StageConfig(stages, won, lost, inferred=True)
