"""Importing files: the real Maven CRM export with figures computed here from its csv
files, bad input that leaves every table as it was, upserts and undo, a messy workbook."""

import csv
import statistics
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from kam_analytics import db, settings_store
from kam_analytics.batches import undo
from kam_analytics.cli import main
from kam_analytics.errors import InputError
from kam_analytics.importing.run import import_files, preview
from kam_analytics.reports.stage_durations import stage_durations

MAVEN = Path(__file__).parents[1] / "data" / "maven"     # the public dataset, its origin in SOURCE.md
MAVEN_FILES = [MAVEN / f for f in ("accounts.csv", "sales_pipeline.csv", "sales_teams.csv", "products.csv")]


def dump(path) -> dict:
    """Every data table, whole, for before/after comparisons."""
    with db.read(path) as con:
        return {t: con.execute(f'select * from "{t}" order by all').fetchall() for t in (*db.DATA_TABLES, "stage_visits")}


def write_csv(path: Path, rows: list[list], delimiter=",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


@pytest.fixture(scope="module")
def maven_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("maven") / "maven.duckdb"
    result = import_files(path, MAVEN_FILES)
    assert result.status == "loaded", result.message
    return path


def _pipeline():
    with open(MAVEN / "sales_pipeline.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_maven_counts_match_the_files(maven_db):
    rows = _pipeline()
    engaged = sum(1 for r in rows if r["engage_date"])                              # 8,300
    closed = sum(1 for r in rows if r["deal_stage"] in ("Won", "Lost") and r["close_date"])   # 6,711
    with db.read(maven_db) as con:
        counts = db.table_counts(con)
        no_account, no_amount, zero_amount = con.execute(
            "select count(*) filter (where account_id is null), count(*) filter (where amount is null), "
            "count(*) filter (where amount = 0 and status = 'open') from deals").fetchone()
        won_amount = con.execute("select sum(amount) from deals where status = 'won'").fetchone()[0]
        industries = dict(con.execute("select account_name, industry from accounts").fetchall())
    assert (counts["deals"], counts["accounts"], counts["owners"], counts["products"]) == (8800, 85, 35, 7)
    assert counts["deal_history"] == engaged + closed == 8300 + 6711
    assert no_account == sum(1 for r in rows if not r["account"]) == 1425        # stored missing, not rejected
    assert no_amount == sum(1 for r in rows if not r["close_value"])             # open deals: missing, not zero
    assert zero_amount == 0
    assert won_amount == pytest.approx(sum(float(r["close_value"]) for r in rows if r["deal_stage"] == "Won"))
    assert industries["Acme Corporation"] == "technolgy"                          # kept as written


def test_maven_engaging_time_is_close_minus_engage(maven_db):
    rows = _pipeline()
    won_days = [(date.fromisoformat(r["close_date"]) - date.fromisoformat(r["engage_date"])).days
                for r in rows if r["deal_stage"] == "Won"]
    with db.read(maven_db) as con:
        df = stage_durations(con, outcome="won")
        closed_dates = con.execute("select count(*) from deals where status <> 'open' and closed_date = close_date").fetchone()[0]
    engaging = df[df["stage"] == "Engaging"].iloc[0]
    assert engaging["deals"] == len(won_days) == 4238
    assert engaging["median_days"] == statistics.median(won_days)
    assert engaging["mean_days"] == pytest.approx(statistics.mean(won_days))
    assert closed_dates == 6711                                # a Won/Lost deal's close_date is its closed date


def test_products_match_by_normalised_name(maven_db):
    # 'GTXPro' in the pipeline is 'GTX Pro' in products.csv: it belongs to the GTX family
    rows = _pipeline()
    gtx_pro = sum(1 for r in rows if r["product"].replace(" ", "") == "GTXPro" and r["deal_stage"] == "Won")
    with db.read(maven_db) as con:
        df = stage_durations(con, outcome="won", by="product")
        fam = con.execute("""select count(*) from deals d join products p on norm_key(p.product) = norm_key(d.product)
                             where p.product = 'GTX Pro' and d.status = 'won'""").fetchone()[0]
    assert fam == gtx_pro and gtx_pro > 0


def test_importing_the_same_files_again_changes_nothing(maven_db):
    before = dump(maven_db)
    with db.read(maven_db) as con:
        version = db.data_version(con)
    result = import_files(maven_db, MAVEN_FILES)
    assert result.status == "unchanged" and "nothing changed" in result.message
    assert dump(maven_db) == before
    with db.read(maven_db) as con:
        assert db.data_version(con) == version


def test_keys_that_differ_only_in_spaces_and_width_are_one_key(tiny_db, tmp_path):
    # ids as written, case-sensitive, after trimming and Unicode NFKC (issue 27 item 7): " Straße-1 "
    # is "Straße-1" and full-width "Ｎ５" is "N5"; "STRASSE-1" and "n5" are other ids
    bad = write_csv(tmp_path / "deals.csv", [
        ["Deal ID", "Deal Name", "Stage", "Amount", "Close Date"],
        ["Straße-1", "First", "Lead", "1000", "2026-02-01"],
        ["N5", "Other", "Lead", "1000", "2026-02-01"],
        [" Straße-1 ", "Same key with spaces", "Lead", "10", "2026-02-01"],
        ["\uff2e\uff15", "Same key in full width", "Lead", "10", "2026-02-01"],
        ["STRASSE-1", "Another key in capitals", "Lead", "10", "2026-02-01"],
        ["n5", "Another key in lower case", "Lead", "10", "2026-02-01"],
    ])
    result = import_files(tiny_db, [bad])
    assert result.status == "rejected"
    rej = {r.row_number: r.reason for r in result.rejects.itertuples()}
    assert set(rej) == {4, 5}
    assert "first at row 2" in rej[4] and "first at row 3" in rej[5]


def test_bad_rows_reject_the_whole_batch_and_leave_every_table(tiny_db, tmp_path):
    bad = write_csv(tmp_path / "deals.csv", [
        ["Deal ID", "Deal Name", "Stage", "Amount", "Close Date"],
        ["N1", "Fine", "Lead", "1000", "2026-02-01"],
        ["N2", "Negative", "Lead", "-5", "2026-02-01"],
        ["N3", "No such day", "Lead", "10", "2026-02-31"],
        ["N1", "Same key again", "Lead", "10", "2026-02-01"],
        ["N4", "Far future", "Lead", "10", "3026-01-01"],
    ])
    before = dump(tiny_db)
    result = import_files(tiny_db, [bad])
    assert result.status == "rejected"
    assert dump(tiny_db) == before
    rej = {(r.row_number, r.column_name): r for r in result.rejects.itertuples()}
    assert rej[(3, "Amount")].value == "-5" and "0 or more" in rej[(3, "Amount")].reason
    assert rej[(4, "Close Date")].value == "2026-02-31" and "a date" in rej[(4, "Close Date")].reason
    assert "first at row 2" in rej[(5, "Deal ID")].reason
    assert rej[(6, "Close Date")].value == "3026-01-01"
    with db.read(tiny_db) as con:
        status, n_rejects = con.execute("select status, rows_rejected from import_batches order by batch_id desc limit 1").fetchone()
        logged = con.execute("select count(*) from import_rejects").fetchone()[0]
    assert status == "rejected" and n_rejects == logged == 4


def test_keep_good_rows_loads_only_the_good_ones(tiny_db, tmp_path):
    f = write_csv(tmp_path / "deals.csv", [
        ["Deal ID", "Stage", "Amount"], ["N1", "Lead", "1000"], ["N2", "Lead", "-5"]])
    result = import_files(tiny_db, [f], keep_good_rows=True)
    assert result.status == "loaded" and len(result.rejects) == 1
    with db.read(tiny_db) as con:
        ids = {r[0] for r in con.execute("select deal_id from deals where deal_id like 'N%'").fetchall()}
        kept = con.execute("select count(*) from import_rejects where batch_id = ?", [result.batch_id]).fetchone()[0]
    assert ids == {"N1"} and kept == 1


def test_newer_export_upserts_and_undo_restores_what_it_overwrote(tiny_db, tmp_path):
    v1 = write_csv(tmp_path / "v1.csv", [["Deal ID", "Stage", "Amount"], ["N1", "Lead", "100"]])
    v2 = write_csv(tmp_path / "v2.csv", [["Deal ID", "Stage", "Amount"], ["N1", "Qualify", "200"], ["N2", "Lead", "5"]])
    b1 = import_files(tiny_db, [v1]).batch_id
    r2 = import_files(tiny_db, [v2])
    assert (r2.files[0].new, r2.files[0].changed) == (1, 1)
    with db.read(tiny_db) as con:
        assert con.execute("select stage, amount from deals where deal_id = 'N1'").fetchone() == ("Qualify", 200)
    with pytest.raises(Exception, match="--cascade"):
        undo(tiny_db, b1)
    undo(tiny_db, r2.batch_id)
    with db.read(tiny_db) as con:
        assert con.execute("select stage, amount from deals where deal_id = 'N1'").fetchone() == ("Lead", 100)
        assert con.execute("select count(*) from deals where deal_id = 'N2'").fetchone()[0] == 0


def test_a_file_without_a_column_keeps_the_stored_values(tiny_db, tmp_path):
    f = write_csv(tmp_path / "amounts.csv", [["Deal ID", "Stage", "Amount"], ["D1", "Closed Won", "130000"]])
    import_files(tiny_db, [f])
    with db.read(tiny_db) as con:
        assert con.execute("select amount, segment, owner from deals where deal_id = 'D1'").fetchone() == (130000, "Enterprise", "Ann Lee")


def test_unknown_stage_names_are_errors_once_a_list_is_saved(tiny_db, tmp_path):
    f = write_csv(tmp_path / "deals.csv", [["Deal ID", "Stage"], ["N1", "lead"], ["N2", "Negotiation"], ["N3", "Vinto"]])
    with db.read(tiny_db) as con:
        before = db.table_counts(con)
    # no saved list: 'lead' (beside Lead) and 'Vinto' (beside Closed Won) are asked about as possible
    # synonyms, never merged or kept apart silently; answered with themselves, they stay as written
    asked = import_files(tiny_db, [f], keep_good_rows=True)
    assert asked.status == "rejected" and sorted(q.word for q in asked.files[0].questions) == ["Vinto", "lead"]
    keep = {"values": {"stage": {"lead": "lead", "Vinto": "Vinto"}}}
    assert import_files(tiny_db, [f], keep_good_rows=True, overrides=keep).status == "loaded"
    # a list that leaves out stages the data holds is refused, naming them
    with pytest.raises(InputError, match="stages missing from the list: 'Negotiation' .*, 'Vinto' "):
        settings_store.save(tiny_db, {"stages": ["Lead", "Qualify", "Propose", "Closed Won", "Closed Lost"]})
    undo(tiny_db, 3)   # batch 2 is the refused attempt
    with db.read(tiny_db) as con:
        assert db.table_counts(con) == before
    settings_store.save(tiny_db, {"stages": ["Lead", "Qualify", "Propose", "Closed Won", "Closed Lost"]})
    result = import_files(tiny_db, [f])
    assert result.status == "rejected"
    (r,) = result.rejects.itertuples()
    assert (r.row_number, r.value) == (3, "Negotiation")
    assert "Lead, Qualify, Propose, Closed Won, Closed Lost" in r.reason and "Settings" in r.reason


def test_messy_workbook_banner_key_values_footer_italian(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Piano"
    ws.append(["Piano d'azione account chiave"])           # banner
    ws.append([])
    ws.append(["Cliente:", "Alpha Foods"])                  # key-value block
    ws.append(["Creato da", "Mario Rossi"])
    ws.append([])
    ws.append(["ID trattativa", "Nome trattativa", "Fase", "Importo", "Data di chiusura"])
    ws.append(["T-1", "Rinnovo", "Proposta", "1.234,50", "12 gennaio 2026"])
    ws.append(["T-2", "Espansione", "Negoziazione", "20.000,00", "3 febbraio 2026"])
    ws.append(["Totale", None, None, "21.234,50", None])    # footer
    path = tmp_path / "messy.xlsx"
    wb.save(path)
    db_file = tmp_path / "m.duckdb"
    result = import_files(db_file, [path])
    assert result.status == "loaded", result.message
    rep = result.files[0]
    assert (rep.sheet, rep.header_row, rep.kind, rep.new) == ("Piano", 6, "deals", 2)
    assert any("footer line 'Totale'" in n for n in rep.notes)
    with db.read(db_file) as con:
        rows = con.execute("select deal_id, stage, amount, close_date from deals order by 1").fetchall()
    assert rows == [("T-1", "Proposta", 1234.5, date(2026, 1, 12)), ("T-2", "Negoziazione", 20000.0, date(2026, 2, 3))]


def test_semicolon_csv_in_cp1252_with_decimal_commas(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("Deal ID;Stage;Amount;Close Date\r\nE1;Proposal;€ 1.500,75;13/02/2026\r\nE2;Lead;99,5;01/03/2026\r\n"
                     .encode("cp1252"))
    db_file = tmp_path / "e.duckdb"
    result = import_files(db_file, [path])
    assert result.status == "loaded", result.message
    with db.read(db_file) as con:
        assert con.execute("select deal_id, amount, close_date from deals order by 1").fetchall() == [
            ("E1", 1500.75, date(2026, 2, 13)), ("E2", 99.5, date(2026, 3, 1))]


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"Deal ID,Stage,Amount\r\n", "no table with data rows"),
    (b"\x00\x01\x02binary\x00junk" * 50, "cannot be read as a spreadsheet"),
])
def test_bad_files_get_one_clear_message(tiny_db, tmp_path, content, message):
    name = "deals.xlsx" if b"\x00" in content else "deals.csv"
    path = tmp_path / name
    path.write_bytes(content)
    before = dump(tiny_db)
    result = import_files(tiny_db, [path])
    assert result.status == "rejected" and message in result.message
    assert dump(tiny_db) == before


def test_a_folder_or_a_missing_file_is_a_clear_message(tiny_db, tmp_path):
    result = import_files(tiny_db, [tmp_path, tmp_path / "nope.csv"])
    assert result.status == "rejected"
    assert "is a folder, not a file" in result.message and "nope.csv: file not found" in result.message


def test_ambiguous_day_month_column_says_how_to_fix_it(tmp_path):
    f = write_csv(tmp_path / "d.csv", [["Deal ID", "Stage", "Close Date"], ["A", "Lead", "01/02/2026"], ["B", "Lead", "03/04/2026"]])
    result = import_files(tmp_path / "a.duckdb", [f])
    assert result.status == "rejected" and "cannot tell dd/mm/yyyy from mm/dd/yyyy" in result.message
    fixed = import_files(tmp_path / "a.duckdb", [f], overrides={"*": {"date_formats": {"Close Date": "dmy"}}})
    assert fixed.status == "loaded"
    with db.read(tmp_path / "a.duckdb") as con:
        assert con.execute("select close_date from deals where deal_id = 'B'").fetchone()[0] == date(2026, 4, 3)


def test_cli_import_exit_codes(tmp_path, capsys):
    good = write_csv(tmp_path / "deals.csv", [["Deal ID", "Stage"], ["N1", "Lead"]])
    bad = write_csv(tmp_path / "bad.csv", [["Deal ID", "Stage", "Amount"], ["N2", "Lead", "lots"]])
    assert main(["--db", str(tmp_path / "c.duckdb"), "import", str(good)]) == 0
    assert main(["--db", str(tmp_path / "c.duckdb"), "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.csv, row 2, column 'Amount': value 'lots': expected a number" in err
    assert "Traceback" not in err


def test_close_account_names_are_offered_as_aliases_and_merged_only_when_asked(tmp_path):
    accounts = write_csv(tmp_path / "accounts.csv", [["Account", "Industry"], ["Acme Corporation", "Retail"]])
    deals = write_csv(tmp_path / "deals.csv", [["Deal ID", "Stage", "Account"], ["N1", "Lead", "Acme Corporatoin"]])
    path = tmp_path / "a.duckdb"
    import_files(path, [accounts])
    offered = import_files(path, [deals])
    assert offered.files[0].aliases == [("Acme Corporatoin", "Acme Corporation", "acmecorporation")]
    assert any("possible alias" in n for n in offered.files[0].notes)
    with db.read(path) as con:   # never merged silently: a new account
        assert con.execute("select account_id from deals where deal_id = 'N1'").fetchone()[0] == "acmecorporatoin"
    undo(path, offered.batch_id)
    merged = import_files(path, [deals], overrides={"*": {"aliases": {"Acme Corporatoin": "acmecorporation"}}})
    assert merged.status == "loaded"
    later = write_csv(tmp_path / "later.csv", [["Deal ID", "Stage", "Account"], ["N2", "Lead", "ACME Corporatoin"]])
    import_files(path, [later])                                  # the alias is remembered
    with db.read(path) as con:
        assert con.execute("select deal_id, account_id from deals order by 1").fetchall() == [
            ("N1", "acmecorporation"), ("N2", "acmecorporation")]
        assert con.execute("select count(*) from accounts").fetchone()[0] == 1


def test_a_confirmed_mapping_is_remembered_for_files_with_the_same_headers(tmp_path):
    odd = [["Ref", "Where", "Value (k)"], ["N1", "Lead", "5"]]
    path = tmp_path / "o.duckdb"
    first = write_csv(tmp_path / "odd1.csv", odd)
    assert import_files(path, [first]).status == "rejected"                # not sure what it is
    override = {"odd1.csv": {"kind": "deals", "columns": {"Ref": "deal_id", "Where": "stage", "Value (k)": "amount"}}}
    assert import_files(path, [first], overrides=override).status == "loaded"
    second = write_csv(tmp_path / "odd2.csv", [odd[0], ["N2", "Qualify", "7"]])
    result = import_files(path, [second])                                  # no override given this time
    assert result.status == "loaded" and result.files[0].remembered
    with db.read(path) as con:
        assert con.execute("select stage, amount from deals where deal_id = 'N2'").fetchone() == ("Qualify", 7)


def test_an_encrypted_workbook_is_refused_with_the_reason(tiny_db):
    """tests/fixtures/encrypted.xlsx: a two-row workbook encrypted with the password 'secret'
    (written once with msoffcrypto-tool: OOXMLFile(plain).encrypt('secret', out))."""
    before = dump(tiny_db)
    result = import_files(tiny_db, [Path(__file__).parents[1] / "fixtures" / "encrypted.xlsx"])
    assert result.status == "rejected" and "password-protected (encrypted)" in result.message
    assert dump(tiny_db) == before


def test_a_million_rows_with_one_bad_row_at_the_end(tiny_db, tmp_path):
    path = tmp_path / "big.csv"
    lines = ["Deal ID,Stage,Amount"] + [f"B{i},Lead,{i % 997}" for i in range(999_999)] + ["LAST,Lead,-1"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = dump(tiny_db)
    result = import_files(tiny_db, [path])
    assert result.status == "rejected"
    (bad,) = result.rejects.itertuples()
    assert (bad.row_number, bad.column_name, bad.value) == (1_000_001, "Amount", "-1")   # header is row 1
    assert dump(tiny_db) == before


def test_two_columns_mapped_to_one_field_is_an_error_not_a_silent_choice(tmp_path):
    f = write_csv(tmp_path / "d.csv", [["Deal ID", "Stage", "Value", "Amount"], ["N1", "Lead", "5", "6"]])
    result = import_files(tmp_path / "x.duckdb", [f], overrides={"d.csv": {"columns": {"Amount": "amount"}}})  # Value is already amount
    assert result.status == "rejected"
    assert "the columns 'Value' and 'Amount' both map to the field amount" in result.message


def test_two_names_of_one_account_repeating_a_key_are_said_not_a_crash(tmp_path):
    """Found by the shape-invariance harness at 100,000 deals: 'Acme S.p.A.' and 'ACME SpA' are
    one account once normalised, so two goals of the same name collided in the database (a
    constraint error). Now one message naming both rows; nothing changes."""
    goals = write_csv(tmp_path / "goals.csv", [["Account", "Goal", "Metric", "Target"],
                                               ["Acme S.p.A.", "Grow", "won amount", "100"],
                                               ["ACME SpA", "Grow", "won amount", "200"]])
    path = tmp_path / "g.duckdb"
    # said by the check the preview runs, before anyone presses Load; the attempt is logged
    checked = preview(path, [goals])
    assert checked.status == "rejected"
    assert "rows 2 and 3 name the accounts 'Acme S.p.A.' and 'ACME SpA'" in checked.message
    result = import_files(path, [goals])
    assert result.status == "rejected" and "rows 2 and 3 name the accounts" in result.message
    with db.read(path) as con:
        assert con.execute("select count(*) from account_goals").fetchone()[0] == 0
        assert con.execute("select status from import_batches").fetchall() == [("rejected",)]
