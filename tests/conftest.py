"""Shared test set-up: the machine never leaks into a test (locale, time zone, database
path are pinned), and test databases are built from committed fixture files into a temp
folder per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kam_analytics import batches, db, settings_store

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "cli" / "golden"
ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def _pinned_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("KAM_DB", str(tmp_path / "default.duckdb"))
    monkeypatch.setenv("KAM_BUSY_TIMEOUT", "1")
    monkeypatch.setattr(db, "BUSY_TIMEOUT_SECONDS", 1.0)
    monkeypatch.delenv("KAM_DEBUG", raising=False)


def load_fixture(path: Path, name: str) -> Path:
    """Load tests/fixtures/<name>/<table>.csv into the database at `path`, one batch, in
    the tables' load order. (Until the importer exists this is the tests' own loader.)"""
    folder = FIXTURES / name
    with batches.batch(path, "fixture", f"fixture {name}") as b:
        for table in db.DATA_TABLES:
            f = folder / f"{table}.csv"
            if not f.exists():
                continue
            b.con.execute(
                f'insert into "{table}" by name select *, $b as batch_id '
                "from read_csv($f, all_varchar = true, header = true)",
                {"b": b.batch_id, "f": str(f)},
            )
            b.touched.add(table)
    return path


@pytest.fixture(scope="module")
def risk_db(tmp_path_factory) -> Path:
    """tests/fixtures/risk: one open deal per risk flag that trips it, one that just misses."""
    return load_fixture(tmp_path_factory.mktemp("risk") / "risk.duckdb", "risk")


@pytest.fixture(scope="module")
def backtest_db(tmp_path_factory) -> Path:
    """tests/fixtures/risk_backtest: closed deals open at two quarter starts."""
    return load_fixture(tmp_path_factory.mktemp("bt") / "bt.duckdb", "risk_backtest")


@pytest.fixture
def tiny_db(tmp_path) -> Path:
    return load_fixture(tmp_path / "tiny.duckdb", "tiny")


def assert_golden(name: str, records: list) -> None:
    """The CLI's JSON is a contract: compare with tests/cli/golden/<name>.json (regenerated on
    purpose with UPDATE_GOLDEN=1)."""
    import json

    golden = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(records, indent=1) + "\n")
    assert records == json.loads(golden.read_text())


PLAN_TEMPLATE = [
    {"step": "Intro", "side": "joint", "stage": "A"},
    {"step": "Demo", "side": "seller", "stage": "B"},
    {"step": "Security review", "side": "buyer", "stage": "C"},
    {"step": "Sign", "side": "joint", "stage": "D"},
    {"step": "Kick-off", "side": "joint", "stage": "won"},
]


@pytest.fixture
def plan_db(tmp_path) -> Path:
    """The hand-worked closing-plan fixture (tests/unit/test_closing_plan.py has the arithmetic)
    with its stage list, a minimum of 2 comparable visits and a five-step template saved."""

    path = load_fixture(tmp_path / "plan.duckdb", "plan")
    settings_store.save(path, {"stages": ["A", "B", "C", "D", "Closed Won", "Closed Lost"], "comparable_min_visits": 2,
                         "mutual_plan_template": PLAN_TEMPLATE})
    return path


_DEMO_CACHE: dict[tuple[int, int], Path] = {}


@pytest.fixture(scope="session")
def demo_db_factory(tmp_path_factory):
    """A demo database per (deals, seed), generated once per test session."""
    def make(deals: int = 2000, seed: int = 7) -> Path:
        key = (deals, seed)
        if key not in _DEMO_CACHE:
            from kam_analytics import demo

            path = tmp_path_factory.mktemp("demo") / f"demo_{deals}_{seed}.duckdb"
            demo.load(path, deals=deals, seed=seed)
            _DEMO_CACHE[key] = path
        return _DEMO_CACHE[key]
    return make
