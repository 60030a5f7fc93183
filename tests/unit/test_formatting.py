"""Tables people read (issue 26): one helper owns headers in words, yes/no, missing values,
amounts with the currency and thousands separators, one number of decimals per column,
coverage as a multiple and days to one decimal; xlsx exports keep the report's keys and values
and gain widths, a header filter and number formats."""

from datetime import date, datetime
from io import BytesIO

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from kam_analytics import exports, formatting


@pytest.mark.parametrize("key, words", [
    ("pull_ins", "Pull-ins"), ("commit_accuracy", "Commit accuracy"), ("median_days", "Median (days)"),
    ("deal_id", "Deal ID"), ("won_amount", "Won amount"), ("p90_days", "P90 (days)"), ("stage", "Stage"),
    ("mean days", "Mean days"),                      # a header already in words keeps its words
])
def test_headers_in_words(key, words):
    assert formatting.label(key) == words


@pytest.mark.parametrize("key, kind", [
    ("coverage", "multiple"), ("coverage_score", "percent"), ("won_amount", "amount"), ("quota", "amount"),
    ("commit_forecast", "amount"), ("median_days", "days"), ("days_pushed", "days"), ("deals", "count"),
    ("pull_ins", "count"), ("win_rate", "percent"), ("commit_accuracy", "percent"), ("lift", "multiple"),
    ("stage", "other"),
])
def test_column_kinds(key, kind):
    assert formatting.column_kind(key) == kind


def test_cell_text_for_people():
    # pipeline coverage 31.81 = 3,181 % is read as a multiple: 31.8×
    assert formatting.cell("coverage", 31.81) == "31.8×"
    assert formatting.cell("coverage", None) == "—"
    assert formatting.cell("median_days", 12.345) == "12.3"
    assert formatting.cell("won_amount", 1117530.4) == "1,117,530"
    assert formatting.cell("win_rate", 0.1234) == "12.3%"
    assert formatting.cell("revisits", "cumulative") == "cumulative"      # text stays text in any column


def test_number_formats_one_per_column():
    amounts = pd.Series([1.5, 1234567.25])
    assert formatting.number_format("won_amount", amounts, "EUR") == "%,.0f EUR"
    assert formatting.number_format("median_days", amounts) == "%,.1f"
    assert formatting.number_format("days_pushed", pd.Series([324.0, 17776.0])) == "%,.0f"     # whole days
    assert formatting.number_format("coverage", amounts) == "%,.1f×"
    assert formatting.number_format("deals", pd.Series([1, 2])) == "%,d"
    assert formatting.number_format("win_rate", amounts) is None          # the grid's percent, one decimal
    assert formatting.number_format("score", pd.Series([1.0, 2.0])) == "%,.0f"   # whole: no decimals
    assert formatting.number_format("score", pd.Series([1.25, 2.0])) == "%,.2f"


def test_for_display_yes_no_lists_dates_and_missing():
    df = pd.DataFrame({
        "signed": [True, False],
        "maybe": pd.array([True, None], dtype="object"),
        "flags": [["stalled", "stale"], []],
        "close_date": pd.to_datetime(["2026-01-02", None]),
        "amount": [1.5, np.nan],
    })
    df.attrs["notes"] = ["x"]
    shown = formatting.for_display(df)
    assert shown["signed"].tolist() == ["yes", "no"]
    assert shown["maybe"].tolist()[0] == "yes" and formatting.is_missing(shown["maybe"].tolist()[1])
    assert shown["flags"].tolist() == ["stalled; stale", ""]
    assert shown["close_date"].tolist()[0] == date(2026, 1, 2)
    assert np.isnan(shown["amount"].iloc[1])        # missing stays missing: the grid shows —
    assert shown.attrs == {} and df["signed"].tolist() == [True, False]    # the report is untouched


