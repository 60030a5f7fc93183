"""Won so far as a property over random worlds (hypothesis), issue 24 part 1.

docs/metrics.md "Forecast accuracy": won_by_a = won IN P before a, i.e. closed_date in
[P's first day, min(a, P's end)); actual = amount won with closed_date in P. So once P has
ended (a on or after P's end, and on or before the data's date, so that the snapshot at a
holds every closing in P) won so far IS the actual: a win after P's end, even one before the
as-of, belongs to a later period. The property: for every period P and every such as-of a,
won so far = actual in `forecast-accuracy` (in total and per owner), in `forecast-range`
(its won_by_as_of, and P10 = P50 = P90: nothing is left to close in P), and `attainment`'s
won summed over its rows (the owners with a quota, and the "(no quota)" row), by owner,
manager and team; and all of them equal an independent reading of docs/metrics.md in plain Python.

The worlds close deals for good: a deal's closing row is its last (the deal's current fields
are that row's), so the snapshot at any a after the closing holds what the data holds now.
(A deal re-valued or reopened after a legitimately makes the snapshot at a differ from the
data now; that is not this property.) Deals in dollars are converted at the rate valid at
their close date, as the actual converts them."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kam_analytics import batches, db, derived, periods
from kam_analytics.reports.forecast_quality import accuracy_by_owner, attainment, forecast_accuracy, forecast_range

BASE = date(2026, 1, 1)
OPEN_STAGES = ("A", "B")
OWNERS = ("Ann Lee", "ann  lee", "Bo Chan", "Cy Diaz", None)         # "ann  lee" is Ann after normalisation
ORG = {"Ann Lee": ("Mia Park", "North"), "Bo Chan": ("Mia Park", None)}   # Cy has no owners row
PERIODS = ("FY2026-M01", "FY2026-M02", "FY2026-M03", "FY2026-Q1", "FY2026-M04")
AMOUNTS = st.one_of(st.none(), st.sampled_from([0.0, 100.0, 250.5, 1000.0, 40_000.0]))
USD = [(date(2025, 1, 1), 0.9), (date(2026, 2, 15), 0.8)]              # (valid_from, rate into EUR)
LAST_DAY = 130                                                          # 2026-05-11: every period has ended


@st.composite
def worlds(draw):
    """5 to 20 deals: open rows in A/B (same-day rows included), then for most a closing row
    (won or lost, on a day at or after the last open row), which stays the deal's last state;
    some deals have no history (their current fields are their state); some are in USD; the
    closed date is sometimes left for the importer to derive from the history. Quotas for P
    for a random set of owners (a quarter's quota as its own row or as its months')."""
    deals = []
    for i in range(draw(st.integers(5, 20))):
        created = draw(st.integers(0, 110))
        close = st.one_of(st.none(), st.integers(0, 125))
        rows, day = [], created + draw(st.integers(-3, 5))
        for _ in range(draw(st.integers(0, 3))):
            rows.append({"day": day, "stage": draw(st.sampled_from(OPEN_STAGES)), "amount": draw(AMOUNTS),
                         "close": draw(close)})
            day += draw(st.integers(0, 20))
        ending = draw(st.sampled_from(["won", "won", "lost", "open"]))
        if ending != "open":
            closed_day = max(day, created) + draw(st.integers(0, 30))
            stage = "Closed Won" if ending == "won" else "Closed Lost"
            final = {"day": closed_day, "stage": stage, "amount": draw(AMOUNTS),
                     "close": draw(st.one_of(st.just(closed_day), close))}
            if rows or draw(st.booleans()):
                rows.append(final)
            closed = closed_day if not rows or draw(st.booleans()) else None     # None: derived from the history
        else:
            final = rows[-1] if rows else {"stage": draw(st.sampled_from(OPEN_STAGES)), "amount": draw(AMOUNTS),
                                           "close": draw(close)}
            closed = None
        deals.append({"id": f"D{i}", "owner": draw(st.sampled_from(OWNERS)), "created": created, "rows": rows,
                      "currency": draw(st.sampled_from(["EUR", "EUR", "USD"])), "closed": closed,
                      **{k: final[k] for k in ("stage", "amount", "close")}})
    deals.append({"id": "LATE", "owner": "Bo Chan", "created": LAST_DAY, "rows": [], "currency": "EUR",
                  "closed": None, "stage": "A", "amount": 5.0, "close": LAST_DAY + 30})
    period = draw(st.sampled_from(PERIODS))
    quotas = []
    for owner in draw(st.sets(st.sampled_from(["Ann Lee", "Bo Chan", "Cy Diaz"]))):
        if period.endswith("-Q1") and draw(st.booleans()):
            quotas += [(owner, f"FY2026-M{m:02d}", 1_000.0) for m in (1, 2, 3)]
        else:
            quotas.append((owner, period, 5_000.0))
    return deals, period, quotas, draw(st.integers(0, 1000))


def _day(n):
    return BASE + timedelta(days=n)


def _load(path, deals, quotas):
    deal_rows, history_rows = [], []
    for seq, d in enumerate(deals):
        close = _day(d["close"]) if d["close"] is not None else None
        deal_rows.append([d["id"], d["owner"], d["amount"], d["currency"], _day(d["created"]), close, d["stage"],
                          _day(d["closed"]) if d["closed"] is not None else None])
        for i, r in enumerate(d["rows"]):
            history_rows.append([d["id"], datetime.combine(_day(r["day"]), datetime.min.time()), r["stage"],
                                 r["amount"], _day(r["close"]) if r["close"] is not None else None, seq * 10 + i])
    with batches.batch(path, "test", "random world") as b:
        for table in ("deal_history", "deals", "quotas", "owners", "fx_rates"):
            b.con.execute(f"delete from {table}")
        b.con.executemany(
            "insert into deals (deal_id, owner, amount, currency, created_date, close_date, stage, closed_date, "
            f"batch_id) values (?, ?, ?, ?, ?, ?, ?, ?, {b.batch_id})", deal_rows)
        if history_rows:
            b.con.executemany(
                "insert into deal_history (deal_id, changed_at, stage, amount, close_date, seq, batch_id) "
                f"values (?, ?, ?, ?, ?, ?, {b.batch_id})", history_rows)
        if quotas:
            b.con.executemany(f"insert into quotas values (?, ?, ?, {b.batch_id})", quotas)
        b.con.executemany(f"insert into owners (owner, manager, team, batch_id) values (?, ?, ?, {b.batch_id})",
                          [[o, m, t] for o, (m, t) in ORG.items()])
        b.con.executemany(f"insert into fx_rates values ('USD', ?, ?, {b.batch_id})", [[r, v] for v, r in USD])
        b.touched |= {"deals", "deal_history", "quotas", "owners", "fx_rates"}


def _reference_actual(deals, p0, p1):
    """docs/metrics.md read afresh: the amounts (in EUR at the rate valid at the close date) of the
    deals won with closed_date (given, else the day of the first closed row) in [p0, p1)."""
    total = 0.0
    for d in deals:
        if d["stage"] != "Closed Won" or d["amount"] is None:
            continue
        closed = d["closed"]
        if closed is None:
            closed = min(r["day"] for r in d["rows"] if r["stage"].startswith("Closed"))
        if p0 <= _day(closed) < p1:
            rate = 1.0
            if d["currency"] == "USD":
                rate = [r for v, r in USD if v <= _day(d["close"])][-1] if d["close"] is not None else USD[-1][1]
            total += d["amount"] * rate
    return total


@pytest.fixture(scope="module")
def world_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("won_so_far") / "w.duckdb"
    with batches.batch(path, "test", "schema"):
        pass
    return path


# as test_forecast_quality.test_won_so_far_stops_at_the_period_end works out: W1 won 02-10 (1,000, in Q1),
# W2 won 04-20 (300, after Q1's end), as of 04-25 (pick 24: 04-01 + 24 days): won so far = actual = 1,000
AFTER_THE_END = ([
    {"id": "W1", "owner": "Ann Lee", "created": -31, "currency": "EUR", "closed": 40, "stage": "Closed Won",
     "amount": 1000.0, "close": 40, "rows": [{"day": -31, "stage": "A", "amount": 1000.0, "close": 89},
                                             {"day": 40, "stage": "Closed Won", "amount": 1000.0, "close": 40}]},
    {"id": "W2", "owner": "Ann Lee", "created": -31, "currency": "EUR", "closed": 109, "stage": "Closed Won",
     "amount": 300.0, "close": 109, "rows": [{"day": -31, "stage": "A", "amount": 300.0, "close": 73},
                                            {"day": 109, "stage": "Closed Won", "amount": 300.0, "close": 109}]},
    {"id": "LATE", "owner": "Bo Chan", "created": LAST_DAY, "rows": [], "currency": "EUR", "closed": None,
     "stage": "A", "amount": 5.0, "close": LAST_DAY + 30},
], "FY2026-Q1", [("Ann Lee", "FY2026-Q1", 2_000.0)], 24)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(worlds())
@example(AFTER_THE_END)
def test_won_so_far_is_the_actual_once_the_period_has_ended(world_path, world):
    deals, period, quotas, pick = world
    _load(world_path, deals, quotas)
    p0, p1 = periods.bounds(period)
    with db.read(world_path) as con:
        data_date = derived.data_date(con)
        assert data_date >= p1                          # LATE: every period of the worlds has ended
        a = p1 + timedelta(days=pick % ((data_date - p1).days + 1))       # P's end <= a <= the data's date
        expected = _reference_actual(deals, p0, p1)
        acc = forecast_accuracy(con, period, as_of=a.isoformat()).iloc[0]
        owners = accuracy_by_owner(con, period, as_of=a.isoformat())
        rng = forecast_range(con, period, runs=50, seed=1, as_of=a.isoformat()).iloc[0]
        att = {by: attainment(con, period, by=by, as_of=a.isoformat()) for by in ("owner", "manager", "team")}
    assert acc["actual"] == pytest.approx(expected)
    assert acc["won_by_as_of"] == pytest.approx(acc["actual"]), (period, a)
    for r in owners.to_dict("records"):
        assert r["won_by_as_of"] == pytest.approx(r["actual"]), r
    assert rng["won_by_as_of"] == pytest.approx(acc["actual"])
    assert rng["p10"] == rng["p50"] == rng["p90"] == pytest.approx(acc["actual"])
    for by, df in att.items():
        assert df["won_amount"].sum() == pytest.approx(acc["actual"]), (by, df.to_dict("records"))
        assert (df[by] == "(no quota)").sum() <= 1
