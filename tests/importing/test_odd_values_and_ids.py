"""Odd values and one id rule (issue 27 items 6 and 7; issue 26: a text file named .xlsx).

- A number beyond ±1,000,000,000,000,000 (1e15) or not finite (1e308 sums to infinity; -1e400
  reads as minus infinity) is a bad value, in any numeric column.
- The column-wise reader of text files of 1 MB or more checks NUL bytes as the row-wise one
  does (one check), with the same message.
- An .ods formula cell with no saved value is a bad value, as in an xlsx.
- A currency written in an amount that the row's currency contradicts is a bad value naming both.
- Ids are compared as written (case-sensitive) after trimming and Unicode NFKC, in a file and
  against the database; an id with an invisible character is a bad value naming it.
- A text file named .xlsx/.xls/.ods is read as csv, with one note saying so.
Every expected figure is worked out by hand from the rows written here."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from kam_analytics import db
from kam_analytics.errors import InputError
from kam_analytics.importing import read
from kam_analytics.importing.mapping import known_headers
from kam_analytics.importing.run import import_files, preview
from tests.bad_files import generate

HEADER = ["Deal ID", "Account", "Deal name", "Owner", "Stage", "Amount", "Currency", "Created", "Close date"]


def deal(deal_id: str, amount: str = "1000", currency: str = "EUR", name: str = "Deal") -> list[str]:
    return [deal_id, "Acme", name, "Ann Lee", "Proposal", amount, currency, "2026-01-05", "2026-06-30"]


def write(path: Path, rows: list[list[str]], header=HEADER, delimiter=",") -> Path:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def reasons(result) -> list[tuple[int, str, str | None, str]]:
    return [(int(r.row_number), r.column_name, r.value, r.reason) for r in result.rejects.itertuples()]


def stored(path: Path, sql: str) -> list[tuple]:
    with db.read(path) as con:
        return con.execute(sql).fetchall()


# --- numbers in a sane range ----------------------------------------------------------------

RANGE = ("expected a number from -1,000,000,000,000,000 to 1,000,000,000,000,000 (a thousand trillion: no real "
         "amount is larger)")


def test_amounts_beyond_the_bound_are_bad_values(tmp_path):
    f = write(tmp_path / "deals.csv", [deal("D1", "1000"), deal("D2", "1e308"), deal("D3", "-1e400"),
                                       deal("D4", "1000000000000000"), deal("D5", "1000000000000001")])
    res = import_files(tmp_path / "db.duckdb", [f])
    assert res.status == "rejected"
    # rows 3, 4 and 6 (the header is row 1): 1e308, -1e400 (minus infinity: said as out of range,
    # not as a negative amount) and 1e15 + 1; 1e15 itself is the bound, allowed
    assert reasons(res) == [(3, "Amount", "1e308", RANGE), (4, "Amount", "-1e400", RANGE),
                            (6, "Amount", "1000000000000001", RANGE)]
    res = import_files(tmp_path / "db.duckdb", [f], keep_good_rows=True)
    assert res.status == "loaded"
    # the good rows' total stays a number: 1,000 + 1,000,000,000,000,000
    assert stored(tmp_path / "db.duckdb", "select sum(amount), count(*) from deals") == [(1_000_000_000_001_000.0, 2)]


def test_a_quota_of_1e308_is_a_bad_value(tmp_path):
    f = write(tmp_path / "quotas.csv", [["Ann Lee", "FY2026-Q1", "50000"], ["Bo Chen", "FY2026-Q1", "1e308"]],
              header=["Owner", "Period", "Quota"])
    res = import_files(tmp_path / "db.duckdb", [f])
    assert res.status == "rejected"
    assert reasons(res) == [(3, "Quota", "1e308", RANGE)]


def test_infinity_and_a_percentage_are_no_amounts(tmp_path):
    # in a column of plain numbers 'inf' reads as infinity; '50%' reads as 0.5
    f = write(tmp_path / "deals.csv", [deal("D1", "inf"), deal("D3", "700")])
    assert reasons(import_files(tmp_path / "db.duckdb", [f])) == [(2, "Amount", "inf", RANGE)]
    f = write(tmp_path / "deals.csv", [deal("D2", "50%"), deal("D3", "700")])
    assert reasons(import_files(tmp_path / "db.duckdb", [f])) == [
        (2, "Amount", "50%", "a percentage; expected an amount (a percentage belongs in a probability column)")]


def test_a_step_number_beyond_a_whole_number_column_is_a_bad_value(tmp_path):
    # it used to end in "unexpected failure (ConversionException ... INT32)" at the load
    path = tmp_path / "db.duckdb"
    assert import_files(path, [write(tmp_path / "deals.csv", [deal("S1")])]).status == "loaded"
    steps = write(tmp_path / "steps.csv", [["S1", "mutual", "99999999999", "Kick-off", "joint", "Ann Lee", "2026-02-01"],
                                           ["S1", "mutual", "2", "Demo", "joint", "Ann Lee", "2026-02-08"]],
                  header=["Deal ID", "Plan type", "Step no", "Step", "Side", "Owner", "Due date"])
    res = import_files(path, [steps])
    assert reasons(res) == [(2, "Step no", "99999999999", "expected a whole number from -2,147,483,648 to "
                                                          "2,147,483,647")]


# --- NUL bytes: one check for both readers ------------------------------------------------------

def _big_csv(path: Path, nul_row: int | None) -> Path:
    """20,000 deals (about 1.5 MB, over FAST_MIN_BYTES): file line n + 1 holds deal n."""
    lines = [",".join(HEADER)]
    for i in range(1, 20_001):
        name = "Deal\x00\x00x" if i + 1 == nul_row else f"Deal {i}"
        lines.append(f"BF{i:07d},Account {i % 97},{name},Ann Lee,A,{1000 + i},EUR,2026-01-05,2026-06-30")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size >= read.FAST_MIN_BYTES
    return path


def test_nul_bytes_in_a_large_csv_are_refused_as_in_a_small_one(tmp_path, monkeypatch):
    clean = _big_csv(tmp_path / "clean.csv", None)
    # the clean file is read column-wise: the path under test is taken
    assert read._fast_text_tables(clean, clean.name, ".csv", known_headers()) is not None
    bad = _big_csv(tmp_path / "big.csv", 15_001)           # past the first 64 KB the sample looks at
    assert bad.read_bytes().index(b"\x00") > 65_536
    said = []
    for threshold in (read.FAST_MIN_BYTES, 1 << 62):        # column-wise, then row-wise
        monkeypatch.setattr(read, "FAST_MIN_BYTES", threshold)
        with pytest.raises(InputError) as e:
            read.read_tables(bad, known_headers())
        said.append(str(e.value))
    assert said[0] == said[1]
    assert said[0].startswith("big.csv, row 15001: the text holds NUL bytes (\\x00)")
    assert "Deal\\\\x00\\\\x00x" in said[0] and "expected plain text" in said[0]
    monkeypatch.setattr(read, "FAST_MIN_BYTES", 1 << 20)
    res = import_files(tmp_path / "db.duckdb", [bad])
    assert res.status == "rejected" and "row 15001" in res.message
    assert stored(tmp_path / "db.duckdb", "select count(*) from deals") == [(0,)]


def test_many_nul_bytes_in_a_large_file_are_binary_data(tmp_path):
    f = tmp_path / "blob.csv"
    f.write_bytes(",".join(HEADER).encode() + b"\n" + b"\x00\x01" * 600_000)
    with pytest.raises(InputError, match="it holds binary data"):
        read.read_tables(f, known_headers())


# --- an .ods formula with no saved value ---------------------------------------------------------

def _ods_with_formulas() -> bytes:
    def cell(v):
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'

    rows = [HEADER, deal("D1"), deal("D2"), deal("D3")]
    xml = ""
    for r, row in enumerate(rows):
        cells = [cell(v) for v in row]
        if r == 2:      # spreadsheet row 3: a formula and nothing saved
            cells[5] = '<table:table-cell table:formula="of:=SUM(1000;2)"/>'
        if r == 3:      # row 4: a formula with the value the program saved
            cells[5] = ('<table:table-cell table:formula="of:=SUM(1000;3)" office:value-type="float" '
                        'office:value="1003"><text:p>1003</text:p></table:table-cell>')
        xml += "<table:table-row>" + "".join(cells) + "</table:table-row>"
    return generate._ods({"Deals": xml})


def test_an_ods_formula_with_no_saved_value_is_a_bad_value(tmp_path):
    f = tmp_path / "plan.ods"
    f.write_bytes(_ods_with_formulas())
    res = import_files(tmp_path / "db.duckdb", [f])
    assert res.status == "rejected"
    assert reasons(res) == [(3, "Amount", "=SUM(1000;2)", read.NO_SAVED_VALUE)]
    res = import_files(tmp_path / "db.duckdb", [f], keep_good_rows=True)
    assert stored(tmp_path / "db.duckdb", "select deal_id, amount from deals order by 1") == [("D1", 1000.0),
                                                                                             ("D3", 1003.0)]


# --- a currency written in the amount ---------------------------------------------------------

def test_a_currency_in_the_amount_that_the_row_contradicts_is_a_bad_value(tmp_path):
    f = write(tmp_path / "deals.csv", [deal("D1", "1000 USD", "EUR"), deal("D2", "USD 2000", "USD"),
                                       deal("D3", "€3000", "EUR"), deal("D4", "$4000", "CAD"),
                                       deal("D5", "$5000", "EUR"), deal("D6", "6000", "EUR")])
    res = import_files(tmp_path / "db.duckdb", [f])
    assert res.status == "rejected"
    got = reasons(res)
    assert [(r, c, v) for r, c, v, _ in got] == [(2, "Amount", "1000 USD"), (6, "Amount", "$5000")]
    assert got[0][3].startswith("the amount is written in USD but the row's currency ('Currency') is EUR; "
                                "expected an amount in the row's currency")
    assert "written in $ but the row's currency ('Currency') is EUR" in got[1][3]
    import_files(tmp_path / "db.duckdb", [f], keep_good_rows=True)
    # a dollar sign may be Canadian dollars: D4 stays, in CAD
    assert stored(tmp_path / "db.duckdb", "select deal_id, amount, currency from deals order by 1") == [
        ("D2", 2000.0, "USD"), ("D3", 3000.0, "EUR"), ("D4", 4000.0, "CAD"), ("D6", 6000.0, "EUR")]


# --- one id rule ------------------------------------------------------------------------------

def test_ids_differing_in_case_are_two_deals_in_a_file(tmp_path):
    f = write(tmp_path / "deals.csv", [deal("Z0000001", "100"), deal("z0000001", "200")])
    res = import_files(tmp_path / "db.duckdb", [f])
    assert res.status == "loaded", res.message
    assert stored(tmp_path / "db.duckdb", "select deal_id, amount from deals order by amount") == [
        ("Z0000001", 100.0), ("z0000001", 200.0)]


def test_ids_match_the_database_as_written_after_nfkc(tmp_path):
    path = tmp_path / "db.duckdb"
    assert import_files(path, [write(tmp_path / "first.csv", [deal("D0000001", "1000")])]).status == "loaded"
    # full-width letters and digits are D0000001 once NFKC: the stored deal, updated;
    # a lower-case d is another id (ids are case-sensitive): a new deal
    second = write(tmp_path / "second.csv", [deal("\uff24\uff10\uff10\uff10\uff10\uff10\uff10\uff11", "2000"),
                                            deal("d0000001", "5")])
    res = import_files(path, [second])
    assert res.status == "loaded", res.message
    assert stored(path, "select deal_id, amount from deals order by deal_id") == [("D0000001", 2000.0),
                                                                                 ("d0000001", 5.0)]


def test_a_full_width_copy_of_an_id_repeats_it_in_a_file(tmp_path):
    f = write(tmp_path / "deals.csv", [deal("BF1"), deal("\uff22\uff26\uff11")])
    res = import_files(tmp_path / "db.duckdb", [f])
    assert res.status == "rejected"
    assert reasons(res) == [(3, "Deal ID", "\uff22\uff26\uff11",
                             "a second row with the same key (first at row 2); expected one row per key")]


@pytest.mark.parametrize("char, said", [("\u200b", "U+200B (ZERO WIDTH SPACE)"),
                                        ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
                                        ("\u2066", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
                                        ("\u00ad", "U+00AD (SOFT HYPHEN)"),
                                        ("\x07", "U+0007 (a control character)")])
def test_an_id_with_an_invisible_character_is_a_bad_value(tmp_path, char, said):
    f = write(tmp_path / "deals.csv", [deal("D1"), deal("D2" + char + "0")])
    res = import_files(tmp_path / "db.duckdb", [f])
    assert res.status == "rejected"
    ((row, column, value, reason),) = reasons(res)
    assert (row, column, value) == (3, "Deal ID", "D2" + char + "0")
    assert reason.startswith(f"the ID holds an invisible character, {said} after 'D2': it looks like 'D20' but "
                             "would be another ID; expected an ID of visible characters only")


def test_an_id_of_spaces_only_is_a_missing_id(tmp_path):
    f = write(tmp_path / "deals.csv", [deal("D1"), deal("   "), deal("\u3000")])
    res = import_files(tmp_path / "db.duckdb", [f])
    assert reasons(res) == [(3, "Deal ID", None, "deal_id is required; expected a value"),
                            (4, "Deal ID", None, "deal_id is required; expected a value")]


def test_an_id_in_scientific_notation_is_a_bad_value(tmp_path):
    # 123456789012 shown by a spreadsheet as 1.23457E+11 and saved so: the last digits are gone
    f = write(tmp_path / "deals.csv", [deal("123456789013"), deal("1.23457E+11")])
    res = import_files(tmp_path / "db.duckdb", [f])
    ((row, column, value, reason),) = reasons(res)
    assert (row, column, value) == (3, "Deal ID", "1.23457E+11")
    assert reason.startswith("an ID in scientific notation: a spreadsheet program turned a long number into a "
                             "rounded one")


def test_an_account_id_follows_the_same_rule(tmp_path):
    rows = [["ACC-1", "Acme"], ["acc-1", "Acme Italia"], ["ACC\u200b-2", "Beta"]]
    f = write(tmp_path / "accounts.csv", rows, header=["Account ID", "Account name"])
    res = import_files(tmp_path / "db.duckdb", [f])
    assert [(r, c) for r, c, _v, _w in reasons(res)] == [(4, "Account ID")]
    import_files(tmp_path / "db.duckdb", [f], keep_good_rows=True)
    assert stored(tmp_path / "db.duckdb", "select account_id from accounts order by 1") == [("ACC-1",), ("acc-1",)]


def test_plan_steps_link_to_their_deal_by_the_same_rule(tmp_path):
    path = tmp_path / "db.duckdb"
    assert import_files(path, [write(tmp_path / "deals.csv", [deal("D0000001")])]).status == "loaded"
    steps = write(tmp_path / "steps.csv", [[" \uff24\uff10\uff10\uff10\uff10\uff10\uff10\uff11 ", "mutual", "1",
                                            "Kick-off", "joint", "Ann Lee", "2026-02-01"]],
                  header=["Deal ID", "Plan type", "Step no", "Step", "Side", "Owner", "Due date"])
    res = import_files(path, [steps])
    assert res.status == "loaded", res.message
    assert stored(path, "select deal_id, step from plan_steps") == [("D0000001", "Kick-off")]
    assert stored(path, "select deal_id, plan_type from plans") == [("D0000001", "mutual")]


# --- a text file named as a workbook ----------------------------------------------------------------

NOTE = "this is a text/csv file named .xlsx — we read it as csv"


def test_a_csv_named_xlsx_is_read_as_csv_with_one_note(tmp_path):
    f = write(tmp_path / "deals.xlsx", [deal("D1", "100"), deal("D2", "200")])
    res = preview(tmp_path / "db.duckdb", [f])
    assert res.status == "ready", res.message
    (rep,) = res.files
    assert rep.kind == "deals" and rep.notes.count(NOTE) == 1
    assert import_files(tmp_path / "db.duckdb", [f]).status == "loaded"
    assert stored(tmp_path / "db.duckdb", "select sum(amount) from deals") == [(300.0,)]


def test_a_tab_separated_export_named_xls_is_read_as_csv(tmp_path):
    f = write(tmp_path / "export.xls", [deal("D1", "100")], delimiter="\t")
    res = preview(tmp_path / "db.duckdb", [f])
    assert res.status == "ready", res.message
    assert res.files[0].notes.count("this is a text/csv file named .xls — we read it as csv") == 1


def test_a_large_csv_named_xlsx_is_read_column_wise_with_one_note(tmp_path):
    f = _big_csv(tmp_path / "big.xlsx", None)
    (t,) = read.read_tables(f, known_headers())
    assert t.frame is not None and t.n_rows == 20_000
    assert t.skipped.count(NOTE) == 1


def test_html_named_xls_is_still_refused(tmp_path):
    f = tmp_path / "report.xls"
    f.write_text("<html><body><table><tr><td>Deal ID</td></tr></table></body></html>")
    with pytest.raises(InputError, match="HTML or XML text"):
        read.read_tables(f, known_headers())


def test_a_workbook_named_csv_is_read_as_a_workbook_with_one_note(tmp_path):
    f = tmp_path / "deals.csv"
    f.write_bytes(generate._book({"Deals": [HEADER, deal("D1", "100"), deal("D2", "250")]}))
    res = preview(tmp_path / "db.duckdb", [f])
    assert res.status == "ready", res.message
    assert res.files[0].notes.count("this is an xlsx or ods workbook named .csv — we read it as a workbook") == 1
    assert import_files(tmp_path / "db.duckdb", [f]).status == "loaded"
    assert stored(tmp_path / "db.duckdb", "select sum(amount) from deals") == [(350.0,)]      # 100 + 250
