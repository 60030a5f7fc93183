"""The bad-file corpus at full size (issue 10): tests/bad_files/ with its large files written
at scale 1 (a 200 MB csv with one bad row at its end, 10,000 columns, 5 MB cells, a zip bomb
of 4 GB), every file imported in one process through the CLI and the Import page's preview
(tests/bad_files/run_corpus.py). Prints how many were refused as expected, the data tables
unchanged, the slowest file, and the process's peak RSS against the 2 GB bound; then each
file alone in a process of its own, and the worst file's peak RSS (issue 27)."""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, record

sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--deals", type=int, help="(ignored: bench/all.py passes it to every script)")
    a = ap.parse_args()
    from tests.bad_files import generate
    from tests.conftest import load_fixture

    corpus = ROOT / "tests" / "bad_files"
    expected = list(csv.DictReader((corpus / "expected.csv").open(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        large = generate.large(tmp / "large", a.scale)
        made = time.perf_counter() - t
        path = load_fixture(tmp / "data.duckdb", "winloss")
        files = [corpus / e["file"] if e["size"] == "small" else large[e["file"]] for e in expected]
        out = tmp / "result.json"
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tests.bad_files.run_corpus", str(path), str(out), *map(str, files)],
                       cwd=ROOT, check=True)
        took = time.perf_counter() - t
        result = json.loads(out.read_text(encoding="utf-8"))
        big = large["big_200mb_bad_last_row.csv"].stat().st_size
        # each file again in a process of its own (issue 27): its own peak RSS, not the corpus'
        per_file = {}
        for f in files:
            one = tmp / "one.json"
            subprocess.run([sys.executable, "-m", "tests.bad_files.run_corpus", str(path), str(one), str(f)],
                           cwd=ROOT, check=True)
            per_file[f.name] = json.loads(one.read_text(encoding="utf-8"))["peak_rss_mb"]
    # files read as what they are (expected.csv's outcome 'read': a csv named .xlsx...) load their rows
    read_as = {e["file"] for e in expected if e.get("outcome") == "read"}
    refused = sum(1 for r in result["files"] if r["file"] not in read_as and r["exit"] == 1 and r["escaped"] is None)
    same = sum(1 for r in result["files"] if r["file"] not in read_as and r["same"])
    read_ok = sum(1 for r in result["files"] if r["file"] in read_as and r["exit"] == 0 and r["escaped"] is None)
    must_refuse = len(files) - len(read_as)
    peak = result["peak_rss_mb"]
    print(f"bad-file corpus: {len(files)} files (the large csv {big / 1e6:,.0f} MB; made in {made:.1f} s)")
    print(f"  refused with a message, no traceback: {refused} of {must_refuse}")
    print(f"  every data table unchanged: {same} of {must_refuse}")
    print(f"  read as what they are (a text file named .xlsx...), with a note: {read_ok} of {len(read_as)}")
    print(f"  the whole corpus in {took:.1f} s; peak RSS {peak:,.0f} MB (bound 2,048 MB)")
    worst = max(per_file, key=per_file.get)
    print(f"  each file in its own process: the worst, {worst}, peaks at {per_file[worst]:,.0f} MB RSS")
    for name, mb in sorted(per_file.items(), key=lambda kv: -kv[1])[:8]:
        print(f"    {mb:8,.0f} MB  {name}")
    record(f"bad-file corpus ({len(files)} files, {big / 1e6:,.0f} MB csv): peak RSS", round(peak), None,
           "< 2,048 MB, all refused, tables unchanged", peak < 2048 and refused == same == must_refuse and read_ok == len(read_as), "MB")
    record(f"bad-file corpus: worst single file's peak RSS ({worst})", round(per_file[worst]), None, "< 2,048 MB",
           per_file[worst] < 2048, "MB")


if __name__ == "__main__":
    main()
