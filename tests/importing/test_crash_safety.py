"""Crashes mid-import (issue 10): the import process is killed (SIGKILL) at random points of an
import of 200,000 deals, 20 times; after each kill the database opens without repair and holds
either the whole batch or nothing of it - every data table as before, or the batch complete
with its log entry."""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kam_analytics import db

from ..conftest import load_fixture

pytestmark = pytest.mark.serial     # kills imports at random moments: alone, after the rest (Makefile)

ROOT = Path(__file__).parent.parent.parent
ROWS = 200_000
KILLS = 20


def _deals_csv(path: Path) -> Path:
    """200,000 deals over 40 accounts and the fixture's stages (A, B, Closed Won, Closed Lost)."""
    stages = ["A", "B", "Closed Won", "Closed Lost"]
    with path.open("w", encoding="utf-8") as f:
        f.write("Deal ID,Account,Stage,Amount,Created date,Close date\n")
        for i in range(ROWS):
            f.write(f"C{i:06d},Crash Account {i % 40},{stages[i % 4]},{1000 + i % 997},2026-01-{1 + i % 28:02d},"
                    f"2026-06-{1 + i % 28:02d}\n")
    return path


def _dump(path: Path) -> dict:
    """Every data table's rows (sorted) and the import log's finished batches."""
    with db.read(path) as con:
        tables = {t: con.execute(f'select * from "{t}" order by all').fetchall() for t in db.DATA_TABLES}
        batches = con.execute("select batch_id, status from import_batches order by batch_id").fetchall()
    return {"tables": tables, "batches": batches}


def _import(db_file: Path, csv: Path) -> subprocess.Popen:
    env = {**os.environ, "KAM_DB": str(db_file)}
    return subprocess.Popen([sys.executable, "-m", "kam_analytics", "import", str(csv)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_imports_leave_all_or_nothing(tmp_path):
    base = load_fixture(tmp_path / "base.duckdb", "winloss")          # a database with data already in it
    before = _dump(base)
    csv = _deals_csv(tmp_path / "deals.csv")

    # one import run to the end: how long a whole import takes, and what "all" looks like
    whole = tmp_path / "whole.duckdb"
    shutil.copy(base, whole)
    t = time.monotonic()
    p = _import(whole, csv)
    assert p.wait(timeout=300) == 0, p.stderr.read().decode()
    duration = time.monotonic() - t
    after = _dump(whole)
    assert len(after["tables"]["deals"]) == len(before["tables"]["deals"]) + ROWS

    rng = random.Random(10)
    outcomes = {"nothing": 0, "all": 0}
    for k in range(KILLS):
        target = tmp_path / f"kill{k}.duckdb"
        shutil.copy(base, target)
        delay = rng.uniform(0.2, duration * 1.05)
        p = _import(target, csv)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        state = _dump(target)                          # opens as any later command would: no repair step
        if state == before:
            outcomes["nothing"] += 1
        else:
            assert state == after, f"kill {k} after {delay:.2f} s left a partial batch"
            outcomes["all"] += 1
    print("outcomes of the kills:", outcomes, f"(a whole import took {duration:.1f} s)")
    # the kills fell both before and after the commit
    assert outcomes["nothing"] >= 1 and sum(outcomes.values()) == KILLS, outcomes
