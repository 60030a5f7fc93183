"""`report pushes` and `report slippage`: golden JSON on the hand-worked forecast fixture (the
arithmetic is in tests/unit/test_forecasting.py) and the usage errors."""

import json

import pytest

from kam_analytics.cli import main

from ..conftest import assert_golden, load_fixture



@pytest.fixture
def fc_db(tmp_path):
    return load_fixture(tmp_path / "forecast.duckdb", "forecast")


@pytest.mark.parametrize("name, args", [
    ("pushes", []),
    ("slippage_FY2026-Q1", ["--period", "FY2026-Q1"]),
    ("slippage_FY2026-Q1_as_of", ["--period", "FY2026-Q1", "--as-of", "2026-02-15"]),
    ("slippage_FY2026-Q2", ["--period", "FY2026-Q2"]),
])
def test_golden_json(fc_db, capsys, name, args):
    code = main(["--db", str(fc_db), "report", name.split("_")[0], *args, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    records = json.loads(out)
    assert_golden(name, records)


def test_slippage_keys_and_default_period(fc_db, capsys):
    code = main(["--db", str(fc_db), "report", "slippage", "--format", "json"])
    out, _ = capsys.readouterr()
    (r,) = json.loads(out)
    assert code == 0 and r["period"] == "FY2026-Q2"          # the quarter of the data's date (2026-05-05)
    assert list(r) == ["period", "expected_deals", "expected_amount", "won_deals", "won_amount", "lost_deals",
                       "lost_amount", "slipped_deals", "slipped_amount", "slippage_rate", "slippage_count_rate",
                       "open_deals", "open_amount"]


@pytest.mark.parametrize("args, message", [
    (["--period", "Q1"], "expected a fiscal quarter such as FY2026-Q1"),
    (["--period", "FY2026-Q1", "--as-of", "2026-06-01"], "is not inside FY2026-Q1"),
])
def test_slippage_usage_errors(fc_db, capsys, args, message):
    code = main(["--db", str(fc_db), "report", "slippage", *args])
    _, err = capsys.readouterr()
    assert code == 2 and message in err and "Traceback" not in err
