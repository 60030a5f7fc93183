"""`pacing` on the command line: golden JSON on the hand-worked pacing fixture (the arithmetic is
in tests/unit/test_pacing.py), the contract's keys (docs/data.md "Command line"), the formats,
the small sample said aloud and the usage errors."""

import json

import pytest

from kam_analytics.cli import main

from ..conftest import assert_golden, load_fixture

KEYS = ["period", "week_start", "week_index", "won_so_far", "commit_forecast", "best_case_forecast",
        "weighted_forecast", "quota", "typical_won_share", "typical_won_share_low", "typical_won_share_high",
        "pipeline_needed"]


@pytest.fixture(scope="module")
def pacing_db(tmp_path_factory):
    return load_fixture(tmp_path_factory.mktemp("pacing") / "pacing.duckdb", "pacing")


@pytest.mark.parametrize("name, args", [
    ("pacing_FY2026-M04", ["--period", "FY2026-M04", "--as-of", "2026-04-20"]),
    ("pacing_FY2026-Q2", ["--period", "FY2026-Q2", "--as-of", "2026-04-20"]),
])
def test_golden_json(pacing_db, capsys, name, args):
    code = main(["--db", str(pacing_db), "report", "pacing", *args, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    records = json.loads(out)
    assert all(list(r) == KEYS for r in records)
    assert_golden(name, records)


def test_small_sample_said_aloud(pacing_db, capsys):
    code = main(["--db", str(pacing_db), "report", "pacing", "--period", "FY2026-Q2", "--as-of", "2026-04-20"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "# Only 2 past quarters to go on" in err and "too few to say" in err
    assert "38.3%" in out and "54,000" in out                  # the table format: shares and amounts for people


def test_csv_keeps_the_keys_and_leaves_missing_values_empty(pacing_db, capsys):
    code = main(["--db", str(pacing_db), "report", "pacing", "--period", "FY2026-M04", "--as-of", "2026-04-20",
                 "--format", "csv"])
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert code == 0 and lines[0] == ",".join(KEYS)
    assert lines[1].endswith(",") and lines[-1].endswith(",14000")   # pipeline needed: the as-of's row only


def test_xlsx(pacing_db, capsys, tmp_path):
    import openpyxl

    out = tmp_path / "pacing.xlsx"
    code = main(["--db", str(pacing_db), "report", "pacing", "--period", "FY2026-M04", "--as-of", "2026-04-20",
                 "--format", "xlsx", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    wb = openpyxl.load_workbook(out)
    rows = list(wb["pacing"].iter_rows(values_only=True))
    assert list(rows[0]) == KEYS and len(rows) == 5 and "About" in wb.sheetnames


@pytest.mark.parametrize("args, message", [
    (["--period", "FY2026-M04", "--as-of", "2026-03-31"], "is before FY2026-M04 starts"),
    (["--period", "April"], "expected a fiscal quarter"),
    (["--period", "FY2026-M04", "--as-of", "yesterday"], "expected an ISO date"),
])
def test_usage_errors(pacing_db, capsys, args, message):
    code = main(["--db", str(pacing_db), "report", "pacing", *args])
    _, err = capsys.readouterr()
    assert code == 2 and message in err and "Traceback" not in err
