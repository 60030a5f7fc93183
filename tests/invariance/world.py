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

from kam_analytics import batches, db, demo, stage_list
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
    with batches.batch(path, "fixture", "world loaded directly") as b:
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
        out["_stage_list"] = list(stage_list.stage_config(con).stages)
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


def field_log_file(folder: Path, world, name: str = "field_history") -> Path:
    """A Salesforce-style field-change log (Edit Date, Field / Event, Old Value, New Value) under
    a banner, with a subtotal line after each deal and a Grand Totals footer: one line per field
    that changed between two consecutive states of a deal (its history after the same-time rule)."""
    h = same_time_last(world["deal_history"])
    fields = [("stage", "Stage", _cell), ("amount", "Amount", lambda v: "" if pd.isna(v) else f"{v:.2f}"),
              ("close_date", "Close Date", _us_date), ("forecast_category", "Forecast Category", _cell),
              ("probability", "Probability (%)", _pct)]
    rows: list[list[str]] = []
    for deal, g in h.groupby("deal_id", sort=True):
        prev = None
        n = 0
        for r in g.itertuples(index=False):
            if prev is not None:
                for f, label, fmt in fields:
                    a, b = getattr(prev, f), getattr(r, f)
                    if not (pd.isna(a) and pd.isna(b)) and (pd.isna(a) or pd.isna(b) or a != b):
                        rows.append([deal, _us_stamp(r.changed_at), label, fmt(a), fmt(b)])
                        n += 1
            prev = r
        if n:
            rows.append([f"Subtotal {deal}", "", "", "", ""])
    data = sum(1 for r in rows if not r[0].startswith("Subtotal"))
    return _write_csv(folder / f"{name}.csv", ["Opportunity ID", "Edit Date", "Field / Event", "Old Value", "New Value"],
                      rows, banner=["Opportunity Field History", "Filtered by: All opportunities"],
                      footer=[[], [f"Grand Totals ({data} records)"]])


def degrade_field_log(world) -> dict[str, pd.DataFrame]:
    """The world as a field-change log sees it: a deal's states only where some field changed;
    its first state at its created date (00:00), the log having no row for it; a deal whose
    state never changed has no history at all."""
    w = {k: v.copy() for k, v in world.items()}
    h = same_time_last(world["deal_history"])
    cols = ["stage", "amount", "close_date", "forecast_category", "probability"]
    prev = h.groupby("deal_id")[cols].shift()
    first = h["deal_id"] != h["deal_id"].shift()
    same = pd.Series(True, index=h.index)
    for c in cols:
        same &= (h[c] == prev[c]) | (h[c].isna() & prev[c].isna())
    h = h[first | ~same].copy()
    created = world["deals"].set_index("deal_id")["created_date"]
    h.loc[first.loc[h.index], "changed_at"] = pd.to_datetime(h.loc[first.loc[h.index], "deal_id"].map(created))
    # a probability that never changed is nowhere in the log (a deal row holds none)
    steady = h.groupby("deal_id")["probability"].transform(lambda p: p.nunique(dropna=False) == 1)
    h.loc[steady, "probability"] = np.nan
    changed = h.groupby("deal_id")["deal_id"].transform("size") > 1
    w["deal_history"] = h[changed].reset_index(drop=True)
    return w


def wide_file(folder: Path, world, stages: list[str], name: str = "deals_wide") -> Path:
    """The deals export with a 'Date entered <stage>' column per stage (the first time each
    deal entered it), as some CRMs export deals."""
    d = world["deals"]
    h = same_time_last(world["deal_history"])
    entered = h.groupby(["deal_id", "stage"])["changed_at"].min().unstack("stage")
    cols = [c for c in DEAL_COLS if c != "closed_date"]
    head = [c.replace("_", " ").title().replace("Id", "ID") for c in cols] + [f"Date entered {s}" for s in stages]
    rows = []
    for r in d.itertuples(index=False):
        row = [_cell(getattr(r, c)) if not c.endswith("_date") else (
            "" if pd.isna(getattr(r, c)) else getattr(r, c).isoformat()[:10]) for c in cols]
        for s in stages:
            t = entered.at[r.deal_id, s] if r.deal_id in entered.index and s in entered.columns else None
            row.append("" if t is None or pd.isna(t) else pd.Timestamp(t).strftime("%Y-%m-%d %H:%M"))
        rows.append(row)
    return _write_csv(folder / f"{name}.csv", head, rows)


