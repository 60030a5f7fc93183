"""Benchmark: importing files, beside reading and validating the same files with pandas
(+ openpyxl for xlsx), each side in its own process with its own peak RSS.

    python bench/import.py --deals 1000000 --history-rows 8000000 --xlsx-rows 100000

Files: a deals csv, a full-state history csv, a deals xlsx, a field-change log of the same
deals and the deals export a week later (a second snapshot), generated here; and the deals and
history csv imported in one command. "Ours" is
the whole import (read, find the table, map, convert, validate, load in one transaction).
"pandas" reads the same file, parses numbers and dates, and checks the same row rules
(required fields, negative amounts, duplicate keys): the plain way to do it by hand. It writes
nothing, so "ours, check only" (the same import up to, not including, the write: what the
Import page's preview does) is printed too, the like-for-like figure, held to >= 2x pandas.
"floor" is DuckDB's bare read_csv of the same file into a table: the whole import is held to
<= 4x it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from common import peak_rss_mb, record  # noqa: E402 - bench/ is the script's folder

STAGES = np.array(["Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"])


def rss_mb() -> float:
    return peak_rss_mb()   # VmHWM: this process image's own peak


def make_files(work: Path, deals: int, history: int, xlsx_rows: int) -> dict:
    import pandas as pd

    rng = np.random.default_rng(3)
    out = {}
    n = deals
    d = pd.DataFrame({
        "Deal ID": np.char.add("X", np.arange(n).astype(str)),
        "Account": np.char.add("Account ", (np.arange(n) % 5000).astype(str)),
        "Owner": np.char.add("Owner ", (np.arange(n) % 300).astype(str)),
        "Stage": STAGES[rng.integers(0, len(STAGES), n)],
        "Amount": rng.integers(1000, 500000, n),
        "Created Date": (np.datetime64("2024-01-01") + rng.integers(0, 700, n).astype("timedelta64[D]")).astype(str),
        "Close Date": (np.datetime64("2025-01-01") + rng.integers(0, 700, n).astype("timedelta64[D]")).astype(str),
    })
    out["deals.csv"] = work / "deals.csv"
    d.to_csv(out["deals.csv"], index=False)
    m = history
    deal_ids = np.char.add("X", rng.integers(0, n, m).astype(str))
    start = np.datetime64("2024-01-01T00:00")
    changed = start + np.sort(rng.integers(0, 700 * 1440, m)).astype("timedelta64[m]")
    h = pd.DataFrame({"Deal ID": deal_ids, "Changed At": changed.astype(str), "Stage": STAGES[rng.integers(0, 6, m)],
                      "Amount": rng.integers(1000, 500000, m)})
    out["history.csv"] = work / "history.csv"
    h.to_csv(out["history.csv"], index=False)
    out["deals.xlsx"] = work / "deals.xlsx"
    d.head(xlsx_rows).to_excel(out["deals.xlsx"], index=False, engine="openpyxl")
    # a field-change log of the same deals: two changes a deal on average (stage and amount)
    k = 2 * n
    log_deals = np.char.add("X", rng.integers(0, n, k).astype(str))
    log_at = start + np.sort(rng.integers(0, 700 * 1440, k)).astype("timedelta64[m]")
    stage_change = rng.random(k) < 0.5
    old = np.where(stage_change, STAGES[rng.integers(0, 4, k)], rng.integers(1000, 500000, k).astype(str))
    new = np.where(stage_change, STAGES[rng.integers(0, 6, k)], rng.integers(1000, 500000, k).astype(str))
    f = pd.DataFrame({"Opportunity ID": log_deals, "Edit Date": log_at.astype(str),
                      "Field / Event": np.where(stage_change, "Stage", "Amount"), "Old Value": old, "New Value": new})
    out["field_log.csv"] = work / "field_log.csv"
    f.to_csv(out["field_log.csv"], index=False)
    # the same deals export a week later: a tenth of the deals moved on
    later = d.copy()
    moved = rng.random(n) < 0.1
    later.loc[moved, "Stage"] = STAGES[rng.integers(0, len(STAGES), int(moved.sum()))]
    out["deals_2026-01-08.csv"] = work / "deals_2026-01-08.csv"
    later.to_csv(out["deals_2026-01-08.csv"], index=False)
    return {k: str(v) for k, v in out.items()}


# what each timed import needs in the database first (loaded, not timed)
BEFORE = {"history.csv": ["deals.csv"], "field_log.csv": ["deals.csv"], "deals_2026-01-08.csv": ["deals.csv"]}


def role_ours(file: str, work: Path) -> dict:
    """The whole import of `file` (several files joined by '+': one command, one batch)."""
    from kam_analytics.importing.run import import_files

    db = work / "ours.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    files = [Path(f) for f in file.split("+")]
    for first in BEFORE.get(files[0].name, []) if len(files) == 1 else []:
        import_files(db, [work / first], snapshot_date=None)
    t = time.perf_counter()
    r = import_files(db, files)
    return {"seconds": time.perf_counter() - t, "status": r.status, "rows": sum(f.rows for f in r.files),
            "peak_rss_mb": rss_mb()}


def role_floor(file: str, work: Path) -> dict:
    """The floor no importer beats: DuckDB's bare read_csv of the same file(s) into a table."""
    import duckdb

    db = work / "floor.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    t = time.perf_counter()
    for i, f in enumerate(file.split("+")):
        con.execute(f"create table t{i} as select * from read_csv(?)", [f])
    return {"seconds": time.perf_counter() - t, "peak_rss_mb": rss_mb()}


