"""`make bench` must not break unseen between full runs: every bench script but the bad-file
corpus (which the suite runs whole in tests/importing/test_bad_files.py) at a small size,
through bench/all.py as `make bench` runs them, with its data kept in a temporary folder."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ["stage_durations", "velocity", "plan", "forecast", "risk", "win_loss", "accounts", "import"]


def test_every_bench_script_runs_at_a_small_size(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "all.py"), "--deals", "2000", "--workdir", str(tmp_path),
                        "--only", *SCRIPTS], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    records = [json.loads(line) for line in (tmp_path / "summary.jsonl").read_text().splitlines()]
    figures = [r["figure"] for r in records]
    # each script recorded its figures (the speed ratios only mean something at full size)
    for name in ("stage-durations", "conversion", "plan, warm", "waterfall", "Forecast page", "risk", "win-loss",
                 "accounts", "import"):
        assert any(name in f for f in figures), (name, figures)
    # ...but where a script compares its results with the pandas side, they agree at any size
    agree = [r for r in records if "agree" in r["figure"]]
    assert agree and all(r["ok"] for r in agree), agree
    assert (tmp_path / "all.md").exists()
