"""Benchmark: the possible-alias search of an import (the "Account names" rule of README "Files it accepts"), new names
against the names already stored, beside the difflib search it replaced (timed on a sample
of the new names and scaled up: the whole of it takes minutes).

    python bench/aliases.py --existing 20000 --new 2000

Not a test: no timing is asserted anywhere in tests/.
"""

from __future__ import annotations

import argparse
import difflib
import random
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from common import record  # noqa: E402 - bench/ is the script's folder


def _names(rng: random.Random, n: int, words: list[str]) -> list[str]:
    out: dict[str, None] = {}
    while len(out) < n:
        name = " ".join(rng.choice(words).title() for _ in range(rng.randint(1, 3)))
        out[name + rng.choice(["", " Srl", " Inc", " S.p.A.", " GmbH"])] = None
    return list(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--existing", type=int, default=20_000)
    ap.add_argument("--new", type=int, default=2_000)
    ap.add_argument("--difflib-sample", type=int, default=50, help="new names difflib is timed on (0: skip)")
    args = ap.parse_args()

    import duckdb
    import pandas as pd

    from kam_analytics import db
    from kam_analytics.importing import names

    rng = random.Random(7)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(5000)]
    existing = _names(rng, args.existing, words)
    new = [n[:-1] + rng.choice(string.ascii_lowercase) if rng.random() < 0.3 else n + " x"
           for n in _names(rng, args.new, words)]
    con = duckdb.connect()
    db._prepare(con)
    con.execute("create table accounts as select n as account_id, n as account_name "
                "from (select unnest(?::varchar[]) as n)", [existing])

    t = time.perf_counter()
    found = names.possible_aliases(con, pd.Series(new), {})
    ours = time.perf_counter() - t
    print(f"rapidfuzz: {len(existing):,} existing x {len(new):,} new names: {ours:.2f} s, "
          f"{len(found):,} possible alias(es)")

    theirs = None
    if args.difflib_sample:
        keys = [k for (k,) in con.execute("select norm_key(account_name) from accounts").fetchall()]
        sample = list(names.name_keys(con, new[:args.difflib_sample]))
        t = time.perf_counter()
        for k in sample:
            difflib.get_close_matches(k, keys, n=1, cutoff=0.85)
        theirs = (time.perf_counter() - t) * len(new) / len(sample)
        print(f"difflib (the search before, {len(sample)} names timed, scaled to {len(new):,}): {theirs:.0f} s")
    record(f"possible aliases, {len(new):,} new x {len(existing):,} existing names", round(ours, 2),
           round(theirs, 1) if theirs else None, "< 10 s", ours < 10)


if __name__ == "__main__":
    main()
