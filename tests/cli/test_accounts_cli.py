"""`report accounts`, `report account-goals` and `account-plan` on the command line: the
contract's keys (docs/data.md "Command line"), golden JSON on the hand-worked fixture (the
arithmetic is in tests/unit/test_accounts.py), and clear errors."""

import json

import pytest
from openpyxl import load_workbook

from kam_analytics.cli import main

from ..conftest import assert_golden, load_fixture


@pytest.fixture(scope="module")
def acc_db(tmp_path_factory):
    return load_fixture(tmp_path_factory.mktemp("acccli") / "acc.duckdb", "accounts")


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_accounts_json_contract_and_golden(acc_db, capsys):
    code, out, err = _run(capsys, "--db", acc_db, "report", "accounts", "--as-of", "2026-07-01", "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert list(records[0])[:11] == ["account_id", "account_name", "value_12m", "potential", "relationship_strength",
                                     "plan_age_days", "has_decision_maker", "has_economic_buyer", "has_champion",
                                     "overdue_actions", "coverage_score"]
    k1 = next(r for r in records if r["account_id"] == "K1")
    assert (k1["value_12m"], k1["coverage_score"], k1["gaps"]) == (145000.0, 0.8, ["overdue actions"])
    k3 = next(r for r in records if r["account_id"] == "K3")
    assert k3["plan_age_days"] is None and k3["relationship_strength"] is None       # null, never NaN
    assert_golden("accounts_2026-07-01", records)


def test_account_goals_golden_and_scope(acc_db, capsys):
    code, out, err = _run(capsys, "--db", acc_db, "report", "account-goals", "--as-of", "2026-07-01",
                          "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert list(records[0])[:11] == ["account_id", "account_name", "goal", "metric", "target_value", "due_date",
                                     "status", "fiscal_year", "measured", "actual", "progress"]
    assert_golden("account-goals_2026-07-01", records)
    code, out, err = _run(capsys, "--db", acc_db, "report", "accounts", "--scope", "all", "--as-of", "2026-07-01",
                          "--format", "csv")
    assert code == 0 and "S1,Delta Labs" in out and "nan" not in out.lower()
    code, out, err = _run(capsys, "--db", acc_db, "report", "accounts", "--scope", "some")
    assert code == 2 and "invalid choice" in err


def test_account_plan_command(acc_db, capsys, tmp_path):
    out_file = tmp_path / "alpha.xlsx"
    code, out, err = _run(capsys, "--db", acc_db, "account-plan", "Alpha Foods", "-o", out_file, "--lang", "it",
                          "--as-of", "2026-07-01")
    assert code == 0, err
    assert "wrote the account plan of K1" in out
    wb = load_workbook(out_file)
    assert wb.sheetnames == ["Istruzioni", "Elenchi", "Piano account", "Traguardi", "Mappa account", "Numeri"]
    numbers = {r[0]: r[1] for r in wb["Numeri"].iter_rows(values_only=True)}
    assert numbers["Valore ultimi 12 mesi:"] == 145000
    code, out, err = _run(capsys, "--db", acc_db, "account-plan", "Zeta", "-o", tmp_path / "z.xlsx")
    assert code == 1 and err.count("\n") == 1 and "no account 'Zeta'" in err and "Traceback" not in err
    assert not (tmp_path / "z.xlsx").exists()
