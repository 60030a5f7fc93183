"""The CLI contract: golden JSON per report (regenerate on purpose with
UPDATE_GOLDEN=1), fixed exit codes, one clear message and never a traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kam_analytics.cli import main

from ..conftest import assert_golden
from kam_analytics.reports import REPORTS

ROOT = Path(__file__).parent.parent.parent


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name, args", [
    ("stage-durations", ["--as-of", "2026-01-21"]),
    ("stage-durations_by_segment_first", ["--as-of", "2026-01-21", "--by", "segment", "--revisits", "first"]),
    ("conversion", []),
    ("conversion_by_owner", ["--by", "owner"]),
    ("cycle", []),
    ("cycle_by_segment", ["--by", "segment"]),
])
def test_golden_json(tiny_db, capsys, name, args):
    report = name.split("_")[0]
    code, out, err = run(capsys, "--db", str(tiny_db), "report", report, *args, "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert_golden(name, records)


def test_json_keys_follow_the_contract(tiny_db, capsys):
    code, out, _ = run(capsys, "--db", str(tiny_db), "report", "stage-durations", "--by", "owner", "--format", "json")
    first = json.loads(out)[0]
    keys = list(first)
    assert keys[:9] == ["owner", "stage", "deals", "mean_days", "median_days", "p75_days", "p90_days",
                        "in_progress", "in_progress_median_age_days"]
    assert first["revisits"] == "cumulative"   # the rule is named in every export


def test_csv_and_xlsx_carry_the_same_numbers(tiny_db, capsys, tmp_path):
    from openpyxl import load_workbook

    code, out, _ = run(capsys, "--db", str(tiny_db), "report", "stage-durations", "--as-of", "2026-01-21", "--format", "csv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("stage,deals,mean_days,median_days")
    assert lines[1].startswith("Lead,4,2.375,2.25,2.875,3.55,1,3")
    assert lines[3].split(",")[7] == ""          # Propose: no deals in progress -> empty, not NaN
    target = tmp_path / "out.xlsx"
    code, _, _ = run(capsys, "--db", str(tiny_db), "report", "stage-durations", "--as-of", "2026-01-21",
                     "--format", "xlsx", "-o", str(target))
    assert code == 0
    ws = load_workbook(target)["stage-durations"]
    rows = list(ws.values)
    assert rows[1][:4] == ("Lead", 4, 2.375, 2.25)
    assert "About" in load_workbook(target).sheetnames


def test_table_format_is_for_people(tiny_db, capsys):
    code, out, err = run(capsys, "--db", str(tiny_db), "report", "stage-durations", "--as-of", "2026-01-21")
    assert code == 0
    assert "Lead" in out and "2.4" in out          # mean 2.375 shown with one decimal
    assert "as of 2026-01-21" in err and "revisits cumulative" in err


@pytest.mark.parametrize("argv, code, message", [
    (["report", "no-such-report"], 2, "stage-durations"),        # lists the known reports
    (["report", "stage-durations", "--by", "colour"], 2, "Known dimensions"),
    (["report", "stage-durations", "--by", "deal_id"], 2, "Known dimensions: owner, segment"),   # ids are not dims
    (["report", "conversion", "--by", "amount"], 2, "'amount' is not a dimension"),
    (["report", "win-loss", "--by", "created_date"], 2, "'created_date' is not a dimension"),
    (["report", "pipeline", "--by", "deal_name"], 2, "'deal_name' is not a dimension"),
    (["report", "stage-durations", "--as-of", "2026-02-31"], 2, "expected an ISO date"),
    (["report", "stage-durations", "--format", "xlsx"], 2, "needs -o FILE"),
    (["report", "stage-durations", "--outcome", "maybe"], 2, "invalid choice"),
    (["undo", "999"], 1, "no batch 999"),
    (["report", "stage-durations", "-o", "/nonexistent/dir/out.csv", "--format", "csv"], 1, "cannot write /nonexistent"),
    (["template", "deals", "-o", "/nonexistent/dir/t.xlsx"], 1, "cannot write /nonexistent"),
    (["frobnicate"], 2, "invalid choice"),
])
def test_errors_exit_codes(tiny_db, capsys, argv, code, message):
    got, out, err = run(capsys, "--db", str(tiny_db), *argv)
    assert got == code
    assert message in err
    assert "Traceback" not in err + out


def test_a_missing_database_is_not_created_by_a_report(tmp_path, capsys):
    missing = tmp_path / "typo.duckdb"
    code, out, err = run(capsys, "--db", str(missing), "report", "stage-durations")
    assert code == 1 and "no database at" in err
    assert not missing.exists()


def test_every_report_is_listed_in_the_help(capsys):
    code, out, _ = run(capsys, "report", "--help")
    assert code == 0
    for name in REPORTS:
        assert name in out


def test_busy_database_is_one_clear_message(tiny_db):
    # Another process holds the database for writing; the CLI retries, then says so.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(30)",
         str(tiny_db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        env = {**os.environ, "KAM_BUSY_TIMEOUT": "1"}
        r = subprocess.run([sys.executable, "-m", "kam_analytics", "--db", str(tiny_db), "report", "stage-durations"],
                           capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    finally:
        holder.kill()
    assert r.returncode == 1
    assert "is busy" in r.stderr and "Traceback" not in r.stderr


def test_cli_does_not_load_streamlit():
    r = subprocess.run([sys.executable, "-c",
                        "import sys, kam_analytics.cli, kam_analytics.demo, kam_analytics.charts; "
                        "print('streamlit' in sys.modules)"], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout.strip() == "False", r.stderr
