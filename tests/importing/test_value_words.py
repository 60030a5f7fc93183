"""Issue 23, defect 4: words with a fixed meaning in English and Italian, multi-word and with
apostrophes or accents; an unknown word is a question answered once and remembered."""

import json

from kam_analytics import db, settings
from kam_analytics.cli import main
from kam_analytics.importing.run import import_files, preview

MAP = ("Cliente;Nome;Ruolo;Atteggiamento\n"
       "Alpha Foods;Anna Neri;Acquirente economico;Favorevole\n"
       "Alpha Foods;Bruno Sala;Decisore;Neutrale\n"
       "Alpha Foods;Carla Riva;Sponsor esecutivo;Positiva\n"
       "Alpha Foods;Dario Pini;sponsor  ESECUTIVO;Critico\n")


def _map(tmp_path):
    f = tmp_path / "mappa_account.csv"
    f.write_text(MAP, encoding="utf-8")
    return f


def test_italian_multi_word_roles_and_an_unknown_word_asked_once(tmp_path):
    path = tmp_path / "v.duckdb"
    result = preview(path, [_map(tmp_path)])
    rep = result.files[0]
    assert rep.kind == "stakeholders"
    # 'Sponsor esecutivo' (2 rows, written two ways) is one question; the others are known words
    assert [(q.field, q.word, q.rows) for q in rep.questions] == [("role", "Sponsor esecutivo", 2)]
    assert "economic buyer" in rep.questions[0].choices
    refused = import_files(path, [_map(tmp_path)])
    assert refused.status == "rejected"
    assert "'Sponsor esecutivo' in column 'Ruolo' (2 row(s)): which role is it?" in refused.message
    assert '"values"' in refused.message


def test_the_answer_loads_the_batch_and_is_remembered(tmp_path):
    path = tmp_path / "v.duckdb"
    answers = {"values": {"role": {"Sponsor esecutivo": "economic buyer"}}}
    loaded = import_files(path, [_map(tmp_path)], overrides=answers)
    assert loaded.status == "loaded", loaded.message
    with db.read(path) as con:
        rows = dict(con.execute("select name, role || '/' || sentiment from stakeholders").fetchall())
        assert settings.load(con)["value_mappings"] == {"role": {"sponsor esecutivo": "economic buyer"}}
    assert rows == {"Anna Neri": "economic buyer/supporter", "Bruno Sala": "decision maker/neutral",
                    "Carla Riva": "economic buyer/supporter", "Dario Pini": "economic buyer/detractor"}
    # a later file with the same word needs no answer: the mapping is remembered
    later = tmp_path / "mappa_2.csv"
    later.write_text("Cliente;Nome;Ruolo\nBeta Srl;Elena Russo;Sponsor Esecutivo\n", encoding="utf-8")
    assert import_files(path, [later]).status == "loaded"


def test_the_cli_reads_the_values_part_of_mapping(tmp_path, capsys):
    path = tmp_path / "v.duckdb"
    m = tmp_path / "m.json"
    m.write_text(json.dumps({"values": {"role": {"sponsor esecutivo": "champion"}}}), encoding="utf-8")
    assert main(["--db", str(path), "import", str(_map(tmp_path))]) == 1
    assert "which role is it?" in capsys.readouterr().err
    assert main(["--db", str(path), "import", str(_map(tmp_path)), "--mapping", str(m)]) == 0


def test_plan_types_with_apostrophes_and_statuses_in_both_languages(tmp_path):
    steps = tmp_path / "passi.csv"
    steps.write_text("ID trattativa;Tipo piano;Passo;Lato;Stato\n"
                     "D1;Piano d'azione reciproco;Demo;Venditore;Completato\n"
                     "D1;Piano d’azione reciproco;Revisione sicurezza;Lato cliente;In lavorazione\n"
                     "D1;PIANO D'AZIONE RECIPROCO;Firma;Entrambi;Non avviato\n", encoding="utf-8")
    deals = tmp_path / "d.csv"
    deals.write_text("Deal ID,Stage\nD1,Proposal\n", encoding="utf-8")
    path = tmp_path / "p.duckdb"
    result = import_files(path, [deals, steps])
    assert result.status == "loaded", result.message
    with db.read(path) as con:
        got = con.execute("select plan_type, side, status from plan_steps order by step_no").fetchall()
    assert got == [("mutual", "seller", "done"), ("mutual", "buyer", "in progress"), ("mutual", "joint", "not started")]


def test_an_answer_is_checked_against_the_choices_and_may_be_any_word_of_the_vocabulary(tmp_path):
    """An answer that is no value of the field is refused with the choices, and nothing is
    loaded or remembered; an answer written as another word of the vocabulary ('Campione',
    Italian for champion) is stored as its canonical value."""
    path = tmp_path / "v.duckdb"
    bad = import_files(path, [_map(tmp_path)], overrides={"values": {"role": {"Sponsor esecutivo": "sponsor"}}})
    assert bad.status == "rejected"
    assert "'sponsor' is no role" in bad.message and "economic buyer" in bad.message
    unknown_field = import_files(path, [_map(tmp_path)], overrides={"values": {"colour": {"x": "y"}}})
    assert unknown_field.status == "rejected" and "'colour' is no field with fixed words" in unknown_field.message
    with db.read(path) as con:
        assert con.execute("select count(*) from stakeholders").fetchone()[0] == 0
        assert settings.load(con)["value_mappings"] == {}
    ok = import_files(path, [_map(tmp_path)], overrides={"values": {"role": {"Sponsor esecutivo": "Campione"}}})
    assert ok.status == "loaded", ok.message
    with db.read(path) as con:
        assert con.execute("select role from stakeholders where name = 'Carla Riva'").fetchone()[0] == "champion"
        assert settings.load(con)["value_mappings"] == {"role": {"sponsor esecutivo": "champion"}}
