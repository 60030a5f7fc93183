"""data/samples/messy: one file per quirk, each with an expected.json written by hand (kind,
sheet, header row, part of the mapping, row count, first stored row)."""

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from kam_analytics import db
from kam_analytics.importing.run import import_files

MESSY = Path(__file__).parents[2] / "data" / "samples" / "messy"
CASES = sorted(MESSY.glob("*.expected.json"))


def _file_for(expected_path: Path) -> Path:
    stem = expected_path.name[: -len(".expected.json")]
    (match,) = [p for p in MESSY.iterdir() if p.stem == stem and not p.name.endswith(".json")]
    return match


def _plain(v):
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    return v


def test_there_is_a_sample_per_quirk():
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=[c.name.split(".")[0] for c in CASES])
def test_messy_sample(case, tmp_path):
    expected = json.loads(case.read_text(encoding="utf-8"))
    path = tmp_path / "m.duckdb"
    result = import_files(path, [_file_for(case)])
    assert result.status == "loaded", result.message
    rep = next(r for r in result.files if r.kind == expected["kind"])
    assert (rep.sheet, rep.header_row, rep.rows) == (expected["sheet"], expected["header_row"], expected["rows"])
    for header, fld in expected["mapping"].items():
        assert rep.detected.columns.get(header, "absent") == fld, header
    first = expected["first_row"]
    if not first:
        return
    key = next(k for k in ("action_step", "step", "name", "deal_id") if k in first)
    with db.read(path) as con:
        row = con.execute(f'select * from "{expected["table"]}" where "{key}" = ?', [first[key]]).df().iloc[0].to_dict()
        for field, want in first.items():
            if field == "account_name":
                got = con.execute("select account_name from accounts where account_id = ?", [row["account_id"]]).fetchone()[0]
            else:
                got = row[field]
                got = got.to_pydatetime() if hasattr(got, "to_pydatetime") else got
                got = got.date() if isinstance(got, datetime) and field.endswith("_date") else got
            assert _plain(got) == want, field
