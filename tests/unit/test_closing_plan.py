"""The closing-plan generator on the hand-worked `plan` fixture (tests/fixtures/plan).

Stages A → B → C → D, then Closed Won, Closed Lost (saved). Comparable deals: same segment
when every needed stage has at least `comparable_min_visits` completed visits (set to 2
here, then 3). Template (saved here): Intro (joint, A), Demo (seller, B), Security review
(buyer, C), Sign (joint, D), Kick-off (joint, won).

Completed days per deal and stage, as of 2026-02-20 00:00 (history in deal_history.csv):
  segment X  W1 A4 B10 C6 D4 won    W2 A6 B20 D8 won (skips C)   W3 A2 B6 C8 D6 won
             W5 A2 B10 D4 won (skips C)   L1 A8 B12 lost   O1 A9, open in B since 02-10 (age 10)
  segment Y  W4 A10 B20 C10 D2 won   W6 A4 B10 D4 won   W7 A6 B12 D10 won
             O2 open in A since 02-05 (age 15)
  no segment O3 A4 B10, open in C since 02-15 (age 5)
Segment X: B [6,10,10,12,20] median 10, mean 11.6, p25 10, p75 12 (5 visits);
  C [6,8] median 7, p25 6.5, p75 7.5 (2 visits); D [4,4,6,8] median 5, mean 5.5, p25 4,
  p75 6.5 (4 visits). Won X: W1 W2 W3 W5 = 4; through C: W1 W3 = 2/4 = 0.5 → C is needed
  ("at least half").
All deals: B [6,10,10,10,10,12,12,20,20] median 10; C [6,8,10] median 8;
  D [2,4,4,4,6,8,10] median 4; won 7, through C: W1 W3 W4 = 3/7 < 0.5 → C left out.
"""

from datetime import date

import pandas as pd
import pytest

from kam_analytics import closing_plan, db, derived, settings, settings_store, stage_list
from kam_analytics.errors import InputError


AS_OF = "2026-02-20"


def _plan(path, deal, **kw):
    with db.read(path) as con:
        return closing_plan.generate(con, deal, **{"as_of": AS_OF, **kw})


def test_same_segment_plan_with_the_half_rule(plan_db):
    df = _plan(plan_db, "O1")
    a = df.attrs
    assert a["basis"] == "segment X" and a["stage"] == "B"
    assert a["stage_age_days"] == pytest.approx(10)            # 02-10 → 02-20
    # B: max(0, 10 − 10) = 0 → 02-20; C: 0 + 7 = 7 → 02-27; D: 7 + 5 = 12 → 03-04
    steps = [(r.step, r.stage, r.side, r.due_date) for r in df.itertuples()]
    assert steps == [
        ("Demo", "B", "seller", date(2026, 2, 20)),
        ("B completed (current stage)", "B", "seller", date(2026, 2, 20)),
        ("Security review", "C", "buyer", date(2026, 2, 27)),
        ("C completed", "C", "seller", date(2026, 2, 27)),
        ("Sign", "D", "joint", date(2026, 3, 4)),
        ("D completed", "D", "seller", date(2026, 3, 4)),
        ("Kick-off", "Closed Won", "joint", date(2026, 3, 4)),
    ]                                                           # Intro (A, already passed) is not in it
    assert list(df["step_no"]) == list(range(1, 8))
    milestones = df[df["step"].str.endswith("completed") | df["step"].str.contains("current stage")]
    assert list(milestones["stage_days"]) == pytest.approx([0, 7, 5])
    assert list(milestones["stage_deals"]) == [5, 2, 4]          # deals behind each figure
    assert a["realistic_close_date"] == date(2026, 3, 4)
    assert a["owner_close_date"] == date(2026, 3, 1) and a["gap_days"] == 3
    # likely range: p25s 0 (max(0, 10 − 10)) + 6.5 + 4 = 10.5 → 03-02 12:00;
    #               p75s 2 (max(0, 12 − 10)) + 7.5 + 6.5 = 16 → 03-08
    assert (a["likely_close_from"], a["likely_close_to"]) == (date(2026, 3, 2), date(2026, 3, 8))
    # owners: seller = the deal's owner; buyer = its champion (from the deal)
    assert df.loc[df["side"] == "buyer", "owner"].tolist() == ["Carla Riva"]
    assert df.loc[df["step"] == "Sign", "owner"].item() == "Ann Lee / Carla Riva"
    figures = pd.DataFrame(a["figures"]).set_index("stage")
    assert figures.loc["C", "won_share"] == pytest.approx(2 / 4) and figures.loc["C", "needed"]


def test_mean_instead_of_median(plan_db):
    df = _plan(plan_db, "O1", stat="mean")
    # B: max(0, 11.6 − 10) = 1.6 → 02-21 14:24; C: 1.6 + 7 = 8.6 → 02-28; D: 8.6 + 5.5 = 14.1 → 03-06
    ends = df[df["step"].str.contains("completed")]
    assert list(ends["cumulative_days"]) == pytest.approx([1.6, 8.6, 14.1])
    assert list(ends["due_date"]) == [date(2026, 2, 21), date(2026, 2, 28), date(2026, 3, 6)]
    assert df.attrs["realistic_close_date"] == date(2026, 3, 6)


