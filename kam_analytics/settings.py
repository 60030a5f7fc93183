"""Settings: the defaults in code, the overrides stored in the `settings` table read over them,
and their validation. Saving them (one undoable batch, checked against the data) is
settings_store.py; the stage list they describe is stage_list.py."""

from __future__ import annotations

import copy
import json
import math
import re

import duckdb

from .errors import InputError

# docs/metrics.md "Mutual-plan template": (step, side, stage); "won" means the won stage.
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

# every risk flag (reports/risk.py FLAGS lists them in the pages' order; a test keeps both equal)
RISK_FLAGS = ("stalled", "past_close_date", "behind_schedule", "overdue_buyer_steps", "pushed_repeatedly",
              "amount_dropped", "overdue_seller_steps", "no_plan", "unsigned_plan", "no_account_map", "no_champion",
              "no_economic_buyer", "single_threaded", "stale")
LOG_SCALE = "log"

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
    # closing plans: comparable deals share this dimension's value when every needed stage
    # has at least comparable_min_visits completed visits among them (docs/metrics.md "Closing plan generator")
    "comparable_by": "segment",
    "comparable_min_visits": 20,
    # remembered by the importer: normalised account name -> account_id the user merged it
    # into; header signature -> the kind/column override the user confirmed
    "account_aliases": {},
    "mapping_overrides": {},
    # field -> normalised word -> canonical value: the user's answers to unknown words
    "value_mappings": {},
    "mutual_plan_template": MUTUAL_PLAN_TEMPLATE,
    "risk": {
        "pushed_repeatedly_pushes": 2,
        "pushed_repeatedly_days": 30,
        "amount_dropped_share": 0.8,
        "no_plan_stage": "Proposal",
        "unsigned_plan_stage": "Negotiation",
        "single_threaded_contacts": 2,
        "stale_days": 30,
        # in log units (docs/metrics.md "Risk score and bands"): None = the calibrated
        # default, learnt from the team's own back-test (reports/risk.py); a number overrides it
        "weights": {f: None for f in RISK_FLAGS},
        # high when score > ln 2 (the flags halve the stage's odds), medium when > ln 1.25
        "bands": {"medium": math.log(1.25), "high": math.log(2)},
        # marks weights and bands saved on the log scale; settings saved without it are on the
        # old 1/2 scale and are reset to the calibrated defaults (see old_risk_scale)
        "weights_scale": "log",
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
        value = json.loads(value)
        if key == "risk" and isinstance(value, dict):     # saved by an older release: new keys default
            if _old_scale(value):                           # weights and bands on the old 1/2 scale: reset
                value = {k: v for k, v in value.items() if k not in ("weights", "bands")}
            for k, v in value.items():
                if isinstance(v, dict) and isinstance(out["risk"].get(k), dict):
                    out["risk"][k].update(v)
                else:
                    out["risk"][k] = v
            continue
        out[key] = value
    return out


def _old_scale(stored_risk: dict) -> bool:
    return (("weights" in stored_risk or "bands" in stored_risk)
            and stored_risk.get("weights_scale") != LOG_SCALE)


def old_risk_scale(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The stored risk settings when their weights and bands were saved on the old 1/2 scale
    (before the calibrated score, docs/metrics.md "Risk score and bands"): load() has
    reset them to the calibrated defaults; the Settings page says so once and stores the reset
    (migrated_risk). None when nothing was reset."""
    row = con.execute("select value from settings where key = 'risk'").fetchone()
    stored = json.loads(row[0]) if row else None
    return stored if isinstance(stored, dict) and _old_scale(stored) else None


def migrated_risk(stored_risk: dict) -> dict:
    """Old-scale risk settings with their thresholds kept, weights and bands at the calibrated
    defaults, marked as on the log scale (what the Settings page saves once)."""
    return {**{k: v for k, v in stored_risk.items() if k not in ("weights", "bands", "weights_scale")
               and k in DEFAULTS["risk"]}, "weights_scale": LOG_SCALE}


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
            if not _whole(value) or not 1 <= value <= 12:
                raise InputError(f"fiscal_year_start_month: expected a month number 1-12, got {value!r}")
        elif key == "min_sample":
            if not _whole(value) or value < 1:
                raise InputError(f"min_sample: expected a whole number of at least 1, got {value!r}")
        elif key == "revisit_rule":
            if value not in REVISIT_RULES:
                raise InputError(f"revisit_rule: expected one of {', '.join(REVISIT_RULES)}, got {value!r}")
        elif key == "size_bands":
            if (not isinstance(value, list) or not value
                    or not all(isinstance(x, (int, float)) and x > 0 for x in value)
                    or sorted(value) != value or len(set(value)) != len(value)):
                raise InputError("size_bands: expected increasing positive amounts, e.g. [10000, 50000, 250000]")
        elif key in ("account_aliases", "mapping_overrides", "value_mappings"):
            if not isinstance(value, dict):
                raise InputError(f"{key}: expected an object")
        elif key == "comparable_min_visits":
            if not _whole(value) or value < 1:
                raise InputError(f"comparable_min_visits: expected a whole number of at least 1, got {value!r}")
        elif key == "comparable_by":
            if not isinstance(value, str) or not value.strip():
                raise InputError("comparable_by: expected a dimension name such as segment")
            value = value.strip()
        elif key == "risk":
            value = validate_risk(value)
        elif key == "mutual_plan_template":
            value = _validate_template(value)
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
        lost = clean.get("lost_stages") or [s for s in merged_stages if is_lost_name(s) and s not in won]
        both = [s for s in won if s in lost]
        if both:
            raise InputError(f"stages: {both[0]!r} is marked both won and lost")
        closed = set(won) | set(lost)
        open_stages = [s for s in merged_stages if s not in closed]
        if not open_stages:
            raise InputError("stages: the list needs at least one open stage before the won and lost ones")
        last_open = merged_stages.index(open_stages[-1])
        early = [s for s in merged_stages[:last_open] if s in closed]
        if early:
            raise InputError(f"stages: impossible order: the closed stage {early[0]!r} comes before the open stage "
                             f"{open_stages[-1]!r}. Open stages are listed in the order deals move through them, "
                             "closed (won and lost) stages last.")
    return clean


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def validate_risk(value) -> dict:
    """Risk thresholds, weights and bands (docs/metrics.md "Risk flags"): every key known, every
    number in range, medium below high."""
    if not isinstance(value, dict):
        raise InputError("risk: expected an object of thresholds, weights and bands")
    out = copy.deepcopy(DEFAULTS["risk"])
    for k, v in value.items():
        if k not in out:
            raise InputError(f"risk: unknown setting {k!r}; known: {', '.join(out)}")
        if k in ("weights", "bands"):
            if not isinstance(v, dict):
                raise InputError(f"risk.{k}: expected an object")
            for name, x in v.items():
                if name not in out[k]:
                    raise InputError(f"risk.{k}: unknown name {name!r}; known: {', '.join(out[k])}")
                if x is None and k == "weights":        # the calibrated default
                    out[k][name] = None
                    continue
                if not _number(x) or x < 0:
                    what = "a number of at least 0 (in log units), or null for the calibrated default" \
                        if k == "weights" else "a number of at least 0 (in log units)"
                    raise InputError(f"risk.{k}.{name}: expected {what}, got {x!r}")
                out[k][name] = x
        elif k == "weights_scale":
            if v != LOG_SCALE:
                raise InputError(f"risk.weights_scale: expected {LOG_SCALE!r} (weights and bands in log units), "
                                 f"got {v!r}")
        elif k in ("no_plan_stage", "unsigned_plan_stage"):
            if not isinstance(v, str) or not v.strip():
                raise InputError(f"risk.{k}: expected a stage name")
            out[k] = v.strip()
        elif k == "amount_dropped_share":
            if not _number(v) or not 0 < v < 1:
                raise InputError(f"risk.amount_dropped_share: expected a fraction between 0 and 1 (0.8 = 80 %), got {v!r}")
            out[k] = v
        else:
            if not _whole(v) or v < 1:
                raise InputError(f"risk.{k}: expected a whole number of at least 1, got {v!r}")
            out[k] = v
    if out["bands"]["medium"] >= out["bands"]["high"]:
        raise InputError(f"risk.bands: medium ({out['bands']['medium']:.4g}) must be below high "
                         f"({out['bands']['high']:.4g})")
    return out


def _validate_template(value) -> list[dict]:
    """The mutual-plan template: steps with a name, a side and the stage they serve."""
    if not isinstance(value, list) or not value:
        raise InputError("mutual_plan_template: expected a non-empty list of steps")
    out = []
    for i, step in enumerate(value, start=1):
        if not isinstance(step, dict):
            raise InputError(f"mutual_plan_template step {i}: expected step, side and stage")
        name, side, stage = (str(step.get(k) or "").strip() for k in ("step", "side", "stage"))
        if not name:
            raise InputError(f"mutual_plan_template step {i}: the step has no name")
        if side not in ("buyer", "seller", "joint"):
            raise InputError(f"mutual_plan_template step {i} ({name}): side must be buyer, seller or joint, got {side!r}")
        if not stage:
            raise InputError(f"mutual_plan_template step {i} ({name}): name the stage it serves (or 'won')")
        out.append({"step": name, "side": side, "stage": stage})
    return out


def stage_key(name: str) -> str:
    """A stage name compared with case and punctuation ignored."""
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def in_stages(name: str, stages) -> bool:
    return stage_key(name) in {stage_key(s) for s in stages} | {"won"}


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


def parse_size_bands(text: str) -> list[float]:
    """"10000, 50000, 250000" (or 10k, 50k, 1m) -> [10000.0, 50000.0, 250000.0]."""
    out = []
    for part in re.split(r"[;,\s]+", str(text).strip()):
        if not part:
            continue
        m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", part.replace("_", ""))
        if not m:
            raise InputError(f"size_bands: {part!r} is not an amount; write e.g. 10000, 50000, 250000 or 10k, 50k, 250k")
        out.append(float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6}[m.group(2).lower()])
    return out
