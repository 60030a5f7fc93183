"""Reading values (docs/data.md "Bad input", "Reading values"): timestamps and numbers are
decided per column from all of its values, numbers' marks also from the file's other
number columns. Every expected value here is worked out by hand from the text written."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from kam_analytics import db
from kam_analytics.errors import InputError
from kam_analytics.importing import coerce
from kam_analytics.importing.run import import_files


def col(*values) -> pd.Series:
    return pd.Series(list(values), dtype=object)


def stamps(c: coerce.Converted) -> list:
    return [None if pd.isna(v) else v.to_pydatetime() for v in c.values]


# --- timestamps -------------------------------------------------------------------------

def test_us_report_12_hour_clock_month_first():
    # 12/13 and 2/14 have a day above 12 in the second place: the column is mm/dd/yyyy
    c = coerce.to_timestamp(col("12/1/2025 9:40 AM", "12/13/2025 12:05 PM", "1/2/2026 12:05 AM",
                                "2/14/2026 3:07:09 PM", "11/30/2025 11:59 pm", None), "Created", "us.csv")
    assert stamps(c) == [datetime(2025, 12, 1, 9, 40), datetime(2025, 12, 13, 12, 5), datetime(2026, 1, 2, 0, 5),
                         datetime(2026, 2, 14, 15, 7, 9), datetime(2025, 11, 30, 23, 59), None]
    assert not c.bad.any()
    assert c.note == "Created: dates read as mm/dd/yyyy with a 12-hour clock"


def test_am_pm_does_not_decide_the_day_month_order():
    # a 12-hour clock is no sign of a US file: 13/1 puts the day first
    c = coerce.to_timestamp(col("13/1/2026 9:40 PM", "1/2/2026 9:40 AM"), "Created", "x.csv")
    assert stamps(c) == [datetime(2026, 1, 13, 21, 40), datetime(2026, 2, 1, 9, 40)]
    assert c.note == "Created: dates read as dd/mm/yyyy with a 12-hour clock"
    # and no day above 12 anywhere: still the "cannot tell" error, AM/PM or not
    with pytest.raises(InputError) as e:
        coerce.to_timestamp(col("12/1/2025 9:40 AM", "1/2/2026 3:00 PM"), "Created", "us.csv")
    msg = str(e.value)
    assert msg.startswith("us.csv, column 'Created': cannot tell dd/mm/yyyy from mm/dd/yyyy")
    assert "'12/1/2025 9:40 AM'" in msg and '"date_formats"' in msg
    fixed = coerce.to_timestamp(col("12/1/2025 9:40 AM", "1/2/2026 3:00 PM"), "Created", "us.csv", "mdy")
    assert stamps(fixed) == [datetime(2025, 12, 1, 9, 40), datetime(2026, 1, 2, 15, 0)]


@pytest.mark.parametrize("written, wall_clock", [
    ("2025-12-01T09:40:00Z", datetime(2025, 12, 1, 9, 40)),
    ("2025-12-01T09:40:00+0000", datetime(2025, 12, 1, 9, 40)),
    ("2025-12-01T09:40:00+01:00", datetime(2025, 12, 1, 9, 40)),
    ("2025-12-01T23:30:00-05:00", datetime(2025, 12, 1, 23, 30)),    # not moved to the next day
    ("2025-12-01 09:40:00.250+02", datetime(2025, 12, 1, 9, 40, 0, 250000)),
    ("2025-12-01T09:40Z", datetime(2025, 12, 1, 9, 40)),
])
def test_iso_with_zone_keeps_the_written_time(written, wall_clock):
    c = coerce.to_timestamp(col(written, "2025-12-02T10:00:00Z"), "Changed At", "api.csv")
    assert stamps(c) == [wall_clock, datetime(2025, 12, 2, 10, 0)]
    assert not c.bad.any()
    assert c.note.startswith("Changed At: dates read as ISO")
    assert "as written" in c.note and "no time-zone conversion" in c.note


def test_year_first_with_slashes():
    c = coerce.to_timestamp(col("2025/12/01", "2025/12/02 14:30", "2025/1/3 7:05:09"), "Close Date", "y.csv")
    assert stamps(c) == [datetime(2025, 12, 1), datetime(2025, 12, 2, 14, 30), datetime(2025, 1, 3, 7, 5, 9)]
    assert c.note == "Close Date: dates read as yyyy/mm/dd"
    pm = coerce.to_timestamp(col("2025/12/01 9:40 AM", "2025/12/01 12:05 AM"), "Created", "y.csv")
    assert stamps(pm) == [datetime(2025, 12, 1, 9, 40), datetime(2025, 12, 1, 0, 5)]
    assert pm.note == "Created: dates read as yyyy/mm/dd with a 12-hour clock"


def test_dotted_day_first_with_a_time():
    c = coerce.to_timestamp(col("31.12.2025 18:30", "01.02.2026"), "Data", "it.csv")
    assert stamps(c) == [datetime(2025, 12, 31, 18, 30), datetime(2026, 2, 1)]
    assert c.note == "Data: dates read as dd.mm.yyyy"


def test_values_fitting_no_accepted_format_are_bad_values():
    # the column has an AM/PM clock: a time without AM/PM could be either, 13 PM is no hour
    c = coerce.to_timestamp(col("12/1/2025 9:40 AM", "12/13/2025 9:40", "yesterday", "12/14/2025 13:40 PM",
                                "12/15/2025", "12/16/2025 0:10 AM", "12/17/2025 9:61 AM"), "Created", "us.csv")
    assert c.bad.tolist() == [False, True, True, True, False, True, True]
    assert stamps(c)[0] == datetime(2025, 12, 1, 9, 40) and stamps(c)[4] == datetime(2025, 12, 15)
    # a 24-hour column: hour 24 and minute 60 are bad, 23:59 is not
    d = coerce.to_timestamp(col("2025/12/01 23:59", "2025/12/01 24:00", "2025/12/01 10:60", "31.04.2025"),
                            "Created", "y.csv")
    assert d.bad.tolist() == [False, True, True, True]


def test_plain_iso_column_gives_no_note():
    c = coerce.to_timestamp(col("2026-01-05 10:30", "2026-01-07T09:15:45"), "Changed At", "h.csv")
    assert stamps(c) == [datetime(2026, 1, 5, 10, 30), datetime(2026, 1, 7, 9, 15, 45)]
    assert c.note is None


def test_us_stage_history_imports_end_to_end(tmp_path):
    f = tmp_path / "history.csv"
    f.write_text("Opportunity ID,Stage,Last Modified Date\n"
                 "O1,Prospecting,11/28/2025 4:15 PM\n"
                 "O1,Proposal,12/1/2025 9:40 AM\n"
                 "O1,Negotiation,12/15/2025 12:05 PM\n", encoding="utf-8")
    path = tmp_path / "u.duckdb"
    result = import_files(path, [f])
    assert result.status == "loaded", result.message
    assert "Last Modified Date: dates read as mm/dd/yyyy with a 12-hour clock" in result.files[0].notes
    with db.read(path) as con:
        rows = con.execute("select stage, changed_at from deal_history order by changed_at").fetchall()
    assert rows == [("Prospecting", datetime(2025, 11, 28, 16, 15)), ("Proposal", datetime(2025, 12, 1, 9, 40)),
                    ("Negotiation", datetime(2025, 12, 15, 12, 5))]


# --- numbers: the rule ------------------------------------------------------------------

@pytest.mark.parametrize("values, want", [
    (["1,5", "25.000"], [1.5, 25000.0]),                      # 1,5: a decimal comma
    (["1.234,56", "1.000"], [1234.56, 1000.0]),                # comma after the thousands dot
    (["12 500,00", "1.000"], [12500.0, 1000.0]),               # a space groups the thousands
    (["12\u00a0500,00", "2.500"], [12500.0, 2500.0]),           # a non-breaking space as well
    (["12 500.50", "2,500"], [12500.5, 2500.0]),               # after space groups a point is decimal
    (["1.234.567", "2.000"], [1234567.0, 2000.0]),             # two dots: thousands
    (["0,250", "1.000"], [0.25, 1000.0]),                      # a leading 0 is no thousands group
    (["1,234.56", "1,000"], [1234.56, 1000.0]),                # point after the thousands comma
    (["1,234,567", "2,000"], [1234567.0, 2000.0]),
    (["1.5", "25.000"], [1.5, 25.0]),                          # not 3 digits after the point
    (["12.50", "1.000"], [12.5, 1.0]),
    (["0.250", "1.000"], [0.25, 1.0]),
    (["1234.567", "1.000"], [1234.567, 1.0]),                  # 1234 cannot lead a thousands group
    (["€ 1.200,50", "(1.000)"], [1200.5, -1000.0]),            # signs and accounting negatives
])
def test_the_column_decides_from_values_with_one_reading(values, want):
    c = coerce.to_number(col(*values), "Amount", file="f.csv")
    assert c.values.tolist() == want
    assert not c.bad.any()


def test_plain_numbers_need_no_decision():
    c = coerce.to_number(col("1200", "800", None, "12.5e3"), "Amount", file="f.csv")
    assert c.values.tolist()[:2] == [1200.0, 800.0] and c.values.tolist()[3] == 12500.0
    assert c.note is None


def test_an_undecided_column_is_an_error_that_says_how_to_settle_it():
    with pytest.raises(InputError) as e:
        coerce.to_number(col("25.000", "1.000"), "Amount", file="it.csv")
    msg = str(e.value)
    assert msg.startswith("it.csv, column 'Amount': cannot tell a decimal comma from a decimal point")
    assert "'25.000'" in msg and "25000" in msg
    assert '"number_formats": {"Amount": "decimal_comma"}' in msg and '"decimal_point"' in msg
    # the file's other number columns decide it
    c = coerce.to_number(col("25.000", "1.000"), "Amount", file="it.csv", file_marks="decimal_comma")
    assert c.values.tolist() == [25000.0, 1000.0]
    assert c.note == "Amount: decimal comma, as in the file's other number columns"
    p = coerce.to_number(col("25.000", "1.000"), "Amount", file="it.csv", file_marks="decimal_point")
    assert p.values.tolist() == [25.0, 1.0]
    # or the user does; the column's own deciding values come before the file's
    o = coerce.to_number(col("25.000", "1.000"), "Amount", file="it.csv", marks="decimal_comma")
    assert o.values.tolist() == [25000.0, 1000.0]
    own = coerce.to_number(col("25.000", "1,5"), "Amount", file="it.csv", file_marks="decimal_point")
    assert own.values.tolist() == [25000.0, 1.5]


def test_a_value_in_the_other_mark_is_a_bad_value():
    c = coerce.to_number(col("1.234,56", "2,345.67", "3.456,78", "12,34,56"), "Amount", file="f.csv")
    assert c.bad.tolist() == [False, True, False, True]
    assert c.expected == "a number such as 1.234,56"
    # set by the user: values written the other way are bad
    o = coerce.to_number(col("1.5", "25.000"), "Amount", file="f.csv", marks="decimal_comma")
    assert o.values.tolist()[1] == 25000.0 and o.bad.tolist() == [True, False]


def test_file_decision_from_its_number_columns():
    assert coerce.file_marks([col("25.000"), col("1.250,50", "300,00")]) == "decimal_comma"
    assert coerce.file_marks([col("25.000"), col("1,250.50")]) == "decimal_point"
    assert coerce.file_marks([col("25.000"), col("1200", "3")]) is None


def test_a_large_column_keeps_the_fast_path_and_the_rule():
    n = 100_001
    plain = pd.Series([str(1000 + i % 7) for i in range(n)], dtype="string")
    c = coerce.to_number(plain, "Amount", file="big.csv")
    assert c.values.iloc[:3].tolist() == [1000.0, 1001.0, 1002.0] and c.note is None
    thousands = pd.Series(["25.000"] * n, dtype="string")
    with pytest.raises(InputError):
        coerce.to_number(thousands, "Amount", file="big.csv")
    assert coerce.to_number(thousands, "Amount", file="big.csv", file_marks="decimal_comma").values.iloc[0] == 25000.0
    mixed = pd.Series(["1.5", "25.000", "3"] * 33_334, dtype="string")       # 100,002 values, read by Arrow
    assert coerce.number_votes(mixed) == (0, 33_334)
    assert coerce.number_votes(mixed.head(3)) == (0, 1)
    assert coerce.to_number(mixed, "Amount", file="big.csv").values.iloc[:3].tolist() == [1.5, 25.0, 3.0]


def test_probability_follows_the_same_rule():
    c = coerce.to_probability(col("12,5%", "40"), "Probability", file="f.csv")
    assert c.values.tolist() == [0.125, 0.4]
    with pytest.raises(InputError):
        coerce.to_probability(col("12.500", "40"), "Probability", file="f.csv")


# --- numbers: whole files ----------------------------------------------------------------

ITALIAN_HISTORY = ("ID trattativa;Data modifica;Fase;Importo;Probabilità\n"
                   "T1;2026-01-10;Proposta;25.000;{p1}\n"
                   "T1;2026-02-10;Negoziazione;1.000;{p2}\n")
ITALIAN_ACCOUNTS = ("Cliente;Settore;Fatturato annuo;Potenziale\n"
                    "Alfa Srl;Retail;25.000;{p1}\n"
                    "Beta Spa;Servizi;1.000;{p2}\n")


def test_whole_thousands_take_the_files_decimal_comma(tmp_path):
    f = tmp_path / "conti.csv"
    f.write_text(ITALIAN_ACCOUNTS.format(p1="1.250,50", p2="300"), encoding="utf-8")
    path = tmp_path / "a.duckdb"
    result = import_files(path, [f])
    assert result.status == "loaded", result.message
    assert "Fatturato annuo: decimal comma, as in the file's other number columns" in result.files[0].notes
    with db.read(path) as con:
        assert con.execute("select account_name, annual_revenue, revenue_potential from accounts order by 1").fetchall() \
            == [("Alfa Srl", 25000.0, 1250.5), ("Beta Spa", 1000.0, 300.0)]


def test_italian_history_amounts_decided_by_the_probability(tmp_path):
    f = tmp_path / "storico.csv"
    f.write_text(ITALIAN_HISTORY.format(p1="12,5", p2="40"), encoding="utf-8")
    path = tmp_path / "h.duckdb"
    result = import_files(path, [f])
    assert result.status == "loaded", result.message
    with db.read(path) as con:
        assert con.execute("select changed_at, amount, probability from deal_history order by 1").fetchall() == [
            (datetime(2026, 1, 10), 25000.0, 0.125), (datetime(2026, 2, 10), 1000.0, 0.4)]


def test_no_deciding_value_anywhere_is_a_clear_error_and_the_mapping_settles_it(tmp_path):
    f = tmp_path / "conti.csv"
    f.write_text(ITALIAN_ACCOUNTS.format(p1="5.000", p2="300"), encoding="utf-8")
    path = tmp_path / "a.duckdb"
    result = import_files(path, [f])
    assert result.status == "rejected"
    assert "conti.csv, column 'Fatturato annuo': cannot tell a decimal comma from a decimal point" in result.message
    assert "'25.000'" in result.message and '"number_formats": {"Fatturato annuo": "decimal_comma"}' in result.message
    fmt = {"number_formats": {"Fatturato annuo": "decimal_comma", "Potenziale": "decimal_comma"}}
    fixed = import_files(path, [f], overrides={"conti.csv": fmt})
    assert fixed.status == "loaded", fixed.message
    with db.read(path) as con:
        assert con.execute("select account_name, annual_revenue, revenue_potential from accounts order by 1").fetchall() \
            == [("Alfa Srl", 25000.0, 5000.0), ("Beta Spa", 1000.0, 300.0)]


def test_a_semicolon_alone_decides_nothing(tmp_path):
    # before, the ';' delimiter made '1,000' one (a decimal comma); nothing here says which it is
    f = tmp_path / "deals.csv"
    f.write_text("Deal ID;Stage;Amount\nS1;Lead;1,000\nS2;Lead;2,000\n", encoding="utf-8")
    result = import_files(tmp_path / "d.duckdb", [f])
    assert result.status == "rejected" and "cannot tell a decimal comma from a decimal point" in result.message


def test_italian_deals_end_to_end(tmp_path):
    f = tmp_path / "trattative.csv"
    f.write_text("ID trattativa;Fase;Importo;Data di chiusura\n"
                 "T1;Proposta;25.000;31/03/2026\nT2;Proposta;12 500,00;15/04/2026\n", encoding="utf-8")
    path = tmp_path / "t.duckdb"
    result = import_files(path, [f])
    assert result.status == "loaded", result.message
    with db.read(path) as con:
        assert con.execute("select deal_id, amount, close_date from deals order by 1").fetchall() == [
            ("T1", 25000.0, date(2026, 3, 31)), ("T2", 12500.0, date(2026, 4, 15))]


def test_a_subset_of_a_column_keeps_its_rows():
    """A field-change log parses each field's values apart: a subset whose index does not start
    at 0 (rows 5 and 6) is read as well as a whole column (it came back empty: found by the
    shape-invariance harness)."""
    s = pd.Series(["3/21/2026", "5/4/2026"], index=[5, 6], dtype=object)
    c = coerce.to_timestamp(s, "Old Value", "log.csv")
    assert c.values.tolist() == [pd.Timestamp("2026-03-21"), pd.Timestamp("2026-05-04")]
    assert not c.bad.any()