def role_check(file: str, work: Path) -> dict:
    from kam_analytics.importing.run import preview

    db = work / "ours.duckdb"   # as role_ours left it: the deals are there for the history file
    t = time.perf_counter()
    r = preview(db, [Path(f) for f in file.split("+")])
    return {"seconds": time.perf_counter() - t, "status": r.status, "peak_rss_mb": rss_mb()}


def role_pandas(file: str) -> dict:
    import pandas as pd

    if "+" in file:   # several files: each read and checked
        parts = [role_pandas(f) for f in file.split("+")]
        return {"seconds": sum(p["seconds"] for p in parts), "rows": sum(p["rows"] for p in parts),
                "bad": sum(p["bad"] for p in parts), "peak_rss_mb": rss_mb()}
    t = time.perf_counter()
    df = pd.read_excel(file, engine="openpyxl", dtype=str) if file.endswith(".xlsx") else pd.read_csv(file, dtype=str)
    if "Field / Event" in df:   # a field-change log: the new values parsed per field
        bad = df["Opportunity ID"].isna() | df["Field / Event"].isna()
        parsed = pd.to_datetime(df["Edit Date"], errors="coerce", format="ISO8601")
        bad |= df["Edit Date"].notna() & parsed.isna()
        amounts = df["Field / Event"] == "Amount"
        num = pd.to_numeric(df.loc[amounts, "New Value"], errors="coerce")
        bad[amounts] |= num.isna() | (num < 0)
        return {"seconds": time.perf_counter() - t, "rows": len(df), "bad": int(bad.sum()), "peak_rss_mb": rss_mb()}
    bad = pd.Series(False, index=df.index)
    amount = pd.to_numeric(df["Amount"], errors="coerce")
    bad |= df["Amount"].notna() & amount.isna()
    bad |= amount < 0
    for col in [c for c in df.columns if "Date" in c or "At" in c]:
        parsed = pd.to_datetime(df[col], errors="coerce", format="ISO8601")
        bad |= df[col].notna() & parsed.isna()
    bad |= df["Deal ID"].isna() | df["Stage"].isna()
    if "Changed At" not in df:
        bad |= df["Deal ID"].duplicated()
    return {"seconds": time.perf_counter() - t, "rows": len(df), "bad": int(bad.sum()), "peak_rss_mb": rss_mb()}


