"""Run every file of the bad-file corpus through the importer in one process, as a user
would: the CLI (`import FILE`) and the Import page's preview. For each file: exit status,
what the user read (stderr), whether a traceback or an unexpected exception escaped, a digest
of every data table before and after, and how many attempts the import log holds. The
process's peak RSS at the end bounds every file's (no file may take it over 2 GB).

    python -m tests.bad_files.run_corpus DB OUT.json FILE...
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sys
import traceback
from pathlib import Path

from kam_analytics import db
from kam_analytics.cli import main as cli
from kam_analytics.importing.run import preview


def state(path: Path) -> tuple[dict[str, str], int]:
    """Every data table, whole and in order, as one hash per table; and how many attempts the
    import log holds. One opening of the database (they are the runner's own cost per file)."""
    out = {}
    with db.read(path) as con:
        for t in (*db.DATA_TABLES, "stage_visits"):
            h = hashlib.sha256()
            for row in con.execute(f'select * from "{t}" order by all').fetchall():
                h.update(repr(row).encode())
            out[t] = h.hexdigest()
        return out, con.execute("select count(*) from import_batches").fetchone()[0]


def run(path: Path, files: list[Path]) -> list[dict]:
    results = []
    for f in files:
        before, tried = after if results else state(path)
        err, out = io.StringIO(), io.StringIO()
        escaped = None
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = cli(["--db", str(path), "import", str(f)])
            except BaseException:  # noqa: BLE001 - what escaped is the finding
                code, escaped = None, traceback.format_exc()
        try:   # the Import page's first step on an upload
            page = preview(path, [f], [f.name])
            page_status, page_rejects = page.status, len(page.rejects)
            page_notes = [n for r in page.files for n in r.notes]
            page_text = page.message + " " + " ".join(
                page.rejects.apply(lambda r: " ".join(str(v) for v in r.values), axis=1))
        except BaseException:  # noqa: BLE001
            page_status, page_rejects, page_text, page_notes = None, 0, "", []
            escaped = (escaped or "") + traceback.format_exc()
        after = state(path)
        results.append({"file": f.name, "exit": code, "stderr": err.getvalue(), "stdout": out.getvalue(),
                        "escaped": escaped, "same": after[0] == before, "attempts": after[1] - tried,
                        "page_status": page_status, "page_rejects": page_rejects,
                        "page_text": page_text, "page_notes": page_notes})
    return results


if __name__ == "__main__":
    db_path, out_path, *names = sys.argv[1:]
    res = run(Path(db_path), [Path(n) for n in names])
    # this process image's own peak (VmHWM): ru_maxrss would start from the parent's size at the fork
    peak_mb = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:")) / 1024
    Path(out_path).write_text(json.dumps({"files": res, "peak_rss_mb": peak_mb}, ensure_ascii=False))
