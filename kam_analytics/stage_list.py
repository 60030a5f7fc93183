"""The stage list: the one the user saved in Settings, else the one inferred from the data
(kam_analytics/stages.py infers it; the result is kept in meta at every write), with which of
its stages are open, won and lost."""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from . import db, models, settings, stages
from .errors import InputError


@dataclass(frozen=True)
class StageConfig:
    stages: tuple[str, ...]        # the whole ordered list
    won: tuple[str, ...]
    lost: tuple[str, ...]
    inferred: bool                 # True until the user saves a list
    undecided: tuple[tuple[str, str], ...] = ()   # inferred neighbours no evidence orders

    @property
    def open(self) -> tuple[str, ...]:
        closed = set(self.won) | set(self.lost)
        return tuple(s for s in self.stages if s not in closed)

    @property
    def won_stage(self) -> str | None:
        return self.won[0] if self.won else None

    @property
    def note(self) -> str | None:
        """What a report says about the list it used: inferred ones are shown so that the
        user can confirm them in Settings; with no stages at all there is nothing to say."""
        if not self.inferred or not self.stages:
            return None
        note = "Stage list inferred from the data: " + " → ".join(self.stages) + "."
        if self.undecided:
            pairs = "; ".join(f"{a} or {b}" for a, b in self.undecided)
            note += (f" The data does not tell which comes first of {pairs}: the order shown is a guess until "
                     "you confirm the list in Settings.")
        return note

    def status_of(self, stage: str | None) -> str:
        if stage in self.won:
            return "won"
        if stage in self.lost:
            return "lost"
        return "open"


def stage_config(con: duckdb.DuckDBPyConnection, conf: dict | None = None) -> StageConfig:
    """The saved stage list, else the one inferred from the data."""
    conf = conf or settings.load(con)
    if conf.get("stages"):
        stages = tuple(conf["stages"])
        return StageConfig(stages, *_closed_of(stages, conf), inferred=False)
    stages = tuple(infer_stage_order(con))
    return StageConfig(stages, *_closed_of(stages, {}), inferred=True,
                       undecided=tuple(undecided_stages(con)))


def closed_stages(con: duckdb.DuckDBPyConnection, conf: dict | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The won and the lost stages of stage_config, without the inferred order: for a write
    that derives from them before the order is inferred (derived.refresh_derived). Inferred,
    they are the won and lost names among every stage in the data, as stage_config's."""
    conf = conf or settings.load(con)
    if conf.get("stages"):
        return _closed_of(tuple(conf["stages"]), conf)
    names = [r[0] for r in con.execute("select distinct stage from deals where stage is not null union "
                                       "select distinct stage from deal_history where stage is not null "
                                       "order by 1").fetchall()]
    return _closed_of(tuple(names), {})


def _closed_of(stages: tuple[str, ...], conf: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    won = tuple(conf.get("won_stages") or [s for s in stages if settings.is_won_name(s)])
    lost = tuple(conf.get("lost_stages") or [s for s in stages if settings.is_lost_name(s) and s not in won])
    return won, lost


STAGE_TYPES = ("open", "won", "lost")


def stage_rows(cfg: StageConfig) -> list[dict]:
    """The stage list as rows for an editor: order, stage, type (open | won | lost)."""
    return [{"order": i, "stage": s, "type": cfg.status_of(s)} for i, s in enumerate(cfg.stages, start=1)]


def stage_changes(rows: list[dict]) -> dict:
    """Editor rows (order, stage, type) back to the settings `stages`, `won_stages`,
    `lost_stages`; rows without a name are ignored, the order number sorts (ties keep the
    rows' order). validate() then checks the result."""
    named = [r for r in rows if str(r.get("stage") or "").strip()]
    for r in named:
        if r.get("type") not in STAGE_TYPES:
            raise InputError(f"stages: {r['stage']!r} needs a type: open, won or lost")
    ordered = sorted(enumerate(named), key=lambda ir: (ir[1].get("order") is None, ir[1].get("order") or 0, ir[0]))
    stages = [str(r["stage"]).strip() for _, r in ordered]
    return {"stages": stages,
            "won_stages": [str(r["stage"]).strip() for _, r in ordered if r["type"] == "won"],
            "lost_stages": [str(r["stage"]).strip() for _, r in ordered if r["type"] == "lost"]}


def infer_stage_order(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The inferred stage list, as computed at the last write (see compute_stage_order)."""
    stored = db.get_meta(con, "inferred_stages")
    return json.loads(stored) if stored is not None else compute_stage_order(con)[0]


def undecided_stages(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Neighbouring stages of the inferred list that no evidence orders (computed at the last write)."""
    stored = db.get_meta(con, "undecided_stages")
    return [tuple(p) for p in json.loads(stored)] if stored else compute_stage_order(con)[1]


def compute_stage_order(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[tuple[str, str]]]:
    """The inference of kam_analytics/stages.py: the list from the evidence in
    sql/derived/stage_order.sql, and the neighbours it leaves undecided."""
    rows = con.execute(models.query("stage_order")).fetchall()
    evidence = [stages.Evidence(stage, pos, prob, cat) for stage, pos, _deals, prob, cat in rows]
    return stages.infer_order(evidence, settings.is_won_name, settings.is_lost_name)
