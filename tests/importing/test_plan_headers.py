"""Issue 23, defect 9: a plan sheet's key-value header always gives a plans row; steps never
lose theirs."""

from openpyxl import Workbook

from kam_analytics import db
from kam_analytics.importing.run import import_files


def _book(path, header, steps):
    wb = Workbook()
    ws = wb.active
    ws.title = "MAP"
    for r in [["Mutual action plan"], [], *header, [], *steps]:
        ws.append(r)
    wb.save(path)
    return path


STEPS = [["Deal ID", "Step", "Side", "Due date", "Completed date"],
         ["D1", "Recap of needs", "joint", "2026-01-10", "2026-01-09"],
         ["D1", "Security review", "buyer", "2026-02-15", None]]


def _load(tmp_path, book):
    deals = tmp_path / "deals.csv"
    deals.write_text("Deal ID,Stage\nD1,Proposal\n", encoding="utf-8")
    path = tmp_path / "p.duckdb"
    result = import_files(path, [deals, book])
    assert result.status == "loaded", result.message
    with db.read(path) as con:
        plans = con.execute("select deal_id, plan_type, buyer_owner, seller_owner, problem, target_date::varchar, "
                            "buyer_signed_date::varchar from plans").fetchall()
        steps = con.execute("select deal_id, plan_type, step from plan_steps order by step_no").fetchall()
    return result, plans, steps


def test_a_header_without_a_plan_type_naming_a_buyer_is_a_mutual_plan(tmp_path):
    book = _book(tmp_path / "map.xlsx", [
        ["Deal", "Acme renewal"], ["Deal ID", "D1"], ["Buyer owner", "Laura Bianchi"], ["Seller owner", "Marco Rossi"],
        ["Problem", "Manual invoicing"], ["Proposed solution", "Platform"], ["Target date", "2026-03-31"],
        ["Buyer signed", "2026-02-01"]], STEPS)
    result, plans, steps = _load(tmp_path, book)
    assert plans == [("D1", "mutual", "Laura Bianchi", "Marco Rossi", "Manual invoicing", "2026-03-31", "2026-02-01")]
    assert steps == [("D1", "mutual", "Recap of needs"), ("D1", "mutual", "Security review")]
    notes = [n for r in result.files for n in r.notes]
    assert any("no plan type written: a mutual plan" in n for n in notes)


def test_an_italian_header_without_buyer_fields_is_a_closing_plan_and_its_steps_follow(tmp_path):
    book = _book(tmp_path / "piano.xlsx", [
        ["Trattativa", "D1"], ["Responsabile venditore", "Marco Rossi"], ["Problema", "Fatture a mano"]],
        [["Passo", "Lato", "Scadenza"], ["Demo", "venditore", "2026-01-20"]])
    _result, plans, steps = _load(tmp_path, book)
    assert [p[:2] for p in plans] == [("D1", "closing")]
    assert steps == [("D1", "closing", "Demo")]


def test_steps_without_a_plan_row_get_one(tmp_path):
    steps = tmp_path / "steps.csv"
    steps.write_text("Deal ID,Plan type,Step\nD1,mutual,Kick-off\n", encoding="utf-8")
    result, plans, _steps = _load(tmp_path, steps)
    assert [p[:2] for p in plans] == [("D1", "mutual")]
    assert any("had steps but no plan of their type" in n for r in result.files for n in r.notes)
