"""The forecasting reports on the command line: golden JSON on the hand-worked forecast
fixtures (the arithmetic is in tests/unit/test_forecasting.py and test_forecast_quality.py),
the contract's keys (docs/data.md "Command line") and the usage errors."""

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
    ("pipeline", []),
    ("pipeline_by_owner", ["--by", "owner", "--as-of", "2026-01-01"]),
    ("waterfall_FY2026-Q1", ["--period", "FY2026-Q1"]),
    ("waterfall_FY2026-Q2_from", ["--period", "FY2026-Q2", "--from", "2026-04-15"]),
    ("forecast-accuracy_FY2026-Q1", ["--period", "FY2026-Q1", "--as-of", "2026-03-21"]),
    ("forecast-accuracy_FY2026-Q1_owners", ["--period", "FY2026-Q1", "--as-of", "2026-03-21", "--owners"]),
    ("attainment_FY2026-Q1_team", ["--period", "FY2026-Q1", "--by", "team"]),
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


CONTRACT = {   # docs/data.md "Command line": the keys each record starts with, in this order
    "pipeline": ["stage", "forecast_category", "period", "deals", "amount"],
    "waterfall": ["category", "deals", "amount"],
    "forecast-accuracy": ["period", "as_of", "commit_forecast", "best_case_forecast", "weighted_forecast", "actual",
                          "commit_accuracy"],
    "attainment": ["owner", "period", "quota", "won_amount", "attainment", "open_amount", "coverage"],
    "forecast-range": ["period", "as_of", "p10", "p50", "p90", "commit_forecast", "weighted_forecast"],
}


@pytest.mark.parametrize("report", list(CONTRACT))
def test_contract_keys(fc_db, capsys, report):
    extra = ["--period", "FY2026-Q1"] if report != "pipeline" else []
    code = main(["--db", str(fc_db), "report", report, *extra, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    records = json.loads(out)
    assert records and all(list(r)[:len(CONTRACT[report])] == CONTRACT[report] for r in records)


@pytest.mark.parametrize("by", ["owner", "team"])
def test_attainment_no_quota_row(fc_db, capsys, by):
    """FY2026-M02: only Bo has a quota (2,000; won F4 3,000); Ann's F8 2,000 is open in M02 and she has no
    quota for it: a last row whose [DIM] is "(no quota)", quota, attainment and coverage null."""
    code = main(["--db", str(fc_db), "report", "attainment", "--period", "FY2026-M02", "--by", by,
                 "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    records = json.loads(out)
    assert records[-1] == {by: "(no quota)", "period": "FY2026-M02", "quota": None, "won_amount": 0.0,
                           "attainment": None, "open_amount": 2000.0, "coverage": None}
    assert records[0][by] == ("Bo Chan" if by == "owner" else "South") and len(records) == 2
    assert '"(no quota)"' in err


def test_waterfall_categories_in_order(fc_db, capsys):
    main(["--db", str(fc_db), "report", "waterfall", "--period", "FY2026-Q1", "--format", "json"])
    assert [r["category"] for r in json.loads(capsys.readouterr().out)] == [
        "start", "new", "pulled_in", "increased", "decreased", "pushed_out", "won", "lost", "end"]


def test_forecast_range_cli(tmp_path, capsys):
    path = load_fixture(tmp_path / "range.duckdb", "forecast_range")
    code = main(["--db", str(path), "report", "forecast-range", "--period", "FY2026-Q1", "--as-of", "2026-03-01",
                 "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert_golden("forecast-range_FY2026-Q1", json.loads(out))
    assert "30-day band" in err                                 # the method, among the notes on stderr


@pytest.mark.parametrize("args, message", [
    (["waterfall", "--period", "FY2026-Q1", "--from", "2026-03-01", "--to", "2026-01-01"], "--to must be on or after"),
    (["forecast-range", "--period", "FY2026-Q1", "--runs", "0"], "--runs: expected a whole number from 1"),
    (["attainment", "--by", "region"], "invalid choice"),
    (["forecast-accuracy", "--period", "2026Q1"], "expected a fiscal quarter"),
])
def test_forecast_usage_errors(fc_db, capsys, args, message):
    code = main(["--db", str(fc_db), "report", *args])
    _, err = capsys.readouterr()
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize("report", list(CONTRACT))
def test_xlsx_export(fc_db, capsys, tmp_path, report):
    """Reports carry data beside their rows (win rates, simulated totals): the About sheet
    holds the parameters only, so every report writes its workbook."""
    import openpyxl

    out = tmp_path / f"{report}.xlsx"
    extra = ["--period", "FY2026-Q1"] if report != "pipeline" else []
    code = main(["--db", str(fc_db), "report", report, *extra, "--format", "xlsx", "-o", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    wb = openpyxl.load_workbook(out)
    assert "About" in wb.sheetnames
    settings = [r[0] for r in wb["About"].iter_rows(values_only=True)]
    assert "win_rates" not in settings and "totals" not in settings
