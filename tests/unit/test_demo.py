"""The demo world: deterministic, fills every canonical table, and the reports recover the
generator's parameters (so the demo is also a test of the reports)."""

import pytest

from kam_analytics import db, demo
from kam_analytics.reports.stage_durations import stage_durations


def test_same_seed_same_world():
    a, b = demo.generate(300, 5), demo.generate(300, 5)
    for table in a:
        assert a[table].equals(b[table]), table
    assert not demo.generate(300, 6)["deal_history"].equals(a["deal_history"])


def test_fills_every_canonical_table(demo_db_factory):
    with db.read(demo_db_factory(2000, 7)) as con:
        counts = db.table_counts(con)
        facts = con.execute("""
            select
              (select count(*) from deals where status = 'open'),
              (select count(*) from deals where status = 'won'),
              (select count(*) from deals where status = 'lost' and loss_reason is not null),
              (select count(distinct currency) from deals),
              (select count(*) from stage_visits v where exists (
                  select 1 from stage_visits w where w.deal_id = v.deal_id and w.stage = v.stage
                  and w.visit_no > v.visit_no)),                                    -- revisits
              (select count(*) from plans where plan_type = 'mutual' and seller_signed_date is not null
                  and buyer_signed_date is not null),
              (select count(distinct side) from plan_steps),
              (select count(*) from plan_steps where completed_date > original_due_date),
              (select count(*) from stakeholders where reports_to is not null),
              (select count(*) from account_plans where objective like 'Grow the account%'),
              (select count(*) from account_plans where objective like '%divisione%'),
              (select count(*) from (select deal_id from deal_history group by deal_id, changed_at having count(*) > 1))
        """).fetchone()
    for table, n in counts.items():
        # deal_snapshots and deal_field_changes keep snapshot exports and field-change logs as
        # read: the demo has full histories
        if table not in ("settings", "deal_snapshots", "deal_field_changes"):
            assert n > 0, f"{table} is empty"
    open_, won, lost_with_reason, currencies, revisits, signed, sides, late, map_lines, en, it, same_ts = facts
    assert open_ > 0 and won > 0 and lost_with_reason > 0
    assert currencies == 2
    assert revisits > 0 and signed > 0 and sides == 3 and late > 0 and map_lines > 0
    assert en > 0 and it > 0          # part of the world is Italian
    assert same_ts > 0                # corrections at the same timestamp


@pytest.fixture(scope="module")
def big_demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo20k") / "demo.duckdb"
    demo.load(path, deals=20_000, seed=11)
    return path


def test_reports_recover_the_median_days_per_stage(big_demo):
    """Won deals' first visit of each stage, per segment, created at least 270 days before
    the end (so nearly all have finished): the median is the parameter × the segment's
    multiplier, within ±10 %."""
    with db.read(big_demo) as con:
        df = stage_durations(con, by="segment", outcome="won", revisits="first", created_to="2026-02-23")
    stage_median = dict(zip(demo.STAGE_PARAMS["stage"], demo.STAGE_PARAMS["median_days"]))
    mult = dict(zip(demo.SEGMENT_PARAMS["segment"], demo.SEGMENT_PARAMS["duration_multiplier"]))
    checked = 0
    for row in df.to_dict("records"):
        expected = stage_median[row["stage"]] * mult[row["segment"]]
        assert row["deals"] >= 100, row
        assert row["median_days"] == pytest.approx(expected, rel=0.10), row
        checked += 1
    assert checked == 15  # 3 segments × 5 stages


def test_win_rates_are_recovered(big_demo):
    """Among deals closed by the end, won / (won + lost) per segment is the parameter,
    within ±10 % (deals created 270+ days before the end, so the closed set is unbiased)."""
    with db.read(big_demo) as con:
        rows = con.execute("""
            select segment, avg((status = 'won')::int) as win_rate, count(*) as n
            from deals where status <> 'open' and created_date < '2026-02-23'
            group by segment
        """).fetchall()
    expected = dict(zip(demo.SEGMENT_PARAMS["segment"], demo.SEGMENT_PARAMS["win_rate"]))
    assert len(rows) == 3
    for segment, rate, n in rows:
        assert rate == pytest.approx(expected[segment], rel=0.10), (segment, rate, n)


def test_history_has_pushes_and_pull_ins(big_demo):
    with db.read(big_demo) as con:
        pushes, pulls, rows_per_deal = con.execute("""
            with h as (select deal_id, close_date, lag(close_date) over (partition by deal_id order by changed_at, seq) prev
                       from deal_history)
            select count(*) filter (where close_date > prev), count(*) filter (where close_date < prev),
                   (select count(*) from deal_history) / (select count(*) from deals)
            from h
        """).fetchone()
    assert pushes > 0 and pulls > 0
    assert 6 <= rows_per_deal <= 10


def test_demo_refuses_a_database_with_deals(demo_db_factory):
    from kam_analytics.errors import InputError

    path = demo_db_factory(2000, 7)
    with pytest.raises(InputError, match="already holds"):
        demo.load(path, deals=10)
    assert "not loaded" in demo.load(path, deals=10, if_empty=True)
