"""The Forecast page's pacing section (AppTest): its metrics are the pacing report's, the table is
in words, a small sample is said aloud, and a period that has not started yet says so."""

from datetime import date

from kam_analytics import db, formatting
from kam_analytics.reports.forecast_quality import forecast_range
from kam_analytics.reports.pacing import pacing

from ..conftest import load_fixture
from .test_pages import _open


def _pacing_grid(at):
    return next(d.value for d in at.dataframe if "point" in d.value.columns)


def test_pacing_metrics_chart_and_table_on_demo_data(monkeypatch, demo_db_factory):
    path = demo_db_factory(2000, 7)
    with db.read(path) as con:
        pace = pacing(con, "FY2026-Q3", "2026-08-15")
        p50 = forecast_range(con, "FY2026-Q3", as_of="2026-08-15").iloc[0]["p50"]
    at = _open(monkeypatch, path, "views/forecast.py", query={"period": "FY2026-Q3", "as_of": "2026-08-15"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    last = pace.iloc[-1]
    assert shown["Pipeline needed"] == formatting.number(last["pipeline_needed"])
    assert shown["Likely won (P50)"] == formatting.number(p50)
    assert shown["Typical share won by now"] == formatting.percent(last["typical_won_share"])
    grid = _pacing_grid(at)
    assert len(grid) == len(pace) and list(grid["point"])[-1] == "as of"
    assert all("_" not in c for c in grid.columns) and "won so far (EUR)" in grid.columns
    assert not grid.isin([None, True, False, "None", "nan"]).any().any()
    assert list(grid["won so far (EUR)"]) == [formatting.number(v) for v in pace["won_so_far"]]
    # another as-of: the points follow it
    at.date_input(key="fc-as-of").set_value(date(2026, 9, 15)).run()
    assert not at.exception and len(_pacing_grid(at)) == 12          # 11 weeks before 09-15, and the as-of


def test_pacing_small_sample_and_missing_quota_said(monkeypatch, tmp_path):
    """tests/fixtures/pacing (tests/unit/test_pacing.py), whose data ends 2026-04-16: the page's as-of
    is at most 2026-04-17 (day 16 of FY2026-Q2). The typical pace rests on two past quarters, and the
    pipeline share on two deals (J2 and J3, open and due on 01-17; nothing was on 10-17), below the
    minimum of 5: too few to say. The typical share by day 16: median(J1 2,000 / 12,000 in Q1,
    O1 9,000 / 15,000 in FY2025-Q4) = 38.3 %. A quarter that starts after the as-of says so, and the
    waterfall's start date stays within the dates that can be picked."""
    path = load_fixture(tmp_path / "pacing.duckdb", "pacing")
    at = _open(monkeypatch, path, "views/forecast.py", query={"period": "FY2026-Q2", "as_of": "2026-04-20"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Pipeline needed"] == "too few to say"
    assert shown["Typical share won by now"] == "38.3%"
    captions = " ".join(c.value for c in at.caption)
    assert "Only 2 past quarters to go on" in captions
    at.selectbox[0].set_value("FY2026-Q3").run()                     # not started at 04-20
    assert not at.exception
    assert any("FY2026-Q3 starts on 2026-07-01" in i.value for i in at.info)