def test_falls_back_to_all_deals_per_stage(plan_db):
    settings_store.save(plan_db, {"comparable_min_visits": 3})      # segment X has only 2 completed visits of C
    df = _plan(plan_db, "O1")
    a = df.attrs
    assert a["basis"] == "all deals"
    assert "fewer than 3 completed visits of C" in a["notes"][0]
    # all deals: C passed by 3 of 7 won deals → left out; B max(0, 10 − 10) = 0, D 4 → 02-24
    assert "Left out: C" in " ".join(a["notes"])
    assert list(df["stage"].unique()) == ["B", "D", "Closed Won"]
    assert a["realistic_close_date"] == date(2026, 2, 24)
    assert a["gap_days"] == -5                                  # 02-24 − 03-01


def test_segment_where_most_won_deals_skip_a_stage(plan_db):
    df = _plan(plan_db, "O2")
    a = df.attrs
    # Y: won W4 W6 W7; C passed by 1 of 3 → left out. A [4,6,10] median 6, age 15 → 0;
    # B [10,12,20] median 12 → 12 (03-04); D [2,4,10] median 4 → 16 (03-08)
    assert a["basis"] == "segment Y"
    assert list(df.loc[df["step"].str.contains("completed"), "due_date"]) == [
        date(2026, 2, 20), date(2026, 3, 4), date(2026, 3, 8)]
    assert "Security review" not in set(df["step"])
    assert a["likely_close_from"] <= a["realistic_close_date"] <= a["likely_close_to"]


def test_deal_without_a_segment_uses_all_deals(plan_db):
    df = _plan(plan_db, "O3")
    # C (all deals) median 8, age 5 → 3 (02-23); D median 4 → 7 (02-27)
    assert df.attrs["basis"] == "all deals"
    assert "has no segment" in df.attrs["notes"][0]
    assert list(df.loc[df["step"].str.contains("completed"), "due_date"]) == [date(2026, 2, 23), date(2026, 2, 27)]


def test_default_as_of_is_the_data_date(plan_db):
    # data's date 2026-02-15 (O3 entered C): as of 02-16 00:00, O1 has been in B 6 days;
    # the figures are the materialised stage_stats (same numbers: no visit ended after 02-15)
    with db.read(plan_db) as con:
        df = closing_plan.generate(con, "O1")
        assert con.execute("select count(*) from stage_stats").fetchone()[0] > 0
    assert df.attrs["stage_age_days"] == pytest.approx(6)
    # B: 10 − 6 = 4 → 02-20; C +7 → 02-27; D +5 → 03-04
    assert df.attrs["realistic_close_date"] == date(2026, 3, 4)
    assert df.attrs["plan_date"] == date(2026, 2, 15)


def test_a_typed_deal_id_follows_the_id_rule(plan_db):
    """Ids are compared trimmed and in Unicode NFKC, as the importer stores them: " O1 " and the
    full-width "Ｏ１" are deal O1; case still counts (ids as written)."""
    with db.read(plan_db) as con:
        for typed in (" O1 ", "\uff2f\uff11"):
            assert closing_plan.generate(con, typed).attrs["deal_id"] == "O1"
        with pytest.raises(InputError, match="not found"):
            closing_plan.generate(con, "o1")


def test_live_and_materialised_figures_agree(plan_db):

    with db.read(plan_db) as con:
        conf = settings.load(con)
        cfg = stage_list.stage_config(con, conf)
        as_of = derived.default_as_of(con)
        stored = derived.stage_stats(con, "X", as_of, conf, cfg)
    with db.write(plan_db) as con:             # forget the materialised figures
        con.execute("delete from stage_stats")
        db.set_meta(con, "stage_stats_key", "")
    with db.read(plan_db) as con:
        live = derived.stage_stats(con, "X", as_of, conf, cfg)
    assert len(stored) == 8                     # 4 open stages × (segment X, all deals)
    pd.testing.assert_frame_equal(stored, live)


