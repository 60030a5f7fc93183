"""Issue 23, defect 13: a file's currency and names that match after normalisation.

A deals file with amounts but no currency column stores the currency given with --currency
(else the settings currency, said in the summary); a file's own currency column wins. A deal's
product or owner matches the product or owner whose name is equal after normalisation
(`GTXPro` = `GTX Pro`), whatever the order of the files and batches; a close name is offered
as a possible alias and never merged (docs/data.md "Keys from names", docs/metrics.md "Currency")."""

import csv
import json
from pathlib import Path

import pytest

from kam_analytics import db
from kam_analytics.cli import main
from kam_analytics.importing.run import import_files

DEALS = [["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date", "close_date",
          "close_value"],
         ["D1", "Moses Frase", "GTXPro", "Cancity", "Won", "2024-01-10", "2024-03-01", "4514"],
         ["D2", "Moses Frase", "GTXPro", "Isdom", "Lost", "2024-01-12", "2024-03-05", "0"],
         ["D3", "darcel schlecht", "GTX Basic", "Cancity", "Won", "2024-01-15", "2024-03-11", "550"],
         ["D4", "Darcel Schlecht", "GTX Pro Pluss", "Isdom", "Won", "2024-01-20", "2024-03-20", "6000"]]
PRODUCTS = [["product", "series", "sales_price"], ["GTX Basic", "GTX", "550"], ["GTX Pro", "GTX", "4821"],
            ["GTX Pro Plus", "GTX+", "5482"]]
TEAMS = [["sales_agent", "manager", "regional_office"], ["Moses Frase", "Dustin Brinkmann", "Central"],
         ["Darcel Schlecht", "Melvin Marxen", "East"]]


