"""The bad-file corpus (issue 10): tests/bad_files holds one file per kind of hostile or
broken input, and tests/bad_files/expected.csv what the importer must say about each. The
whole corpus runs in one separate process (tests/bad_files/run_corpus.py) through the CLI and
the Import page's preview; for every file: exit 1, one message naming the file and - where
they apply - the sheet, row, column, value and what was expected; no traceback; every data
table identical before and after (only the import log records the attempt); and the process
never above 2 GB. The large files are generated here at a scale (KAM_CORPUS_SCALE, default
0.05: a 10 MB csv instead of 200 MB); `make bench` runs them at full size."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bad_files import generate

from ..conftest import ROOT, load_fixture

CORPUS = ROOT / "tests" / "bad_files"
EXPECTED = list(csv.DictReader((CORPUS / "expected.csv").open(encoding="utf-8")))
# files read as what they are, not refused (a text file named .xlsx, UTF-16 with no byte-order
# mark...): `expected` is the note the summary says once; they run last (they load rows)
REFUSED = [e for e in EXPECTED if e["outcome"] != "read"]
READ = [e for e in EXPECTED if e["outcome"] == "read"]
MAX_RSS_MB = 2048


def test_the_corpus_is_whole():
    """Every committed file has its expected message, and every expected file exists."""
    tools = {"__init__.py", "generate.py", "run_corpus.py", "expected.csv"}
    committed = {p.name for p in CORPUS.iterdir() if p.is_file() and p.name not in tools}
    small = {e["file"] for e in EXPECTED if e["size"] == "small"}
    assert committed == small, committed ^ small
    assert len(EXPECTED) >= 80
    assert EXPECTED[-len(READ):] == READ


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpus")
    path = load_fixture(tmp / "data.duckdb", "winloss")      # a saved stage list: A, B, Closed Won, Closed Lost
    scale = float(os.environ.get("KAM_CORPUS_SCALE", "0.05"))
    large = generate.large(tmp / "large", scale)
    assert set(large) == {e["file"] for e in EXPECTED if e["size"] == "large"}
    files = [CORPUS / e["file"] if e["size"] == "small" else large[e["file"]] for e in EXPECTED]
    out = tmp / "result.json"
    env = {**os.environ, "TZ": "UTC", "KAM_DB": str(path)}
    proc = subprocess.run([sys.executable, "-m", "tests.bad_files.run_corpus", str(path), str(out), *map(str, files)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    last_line = sum(1 for _ in large["big_200mb_bad_last_row.csv"].open("rb"))
    return result, {"last_line": last_line}


@pytest.mark.parametrize("expected", REFUSED, ids=[e["file"] for e in REFUSED])
def test_each_bad_file_is_refused_with_its_message(corpus_run, expected):
    result, fill = corpus_run
    got = next(r for r in result["files"] if r["file"] == expected["file"])
    said = got["stderr"]
    assert got["escaped"] is None, got["escaped"]
    assert got["exit"] == 1, said + got["stdout"]
    assert "Traceback" not in said + got["stdout"] + got["page_text"]
    assert expected["file"] in said
    for part in ("sheet", "row", "column", "value", "expected"):
        want = expected[part].format(**fill)
        if want:
            assert want in said, f"{part}: {want!r} not in:\n{said}"
            # the Import page shows bad rows as a table: a column's cell holds the name alone
            bare = re.sub(r"^(?:sheet|column|row|header row) '?(.*?)'?$", r"\1", want)
            assert want in got["page_text"] or bare in got["page_text"], \
                f"the Import page does not say {want!r}:\n{got['page_text']}"
    assert got["same"], "a data table changed"
    assert got["attempts"] == 1, "the import log records the attempt once"
    assert got["page_status"] == "rejected" or got["page_rejects"] > 0      # the page would not offer Load


def test_no_file_takes_the_process_over_2_gb(corpus_run):
    result, _ = corpus_run
    assert result["peak_rss_mb"] < MAX_RSS_MB, result["peak_rss_mb"]


@pytest.mark.parametrize("expected", READ, ids=[e["file"] for e in READ])
def test_a_file_of_another_kind_than_its_name_is_read_with_one_note(corpus_run, expected):
    result, _ = corpus_run
    got = next(r for r in result["files"] if r["file"] == expected["file"])
    assert got["escaped"] is None, got["escaped"]
    assert got["exit"] == 0, got["stderr"] + got["stdout"]
    assert got["stdout"].count(f"note: {expected['expected']}\n") == 1, got["stdout"]
    assert got["page_status"] == "ready" and got["page_rejects"] == 0
    assert got["page_notes"].count(expected["expected"]) == 1, got["page_notes"]
    assert "3 rows: 3 new" in got["stdout"], got["stdout"]        # its three deals, read as the name does not say
    assert got["attempts"] == 1
