"""The pipeline waterfall as a property over random histories and windows (hypothesis).

For any history and window: every category is a non-negative amount; start + new + pulled_in +
increased − decreased − pushed_out − won − lost = end exactly (to the cent); start and end are
the open amounts with close dates in W of the snapshots at --from and after --to; and each
deal's category is the one an independent reading of docs/metrics.md "Snapshot as of t" and
"Pipeline waterfall", written here in plain Python, gives."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kam_analytics import batches, db, periods
from kam_analytics.reports.forecasting import waterfall, waterfall_deals

STAGES = ("A", "B", "Closed Won", "Closed Lost")
BASE = date(2026, 1, 1)
AMOUNTS = st.one_of(st.none(), st.sampled_from([0.0, 100.0, 250.5, 1000.0, 40_000.0]))


@st.composite
def histories(draw):
    """5 to 25 deals with up to 6 history rows each (same-day rows, rows before created_date,
    missing amounts and close dates included), close dates mostly near the month W, and a
    window [t0, t1] that may start before, inside or after W."""
    month = draw(st.integers(1, 4))
    w0 = (periods.bounds(f"FY2026-M{month:02d}")[0] - BASE).days
    close = st.one_of(st.none(), st.integers(w0 - 20, w0 + 50), st.integers(0, 130))
    deals = []
    for i in range(draw(st.integers(5, 25))):
        created = draw(st.integers(0, 100))
        rows = []
        for _ in range(draw(st.integers(0, 6))):
            rows.append({"day": created + draw(st.integers(-3, 60)), "stage": draw(st.sampled_from(STAGES)),
                         "amount": draw(AMOUNTS), "close": draw(close)})
        current = ({"stage": draw(st.sampled_from(STAGES)), "amount": draw(AMOUNTS), "close": draw(close)}
                   if not rows else {k: rows[-1][k] for k in ("stage", "amount", "close")})
        deals.append({"id": f"D{i}", "created": created, "rows": rows, **current})
    t0 = draw(st.integers(max(0, w0 - 40), w0 + 30))
    t1 = draw(st.integers(t0, min(130, t0 + 70)))
    return deals, month, t0, t1


def _day(n):
    return BASE + timedelta(days=n)


def _state(deal, t):
    """docs/metrics.md "Snapshot as of t" read afresh: None before created_date, else the last state
    (the last of rows sharing a day) before t, else the first state, else the current fields."""
    if not deal["created"] < t:
        return None
    by_day = {}
    for r in deal["rows"]:
        by_day[r["day"]] = r                       # later rows of the same time win
    states = [by_day[d] for d in sorted(by_day)]
    if not states:
        return {k: deal[k] for k in ("stage", "amount", "close")}
    before = [s for s in states if s["day"] < t]
    return before[-1] if before else states[0]


def _status(stage):
    return "won" if stage == "Closed Won" else "lost" if stage == "Closed Lost" else "open"


def _reference(deals, w0, w1, t0, t1):
    """deal -> (entered, left_as, start amount, final amount) per docs/metrics.md "Pipeline waterfall"."""
    def in_w(s):
        return s["close"] is not None and w0 <= s["close"] < w1

    out = {}
    for deal in deals:
        s0, s1 = _state(deal, t0), _state(deal, t1)
        if s1 is None:
            continue
        a0 = (s0["amount"] or 0.0) if s0 else 0.0
        a1 = s1["amount"] or 0.0
        in_start = s0 is not None and _status(s0["stage"]) == "open" and in_w(s0)
        in_end = _status(s1["stage"]) == "open" and in_w(s1)
        by_day = {}
        for r in deal["rows"]:
            by_day[r["day"]] = r
        reopened = any(t0 <= d < t1 and _status(r["stage"]) == "open" for d, r in by_day.items())
        closed_in = _status(s1["stage"]) != "open" and (s0 is None or _status(s0["stage"]) == "open" or reopened)
        if not (in_start or in_end or (closed_in and in_w(s1))):
            continue
        entered = "start" if in_start else "pulled_in" if s0 is not None else "new"
        left = _status(s1["stage"]) if closed_in else "end" if in_end else "pushed_out"
        out[deal["id"]] = (entered, left, a0 if in_start else None, a1)
    return out


@pytest.fixture(scope="module")
def wf_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("waterfall") / "wf.duckdb"
    with batches.batch(path, "test", "schema"):
        pass
    return path


def _load(path, deals):
    deal_rows, history_rows = [], []
    for seq, deal in enumerate(deals):
        close = _day(deal["close"]) if deal["close"] is not None else None
        deal_rows.append([deal["id"], deal["amount"], _day(deal["created"]), close, deal["stage"],
                          close if _status(deal["stage"]) != "open" else None])
        for i, r in enumerate(deal["rows"]):
            history_rows.append([deal["id"], datetime.combine(_day(r["day"]), datetime.min.time()), r["stage"],
                                 r["amount"], _day(r["close"]) if r["close"] is not None else None, seq * 10 + i])
    with batches.batch(path, "test", "random history") as b:
        for table in ("deal_history", "deals"):
            b.con.execute(f"delete from {table}")
        b.con.executemany(
            "insert into deals (deal_id, amount, currency, created_date, close_date, stage, closed_date, batch_id) "
            f"values (?, ?, 'EUR', ?, ?, ?, ?, {b.batch_id})", deal_rows)
        if history_rows:
            b.con.executemany(
                "insert into deal_history (deal_id, changed_at, stage, amount, close_date, seq, batch_id) "
                f"values (?, ?, ?, ?, ?, ?, {b.batch_id})", history_rows)
        b.touched |= {"deals", "deal_history"}


REOPENED = [  # won before the window, reopened and lost inside it: pulled in, then lost
    {"id": "D0", "created": 0, "stage": "Closed Lost", "amount": 100.0, "close": 50,
     "rows": [{"day": 5, "stage": "Closed Won", "amount": 100.0, "close": 5},
              {"day": 40, "stage": "B", "amount": 100.0, "close": 45},
              {"day": 50, "stage": "Closed Lost", "amount": 100.0, "close": 50}]},
    {"id": "D1", "created": 2, "stage": "Closed Won", "amount": 70.0, "close": 10,
     "rows": [{"day": 10, "stage": "Closed Won", "amount": 70.0, "close": 10}]},
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories())
@example((REOPENED, 2, 20, 59))
def test_waterfall_identity_and_reference(wf_path, case):
    deals, month, t0, t1 = case
    _load(wf_path, deals)
    period = f"FY2026-M{month:02d}"
    w0, w1 = periods.bounds(period)
    from_day, to_day = _day(t0), _day(t1)         # --to is inclusive: the window ends at to_day + 1
    with db.read(wf_path) as con:
        summary = waterfall(con, from_day.isoformat(), to_day.isoformat(), period)
        per_deal = waterfall_deals(con, from_day.isoformat(), to_day.isoformat(), period)
    w = {r["category"]: r["amount"] for r in summary.to_dict("records")}
    assert all(v >= 0 for v in w.values()), w
    assert round(w["start"] + w["new"] + w["pulled_in"] + w["increased"] - w["decreased"] - w["pushed_out"]
                 - w["won"] - w["lost"], 2) == round(w["end"], 2), w

    ref = _reference(deals, (w0 - BASE).days, (w1 - BASE).days, t0, t1 + 1)
    got = {r["deal_id"]: (r["entered"], r["left_as"], r["start_amount"] if r["entered"] == "start" else None,
                          r["final_amount"]) for r in per_deal.to_dict("records")}
    assert got == ref
    assert w["start"] == pytest.approx(sum(v[2] for v in ref.values() if v[0] == "start"))
    assert w["end"] == pytest.approx(sum(v[3] for v in ref.values() if v[1] == "end"))
