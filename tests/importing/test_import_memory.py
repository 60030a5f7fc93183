"""An import's frames are let go once their rows are in the database, not at commit.

DuckDB keeps a frame handed to con.register alive until the transaction commits, even after
unregister; at 8,000,000 history rows that was 880 MB held through the derived-table rebuild
(importing/run.py FRAMES_BY_NAME). Here: while the derived tables are rebuilt, inside the
import's transaction, no frame as long as the file is left in the process."""

import gc

import pandas as pd

from kam_analytics import derived
from kam_analytics.importing.run import import_files


def _long_frames(min_rows: int) -> list[tuple[int, ...]]:
    gc.collect()
    return [o.shape for o in gc.get_objects() if isinstance(o, pd.DataFrame) and len(o) >= min_rows]


def test_no_file_sized_frame_is_alive_while_the_derived_tables_are_rebuilt(tmp_path, monkeypatch):
    n = 3_000
    deals = tmp_path / "deals.csv"
    history = tmp_path / "history.csv"
    pd.DataFrame({"Deal ID": [f"X{i}" for i in range(n)], "Account": "Acme", "Stage": "Prospecting",
                  "Amount": 1000, "Created Date": "2026-01-01", "Close Date": "2026-06-30"}).to_csv(deals, index=False)
    pd.DataFrame({"Deal ID": [f"X{i % n}" for i in range(2 * n)],
                  "Changed At": [f"2026-01-{1 + i // n:02d} 10:00" for i in range(2 * n)],
                  "Stage": ["Prospecting", "Qualification"] * n, "Amount": 1000}).to_csv(history, index=False)
    seen = []
    rebuild = derived.refresh_derived

    def watched(con, touched, batch_id=None):
        seen.append(_long_frames(n))
        rebuild(con, touched, batch_id)

    monkeypatch.setattr(derived, "refresh_derived", watched)
    db = tmp_path / "k.duckdb"
    assert import_files(db, [deals]).status == "loaded"
    assert import_files(db, [history]).status == "loaded"
    assert len(seen) == 2 and seen == [[], []]
