"""Every speed and memory target of the issues in one run (issue 10, "Scale"): each bench
script at the size given (default 1,000,000 deals), each side in its own process as the
scripts do, then one table - figure, ours, pandas, ratio, target, pass/fail - printed and
written to bench/out/all.md (the README's Performance table comes from it).

    python bench/all.py --deals 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, print_table

SCRIPTS = ["stage_durations", "velocity", "plan", "forecast", "risk", "win_loss", "accounts", "import", "invariance",
           "bad_files"]


def _machine() -> str:
    cores = os.cpu_count()
    try:
        mem = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]) / 1024 / 1024
    except (OSError, StopIteration):
        mem = 0
    return f"{platform.machine()}, {cores} cores, {mem:.0f} GB RAM, Python {platform.python_version()}"


def _fmt(v, unit: str) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if unit == "MB":
        return f"{v:,.0f}"
    return f"{v:.2f}" if v < 100 else f"{v:,.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deals", type=int, default=1_000_000)
    ap.add_argument("--only", nargs="*", choices=SCRIPTS, help="run these scripts only")
    ap.add_argument("--workdir", type=Path, help="the scripts' data and the table here, not in bench/out (the "
                                                 "test suite's small run keeps the full-size data apart)")
    a = ap.parse_args()
    out_dir = a.workdir or ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = out_dir / "summary.jsonl"
    summary.unlink(missing_ok=True)
    env = {**os.environ, "KAM_BENCH_SUMMARY": str(summary)}
    failed = []
    t0 = time.perf_counter()
    for name in a.only or SCRIPTS:
        args = [sys.executable, str(ROOT / "bench" / f"{name}.py"), "--deals", str(a.deals)]
        if name == "import":
            args += ["--history-rows", str(8 * a.deals), "--xlsx-rows", str(max(1, a.deals // 10))]
        if a.workdir and name != "bad_files":       # the corpus script keeps its files apart itself
            args += ["--workdir", str(a.workdir / name)]
        print(f"\n=== bench/{name}.py", flush=True)
        t = time.perf_counter()
        r = subprocess.run(args, cwd=ROOT, env=env)
        print(f"    ({time.perf_counter() - t:.0f} s)", flush=True)
        if r.returncode != 0:
            failed.append(name)
    rows = []
    for line in summary.read_text(encoding="utf-8").splitlines() if summary.exists() else []:
        r = json.loads(line)
        ratio = (f"{r['pandas'] / r['ours']:.1f}x" if isinstance(r["ours"], (int, float)) and not isinstance(r["ours"], bool)
                 and r["pandas"] and r["ours"] and r["unit"] == "s" else "")
        unit = f" ({r['unit']})" if r["unit"] else ""
        rows.append((r["figure"] + unit, _fmt(r["ours"], r["unit"]), _fmt(r["pandas"], r["unit"]), ratio, r["target"],
                     "pass" if r["ok"] else "FAIL"))
    header = ("figure", "ours", "pandas", "ratio", "target", "pass/fail")
    print(f"\nAll targets, {a.deals:,} deals, on {_machine()} ({time.perf_counter() - t0:.0f} s in all)")
    print_table(header, rows, left=(0, 4, 5))
    md = [f"Measured by `make bench` (`bench/all.py --deals {a.deals}`) on {_machine()}:", "",
          "| " + " | ".join(header) + " |", "| --- | ---: | ---: | ---: | --- | --- |"]
    md += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    (out_dir / "all.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print(f"\n{sum(r[5] == 'pass' for r in rows)} of {len(rows)} targets met; table in {out_dir / 'all.md'}")
    if failed:
        sys.exit(f"these scripts failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
