"""Concurrent users on one database file (issue 10, "Concurrency"): two app processes serve
the same file; 5 browser contexts and 15 scripted sessions (websocket clients speaking
Streamlit's protocol, tests/browser/ws_session.py), split over both, keep reading the Data page while the CLI imports a file and undoes
it, again and again. Every page must show one data version and the numbers of that version -
never a mix - with no error anywhere; every CLI write is done (a busy database is waited for)
or refused with the one clear message; and the file opens afterwards with the data of the
last write.

The Data page prints "data version N" and "X row(s) match" for the deals table. The fixture
holds D deals at version v0; each import adds K deals (version +1), each undo takes them away
(version +1): at version v, X must be D + K when v - v0 is odd, else D."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import threading
import time

import pytest

from kam_analytics import db

from ..conftest import ROOT, load_fixture
from .conftest import screenshot
from .ws_session import rerun

pytestmark = [pytest.mark.browser, pytest.mark.serial]

K = 3                    # deals the imported file adds
SECONDS = 40             # how long the writers and readers run side by side
SCRIPTED = 15
BROWSERS = 5
_VERSION = re.compile(r"data version (\d+)")
_ROWS = re.compile(r"([\d,]+) row\(s\) match")


def _expected_rows(version: int, v0: int, base: int) -> int:
    return base + K if (version - v0) % 2 else base


def _check(texts: list[str], v0: int, base: int, seen: list, problems: list, who: str) -> None:
    joined = " | ".join(texts)
    versions = {int(v) for v in _VERSION.findall(joined)}
    rows = [int(r.replace(",", "")) for r in _ROWS.findall(joined)]
    if len(versions) != 1 or len(rows) != 1:
        problems.append(f"{who}: expected one version and one row count, saw {versions} and {rows}: {joined[:300]}")
        return
    v = versions.pop()
    if rows[0] != _expected_rows(v, v0, base):
        problems.append(f"{who}: version {v} with {rows[0]} deals, a mix (expected {_expected_rows(v, v0, base)})")
    seen.append(v)


def test_twenty_sessions_read_while_the_cli_writes(tmp_path, browser, serve):
    path = load_fixture(tmp_path / "shared.duckdb", "winloss")
    with db.read(path) as con:
        v0 = db.data_version(con)
        base = con.execute("select count(*) from deals").fetchone()[0]
    new = tmp_path / "more_deals.csv"
    with new.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Deal ID", "Account ID", "Stage", "Amount", "Created", "Close date"])
        for i in range(K):
            w.writerow([f"NEW{i}", "ACC1", "A", 1000 * (i + 1), "2026-01-02", "2026-06-30"])
    apps = [serve(path, share=True), serve(path, share=True)]        # two processes, one file
    stop = threading.Event()
    problems: list[str] = []
    seen: list[int] = []
    writes: list[tuple[str, int, str]] = []

    def cli(*args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kam_analytics", "--db", str(path), *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "TZ": "UTC", "KAM_BUSY_TIMEOUT": "20"})

    def writer():
        while not stop.is_set():
            r = cli("import", str(new))
            writes.append(("import", r.returncode, r.stderr))
            if r.returncode != 0:
                break
            batch = int(re.search(r"loaded as batch (\d+)", r.stdout).group(1))
            r = cli("undo", str(batch))
            writes.append(("undo", r.returncode, r.stderr))
            if r.returncode != 0:
                break

    def scripted(n: int):
        app = apps[n % 2]
        while not stop.is_set():
            try:
                texts, errors = rerun(app.port, "data", "table=deals")
            except Exception as exc:  # noqa: BLE001 - a failure is a finding
                problems.append(f"scripted {n}: {type(exc).__name__}: {exc}")
                continue
            if errors:
                problems.append(f"scripted {n}: {errors}")
                continue
            _check(texts, v0, base, seen, problems, f"scripted {n}")

    pages = []
    for i in range(BROWSERS):
        ctx = browser.new_context(viewport={"width": 1300, "height": 1200})
        pages.append((ctx, ctx.new_page(), apps[i % 2]))

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=scripted, args=(n,))
                                                   for n in range(SCRIPTED)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + SECONDS
    loads = 0
    try:
        while time.monotonic() < deadline:            # the 5 browser contexts, one after another, again and again
            for i, (_ctx, page, app) in enumerate(pages):
                page.goto(f"{app.url}/data?table=deals")
                page.wait_for_selector("text=row(s) match", timeout=60_000)
                page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')",
                                       timeout=60_000)
                texts = page.locator("[data-testid=stCaptionContainer]").all_inner_texts()
                assert page.locator("text=Traceback").count() == 0
                assert page.locator("[data-testid=stException]").count() == 0
                _check(texts, v0, base, seen, problems, f"browser {i}")
                loads += 1
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=180)
    screenshot(pages[0][1], "data_during_writes")
    for ctx, _page, _app in pages:
        ctx.close()

    assert not problems, "\n".join(problems[:20])
    failed = [w for w in writes if w[1] != 0]
    assert not failed, failed[:3]
    assert sum(1 for w in writes if w[0] == "import") >= 3, writes       # the writers really ran
    assert len(set(seen)) >= 3, sorted(set(seen))                       # the readers saw the data change
    assert loads >= BROWSERS
    with db.read(path) as con:                                          # opens without repair
        v = db.data_version(con)
        assert con.execute("select count(*) from deals").fetchone()[0] == _expected_rows(v, v0, base)
        assert v == v0 + len(writes)


def test_a_write_that_meets_a_busy_database_is_retried_then_reported(tmp_path):
    path = load_fixture(tmp_path / "busy.duckdb", "winloss")
    new = tmp_path / "one.csv"
    new.write_text("Deal ID,Account ID,Stage,Amount\nB1,ACC1,A,5\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "TZ": "UTC", "KAM_BUSY_TIMEOUT": "2"}
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\n"
                               f"con = duckdb.connect({str(path)!r})\nprint('held', flush=True)\ntime.sleep(8)"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"            # another process holds the file for writing
    t = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "kam_analytics", "--db", str(path), "import", str(new)], cwd=ROOT,
                       capture_output=True, text=True, env=env, timeout=60)
    waited = time.monotonic() - t
    assert r.returncode == 1 and "is busy" in r.stderr and "Tried for 2 s" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and waited >= 2                   # retried for the timeout, then said so
    holder.wait()
    r = subprocess.run([sys.executable, "-m", "kam_analytics", "--db", str(path), "import", str(new)], cwd=ROOT,
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr                                    # once free, the same write is done
