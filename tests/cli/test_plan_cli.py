"""`plan DEAL_ID`: golden JSON on the hand-worked plan fixture (the arithmetic is in
tests/unit/test_closing_plan.py), the table for people, the xlsx that imports back, and the
exit codes."""

import json

import pytest

from kam_analytics.cli import main

from ..conftest import assert_golden



def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_golden_json(plan_db, capsys):
    code, out, err = run(capsys, "--db", str(plan_db), "plan", "O1", "--as-of", "2026-02-20", "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert_golden("plan_O1", records)
    # hand-worked (tests/unit/test_closing_plan.py): close 03-04, owner's 03-01, gap +3
    assert {(r["realistic_close_date"], r["owner_close_date"], r["gap_days"]) for r in records} == {
        ("2026-03-04", "2026-03-01", 3)}
    assert list(records[0])[:11] == ["deal_id", "step_no", "step", "stage", "side", "owner", "due_date",
                                     "cumulative_days", "stage_days", "stage_deals", "basis"]
    assert "Comparable deals: segment X" in err


def test_plan_table_and_mean(plan_db, capsys):
    code, out, _ = run(capsys, "--db", str(plan_db), "plan", "O1", "--as-of", "2026-02-20", "--stat", "mean")
    assert code == 0
    assert "realistic close date 2026-03-06 (likely 2026-03-02 to 2026-03-08)" in out
    assert "owner's close date 2026-03-01, gap +5 days" in out
    assert "dated by the mean of segment X" in out


def test_plan_xlsx_imports_back(plan_db, capsys, tmp_path):
    target = tmp_path / "plan.xlsx"
    code, out, _ = run(capsys, "--db", str(plan_db), "plan", "O1", "--as-of", "2026-02-20", "--format", "xlsx",
                       "-o", str(target), "--lang", "it")
    assert code == 0 and "7 steps" in out
    code, out, err = run(capsys, "--db", str(plan_db), "import", str(target))
    assert code == 0, err
    assert "kind plans" in out and "kind plan_steps" in out and "7 rows: 7 new" in out


@pytest.mark.parametrize("argv, code, message", [
    (["plan", "NOPE"], 1, "deal 'NOPE' not found"),
    (["plan", "W1"], 1, "is won (Closed Won)"),
    (["plan", "O1", "--as-of", "2026-13-01"], 2, "expected an ISO date"),
    (["plan", "O1", "--stat", "mode"], 2, "invalid choice"),
    (["plan", "O1", "--format", "xlsx"], 2, "needs -o FILE"),
])
def test_plan_errors(plan_db, capsys, argv, code, message):
    got, out, err = run(capsys, "--db", str(plan_db), *argv)
    assert got == code
    assert message in err and "Traceback" not in err
