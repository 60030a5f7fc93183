"""Issue 23, defect 12: the inferred stage list without history follows the evidence in
order (positions, probability or forecast category, a vocabulary of common stage names in
English and Italian) and says aloud where nothing decides."""

from kam_analytics import db, stage_list
from kam_analytics.importing.run import import_files


def _stages(tmp_path, text, name="deals.csv"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    path = tmp_path / "s.duckdb"
    result = import_files(path, [f])
    assert result.status == "loaded", result.message
    with db.read(path) as con:
        return stage_list.stage_config(con)


def test_italian_deals_without_history_follow_the_vocabulary(tmp_path):
    # by name alone these would read Analisi, Chiusa persa, Chiusa vinta, Negoziazione, Proposta, Qualificazione
    cfg = _stages(tmp_path, "ID trattativa;Fase\nT1;Proposta\nT2;Qualificazione\nT3;Chiusa vinta\n"
                            "T4;Negoziazione\nT5;Analisi dei bisogni\nT6;Chiusa persa\n")
    assert cfg.stages == ("Qualificazione", "Analisi dei bisogni", "Proposta", "Negoziazione", "Chiusa vinta",
                          "Chiusa persa")
    assert cfg.undecided == ()
    assert "does not tell" not in cfg.note


def test_a_stage_with_no_history_is_placed_by_the_vocabulary_beside_those_with_history(tmp_path):
    # the Maven case: W1 went Engaging -> Won (its history); P1 is in Prospecting (no history)
    cfg = _stages(tmp_path, "opportunity_id,deal_stage,engage_date,close_date\nW1,Won,2017-01-05,2017-02-01\n"
                            "P1,Prospecting,,\nE1,Engaging,2017-01-09,\nL1,Lost,2017-01-02,2017-01-20\n")
    assert cfg.stages == ("Prospecting", "Engaging", "Won", "Lost")


def test_typical_probability_decides_before_the_vocabulary(tmp_path):
    # 'Step Alpha' deals sit at 20 %, 'Step Beta' at 10 %: Beta comes first
    cfg = _stages(tmp_path, "Deal ID,Changed At,Stage,Probability\nA1,2026-01-01,Step Alpha,20%\n"
                            "B1,2026-01-02,Step Beta,10%\n", "history.csv")
    assert cfg.stages[:2] == ("Step Beta", "Step Alpha")


def test_undecided_neighbours_are_said_aloud(tmp_path):
    cfg = _stages(tmp_path, "Deal ID,Stage\nX1,Gamma\nX2,Delta\n")
    assert cfg.undecided == (("Delta", "Gamma"),)
    assert "does not tell which comes first of Delta or Gamma" in cfg.note
    assert "confirm the list in Settings" in cfg.note


def test_a_stage_that_looks_like_a_known_one_is_asked_about_never_merged_silently(tmp_path):
    """Issue 26 / docs/metrics.md "Stages": the database knows Closed Won; a new file says Won."""
    from kam_analytics.importing.run import import_files as imp

    first = tmp_path / "a.csv"
    first.write_text("Deal ID,Stage\nA1,Closed Won\nA2,Proposal\n", encoding="utf-8")
    path = tmp_path / "syn.duckdb"
    assert imp(path, [first]).status == "loaded"
    second = tmp_path / "b.csv"
    second.write_text("Deal ID,Stage\nB1,Won\nB2,Proposal\n", encoding="utf-8")
    refused = imp(path, [second])
    assert refused.status == "rejected"
    assert "the stage 'Won' may be the same stage as 'Closed Won'" in refused.message
    assert [(q.word, q.choices) for q in refused.files[0].questions] == [("Won", ("Closed Won", "Won"))]
    same = imp(path, [second], overrides={"values": {"stage": {"Won": "Closed Won"}}})
    assert same.status == "loaded", same.message
    with db.read(path) as con:
        assert con.execute("select stage from deals where deal_id = 'B1'").fetchone()[0] == "Closed Won"
        assert stage_list.stage_config(con).won == ("Closed Won",)
    # kept apart: the answer is the word itself, remembered like any value mapping
    third = tmp_path / "c.csv"
    third.write_text("Deal ID,Stage\nC1,Vinta\n", encoding="utf-8")
    assert imp(path, [third]).status == "rejected"
    assert imp(path, [third], overrides={"values": {"stage": {"Vinta": "Vinta"}}}).status == "loaded"
    with db.read(path) as con:
        assert set(stage_list.stage_config(con).won) == {"Closed Won", "Vinta"}
