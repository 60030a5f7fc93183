"""Browser tests: the real app served by streamlit on a free port, driven by Playwright's
Python package with Debian's chromium (never `playwright install`). Under CI=true they
must run; elsewhere they skip with a clear message when chromium is missing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).parent.parent.parent
SHOTS = Path(__file__).parent / "screenshots"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing under CI=true: .ci/run installs Debian's chromium")
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


class App:
    def __init__(self, db_file: Path, env: dict | None = None, port: int | None = None):
        self.db_file = db_file
        self.port = port or _free_port()     # given: settings that name the port (an OIDC redirect URI)
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "KAM_DB": str(db_file), **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("the app did not start within 60 s")

    def stop(self) -> str:
        self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out or ""


@pytest.fixture
def serve(tmp_path):
    apps = []

    def start(db_file: Path, env: dict | None = None, share: bool = False) -> App:
        """Serve a copy of `db_file` (or, with `share`, the file itself: several apps on one file)."""
        copy = tmp_path / f"served_{len(apps)}.duckdb"
        if share:
            copy = Path(db_file)
        elif Path(db_file).exists():
            shutil.copy(db_file, copy)
        app = App(copy, env)
        apps.append(app)
        return app

    yield start
    for app in apps:
        log = app.stop()
        assert "Traceback" not in log, log[-3000:]


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 2600})
    pg = ctx.new_page()
    yield pg
    ctx.close()


def screenshot(page, name: str, settle_ms: int = 1500) -> Path:
    """A full-height picture once every grid on the page has drawn (they draw lazily); `settle_ms`
    shorter for a page already drawn (the same page in the other colour scheme)."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stDataFrame]')]"
        ".filter(d => d.checkVisibility())"        # grids in a closed expander never draw
        ".every(d => d.querySelector('canvas'))", timeout=30_000)
    page.wait_for_timeout(settle_ms)   # the grid paints its canvas a moment after creating it
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
