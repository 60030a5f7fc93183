"""Settings as stored: saving them as one undoable batch, checked against the data first, and
what the Settings page must flag (settings.py holds the defaults and the validation)."""

from __future__ import annotations

import duckdb

from . import batches, db, dims, settings, stage_list
from .errors import InputError


def check_against_data(con: duckdb.DuckDBPyConnection, clean: dict) -> None:
    """What can only be checked against the database: a saved stage list must hold every stage
    in the data, the stages risk and the template name must be in it, and the comparable
    dimension must exist."""
    merged = {**settings.load(con), **clean}
    stages = merged.get("stages")
    if "stages" in clean and stages:
        known = {s.casefold() for s in stages}
        rows = con.execute(
            "select stage, count(*) from (select stage from deals union all select stage from deal_history) "
            "where stage is not null group by stage order by 2 desc, 1"
        ).fetchall()
        missing = [(s, n) for s, n in rows if s.casefold() not in known]
        if missing:
            listed = ", ".join(f"{s!r} ({n:,} rows)" for s, n in missing[:5])
            raise InputError(f"stages: the data holds stages missing from the list: {listed}. "
                             "Add them to the list (as open, won or lost stages).")
    # the stages risk and the template name: checked when they are saved (a stage list saved
    # first may lack the defaults' names; `mismatches` then says so on the Settings page)
    stages = stages or list(stage_list.stage_config(con, merged).stages)
    if "risk" in clean:
        for k in ("no_plan_stage", "unsigned_plan_stage"):
            if merged["risk"][k] not in stages:
                raise InputError(f"risk.{k}: {merged['risk'][k]!r} is not in the stage list ({', '.join(stages)})")
    if "mutual_plan_template" in clean:
        for i, step in enumerate(merged["mutual_plan_template"], start=1):
            if not settings.in_stages(step["stage"], stages):
                raise InputError(f"mutual_plan_template step {i} ({step['step']}): stage {step['stage']!r} is not in "
                                 f"the stage list ({', '.join(stages)}) nor 'won'")
    if "comparable_by" in clean and clean["comparable_by"] not in dims.names(con):
        raise InputError(f"comparable_by: unknown dimension {clean['comparable_by']!r}; "
                         f"known: {', '.join(dims.names(con))}")


def mismatches(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Settings that name a stage missing from the stage list (e.g. the defaults' Proposal
    when the data's stages are named otherwise): shown on the Settings page to be fixed."""
    conf = settings.load(con)
    stages = list(stage_list.stage_config(con, conf).stages)
    if not stages:
        return []
    out = [f"risk: {k.replace('_', ' ')} is {conf['risk'][k]!r}, which is not in the stage list"
           for k in ("no_plan_stage", "unsigned_plan_stage") if conf["risk"][k] not in stages]
    missing = sorted({t["stage"] for t in conf["mutual_plan_template"] if not settings.in_stages(t["stage"], stages)})
    if missing:
        out.append("mutual-plan template: steps serve stages not in the stage list (" + ", ".join(missing)
                   + "); closing plans leave them out")
    return out


def save(path, changes: dict) -> int:
    """Save settings as one batch (undoable). Returns the batch id."""
    clean = settings.validate(changes)
    with batches.batch(path, "settings", "settings saved: " + ", ".join(sorted(clean))) as b:
        check_against_data(b.con, clean)
        for key, value in clean.items():
            settings.write_in_batch(b, key, value)
        return b.batch_id


def reset_old_risk_scale(path) -> int | None:
    """Store the reset of risk settings saved on the old 1/2 scale (old_risk_scale) as one
    undoable batch: thresholds kept, weights and bands the calibrated defaults. Not checked
    against the stage list (a reset is never refused; Settings shows any mismatch). Returns the
    batch id, or None when there was nothing to reset."""
    with db.read(path) as con:
        if settings.old_risk_scale(con) is None:
            return None
    with batches.batch(path, "settings", "settings saved: risk (weights and bands on the old 1/2 scale reset to the "
                       "calibrated defaults)") as b:
        old = settings.old_risk_scale(b.con)
        if old is not None:                      # (another session may have reset it meanwhile)
            settings.write_in_batch(b, "risk", settings.validate_risk(settings.migrated_risk(old)))
        return b.batch_id
