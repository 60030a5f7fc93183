"""What is loaded: counts per table, the last import, the data's date and the stage list
(the Overview page)."""

from __future__ import annotations

import duckdb
import pandas as pd

from . import db, demo, derived, stage_list
from .batches import list_batches

TABLE_LABELS = {
    "accounts": "Accounts", "owners": "Sales owners", "products": "Products", "fx_rates": "FX rates",
    "deals": "Deals", "deal_history": "Deal history rows", "deal_snapshots": "Deals seen in snapshot exports",
    "deal_field_changes": "Field changes (field-change logs)",
    "account_plans": "Account plans",
    "account_goals": "Account goals", "stakeholders": "Stakeholders (account maps)",
    "account_actions": "Account actions", "plans": "Closing & mutual plans", "plan_steps": "Plan steps",
    "forecast_calls": "Forecast calls", "quotas": "Quotas", "settings": "Saved settings",
}


def summary(con: duckdb.DuckDBPyConnection) -> dict:
    counts = db.table_counts(con)
    status = dict(con.execute("select status, count(*) from deals group by status").fetchall())
    batches = list_batches(con)
    loaded = batches[batches["status"] == "loaded"]
    cfg = stage_list.stage_config(con) if counts["deals"] else None
    return {
        "counts": pd.DataFrame([{"table": TABLE_LABELS[t], "name": t, "rows": n} for t, n in counts.items()]),
        "deals": counts["deals"], "open": status.get("open", 0), "won": status.get("won", 0),
        "lost": status.get("lost", 0), "data_date": derived.data_date(con),
        "last_batch": None if loaded.empty else loaded.iloc[0].to_dict(),
        "batches": batches, "stages": cfg, "data_version": db.data_version(con),
        "demo": demo.present(con),
    }