def child(*args: str) -> dict:
    r = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT)
    if r.returncode:
        sys.exit(r.stderr[-3000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deals", type=int, default=1_000_000)
    ap.add_argument("--history-rows", type=int, default=8_000_000)
    ap.add_argument("--xlsx-rows", type=int, default=100_000)
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "import")
    ap.add_argument("--role", choices=("make", "ours", "check", "pandas", "floor"))
    ap.add_argument("--file")
    a = ap.parse_args()
    a.workdir.mkdir(parents=True, exist_ok=True)
    if a.role == "make":
        print(json.dumps(make_files(a.workdir, a.deals, a.history_rows, a.xlsx_rows)))
        return
    if a.role == "ours":
        print(json.dumps(role_ours(a.file, a.workdir)))
        return
    if a.role == "check":
        print(json.dumps(role_check(a.file, a.workdir)))
        return
    if a.role == "pandas":
        print(json.dumps(role_pandas(a.file)))
        return
    if a.role == "floor":
        print(json.dumps(role_floor(a.file, a.workdir)))
        return
    print(f"import benchmark: {a.deals:,}-row deals csv, {a.history_rows:,}-row history csv, "
          f"{a.xlsx_rows:,}-row xlsx (each side in its own process)")
    files = child("--role", "make", "--workdir", str(a.workdir), "--deals", str(a.deals),
                  "--history-rows", str(a.history_rows), "--xlsx-rows", str(a.xlsx_rows))
    files["deals.csv+history.csv"] = files["deals.csv"] + "+" + files["history.csv"]
    targets = {"deals.csv": (f"{a.deals:,}-row deals csv", 10), "history.csv": (f"{a.history_rows:,}-row history csv", 30),
               "deals.xlsx": (f"{a.xlsx_rows:,}-row xlsx", 8),
               "field_log.csv": (f"{2 * a.deals:,}-change field log csv", 30),
               "deals_2026-01-08.csv": (f"{a.deals:,}-row second snapshot csv", 20),
               "deals.csv+history.csv": ("deals + history csv in one command", 40)}
    rows = [("figure", "ours s", "floor s", "x floor", "check s", "pandas s", "pandas/check", "ours MB", "target")]
    for name, path in files.items():
        ours = child("--role", "ours", "--workdir", str(a.workdir), "--file", path)
        check = child("--role", "check", "--workdir", str(a.workdir), "--file", path)
        pd_ = child("--role", "pandas", "--file", path)
        floor = child("--role", "floor", "--workdir", str(a.workdir), "--file", path) if name.endswith("csv") else None
        label, target = targets[name]
        x_floor = ours["seconds"] / floor["seconds"] if floor else None
        rows.append((label, f"{ours['seconds']:.1f}", f"{floor['seconds']:.1f}" if floor else "",
                     f"{x_floor:.1f}x" if floor else "", f"{check['seconds']:.1f}", f"{pd_['seconds']:.1f}",
                     f"{pd_['seconds'] / check['seconds']:.2f}x", f"{ours['peak_rss_mb']:,.0f}",
                     f"< {target} s, check >= 2x pandas" + (", <= 4x floor" if floor else "") + ", < 1,500 MB"))
        record(f"import {label}", ours["seconds"], None, f"< {target} s", ours["seconds"] < target)
        record(f"import {label}, check only (what the preview runs)", check["seconds"], pd_["seconds"], ">= 2x",
               pd_["seconds"] / check["seconds"] >= 2)
        if floor:
            record(f"import {label} against DuckDB's bare read_csv ({floor['seconds']:.1f} s)", ours["seconds"], None,
                   "<= 4x the floor", x_floor <= 4, "s")
        record(f"import {label} peak RSS", ours["peak_rss_mb"], pd_["peak_rss_mb"], "< 1,500 MB",
               ours["peak_rss_mb"] < 1500, "MB")
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w[i]) if i in (0, 8) else c.rjust(w[i]) for i, c in enumerate(r)))


if __name__ == "__main__":
    main()
