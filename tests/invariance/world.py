"""One generated world, written in every shape and locale the importer accepts.

The reference is the demo world loaded directly (no importer). Each writer here turns the
reference's tables into the files a team would have: full-state history in US or Italian
locale, a field-change log under banner rows with summary lines, wide "date entered" deals
sheets, deals workbooks with Italian headers. Where a shape loses information by nature, the
matching `degrade_*` function says, once, what the world looks like seen through it; the
expected reports come from that degraded world loaded directly — never from the importer.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from kam_analytics import db, demo, settings
from kam_analytics.exports import records
from kam_analytics.reports import REPORTS

# Tables other than deals and history, written once in plain English csv for every variant.
SIDE_TABLES = ("accounts", "owners", "products", "fx_rates", "quotas", "forecast_calls", "plans", "plan_steps",
               "account_plans", "account_goals", "stakeholders", "account_actions")
DEAL_COLS = ["deal_id", "account_id", "deal_name", "owner", "segment", "region", "source", "product", "amount",
             "currency", "created_date", "close_date", "stage", "forecast_category", "closed_date", "loss_reason",
             "competitor", "champion", "economic_buyer"]
HIST_COLS = ["deal_id", "changed_at", "stage", "amount", "close_date", "forecast_category", "probability"]


def reference(path: Path, deals: int, seed: int) -> dict[str, pd.DataFrame]:
    """The demo world loaded directly at `path`; its tables as frames (batch ids left out)."""
    demo.load(path, deals=deals, seed=seed)
    out = {}
    with db.read(path) as con:
        for t in db.DATA_TABLES:
            if t == "settings":
                continue
            df = con.execute(f'select * exclude (batch_id) from "{t}"').df()
            if t == "deal_history":
                df = df.sort_values("seq", kind="stable").drop(columns=["seq", "shape"]).reset_index(drop=True)
            if t == "deals":
                df = df.drop(columns=["status"])
            out[t] = df
    return out


def load_direct(path: Path, world: dict[str, pd.DataFrame]) -> Path:
    """A (degraded) world inserted as it is, in one batch, like the demo loader: the
    independent path the imports are compared with."""
    with db.batch(path, "fixture", "world loaded directly") as b:
        for t, df in world.items():
            frame = df.copy()
            if t == "deal_history":
                frame["seq"] = np.arange(1, len(frame) + 1)
                frame["shape"] = "full"
            direct_src = frame  # read by its name in the SQL
            b.con.execute(f'insert into "{t}" by name select *, $b as batch_id from direct_src', {"b": b.batch_id})
            b.touched.add(t)
    return path


def all_reports(path: Path) -> dict[str, list[dict]]:
    """Every report with its default options, as the CLI's JSON records."""
    out = {}
    with db.read(path) as con:
        for name, rep in REPORTS.items():
            kwargs = {o.dest: o.default for o in rep.options}
            out[name] = records(rep.func(con, as_of=None, **kwargs))
        out["_stage_list"] = list(settings.stage_config(con).stages)
    return out


# --- writers ---------------------------------------------------------------------------------