def write_csv(path: Path, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    return {"deals": write_csv(tmp_path / "sales_pipeline.csv", DEALS),
            "products": write_csv(tmp_path / "products.csv", PRODUCTS),
            "teams": write_csv(tmp_path / "sales_teams.csv", TEAMS)}


def _currencies(path) -> dict:
    with db.read(path) as con:
        return dict(con.execute("select deal_id, currency from deals").fetchall())


def _report(path, capsys, *args) -> list[dict]:
    capsys.readouterr()
    assert main(["--db", str(path), "report", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


# --- currency -------------------------------------------------------------------------------

def test_currency_given_on_the_command_line_is_stored_on_the_deals(tmp_path, files, capsys):
    path = tmp_path / "usd.duckdb"
    assert main(["--db", str(path), "import", str(files["deals"]), "--currency", "usd"]) == 0
    out = capsys.readouterr().out
    assert set(_currencies(path).values()) == {"USD"}
    assert "USD" in out and "--currency" in out
    assert main(["--db", str(path), "import", str(files["deals"]), "--currency", "$"]) == 0   # the same again
    assert "nothing changed" in capsys.readouterr().out


def test_without_currency_the_settings_currency_is_stored_and_said(tmp_path, files, capsys):
    path = tmp_path / "eur.duckdb"
    assert main(["--db", str(path), "import", str(files["deals"])]) == 0
    out = capsys.readouterr().out
    assert set(_currencies(path).values()) == {"EUR"}
    note = next(line for line in out.splitlines() if "EUR" in line)
    assert "settings currency" in note and "--currency" in note


def test_a_files_own_currency_column_wins(tmp_path, capsys):
    deals = write_csv(tmp_path / "gbp.csv", [["Deal ID", "Stage", "Amount", "Currency"],
                                              ["G1", "Won", "100", "GBP"], ["G2", "Won", "200", "chf"],
                                              ["G3", "Won", "300", ""]])
    path = tmp_path / "own.duckdb"
    assert main(["--db", str(path), "import", str(deals), "--currency", "USD"]) == 0
    out = capsys.readouterr().out
    # an empty cell of the column takes the command's currency, and the summary says so
    assert _currencies(path) == {"G1": "GBP", "G2": "CHF", "G3": "USD"}
    assert "1 row(s) with no currency" in out


def test_currency_applies_only_to_files_with_amounts_and_no_currency_column(tmp_path, capsys):
    stages = write_csv(tmp_path / "stages.csv", [["Deal ID", "Stage"], ["S1", "Lead"]])
    path = tmp_path / "none.duckdb"
    assert main(["--db", str(path), "import", str(stages), "--currency", "USD"]) == 0
    assert _currencies(path) == {"S1": None}     # no amounts: nothing to say a currency of


def test_a_wrong_currency_code_is_a_usage_error(tmp_path, files, capsys):
    assert main(["--db", str(tmp_path / "x.duckdb"), "import", str(files["deals"]), "--currency", "dollars"]) == 2
    assert "--currency" in capsys.readouterr().err


def test_the_preview_says_which_files_need_a_currency(tmp_path, files):
    from kam_analytics.importing.run import preview

    check = preview(tmp_path / "p.duckdb", [files["deals"], files["products"]])
    by_file = {r.file: r for r in check.files}
    assert (by_file["sales_pipeline.csv"].currency, by_file["sales_pipeline.csv"].currency_from) == ("EUR", "settings")
    assert by_file["products.csv"].currency_from is None
    given = preview(tmp_path / "p.duckdb", [files["deals"]], currency="USD")
    assert (given.files[0].currency, given.files[0].currency_from) == ("USD", "given")
    assert set(given.files[0].preview["currency"]) == {"USD"}


# --- names equal after normalisation --------------------------------------------------------

def _by_family(path, capsys) -> dict:
    return {r["product_family"]: (r["won"], r["lost"], r["won_amount"])
            for r in _report(path, capsys, "win-loss", "--by", "product_family")}


def _by_manager(path, capsys) -> dict:
    return {r["manager"]: (r["won"], r["lost"]) for r in _report(path, capsys, "win-loss", "--by", "manager")}


EXPECTED_FAMILIES = {"GTX": (2, 1, 5064.0), None: (1, 0, 6000.0)}     # 'GTX Pro Pluss' is not 'GTX Pro Plus'
EXPECTED_MANAGERS = {"Dustin Brinkmann": (1, 1), "Melvin Marxen": (2, 0)}


@pytest.mark.parametrize("order", ["products first", "deals first", "one batch, deals first",
                                   "one batch, products first"])
def test_deals_products_and_owners_join_by_normalised_name_in_any_order(tmp_path, files, capsys, order):
    path = tmp_path / "o.duckdb"
    d, p, t = str(files["deals"]), str(files["products"]), str(files["teams"])
    commands = {"products first": [[p, t], [d]], "deals first": [[d], [p, t]],
                "one batch, deals first": [[d, p, t]], "one batch, products first": [[p, t, d]]}[order]
    for batch in commands:
        assert main(["--db", str(path), "import", *batch]) == 0
    assert _by_family(path, capsys) == EXPECTED_FAMILIES
    assert _by_manager(path, capsys) == EXPECTED_MANAGERS
    with db.read(path) as con:   # the join itself: every GTXPro deal is the product GTX Pro
        assert con.execute("select count(*) from deals d join products p on norm_key(p.product) = norm_key(d.product) "
                           "where p.product = 'GTX Pro'").fetchone()[0] == 2


def test_a_close_product_name_is_a_possible_alias_never_merged(tmp_path, files):
    path = tmp_path / "alias.duckdb"
    import_files(path, [files["products"]])
    result = import_files(path, [files["deals"]])
    assert result.status == "loaded", result.message
    notes = " ".join(result.files[0].notes)
    assert "'GTX Pro Pluss'" in notes and "'GTX Pro Plus'" in notes and "alias" in notes
    assert "'GTXPro'" not in notes              # equal after normalisation: simply matches
    with db.read(path) as con:
        assert con.execute("select product from deals where deal_id = 'D4'").fetchone()[0] == "GTX Pro Pluss"
        assert con.execute("select count(*) from products").fetchone()[0] == 3


def test_a_close_name_is_offered_in_the_same_batch_and_in_either_order(tmp_path, files):
    for n, order in enumerate(([files["products"], files["deals"]], [files["deals"], files["products"]])):
        result = import_files(tmp_path / f"same{n}.duckdb", order)
        notes = [note for r in result.files for note in r.notes if "alias" in note]
        assert len(notes) == 1 and "'GTX Pro Pluss'" in notes[0] and "'GTX Pro Plus'" in notes[0], notes


def test_a_close_owner_name_is_a_possible_alias(tmp_path, files):
    path = tmp_path / "owner.duckdb"
    import_files(path, [files["teams"]])
    deals = write_csv(tmp_path / "d.csv", [["Deal ID", "Stage", "Owner"], ["X1", "Lead", "Moses Frasee"],
                                            ["X2", "Lead", "MOSES FRASE"]])
    result = import_files(path, [deals])
    notes = [n for n in result.files[0].notes if "alias" in n]
    assert len(notes) == 1 and "'Moses Frasee'" in notes[0] and "'Moses Frase'" in notes[0], notes


def test_names_made_of_anothers_words_are_no_alias(tmp_path):
    """'GTX Basic' and 'GTX Plus Basic' are two products (Maven): a subset of words is not
    a spelling of the same name."""
    path = tmp_path / "subset.duckdb"
    import_files(path, [write_csv(tmp_path / "p.csv", [["product", "series"], ["GTX Basic", "GTX"]])])
    result = import_files(path, [write_csv(tmp_path / "q.csv", [["product", "series"], ["GTX Plus Basic", "GTX"]])])
    assert not [n for n in result.files[0].notes if "alias" in n]
