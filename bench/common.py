"""What every benchmark script shares: each side runs as a child process of the script
(its own peak RSS), prints one JSON line, and the figures come out as one table."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def record(figure: str, ours, pandas=None, target: str = "", ok: bool | None = None, unit: str = "s") -> None:
    """One line of the table bench/all.py prints (figure, ours, pandas, ratio, target,
    pass/fail), appended to $KAM_BENCH_SUMMARY when all.py runs this script."""
    import os

    path = os.environ.get("KAM_BENCH_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"figure": figure, "ours": ours, "pandas": pandas, "target": target, "ok": ok,
                                "unit": unit}) + "\n")


def report_target(figure: str, ours: float, pandas: float | None, limit: float, ratio: float | None = 5.0) -> None:
    """record() for a report with the usual target: under `limit` seconds and at least
    `ratio` times faster than pandas."""
    ok = ours < limit and (ratio is None or pandas is None or pandas / ours >= ratio)
    record(figure, ours, pandas, f"< {limit:g} s" + (f", >= {ratio:g}x" if ratio else ""), ok)


def peak_rss_mb() -> float:
    """This process image's peak RSS (VmHWM): ru_maxrss would start from the parent's size at
    the fork, which Linux keeps across exec."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024.0
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def parser(doc: str, roles: tuple[str, ...]) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deals", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--role", choices=roles)
    ap.add_argument("--as-of")
    ap.add_argument("--stages")
    return ap


def child(script: str, role: str, workdir: Path, *extra: str) -> dict:
    """Run `script --role ROLE` in a fresh process; its last stdout line is its JSON result."""
    r = subprocess.run([sys.executable, script, "--role", role, "--workdir", str(workdir), *extra],
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        sys.exit(f"{role} failed:\n{r.stderr[-4000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def export_parquet(con, workdir: Path, queries: dict[str, str]) -> None:
    """Each named query's rows to workdir/<name>.parquet (what the pandas side reads)."""
    for name, q in queries.items():
        con.execute(f"copy ({q}) to '{workdir / (name + '.parquet')}' (format parquet)")


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]], left: tuple[int, ...] = (0,)) -> None:
    w = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(c.ljust(w[i]) if i in left else c.rjust(w[i]) for i, c in enumerate(r)))


def cold_and_warm(path: Path, report, runs: int = 3):
    """A report run on a fresh connection, first in this process (cold), then the best of
    `runs` more (warm): (result, cold seconds, warm seconds)."""
    import time

    from kam_analytics import db

    t = time.perf_counter()
    with db.read(path) as con:
        result = report(con)
    cold = time.perf_counter() - t
    warm = []
    for _ in range(runs):
        t = time.perf_counter()
        with db.read(path) as con:
            report(con)
        warm.append(time.perf_counter() - t)
    return result, cold, min(warm)


def run_role(a: argparse.Namespace, roles: dict) -> bool:
    """In a child process (`--role R`): run roles[R]() and print its JSON result. Returns
    whether a role ran (False: this is the parent, which prints the table)."""
    a.workdir.mkdir(parents=True, exist_ok=True)
    if a.role is None:
        return False
    print(json.dumps(roles[a.role](), default=str))
    return True


def run_sides(script: str, doc: str, generate, ours, pandas):
    """A comparison benchmark's command line and three roles, generate(workdir, deals),
    ours(workdir) and pandas(workdir): in a child process run the role asked for and return None; in the parent
    generate (or reuse) the data, then run our side and the pandas side each in a fresh
    process and return (arguments, ours, pandas)."""
    a = parser(doc, ("generate", "ours", "pandas")).parse_args()
    if run_role(a, {"generate": lambda: generate(a.workdir, a.deals), "ours": lambda: ours(a.workdir),
                    "pandas": lambda: pandas(a.workdir)}):
        return None
    child(script, "generate", a.workdir, "--deals", str(a.deals))
    return a, child(script, "ours", a.workdir), child(script, "pandas", a.workdir)


def export_world(workdir: Path, queries: dict[str, str], conf_name: str, conf) -> None:
    """After the demo world is generated into workdir/velocity.duckdb (bench/velocity.py):
    each query's rows to parquet for the pandas side, and conf(con, settings, stage config)
    -> dict, with the as-of, to workdir/<conf_name>.json."""
    from kam_analytics import db, derived, settings, stage_list

    with db.read(workdir / "velocity.duckdb") as con:
        export_parquet(con, workdir, queries)
        loaded = settings.load(con)
        extra = conf(con, loaded, stage_list.stage_config(con, loaded))
        (workdir / f"{conf_name}.json").write_text(json.dumps({**extra,
                                                               "as_of": derived.default_as_of(con).isoformat()}))
