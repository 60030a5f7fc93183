"""An account plan kept in the Italian template, imported and shown as the Account page shows
it; and an account's plan exported as the template workbook imports back unchanged."""

from datetime import date

import pytest

from kam_analytics import db, templates
from kam_analytics.importing.run import import_files
from kam_analytics.reports import accounts

from ..conftest import load_fixture


def test_italian_template_imported_and_shown(tmp_path):
    plan, amap = tmp_path / "piano-account.xlsx", tmp_path / "mappa-account.xlsx"
    plan.write_bytes(templates.build("account-plan", "it"))
    amap.write_bytes(templates.build("account-map", "it"))
    result = import_files(tmp_path / "it.duckdb", [plan, amap])
    assert result.status == "loaded", result.message
    with db.read(tmp_path / "it.duckdb") as con:
        account_id = accounts.resolve(con, "Ferretti Costruzioni S.p.A.")
        # the template's example: plan dated 2026-01-15; the action "Incontro con il vertice" is
        # "In corso", due 2026-03-31; goal "Fatturato vinto quest'anno" (won amount, 250,000);
        # Paolo Greco, "decisore economico", reports to Sofia Romano (not on the map)
        d = accounts.account_detail(con, account_id, as_of="2026-04-15")
        portfolio = accounts.accounts(con, as_of="2026-04-15")
    a = d["account"]
    assert d["plan"]["created_by"] == "Marco Bianchi" and d["plan"]["version"] == "1.0"
    assert d["plan"]["objective"] == "Estendere la fornitura a una seconda divisione"
    # 2026-01-15 -> 2026-04-15: 16 + 28 + 31 + 15 = 90 days
    assert a["plan_age_days"] == 90 and a["plan_reviewed"]
    assert [e["filled"] for e in d["elements"]] == [True] * 7
    act = d["actions"].iloc[0]
    assert (act["action_step"], act["status"], act["overdue"], act["days_overdue"]) == \
        ("Incontro con il vertice", "in progress", True, 15)            # 2026-03-31 -> 2026-04-15
    goal = d["goals"].iloc[0]
    assert (goal["metric_key"], goal["target_value"], goal["actual"], goal["progress"]) == \
        ("won amount", 250_000, 0, 0)                                     # no deals yet
    people = d["map"]["people"].iloc[0]
    assert (people["name"], people["role"], people["manager_missing"]) == ("Paolo Greco", "economic buyer", True)
    assert d["map"]["missing_roles"] == ["decision maker", "champion"]
    # reviewed, economic buyer; no decision maker, no champion, one overdue action: 2 of 5
    assert a["coverage_score"] == pytest.approx(0.4)
    # no account has a key tier: the accounts with an account plan are the key accounts
    assert portfolio["account_id"].tolist() == [account_id] and d["key"]


@pytest.mark.parametrize("lang", templates.LANGS)
def test_account_plan_export_imports_back_unchanged(tmp_path, lang):
    path = load_fixture(tmp_path / "acc.duckdb", "accounts")
    with db.read(path) as con:
        data = accounts.account_plan_workbook(con, "K1", lang, as_of="2026-07-01")
        before = {t: con.execute(f'select * exclude (batch_id) from "{t}" order by all').fetchall()
                  for t in ("accounts", "account_plans", "account_goals", "stakeholders", "account_actions")}
    out = tmp_path / f"k1-{lang}.xlsx"
    out.write_bytes(data)
    result = import_files(path, [out])
    assert result.status == "unchanged", result.message
    with db.read(path) as con:
        for table, rows in before.items():
            assert con.execute(f'select * exclude (batch_id) from "{table}" order by all').fetchall() == rows, table
    # the Goals sheet's Actual and Progress columns are shown as not used, never imported
    goals = next(f for f in result.files if f.kind == "account_goals")
    assert "not used" in goals.mapping
    assert date(2026, 3, 1) in {r[1] for r in before["account_plans"]}
    # the Numbers sheet is said aloud, not imported
    numbers = "sheet 'Numbers'" if lang == "en" else "sheet 'Numeri'"
    assert any(numbers in n and "not imported" in n for f in result.files for n in f.notes)


def test_formula_text_stays_text_in_the_export_and_imports_back(tmp_path):
    """docs/data.md "Exports": a plan's text that looks like a formula is written as text, never a
    formula, and imports back as it was."""
    import duckdb
    from openpyxl import load_workbook

    path = load_fixture(tmp_path / "acc.duckdb", "accounts")
    con = duckdb.connect(str(path))
    con.execute("""update account_plans set objective = '=HYPERLINK("http://example.invalid","open me")' """
                "where account_id = 'K1' and plan_date = '2026-03-01'")
    con.execute("update account_actions set notes = '+cmd|'' /C calc''!A0' where account_id = 'K1' "
                "and action_step = 'QBR'")
    con.close()
    with db.read(path) as con:
        data = accounts.account_plan_workbook(con, "K1", "en", as_of="2026-07-01")
        before = con.execute("select objective from account_plans where account_id = 'K1' order by plan_date").fetchall()
    out = tmp_path / "k1.xlsx"
    out.write_bytes(data)
    ws = load_workbook(out)["Account plan"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+"]
    assert {c.value[:10] for c in cells} == {"=HYPERLINK", "+cmd|' /C "}
    assert all(c.data_type == "s" for c in cells)                    # text, never a formula
    result = import_files(path, [out])
    assert result.status == "unchanged", result.message
    with db.read(path) as con:
        assert con.execute("select objective from account_plans where account_id = 'K1' "
                           "order by plan_date").fetchall() == before
