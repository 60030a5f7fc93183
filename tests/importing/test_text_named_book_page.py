"""Issue 26 on the Import page: a csv saved under a workbook's name (deals.xlsx) is read as csv,
and the preview says so once, instead of refusing the file."""

import re

from kam_analytics import db

from ..pages.test_pages import _open

ROWS = ("Deal ID,Account,Deal name,Owner,Stage,Amount,Currency,Created,Close date\n"
        "T1,Acme,Renewal,Ann Lee,Proposal,1200,EUR,2026-01-05,2026-06-30\n"
        "T2,Beta,Upsell,Bo Chen,Proposal,800,EUR,2026-01-07,2026-07-31\n")
NOTE = "this is a text/csv file named .xlsx"


def test_a_csv_named_xlsx_previews_with_one_note_and_loads(monkeypatch, tmp_path):
    path = tmp_path / "own.duckdb"
    at = _open(monkeypatch, path, "views/import_files.py")
    at.file_uploader[0].set_value([("deals.xlsx", ROWS.encode(), "application/vnd.openxmlformats-officedocument"
                                                                 ".spreadsheetml.sheet")]).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = [re.sub(r"\\(.)", r"\1", c.value) for c in at.caption]     # as drawn: markdown escapes undone
    said = [c for c in shown if NOTE in c]
    assert said == ["ℹ️ this is a text/csv file named .xlsx — we read it as csv"], shown
    at.button(key="load").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with db.read(path) as con:
        # 1,200 + 800
        assert con.execute("select count(*), sum(amount) from deals").fetchone() == (2, 2000.0)