@pytest.mark.parametrize("deal, message", [
    ("W1", "is won (Closed Won)"),
    ("L1", "is lost"),
    ("NOPE", "not found"),
])
def test_refuses_closed_and_unknown_deals(plan_db, deal, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _plan(plan_db, deal)


def test_refuses_a_deal_created_after_the_as_of(plan_db):
    with pytest.raises(InputError, match="no known stage as of 2026-01-10"):
        _plan(plan_db, "O1", as_of="2026-01-10")


def test_export_imports_back_unchanged(plan_db, tmp_path):
    from kam_analytics.importing.run import import_files

    df = _plan(plan_db, "O1")
    for lang in ("en", "it"):
        f = tmp_path / f"plan-{lang}.xlsx"
        with db.read(plan_db) as con:
            f.write_bytes(closing_plan.to_workbook(df, list(stage_list.stage_config(con).stages), lang))
        result = import_files(plan_db, [f])
        # the Italian file holds the same values, so importing it after the English one changes nothing
        assert result.status == ("loaded" if lang == "en" else "unchanged"), result.message
        with db.read(plan_db) as con:
            header = con.execute("select seller_owner, buyer_owner, target_date, created_date from plans "
                                 "where deal_id = 'O1' and plan_type = 'closing'").fetchall()
            steps = con.execute("select step_no, step, stage, owner, side, original_due_date, due_date, status "
                                "from plan_steps where deal_id = 'O1' and plan_type = 'closing' order by step_no"
                                ).fetchall()
        assert header == [("Ann Lee", "Carla Riva", date(2026, 3, 4), date(2026, 2, 20))]
        assert steps == [(int(r.step_no), r.step, r.stage, r.owner, r.side, r.due_date, r.due_date, "not started")
                         for r in df.itertuples()]


def test_convert_to_mutual_plan_and_undo(plan_db):
    from kam_analytics.batches import undo

    with db.read(plan_db) as con:
        before = db.table_counts(con)
    # O1: champion on the deal, economic buyer from the account map (Ettore Galli, ACC1)
    batch_id, df = closing_plan.convert_to_mutual(plan_db, "O1", as_of=AS_OF)
    assert df.attrs["economic_buyer"] == "Ettore Galli"
    with db.read(plan_db) as con:
        plan = con.execute("select plan_type, created_date, converted_date, seller_owner, buyer_owner, target_date "
                           "from plans where deal_id = 'O1'").fetchall()
        steps = con.execute("select step, original_due_date, due_date from plan_steps where deal_id = 'O1' "
                            "and plan_type = 'mutual' order by step_no").fetchall()
    assert plan == [("mutual", date(2026, 2, 20), date(2026, 2, 20), "Ann Lee", "Carla Riva", date(2026, 3, 4))]
    assert steps[0] == ("Demo", date(2026, 2, 20), date(2026, 2, 20)) and len(steps) == 7
    assert steps[-1] == ("Kick-off", date(2026, 3, 4), date(2026, 3, 4))
    with pytest.raises(InputError, match="already has a mutual plan"):
        closing_plan.convert_to_mutual(plan_db, "O1", as_of=AS_OF)
    undo(plan_db, batch_id)
    with db.read(plan_db) as con:
        assert db.table_counts(con) == before


def test_convert_needs_a_champion_and_an_economic_buyer(plan_db):
    with db.read(plan_db) as con:
        before = db.table_counts(con)
    with pytest.raises(InputError, match="no champion and no economic buyer"):
        closing_plan.convert_to_mutual(plan_db, "O2", as_of=AS_OF)
    with db.read(plan_db) as con:
        assert db.table_counts(con) == before


def test_search_finds_by_id_name_or_account(plan_db):
    with db.read(plan_db) as con:
        assert closing_plan.search_deals(con, "o1")["deal_id"].tolist() == ["O1"]
        assert closing_plan.search_deals(con, "alpha")["deal_id"].tolist() == ["O1"]    # account Alpha Foods
        assert set(closing_plan.search_deals(con, "open in")["deal_id"]) == {"O1", "O2", "O3"}
        assert closing_plan.search_deals(con, "W1").empty                              # won: not a candidate
        assert closing_plan.search_deals(con, "W1", open_only=False)["deal_id"].tolist() == ["W1"]
        # no text: open deals, largest amount first
        assert closing_plan.search_deals(con, "")["deal_id"].tolist() == ["O1", "O3", "O2"]


def test_the_picker_offers_only_deals_the_page_can_plan_and_says_how_many_it_left_out(tmp_path):
    """Issue 26 (Maven): the page opened on an error for its own default deal ('no known stage
    as of ...'). P1 is open in Proposal since 2026-01-10; P2 is open but has no created date and
    no history (its stage as of any day is unknown); P3 is won now but was open in Proposal on
    2026-02-01. As of 2026-03-01: P1 only (P3 is won, P2 cannot be planned: 1 left out). As of
    2026-02-01: P1 and P3."""
    from kam_analytics.importing.run import import_files

    deals = tmp_path / "d.csv"
    deals.write_text("Deal ID,Stage,Amount,Created Date,Closed Date\n"
                     "P1,Proposal,100,2026-01-10,\nP2,Proposal,90,,\nP3,Closed Won,80,2026-01-05,2026-02-15\n",
                   encoding="utf-8")
    hist = tmp_path / "h.csv"
    hist.write_text("Deal ID,Changed At,Stage\nP3,2026-01-05,Proposal\nP3,2026-02-15,Closed Won\n"
                    "P1,2026-01-10,Proposal\n", encoding="utf-8")
    path = tmp_path / "p.duckdb"
    assert import_files(path, [deals, hist]).status == "loaded"
    with db.read(path) as con:
        now = closing_plan.search_deals(con, "", as_of="2026-03-01")
        then = closing_plan.search_deals(con, "", as_of="2026-02-01")
    assert now["deal_id"].tolist() == ["P1"]
    assert now.attrs["left_out"] == 1
    assert sorted(then["deal_id"]) == ["P1", "P3"]