def degrade_wide(world) -> dict[str, pd.DataFrame]:
    """The world as 'date entered' columns see it: one row per stage at the first time the deal
    entered it, in time order, with the deal's current amount, close date and forecast category
    (the shape records none of them) and no probability; a closed deal's closed date derived
    from its first closed row."""
    w = {k: v.copy() for k, v in world.items()}
    h = same_time_last(world["deal_history"])
    first = h.groupby(["deal_id", "stage"], as_index=False)["changed_at"].min()
    cur = world["deals"].set_index("deal_id")
    first = first.sort_values(["deal_id", "changed_at", "stage"], kind="stable").reset_index(drop=True)
    for c in ("amount", "close_date", "forecast_category"):
        first[c] = first["deal_id"].map(cur[c])
    first["probability"] = np.nan
    w["deal_history"] = first[HIST_COLS]
    # the sheet has no closed-date column: a closed deal's closed date is the day it first
    # entered a closed stage (the generator's closing time and its closed date can straddle
    # midnight by a rounding of the minute)
    closed = first[first["stage"].str.contains("Won|Lost")].groupby("deal_id")["changed_at"].min().dt.normalize()
    d = w["deals"]
    d["closed_date"] = d["deal_id"].map(closed).where(d["deal_id"].isin(closed.index), d["closed_date"])
    return w


SNAPSHOT_DATES = ("2026-08-01", "2026-09-01", "2026-10-01", "2026-11-21")


def _state_at(world, t: pd.Timestamp) -> pd.DataFrame:
    """Each deal that exists at t (created before t), with its state then: its last history row
    before t (after the same-time rule), its closed date when it was closed by then."""
    d = world["deals"]
    d = d[pd.to_datetime(d["created_date"]) < t].set_index("deal_id")
    h = same_time_last(world["deal_history"])
    h = h[h["changed_at"] < t].groupby("deal_id").last()
    out = d.copy()
    for c in ("stage", "amount", "close_date", "forecast_category"):
        out[c] = h[c].reindex(out.index).where(h[c].reindex(out.index).notna() | ~out.index.isin(h.index), None)
    closed = out["stage"].map(lambda s: isinstance(s, str) and ("Won" in s or "Lost" in s))
    out["closed_date"] = out["closed_date"].where(closed & (pd.to_datetime(out["closed_date"]) < t), pd.NaT)
    return out.reset_index()


def snapshot_files(folder: Path, world) -> list[Path]:
    """The deals export taken on each of SNAPSHOT_DATES, dated by its file name."""
    out = []
    for day in SNAPSHOT_DATES:
        state = {**world, "deals": _state_at(world, pd.Timestamp(day))}
        out.append(deals_file(folder, state, "en", name=f"pipeline_{day}"))
    return out


def degrade_snapshots(world) -> dict[str, pd.DataFrame]:
    """The world as successive snapshots see it (docs/data.md "Deal history"), written once here: the
    deals that exist at the first date they are seen, each with a row at its created date (or,
    first seen closed, a row open with an unknown stage at its created date and its closed row
    at its closed date, else close date), then a row at each later snapshot date where its
    stage, amount, close date or forecast category changed; its current fields those of the
    latest snapshot; no probability."""
    w = {k: v.copy() for k, v in world.items()}
    states = [(pd.Timestamp(day), _state_at(world, pd.Timestamp(day)).set_index("deal_id")) for day in SNAPSHOT_DATES]
    rows, current = [], {}
    keys = ("stage", "amount", "close_date", "forecast_category")
    deals = sorted(set().union(*[set(s.index) for _t, s in states]))
    for deal in deals:
        prev = None
        for t, s in states:
            if deal not in s.index:
                continue
            r = s.loc[deal]
            state = tuple(None if pd.isna(r[k]) else r[k] for k in keys)
            base = dict(zip(keys, state))
            if prev is None:
                created = pd.Timestamp(r["created_date"])
                if isinstance(r["stage"], str) and ("Won" in r["stage"] or "Lost" in r["stage"]):
                    at = pd.Timestamp(r["closed_date"]) if pd.notna(r["closed_date"]) else (
                        pd.Timestamp(r["close_date"]) if pd.notna(r["close_date"]) else t)
                    if created < at:
                        rows.append({"deal_id": deal, "changed_at": created, **base, "stage": None, "k": 0})
                    rows.append({"deal_id": deal, "changed_at": at, **base, "k": 1})
                else:
                    rows.append({"deal_id": deal, "changed_at": created, **base, "k": 1})
            elif state != prev:
                rows.append({"deal_id": deal, "changed_at": t, **base, "k": 1})
            prev = state
            current[deal] = r
    h = pd.DataFrame(rows).sort_values(["deal_id", "changed_at", "k"], kind="stable")
    h["probability"] = np.nan
    w["deal_history"] = h[HIST_COLS].reset_index(drop=True)
    last = pd.DataFrame(current.values(), index=list(current)).rename_axis("deal_id").reset_index()
    w["deals"] = last[world["deals"].columns]
    return w
