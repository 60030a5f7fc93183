"""Loading: the staged tables written in ONE transaction, in dependency order, as one undoable
batch (upsert keeps the prior image of every changed row; history through history.py).

Rows are written through store.py (upsert, and the one way a frame is handed to DuckDB:
store.FRAMES_BY_NAME)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from .. import settings, stage_list
from ..store import Batch, schema_types, upsert
from . import vocabulary
from .fields import LOAD_ORDER
from .history import (insert_history, observe_snapshot, rebuild_field_log_rows, replace_snapshot_rows,
                      snapshot_history, store_field_changes, wide_history)
from .names import account_ids, name_keys
from .read import release_arrow_memory
from .staged import Staged
from .validate import one_row_per_key


def load_staged(b: Batch, staged: list[Staged], new_aliases: dict | None = None, new_values: dict | None = None) -> None:
    con = b.con
    conf = settings.load(con)
    aliases = conf["account_aliases"]
    if new_aliases:   # merges the user confirmed: by normalised name, remembered in this batch
        keys = dict(zip(name_keys(con, list(new_aliases)), new_aliases.values()))
        if {**aliases, **keys} != aliases:
            aliases = {**aliases, **keys}
            settings.write_in_batch(b, "account_aliases", aliases)
    if new_values:   # value mappings the user gave: remembered for later files
        merged = {f: dict(ws) for f, ws in conf["value_mappings"].items()}
        for f, ws in new_values.items():
            merged.setdefault(f, {}).update({vocabulary.word_key(w): v for w, v in (ws or {}).items() if v})
        if merged != conf["value_mappings"]:
            settings.write_in_batch(b, "value_mappings", merged)
    remember = {sig: o for st in staged if st.remember for sig, o in [st.remember]}
    if remember and {**conf["mapping_overrides"], **remember} != conf["mapping_overrides"]:
        settings.write_in_batch(b, "mapping_overrides", {**conf["mapping_overrides"], **remember})
    by_kind: dict[str, list[Staged]] = {}
    # successive snapshots in the order of their dates, not of the command line: the latest-dated
    # one gives the deals' current fields
    for st in sorted(staged, key=lambda st: st.snapshot[0] if st.snapshot and not st.stage_columns else datetime.min):
        by_kind.setdefault(st.kind, []).append(st)
    types = schema_types(con)
    for kind in LOAD_ORDER:
        for st in by_kind.get(kind, []):
            _load_one(b, st, aliases, types)
            st.frame = None   # its rows are in the database now: free them before the next file and the refresh
    release_arrow_memory()
    b.frames_released = True
    snapshot_history(b, [st for st in staged if st.kind == "deals" and st.snapshot and not st.stage_columns])
    # deals that a field-change log of an earlier batch named: their created date and current
    # fields are the log's initial state, so its rows are built again
    con.execute("create or replace temp table flog_deals as select distinct deal_id from deals "
                "where batch_id = ? and deal_id in (select deal_id from deal_field_changes where batch_id <> ?)",
                [b.batch_id, b.batch_id])
    rebuild_field_log_rows(b)
    con.execute("drop table flog_deals")
    say_derived_dates(b, staged)


def _load_one(b: Batch, st: Staged, aliases: dict, types: dict) -> None:
    con, kind, df = b.con, st.kind, st.frame
    if "account_name" in df or "account_id" in df:
        df = account_ids(df, con, aliases)
        one_row_per_key(st, df)
        if kind != "accounts":
            _ensure_accounts(b, df)
    if kind in ("deal_field_history", "deal_history") or (kind == "deals" and st.stage_columns):
        replace_snapshot_rows(b, st, df)
    if kind == "deal_field_history":
        store_field_changes(b, st)
        added, removed = rebuild_field_log_rows(b)
        con.execute("drop table flog_deals")
        st.report.new = added
        st.report.notes.append(f"{added:,} full-state history row(s) built from {len(df):,} field change(s)"
                               + (f", {removed:,} built earlier replaced" if removed else ""))
        return
    if kind == "deal_history":
        added, same = insert_history(b, df.assign(_order=df["_row"]), "full")
        st.report.new, st.report.unchanged = added, same
        b.rows_loaded += added
        return
    if kind == "deals" and not st.stage_columns:
        df = observe_snapshot(b, st, df)
    cols = [c for c in df.columns if not c.startswith("_") and c in types[kind]]
    new, changed, unchanged = upsert(b, kind, df, cols, list(types[kind]))
    st.report.new, st.report.changed, st.report.unchanged = new, changed, unchanged
    b.rows_loaded += new + changed
    if kind == "plan_steps":
        _plans_for_steps(b, st)
    if kind == "deals" and st.stage_columns:
        wide = wide_history(df, st.stage_columns)
        added, _same = insert_history(b, wide, "wide")
        b.rows_loaded += added
        st.report.notes.append(
            f"{added:,} history row(s) from the stage-date column(s) "
            f"{', '.join(repr(h) for h in st.stage_columns)} and closed deals' closing dates; their "
            "amount, close date, forecast category and probability are the deal's current values")


def _plans_for_steps(b: Batch, st: Staged) -> None:
    """Steps whose deal has no plan of their type get one (docs/data.md "Reading values"): reports
    never silently ignore stored steps."""
    added = b.con.execute("""
        insert into plans (deal_id, plan_type, batch_id)
        select distinct s.deal_id, s.plan_type, ? from plan_steps s
        where s.batch_id = ? and not exists (select 1 from plans p where p.deal_id = s.deal_id
                                             and p.plan_type = s.plan_type)
        returning deal_id
    """, [b.batch_id, b.batch_id]).fetchall()
    if added:
        b.touched.add("plans")
        b.rows_loaded += len(added)
        st.report.notes.append(f"{len(added):,} deal(s) had steps but no plan of their type: a plan row was created "
                               "for each (fill in its owners and dates with a plan header or the plan template)")


def _ensure_accounts(b: Batch, deals: pd.DataFrame) -> None:
    """Accounts named by deals, plans or maps but not loaded get a row (name and derived id)
    in this batch, so every account_id refers to an account."""
    if "account_id" not in deals:
        return
    con = b.con
    pairs = deals[["account_id"] + (["account_name"] if "account_name" in deals else [])].dropna(subset=["account_id"])
    pairs = pairs.drop_duplicates("account_id")
    if "account_name" not in pairs:
        pairs = pairs.assign(account_name=pairs["account_id"])
    named_accounts = pairs  # read by its name in the SQL (FRAMES_BY_NAME)
    con.execute("""
        insert into accounts (account_id, account_name, batch_id)
        select account_id, coalesce(account_name, account_id), ? from named_accounts n
        where not exists (select 1 from accounts a where a.account_id = n.account_id)
    """, [b.batch_id])
    b.touched.add("accounts")


def say_derived_dates(b: Batch, staged: list[Staged]) -> None:
    """The summary of docs/metrics.md "Dates of a deal" for the deals this batch wrote: how many
    created and closed dates will be derived from the history (derived.derive_deal_dates does
    it, at the end of every batch, for every deal whose history changed)."""
    won, lost = stage_list.closed_stages(b.con)
    filled, filled_closed = b.con.execute("""
        select count(*) filter (where (created_date is null or created_derived)
                                and exists (select 1 from deal_history h where h.deal_id = d.deal_id)),
               count(*) filter (where list_contains($closed, stage) and (closed_date is null or closed_derived))
        from deals d where batch_id = $b
    """, {"closed": [*won, *lost], "b": b.batch_id}).fetchone()
    for st in staged:
        if st.kind == "deals":
            if filled:
                st.report.notes.append(f"{filled:,} deal(s) had no created date: filled from their earliest history date")
            if filled_closed:
                st.report.notes.append(f"{filled_closed:,} closed deal(s) had no closed date: filled from "
                                       "their history, else their close date")
            break
