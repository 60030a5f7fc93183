"""`report risk` and `report risk-backtest` on the command line: the contract's keys (docs/data.md
"Command line"), list fields as JSON arrays and joined with "; " in csv, golden JSON on the
hand-worked fixtures (the arithmetic is in tests/unit/test_risk.py), xlsx and usage errors."""

import csv
import io
import json

import pytest

from kam_analytics.cli import main

from ..conftest import assert_golden


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_risk_json_contract_and_golden(risk_db, capsys):
    code, out, err = _run(capsys, "--db", risk_db, "report", "risk", "--as-of", "2026-06-01", "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert list(records[0])[:7] == ["deal_id", "score", "band", "flags", "reasons", "predicted_win_probability",
                                    "stage_win_rate"]
    r3 = next(r for r in records if r["deal_id"] == "R3")
    assert r3["flags"] == ["past_close_date", "behind_schedule"] and isinstance(r3["reasons"], list)
    # no deal was open at a quarter start before 04-01: every default weight is 0, so the predicted
    # win probability is the stage's own rate (A: H1, H2 won, H3 lost -> 2/3) and every band low
    assert r3["score"] == 0 and r3["band"] == "low"
    assert r3["predicted_win_probability"] == r3["stage_win_rate"] == 2 / 3
    r25 = next(r for r in records if r["deal_id"] == "R25")
    assert r25["flags"] == ["no_account_map"]
    assert_golden("risk_2026-06-01", records)


def test_risk_csv_joins_lists(risk_db, capsys):
    code, out, err = _run(capsys, "--db", risk_db, "report", "risk", "--as-of", "2026-06-01", "--format", "csv")
    assert code == 0, err
    rows = {r["deal_id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["R20"]["flags"] == "no_champion; no_economic_buyer; single_threaded"
    assert rows["R2"]["flags"] == ""


def test_backtest_json_contract_and_golden(backtest_db, capsys):
    code, out, err = _run(capsys, "--db", backtest_db, "report", "risk-backtest", "--from", "2026-01-01",
                          "--to", "2026-06-30", "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert list(records[0])[:9] == ["flag", "evaluations", "flagged_deals", "win_rate_flagged",
                                    "win_rate_unflagged", "lift", "median_days_before_close", "stage_adjusted_lift",
                                    "default_weight"]
    stalled = next(r for r in records if r["flag"] == "stalled")
    assert stalled["win_rate_flagged"] is None and stalled["lift"] is None      # null, never NaN
    assert_golden("risk-backtest_2026H1", records)


def test_backtest_calibration_json_and_golden(backtest_db, capsys):
    """Only the 04-01 evaluations (K5 won, K6 lost) have a stage win rate (A: 2 of 4 closed before
    it won); the weights as of 04-01 learnt nothing (no rated evaluation before), so both are
    predicted 0.5: one decile, 50-60 %, actual 1/2; Brier 0.25 for both, so no better."""
    code, out, err = _run(capsys, "--db", backtest_db, "report", "risk-backtest", "--from", "2026-01-01",
                          "--to", "2026-06-30", "--calibration", "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert list(records[0])[:6] == ["decile", "evaluations", "predicted_win_rate", "actual_win_rate", "brier_score",
                                    "brier_score_stage_alone"]
    assert [(r["decile"], r["evaluations"], r["predicted_win_rate"], r["actual_win_rate"]) for r in records] == [
        ("50-60%", 2, 0.5, 0.5)]
    assert records[0]["brier_score"] == records[0]["brier_score_stage_alone"] == 0.25
    assert "does not beat the stage win rate alone" in err
    assert_golden("risk-backtest_2026H1_calibration", records)


@pytest.mark.parametrize("report", ["risk", "risk-backtest"])
def test_xlsx(risk_db, capsys, tmp_path, report):
    import openpyxl

    out = tmp_path / f"{report}.xlsx"
    code, _, err = _run(capsys, "--db", risk_db, "report", report, "--format", "xlsx", "-o", out)
    assert code == 0, err
    wb = openpyxl.load_workbook(out)
    assert "About" in wb.sheetnames and wb.worksheets[0].max_row > 1


@pytest.mark.parametrize("args, message", [
    (["risk", "--as-of", "2026-02-31"], "--as-of"),
    (["risk-backtest", "--from", "2026-06-01", "--to", "2026-01-01"], "--to must be on or after --from"),
    (["risk-backtest", "--from", "yesterday"], "--from"),
])
def test_usage_errors(risk_db, capsys, args, message):
    code, _, err = _run(capsys, "--db", risk_db, "report", *args)
    assert code in (1, 2) and message in err and "Traceback" not in err
