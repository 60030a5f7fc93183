"""Benchmark and proof at size: the shape-invariance harness of tests/invariance at 100,000
deals (a tenth of --deals). One generated world is written as full-state history (US and
Italian locale), a field-change log, a wide 'date entered' sheet and four monthly snapshots;
each is imported in one order and split and compared, report by report, with the world loaded
directly (degraded the same way where the shape cannot see everything).

    python bench/invariance.py --deals 1000000      (the world has 100,000 deals)
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import parser, record  # noqa: E402

from tests.invariance import world as W  # noqa: E402
from tests.invariance.test_shape_invariance import _close  # noqa: E402


def main() -> None:
    ap = parser(__doc__, ())
    a = ap.parse_args()
    deals = max(200, a.deals // 10)
    work = a.workdir if a.workdir.name == "invariance" else a.workdir / "invariance"   # never the shared bench/out
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    from kam_analytics.importing.run import import_files

    t = time.perf_counter()
    world = W.reference(work / "ref.duckdb", deals, 7)
    want = W.all_reports(work / "ref.duckdb")
    print(f"reference world: {deals:,} deals, {len(world['deal_history']):,} history rows "
          f"({time.perf_counter() - t:.0f} s)", flush=True)
    side = W.side_files(work, world)
    shapes = {
        "full-state history, US locale, deals | history": (
            lambda: [side + [W.deals_file(work, world, "en")], [W.history_file(work, world, "en")]], None),
        "full-state history, Italian locale, history + deals": (
            lambda: [side + [W.history_file(work, world, "it"), W.deals_file(work, world, "it")]], None),
        "field-change log under banners, deals | log": (
            lambda: [side + [W.deals_file(work, world, "en")], [W.field_log_file(work, world)]], W.degrade_field_log),
        "wide 'date entered' sheet": (
            lambda: [side + [W.wide_file(work, world, want["_stage_list"])]], W.degrade_wide),
        "four monthly snapshots, newest first, one a batch": (
            lambda: [side] + [[f] for f in reversed(W.snapshot_files(work, world))], W.degrade_snapshots),
    }
    for n, (label, (files, degrade)) in enumerate(shapes.items()):
        expected = want if degrade is None else W.all_reports(W.load_direct(work / f"want{n}.duckdb", degrade(world)))
        batches = files()
        t = time.perf_counter()
        path = work / f"got{n}.duckdb"
        status = [import_files(path, b).status for b in batches]
        seconds = time.perf_counter() - t
        got = W.all_reports(path)
        diffs = [d for name in expected for d in _close(got[name], expected[name], name)]
        ok = all(s in ("loaded", "unchanged") for s in status) and not diffs
        print(f"{label}: imported in {seconds:.1f} s; {'every report equal' if ok else diffs[:5] or status}",
              flush=True)
        record(f"shape invariance at {deals:,} deals: {label} (import time; every report equal)", seconds, None,
               "every report equal", ok)


if __name__ == "__main__":
    main()