def _write_csv(path: Path, header: list[str], rows, delimiter: str = ",", banner: list[str] | None = None,
               footer: list[list[str]] | None = None, encoding: str = "utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f, delimiter=delimiter)
        for line in banner or []:
            w.writerow([line])
        if banner:
            w.writerow([])
        w.writerow(header)
        w.writerows(rows)
        for line in footer or []:
            w.writerow(line)
    return path


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return ""
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    return str(v)


def side_files(folder: Path, world: dict[str, pd.DataFrame]) -> list[Path]:
    """The tables other than deals and history, one plain csv each (canonical headers)."""
    out = []
    for t in SIDE_TABLES:
        df = world[t]
        if "account_id" in df and t != "accounts":   # plans and maps name their account, as people write them
            names = world["accounts"].set_index("account_id")["account_name"]
            df = df.assign(account_id=df["account_id"].map(names)).rename(columns={"account_id": "account_name"})
        rows = [[_cell(v) for v in r] for r in df.itertuples(index=False)]
        out.append(_write_csv(folder / f"{t}.csv", [c.replace("_", " ") for c in df.columns], rows))
    return out


def _us_amount(v) -> str:
    return "" if pd.isna(v) else f"{v:,.2f}"


def _it_amount(v) -> str:
    return "" if pd.isna(v) else f"{v:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def _us_date(v) -> str:
    return "" if pd.isna(v) else f"{v.month}/{v.day}/{v.year}"


def _it_date(v) -> str:
    return "" if pd.isna(v) else f"{v.day:02d}/{v.month:02d}/{v.year}"


def _us_stamp(v) -> str:
    h = v.hour % 12 or 12
    return f"{v.month}/{v.day}/{v.year} {h}:{v.minute:02d} {'AM' if v.hour < 12 else 'PM'}"


def _it_stamp(v) -> str:
    return f"{v.day:02d}/{v.month:02d}/{v.year} {v.hour:02d}:{v.minute:02d}"


def _pct(v) -> str:
    return "" if pd.isna(v) else f"{round(v * 100):d}%"


def deals_file(folder: Path, world, locale: str = "en", name: str | None = None, ext: str = "csv",
               drop: tuple[str, ...] = ()) -> Path:
    """The deals export: English headers in US locale, or Italian headers in Italian locale
    (`;`, decimal comma, dd/mm/yyyy)."""
    d = world["deals"]
    cols = [c for c in DEAL_COLS if c not in drop]
    en = {"deal_id": "Opportunity ID", "account_id": "Account ID", "deal_name": "Opportunity Name",
          "owner": "Opportunity Owner", "segment": "Segment", "region": "Region", "source": "Lead Source",
          "product": "Product", "amount": "Amount", "currency": "Currency", "created_date": "Created Date",
          "close_date": "Close Date", "stage": "Stage", "forecast_category": "Forecast Category",
          "closed_date": "Closed Date", "loss_reason": "Loss Reason", "competitor": "Competitor",
          "champion": "Champion", "economic_buyer": "Economic Buyer"}
    it = {"deal_id": "ID trattativa", "account_id": "Codice cliente", "deal_name": "Titolo", "owner": "Proprietario",
          "segment": "Segmento", "region": "Regione", "source": "Origine", "product": "Prodotto", "amount": "Importo",
          "currency": "Valuta", "created_date": "Data di creazione", "close_date": "Data chiusura prevista",
          "stage": "Fase", "forecast_category": "Categoria previsione", "closed_date": "Data chiusura effettiva",
          "loss_reason": "Motivo perdita", "competitor": "Concorrente", "champion": "Sostenitore interno",
          "economic_buyer": "Acquirente economico"}
    heads = it if locale == "it" else en
    amount, day = (_it_amount, _it_date) if locale == "it" else (_us_amount, _us_date)
    rows = []
    for r in d[cols].itertuples(index=False):
        row = []
        for c, v in zip(cols, r):
            row.append(amount(v) if c == "amount" else day(v) if c.endswith("_date") else _cell(v))
        rows.append(row)
    name = name or f"deals_{locale}"
    if ext == "csv":
        return _write_csv(folder / f"{name}.csv", [heads[c] for c in cols], rows, ";" if locale == "it" else ",")
    frame = pd.DataFrame(rows, columns=[heads[c] for c in cols])
    path = folder / f"{name}.{ext}"
    frame.to_excel(path, index=False, sheet_name="Trattative" if locale == "it" else "Deals",
                   engine="odf" if ext == "ods" else "openpyxl")
    return path


def history_file(folder: Path, world, locale: str = "en", name: str | None = None) -> Path:
    """Full-state history rows in the reference's import order."""
    h = world["deal_history"]
    if locale == "it":
        head = ["ID trattativa", "Data modifica", "Fase", "Importo", "Data chiusura", "Categoria previsione",
                "Probabilità"]
        rows = [[r.deal_id, _it_stamp(r.changed_at), r.stage, _it_amount(r.amount), _it_date(r.close_date),
                 _cell(r.forecast_category), _pct(r.probability)] for r in h.itertuples(index=False)]
        return _write_csv(folder / f"{name or 'storico_it'}.csv", head, rows, ";")
    head = ["Opportunity ID", "Last Modified", "Stage", "Amount", "Close Date", "Forecast Category", "Probability (%)"]
    rows = [[r.deal_id, _us_stamp(r.changed_at), r.stage, _us_amount(r.amount), _us_date(r.close_date),
             _cell(r.forecast_category), _pct(r.probability)] for r in h.itertuples(index=False)]
    return _write_csv(folder / f"{name or 'history_us'}.csv", head, rows, banner=["Opportunity History",
                      "Filtered by: All opportunities"], footer=[[], [f"Grand Totals ({len(rows)} records)"]])


# --- what a shape cannot see -------------------------------------------------------------------

def same_time_last(h: pd.DataFrame) -> pd.DataFrame:
    """The state at each time: of rows sharing a deal and a changed_at, the last imported."""
    return h.drop_duplicates(["deal_id", "changed_at"], keep="last").reset_index(drop=True)