def test_xlsx_keeps_keys_and_values_and_gains_formats():
    df = pd.DataFrame({
        "deal_id": ["D1", "D2"],
        "won_amount": [1234567.891, 50.0],
        "win_rate": [0.125, None],
        "median_days": [3.25, 10.0],
        "coverage": [3.181, 0.5],
        "close_date": [date(2026, 3, 31), date(2026, 4, 1)],
        "changed_at": [datetime(2026, 3, 31, 14, 5), None],
        "note": ["a long text that sets the width of its column", "x"],
    })
    wb = load_workbook(BytesIO(exports.to_xlsx({"r": df})))
    ws = wb["r"]
    assert [c.value for c in ws[1]] == list(df.columns)                      # keys, not words
    assert ws["B2"].value == 1234567.891 and ws["C2"].value == 0.125          # values as they are
    assert ws["B2"].number_format == "#,##0"
    assert ws["C2"].number_format == "0.0%"
    assert ws["D2"].number_format == "#,##0.0"
    assert ws["E2"].number_format == '0.0"×"'
    assert ws["F2"].number_format == "yyyy-mm-dd" and ws["F2"].value.date() == date(2026, 3, 31)
    assert ws["G2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws.auto_filter.ref == "A1:H3"                                      # header filter over the rows
    # fitted widths: the longest text + 2 (the note's 45 characters; "deal_id", 7, over "D1")
    assert ws.column_dimensions["H"].width == len("a long text that sets the width of its column") + 2
    assert ws.column_dimensions["A"].width == len("deal_id") + 2
    # "1,234,568" is 9 characters, the header "won_amount" 10: 10 + 2
    assert ws.column_dimensions["B"].width == 12
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"                                       # never a formula


def test_the_grid_path_words_and_formats():
    """views/_ui.table's column_config: headers in words, the helper's number formats (the
    page's own header in words, help, links and progress bars kept), missing shown as —."""
    import streamlit as st

    from views import _ui

    df = pd.DataFrame({"pull_ins": [3, 1200], "won_amount": [1234.5, None], "coverage": [3.181, None],
                       "win_rate": [0.5, 0.25], "median_days": [1.25, 2.0], "signed": [True, False],
                       "note": ["a", None]})
    shown = formatting.for_display(df)
    cfg = _ui.column_config_for(df, shown, {
        "note": st.column_config.TextColumn("the owner's note", help="typed"),
        "win_rate": st.column_config.ProgressColumn("win rate", format="percent"),
        "median_days": st.column_config.NumberColumn("median_days", format="localized"),
        "signed": st.column_config.CheckboxColumn("signed", help="both sides")}, currency="EUR")
    assert [cfg[c]["label"] for c in df.columns] == ["Pull-ins", "Won amount", "Coverage", "Win rate",
                                                     "Median (days)", "Signed", "The owner's note"]
    assert cfg["pull_ins"]["type_config"]["format"] == "%,d"
    assert cfg["won_amount"]["type_config"]["format"] == "%,.0f EUR"
    assert cfg["coverage"]["type_config"]["format"] == "%,.1f×"
    assert cfg["median_days"]["type_config"]["format"] == "%,.1f"          # the helper's, not "localized"
    assert cfg["win_rate"]["type_config"]["type"] == "progress"            # the page's bar is kept...
    assert cfg["win_rate"]["type_config"]["step"] == 0.001                 # ...at one decimal
    assert cfg["note"]["help"] == "typed"
    assert "type_config" not in cfg["signed"] and cfg["signed"]["help"] == "both sides"   # yes/no, no tick box
    assert shown["signed"].tolist() == ["yes", "no"]
    # a table with its own currency column: amounts without the settings currency
    own = df.assign(currency=["USD", "EUR"])
    assert _ui.column_config_for(own, formatting.for_display(own), {}, currency="EUR")["won_amount"][
        "type_config"]["format"] == "%,.0f"


def test_figures_written_as_text_line_up_right():
    from views import _ui

    df = pd.DataFrame({"actual": ["1,000", "—"], "goal": ["a", "b"]})
    cfg = _ui.column_config_for(df, formatting.for_display(df), {}, currency="EUR")
    assert cfg["actual"]["alignment"] == "right" and "alignment" not in cfg["goal"]


def test_two_columns_never_share_a_header():
    from views import _ui

    df = pd.DataFrame({"step": ["a"], "Step": ["b"]})
    cfg = _ui.column_config_for(df, formatting.for_display(df), {}, currency="")
    assert [cfg[c]["label"] for c in df.columns] == ["Step", "Step (Step)"]
