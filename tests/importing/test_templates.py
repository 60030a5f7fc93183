"""Templates: every kind in both languages imports back with every value intact."""

from datetime import datetime

import pytest
from openpyxl import load_workbook

from kam_analytics import db, templates
from kam_analytics.cli import main
from kam_analytics.importing.fields import (PLAN_TYPE_WORDS, ROLE_WORDS, SENTIMENT_WORDS, SIDE_WORDS,
                                            STATUS_WORDS)
from kam_analytics.importing.run import import_files

WORDS = {"status": STATUS_WORDS, "side": SIDE_WORDS, "role": ROLE_WORDS, "sentiment": SENTIMENT_WORDS,
         "plan_type": PLAN_TYPE_WORDS}
TABLE_OF = {id(templates.DEALS): "deals", id(templates.HISTORY): "deal_history", id(templates.MAP): "stakeholders",
            id(templates.ACTIONS): "account_actions", id(templates.GOALS): "account_goals",
            id(templates.STEPS): "plan_steps"}


def canonical(col, value):
    """What the stored value must be for a template cell (words mapped, as the importer does)."""
    if col.choices in WORDS:
        return WORDS[col.choices][str(value).lower()]
    if col.field == "influence":
        return int(value)
    if isinstance(value, datetime) and col.field != "changed_at":
        return value.date()
    return value


def stored(con, table, field, where, params):
    if field == "account_name":
        return con.execute(f'select a.account_name from "{table}" t join accounts a using (account_id) where {where}',
                           params).fetchone()[0]
    return con.execute(f'select "{field}" from "{table}" where {where}', params).fetchone()[0]


@pytest.mark.parametrize("lang", templates.LANGS)
@pytest.mark.parametrize("kind", list(templates.KINDS))
def test_template_round_trip(tmp_path, kind, lang):
    path = tmp_path / f"{kind}-{lang}.xlsx"
    path.write_bytes(templates.build(kind, lang))
    wb = load_workbook(path)
    assert wb.worksheets[0].title in ("Instructions", "Istruzioni")
    result = import_files(tmp_path / "t.duckdb", [path])
    assert result.status == "loaded", result.message
    assert all(r.confidence == 1.0 for r in result.files)
    checked = 0
    with db.read(tmp_path / "t.duckdb") as con:
        for title_en, title_it, kv, table in templates.KINDS[kind]:
            ws = wb[title_en if lang == "en" else title_it]
            kv_values = {c.field: ws.cell(row=i + 1, column=2).value for i, c in enumerate(kv)}
            header_row = len(kv) + 2 if kv else 1
            # the header block: account plan or plan
            head_table = "account_plans" if "plan_date" in kv_values else "plans" if "plan_type" in kv_values else None
            if head_table:
                key = ("deal_id = ?", [kv_values["deal_id"]]) if head_table == "plans" else ("true", [])
                for col in kv:
                    assert stored(con, head_table, col.field, *key) == canonical(col, kv_values[col.field]), col.field
                    checked += 1
            target = TABLE_OF[id(table)]
            for r in range(header_row + 1, ws.max_row + 1):
                cells = {c.field: ws.cell(row=r, column=j + 1).value for j, c in enumerate(table)}
                if target == "plan_steps":
                    where = ("step_no = ?", [cells["step_no"]])
                elif target == "deal_history":
                    where = ("changed_at = ?", [cells["changed_at"]])
                else:
                    first = table[0].field
                    where = (f'"{first}" = ?', [cells[first]])
                for col in table:
                    if cells[col.field] is None:
                        assert stored(con, target, col.field, *where) is None
                        continue
                    assert stored(con, target, col.field, *where) == canonical(col, cells[col.field]), (target, col.field)
                    checked += 1
    assert checked >= 7


def test_template_cli_writes_a_workbook_with_drop_downs(tmp_path, capsys):
    out = tmp_path / "map.xlsx"
    assert main(["--db", str(tmp_path / "none.duckdb"), "template", "mutual-plan", "-o", str(out), "--lang", "it"]) == 0
    ws = load_workbook(out)["Piano d'azione reciproco"]
    formulas = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert any("Elenchi" in f for f in formulas)          # stages, sides and statuses from drop-downs
    assert main(["template", "nonsense", "-o", str(out)]) == 2
