"""`report win-loss`, `plan-effect`, `step-lateness`, `map-health` and `handoff` on the command
line: the contract's keys (docs/data.md "Command line"), golden JSON on the hand-worked fixture
(the arithmetic is in tests/unit/test_win_loss.py), csv and xlsx, and clear errors."""

import json

import pytest

from kam_analytics.cli import main

from ..conftest import assert_golden, load_fixture


@pytest.fixture(scope="module")
def wl_db(tmp_path_factory):
    return load_fixture(tmp_path_factory.mktemp("wlcli") / "wl.duckdb", "winloss")


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args, keys, golden", [
    (["win-loss", "--by", "segment"],
     ["segment", "won", "lost", "win_rate", "won_amount", "lost_amount", "value_win_rate", "win_rate_low",
      "win_rate_high"], "win-loss_by_segment"),
    (["win-loss", "--from", "2026-01-01", "--to", "2026-03-31"],
     ["won", "lost", "win_rate", "won_amount", "lost_amount", "value_win_rate", "win_rate_low", "win_rate_high"],
     "win-loss_2026Q1"),
    (["plan-effect", "--by", "completion_band"], ["completion_band", "won", "lost", "win_rate"],
     "plan-effect_completion_band"),
    (["plan-effect"], ["has_mutual_plan", "won", "lost", "win_rate"], "plan-effect_has_mutual_plan"),
    (["step-lateness"], ["step", "outcome", "steps", "on_time_rate", "median_late_days", "overdue_at_close_rate"],
     "step-lateness"),
    (["map-health", "--as-of", "2026-07-01"],
     ["deal_id", "steps", "completion", "overdue_buyer_steps", "overdue_seller_steps", "buyer_engagement", "signed",
      "risk_band"], "map-health_2026-07-01"),
])
def test_json_contract_and_golden(wl_db, capsys, args, keys, golden):
    code, out, err = _run(capsys, "--db", wl_db, "report", *args, "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert list(records[0])[:len(keys)] == keys
    assert_golden(golden, records)


def test_rates_are_null_not_nan_and_lists_are_arrays(wl_db, capsys):
    code, out, err = _run(capsys, "--db", wl_db, "report", "map-health", "--as-of", "2026-07-01", "--format", "json")
    o2 = next(r for r in json.loads(out) if r["deal_id"] == "O2")
    assert o2["buyer_engagement"] is None and o2["health"] == []
    code, out, err = _run(capsys, "--db", wl_db, "report", "step-lateness", "--format", "csv")
    assert code == 0 and "nan" not in out.lower()


def test_xlsx_and_csv(wl_db, capsys, tmp_path):
    import openpyxl

    out = tmp_path / "wl.xlsx"
    code, _, err = _run(capsys, "--db", wl_db, "report", "win-loss", "--by", "size_band", "--format", "xlsx", "-o", out)
    assert code == 0, err
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["win-loss", "About"] and wb["win-loss"]["A1"].value == "size_band"
    code, out, err = _run(capsys, "--db", wl_db, "report", "plan-effect", "--by", "plan_signed", "--format", "csv")
    assert out.splitlines()[0].startswith("plan_signed,won,lost,win_rate")


def test_handoff_command(wl_db, capsys, tmp_path):
    import openpyxl

    target = tmp_path / "handoff.xlsx"
    code, out, err = _run(capsys, "--db", wl_db, "handoff", "W1", "-o", target)
    assert code == 0, err
    assert "4 steps, 1 still open, 3 stakeholders" in out
    assert openpyxl.load_workbook(target).sheetnames == ["Hand-off", "Stakeholders", "Plan steps", "Open commitments"]


@pytest.mark.parametrize("argv, code, message", [
    (["handoff", "O1", "-o", "x.xlsx"], 1, "the onboarding hand-off is for won deals"),
    (["handoff", "W1"], 2, "-o"),
    (["report", "plan-effect", "--by", "colour"], 2, "invalid choice"),
    (["report", "win-loss", "--by", "colour"], 2, "unknown dimension 'colour'"),
    (["report", "win-loss", "--from", "2026-05-01", "--to", "2026-01-01"], 2, "--to must be on or after --from"),
    (["report", "step-lateness", "--from", "31/02/2026"], 2, "--from"),
])
def test_errors_are_one_clear_line(wl_db, capsys, tmp_path, monkeypatch, argv, code, message):
    monkeypatch.chdir(tmp_path)
    got, out, err = _run(capsys, "--db", wl_db, *argv)
    assert got == code and message in err and "Traceback" not in err
