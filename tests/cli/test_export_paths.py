"""docs/data.md "Exports" on every path the CLI writes (issue 10): each report as csv and xlsx,
the closing plan, the hand-off, the account plan, every template and the backup - on demo
data where owners and account names were set to text a spreadsheet would run. No csv cell
starts with = + - @ tab or CR unless it carries the protective ', no xlsx cell holds a
formula, and the text comes back as written through the importer's rule."""

import csv
import io
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from kam_analytics import batches, db
from kam_analytics.cli import main
from kam_analytics.importing.coerce import unquote
from kam_analytics.reports import REPORTS
from kam_analytics.templates import KINDS

RISKY = ("=", "+", "-", "@", "\t", "\r")
OWNER = '=HYPERLINK("http://evil.example","owner")'
ACCOUNT = "+cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def risky_db(demo_db_factory, tmp_path_factory):
    import shutil

    path = tmp_path_factory.mktemp("risky") / "risky.duckdb"
    shutil.copy(demo_db_factory(2000, 7), path)
    with batches.batch(path, "fixture", "risky text") as b:
        b.con.execute("update deals set owner = ? where owner = (select min(owner) from deals)", [OWNER])
        b.con.execute("update accounts set account_name = ? where account_id = (select min(account_id) from accounts)",
                      [ACCOUNT])
        b.touched |= {"deals", "accounts"}
    return path


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _csv_cells_safe(text: str) -> list[str]:
    """The text cells a spreadsheet would run (numbers such as -10.5 are numbers, untouched)."""
    return [c for row in csv.reader(io.StringIO(text)) for c in row if c.startswith(RISKY) and not _number(c)]


def _no_formulas(data: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(data))
    return [f"{ws.title}!{c.coordinate}" for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_as_csv_and_xlsx(risky_db, tmp_path, name, capsys):
    out_csv, out_xlsx = tmp_path / "r.csv", tmp_path / "r.xlsx"
    assert main(["--db", str(risky_db), "report", name, "--format", "csv", "-o", str(out_csv)]) == 0, capsys.readouterr().err
    assert main(["--db", str(risky_db), "report", name, "--format", "xlsx", "-o", str(out_xlsx)]) == 0
    text = out_csv.read_text(encoding="utf-8")
    assert _csv_cells_safe(text) == []
    assert _no_formulas(out_xlsx.read_bytes()) == []
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    shown = [c for c in cells if c.lstrip("'") in (OWNER, ACCOUNT)]
    assert all(c.startswith("'") for c in shown)                  # where a report shows them, quoted once
    assert list(unquote(pd.Series(shown, dtype="string"))) == [c[1:] for c in shown]   # and they come back as written


def test_plans_handoff_account_plan_templates_and_backup(risky_db, tmp_path, capsys):
    with db.read(risky_db) as con:
        open_deal = con.execute("select deal_id from deals where status = 'open' and owner = ? limit 1",
                                [OWNER]).fetchone()[0]
        won_deal = con.execute("select deal_id from deals where status = 'won' and deal_id in "
                               "(select deal_id from plans where plan_type = 'mutual') limit 1").fetchone()[0]
        account = con.execute("select account_id from accounts where account_name = ?", [ACCOUNT]).fetchone()[0]
    written = []
    for args, out in [(["plan", open_deal, "--format", "xlsx"], "plan.xlsx"), (["plan", open_deal, "--format", "csv"],
                                                                                "plan.csv"),
                      (["handoff", won_deal], "handoff.xlsx"), (["account-plan", account], "account.xlsx"),
                      *[(["template", k], f"t-{k}.xlsx") for k in KINDS]]:
        target = tmp_path / out
        assert main(["--db", str(risky_db), *args, "-o", str(target)]) == 0, capsys.readouterr().err
        written.append(target)
    for f in written:
        if f.suffix == ".xlsx":
            assert _no_formulas(f.read_bytes()) == [], f.name
        else:
            assert _csv_cells_safe(f.read_text(encoding="utf-8")) == [], f.name
    by_owner = tmp_path / "by_owner.csv"
    assert main(["--db", str(risky_db), "report", "win-loss", "--by", "owner", "--format", "csv", "-o", str(by_owner)]) == 0
    assert "'" + OWNER in [c for row in csv.reader(by_owner.open(encoding="utf-8")) for c in row]   # shown, quoted once
    account_book = load_workbook(tmp_path / "account.xlsx")
    assert any(c.value == ACCOUNT for ws in account_book for row in ws.iter_rows() for c in row)   # xlsx: as written
    backup = tmp_path / "b.zip"
    assert main(["--db", str(risky_db), "backup", "-o", str(backup)]) == 0
    with zipfile.ZipFile(backup) as z:
        for n in z.namelist():
            if n.endswith(".csv"):
                assert _csv_cells_safe(z.read(n).decode("utf-8")) == [], n
