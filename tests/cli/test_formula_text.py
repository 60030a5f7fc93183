"""Issue 27 item 2: stage names that a spreadsheet would run, imported from a file like any
user's, come back out of every workbook the product writes as text cells holding exactly
what was written - the blank templates (example rows and drop-down lists), every report in
xlsx and the closing plan - never as a formula."""

import csv
import io

import pytest
from openpyxl import load_workbook

from kam_analytics.cli import main
from kam_analytics.reports import REPORTS
from kam_analytics.templates import KINDS
from tests.conftest import FIXTURES

# tests/fixtures/tiny with its open stages renamed: every stage a template's example rows use
STAGES = {"Lead": '=HYPERLINK("http://127.0.0.1:9/","Lead")', "Qualify": "@Qualify", "Propose": "=cmd|' /C calc'!A0"}
OWNER = "-2+3 Ann Lee"
RISKY = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def formula_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formula")
    for name in ("accounts", "deals", "deal_history"):
        rows = list(csv.reader((FIXTURES / "tiny" / f"{name}.csv").open(encoding="utf-8")))
        rows = [rows[0]] + [[STAGES.get(v, OWNER if v == "Ann Lee" else v) for v in row] for row in rows[1:]]
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
    path = folder / "f.duckdb"
    assert main(["--db", str(path), "import", *(str(folder / f"{n}.csv") for n in ("accounts", "deals", "deal_history"))]) == 0
    return path


def _cells(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    return [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]


def _check(data: bytes, expect: set[str]) -> set[str]:
    """No formula cell; every cell holding a risky name holds it as text, as written.
    Returns the risky names found."""
    cells = _cells(data)
    assert [(c.parent.title, c.coordinate, c.value) for c in cells if c.data_type == "f"] == []
    found = {c.value for c in cells if c.value in expect}
    assert [c.coordinate for c in cells if c.value in expect and c.data_type != "s"] == []
    # and marked as typed text, so that editing the cell in a spreadsheet keeps it text
    assert [c.coordinate for c in cells if isinstance(c.value, str) and c.value.startswith(RISKY)
            and not c.quotePrefix] == []
    return found


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_templates_write_stage_names_as_text(formula_db, tmp_path, kind, capsys):
    out = tmp_path / f"{kind}.xlsx"
    assert main(["--db", str(formula_db), "template", kind, "-o", str(out)]) == 0, capsys.readouterr().err
    found = _check(out.read_bytes(), set(STAGES.values()))
    if kind in ("deals", "stage-history", "closing-plan", "mutual-plan"):
        assert found == set(STAGES.values())     # the drop-down list and the example rows hold them


def test_template_deals_example_row_is_the_stage_as_text(formula_db, tmp_path):
    out = tmp_path / "deals.xlsx"
    assert main(["--db", str(formula_db), "template", "deals", "-o", str(out)]) == 0
    ws = load_workbook(out)["Deals"]
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("Stage") + 1)
    assert cell.value in STAGES.values() and cell.data_type == "s"


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_xlsx_writes_names_as_text(formula_db, tmp_path, name, capsys):
    out = tmp_path / "r.xlsx"
    assert main(["--db", str(formula_db), "report", name, "--format", "xlsx", "-o", str(out)]) == 0, \
        capsys.readouterr().err
    _check(out.read_bytes(), {*STAGES.values(), OWNER})


def test_closing_plan_workbook(formula_db, tmp_path, capsys):
    out = tmp_path / "plan.xlsx"
    assert main(["--db", str(formula_db), "plan", "D3", "--format", "xlsx", "-o", str(out)]) == 0, capsys.readouterr().err
    assert OWNER in _check(out.read_bytes(), {*STAGES.values(), OWNER})


def test_json_keeps_real_values_and_negative_numbers():
    """Only text is guarded: a real -5 stays the number -5 in csv, xlsx and JSON."""
    import json

    import pandas as pd

    from kam_analytics import exports

    df = pd.DataFrame({"name": ["=1+1", "-5"], "value": [-5, 2.5]})
    assert json.loads(exports.to_json(df)) == [{"name": "=1+1", "value": -5}, {"name": "-5", "value": 2.5}]
    rows = list(csv.reader(io.StringIO(exports.to_csv(df))))
    assert rows[1:] == [["'=1+1", "-5"], ["'-5", "2.5"]]
    ws = load_workbook(io.BytesIO(exports.to_xlsx({"r": df})))["r"]
    assert (ws["B2"].value, ws["B2"].data_type) == (-5, "n")
    assert (ws["A3"].value, ws["A3"].data_type) == ("-5", "s")
