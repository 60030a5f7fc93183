"""Charts people read (issue 26): figures follow the app's theme (no hard-coded background),
the closing-plan Gantt's close-date labels never overlap, the Key accounts bubble chart is not
squashed by one huge account, split markers never cover a value label, and a chart of zeros is
an empty state. Small frames, every number worked out below."""

from datetime import date

import pandas as pd
import pytest

from kam_analytics import charts


def _durations(dim=None):
    rows = [("Qualify", 10, 2.0, 3.0, 4.0, 2.5, 1, 5.0), ("Propose", 10, 6.0, 9.0, 12.0, 7.0, 0, None)]
    df = pd.DataFrame(rows, columns=["stage", "deals", "median_days", "p75_days", "p90_days", "mean_days",
                                     "in_progress", "in_progress_median_age_days"])
    if dim:
        df = pd.concat([df.assign(segment="SMB"), df.assign(segment="ENT")], ignore_index=True)
    return df


def _no_white(fig):
    layout = fig.to_plotly_json()["layout"]
    assert "plot_bgcolor" not in layout and "paper_bgcolor" not in layout
    for axis in ("xaxis", "yaxis"):
        assert "gridcolor" not in layout.get(axis, {})


def test_figures_follow_the_theme():
    _no_white(charts.stage_durations(_durations()))
    _no_white(charts.in_progress(_durations()))
    _no_white(charts.pareto(pd.DataFrame({"reason": ["price", "timing"], "lost": [3, 1]}), "reason"))
    assert 'bgcolor="transparent"' in charts.org_chart(
        pd.DataFrame({"name": ["A"], "title": [None], "role": [None], "sentiment": [None], "manager": [None],
                      "in_cycle": [False]}), [])


def test_split_value_labels_sit_beyond_the_markers():
    fig = charts.stage_durations(_durations("segment"), "segment")
    labels = [t for t in fig.data if t.type == "scatter" and t.mode == "text"]
    assert len(labels) == 2                                   # one per segment
    # Qualify: median 2, p75 3, p90 4 -> the label starts at 4; Propose: 6, 9, 12 -> 12; each 2 % of
    # the longest (12 -> 0.24) further on, clear of the marker
    assert list(labels[0].x) == pytest.approx([4.24, 12.24])
    assert list(labels[0].text) == ["median 2.0 d", "median 6.0 d"]
    # markers and labels sit on their own segment's bar (grouped along y), not on the row's middle
    assert all(t.orientation == "h" and t.offsetgroup for t in fig.data if t.type == "scatter")
    bars = [t for t in fig.data if t.type == "bar"]
    assert all(b.text is None for b in bars)                  # no label at the bar's end, under a marker
    # a row below the minimum sample shows no markers: its label follows the bar (median 2 and 6)
    few = charts.label_positions(_durations(), [False, False])
    assert few == [2.0, 6.0]


def test_in_progress_of_zeros_is_an_empty_state():
    zeros = _durations().assign(in_progress=0)
    fig = charts.in_progress(zeros)
    assert not fig.data and fig.layout.meta["empty"]
    assert "No deal is in progress" in fig.layout.annotations[0].text
    assert len(charts.in_progress(_durations()).data) == 1


def test_close_date_labels_never_overlap():
    marks = [(date(2026, 9, 30), "#1", "solid", "realistic close"), (date(2026, 10, 3), "#2", "dash",
                                                                      "owner's close date")]
    out = charts.close_labels(marks, pd.Timestamp("2026-08-01"))
    assert [row for *_, row in out] == [0, 1]                 # each on its own line
    # both after the middle of the axis: both reach left, towards it, and stay inside the figure
    assert [x for _, _, _, x, _ in out] == ["right", "right"]
    assert out[0][2] == "realistic close 2026-09-30"
    same = charts.close_labels([marks[0], (date(2026, 9, 30), "#2", "dash", "owner's close date")],
                               pd.Timestamp("2026-12-01"))
    assert same == [(date(2026, 9, 30), "#1", "realistic close = owner's close date 2026-09-30", "left", 0)]


def _accounts(values):
    n = len(values)
    return pd.DataFrame({
        "account_id": [f"A{i}" for i in range(n)], "account_name": [f"Acc {i}" for i in range(n)],
        "value_12m": values, "potential": [2.0 * v for v in values], "open_pipeline": list(range(1, n + 1)),
        "relationship_strength": pd.array([3] * n, dtype="Int64"), "potential_source": ["revenue_potential"] * n,
        "coverage_score": [0.6] * n,
    })


def test_axis_cap_only_for_a_far_outlier():
    # 20 accounts of 1..20 M and one of 70 M: 70 > 3 × 20, so the axis stops at 1.15 × 20 M = 23 M
    values = [float(v) * 1e6 for v in range(1, 21)] + [70e6]
    assert charts.axis_cap(pd.Series(values)) == pytest.approx(23e6)
    # the demo's shape: 13 accounts, the largest 8.5 M, one raised to 70 M: 70 > 3 × 8.5 -> 1.15 × 8.5 M
    thirteen = [70e6, 8.5e6, 3.4e6, 1.8e6, 1.5e6, 1.2e6, 1e6, 0.9e6, 0.8e6, 0.5e6, 0.4e6, 0.2e6, 0.0]
    assert charts.axis_cap(pd.Series(thirteen)) == pytest.approx(8.5e6 * 1.15)
    assert charts.axis_cap(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])) is None        # nothing far out
    assert charts.axis_cap(pd.Series([1.0, 100.0])) is None                      # too few to say


def test_portfolio_clips_the_outlier_and_names_the_largest():
    values = [float(v) * 1e6 for v in range(1, 21)] + [70e6]
    fig = charts.portfolio(_accounts(values), "EUR", labelled=3)
    inside, beyond = fig.data                     # one relationship group: the circles, then the edge
    assert fig.layout.xaxis.range[1] == pytest.approx(23e6 * 1.08)
    assert max(inside.x) == 20e6 and list(beyond.x) == [pytest.approx(23e6)]      # drawn at the edge...
    # ...as a triangle (beyond both axes: potential 140 M > 1.15 × 40 M), with its figures
    assert list(beyond.customdata) == ["A20"] and list(beyond.marker.symbol) == ["triangle-ne"]
    assert list(beyond.text) == ["Acc 20<br>value 70M<br>potential 140M"]
    assert not beyond.showlegend and inside.showlegend                        # the legend shows a circle
    assert fig.layout.title.subtitle.text.startswith("1 account(s) far beyond the others")
    # the three largest open pipelines (21, 20, 19: A20, A19, A18) carry their names; A0 does not
    assert inside.text[list(inside.customdata).index("A18")] == "Acc 18" and inside.text[0] == ""
