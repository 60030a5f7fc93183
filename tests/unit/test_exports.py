"""docs/data.md "Exports": formulas never written, risky text neutralised in csv, numbers
untouched, missing values null/empty."""

import json
import math
from io import BytesIO

import pandas as pd
from openpyxl import load_workbook

from kam_analytics import exports


def _frame():
    return pd.DataFrame({
        "name": ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-2 days", "@SUM(A1)", "plain", None],
        "value": [1.5, -3.0, float("nan"), math.inf, 1234567.891, 0.0],
        "flags": [["stalled", "stale"], [], None, None, None, None],
    })


def test_csv_prefixes_risky_text_and_keeps_numbers():
    import csv
    import io

    rows = list(csv.reader(io.StringIO(exports.to_csv(_frame()))))
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")"
    assert rows[2][0].startswith("'+cmd")
    assert rows[3][0] == "'-2 days"
    assert rows[4][0] == "'@SUM(A1)"
    assert rows[2][1] == "-3"                     # a negative number is not prefixed
    assert rows[3][1] == "" and rows[4][1] == ""  # NaN and infinity -> empty
    assert rows[5][1] == "1234567.891"
    assert rows[1][2] == "stalled; stale"


def test_xlsx_holds_values_never_formulas():
    wb = load_workbook(BytesIO(exports.to_xlsx({"r": _frame()})))
    ws = wb["r"]
    assert ws["A2"].value == '=HYPERLINK("http://x")'
    assert ws["A2"].data_type == "s"              # text, not a formula
    assert ws["B3"].value == -3
    assert ws["B4"].value is None                 # NaN -> empty
    assert ws["C2"].value == "stalled; stale"


def test_json_has_null_never_nan():
    records = json.loads(exports.to_json(_frame()))
    assert records[2]["value"] is None and records[3]["value"] is None
    assert records[0]["flags"] == ["stalled", "stale"]


def test_data_page_export_is_safe_and_complete(tmp_path):
    """browse.export_csv writes by COPY, with the same leading-' rule as every export."""
    import csv as _csv

    from kam_analytics import batches, browse, db

    path = tmp_path / "b.duckdb"
    with batches.batch(path, "test", "rows") as b:
        b.con.execute("insert into accounts (account_id, account_name, annual_revenue, batch_id) values "
                      "('a1', '=HYPERLINK(\"x\")', -5, ?), ('a2', 'Plain', 12.5, ?)", [b.batch_id, b.batch_id])
    with db.read(path) as con:
        n = browse.export_csv(con, "accounts", tmp_path / "a.csv")
        rows, total = browse.page(con, "accounts", search="plain")
    got = list(_csv.DictReader(open(tmp_path / "a.csv", encoding="utf-8")))
    assert n == 2 and got[0]["account_name"] == "'=HYPERLINK(\"x\")" and got[0]["annual_revenue"] == "-5.0"
    assert total == 1 and rows.iloc[0]["account_id"] == "a2"


def test_text_that_starts_with_a_quote_comes_back_exactly():
    """"'=x" is written "''=x"; the importer takes one quote off: "'=x" again. Plain text
    starting with a quote is left alone both ways."""
    from kam_analytics.importing.coerce import unquote

    written = [exports.safe_text(v) for v in ["'=x", "''+y", "'plain", "=z", "it's"]]
    assert written == ["''=x", "'''+y", "'plain", "'=z", "it's"]
    assert list(unquote(pd.Series(written, dtype="string"))) == ["'=x", "''+y", "'plain", "=z", "it's"]
