"""The SQL loader (kam_analytics/models.py): queries are put together only from declared slots
and other files, and every statement a report runs can be run in a DuckDB shell with nothing
but sql/macros.sql and `set variable` (models.shell_script), giving the same rows."""

from __future__ import annotations

import re

import duckdb
import pandas as pd
import pytest

from kam_analytics import db, models
from kam_analytics.errors import KamError
from kam_analytics.reports import REPORTS


def test_every_file_is_named_once_and_declares_its_slots():
    names = models.names()
    assert {"snapshot", "risk", "stage_visits", "stage_durations"} <= set(names)
    for name in names:
        text = models.sql(name)
        for m in re.finditer(r"\{([a-z_0-9]+)\}", "\n".join(l.split("--")[0] for l in text.splitlines())):
            assert m.group(1) in names or m.group(1) in models.slots(name), (name, m.group(1))


def test_a_query_is_refused_when_a_slot_is_missing_unknown_or_extra(tmp_path, monkeypatch):
    (tmp_path / "reports").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "base.sql").write_text("-- slots: dim\nselect {dim} as dim -- {not_a_slot} in a comment\n")
    (tmp_path / "reports" / "top.sql").write_text("select * from ({base})\n")
    (tmp_path / "reports" / "typo.sql").write_text("select {dimm}\n")
    monkeypatch.setattr(models, "SQL_DIR", tmp_path)
    for f in (models._files, models.sql, models.slots, models._query):
        f.cache_clear()
    try:
        assert models.query("top", dim="d.segment") == ("select * from (-- slots: dim\n"
                                                        "select d.segment as dim -- {not_a_slot} in a comment\n)\n")
        with pytest.raises(models.SqlError, match="needs the slot {dim}"):
            models.query("top")
        with pytest.raises(models.SqlError, match="neither another SQL file nor a slot"):
            models.query("typo")
        with pytest.raises(models.SqlError, match="given joins, which no file of it asks for"):
            models.query("top", dim="x", joins="")
        # a caller may pass text in place of an include (a shared snapshot table)
        assert models.query("top", base="select 1") == "select * from (select 1)\n"
    finally:
        for f in (models._files, models.sql, models.slots, models._query):
            f.cache_clear()


def test_shell_script_writes_values_as_literals():
    script = models.shell_script("select $a, $b, $c -- $a", {"a": ["it's", "x"], "b": None, "c": []})
    assert "set variable a = ['it''s', 'x'];" in script
    assert "set variable c = []::varchar[];" in script
    assert script.rstrip().endswith("select getvariable('a'), getvariable('b'), getvariable('c') -- $a;")
    con = duckdb.connect()
    assert con.execute(script).fetchall() == [(["it's", "x"], None, [])]


class _Recorder:
    """A connection that keeps every statement run through it, with its parameters."""

    def __init__(self, con):
        self._con = con
        self.calls: list[tuple[str, object]] = []

    def execute(self, query, params=None):
        self.calls.append((query, params))
        return self._con.execute(query) if params is None else self._con.execute(query, params)

    def register(self, name, frame):          # a frame handed to DuckDB: handed to the replays too
        self.calls.append(("register", (name, frame)))
        return self._con.register(name, frame)

    def unregister(self, name):
        self.calls.append(("unregister", (name,)))
        return self._con.unregister(name)

    def __getattr__(self, name):
        return getattr(self._con, name)


def _is_query(sql: str) -> bool:
    code = re.sub(r"--[^\n]*", "", sql).strip().lower()
    return code.startswith(("select", "with", "from"))


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """The same rows in any order; floats equal to 9 significant digits (the order of a parallel
    sum may differ between two runs)."""
    if a.shape != b.shape:
        return False
    def ordered(df: pd.DataFrame) -> pd.DataFrame:
        key = df.map(lambda v: f"{v:.9g}" if isinstance(v, float) else str(v))
        return df.iloc[key.sort_values(list(key.columns)).index].reset_index(drop=True)
    b = b.set_axis(a.columns, axis=1)
    try:
        pd.testing.assert_frame_equal(ordered(a), ordered(b), check_dtype=False, check_exact=False, rtol=1e-9)
    except AssertionError:
        return False
    return True


def test_every_reports_sql_runs_in_a_shell_with_only_set_variables(demo_db_factory):
    path = demo_db_factory(2000, 7)
    checked, reports_run = 0, []
    for name, report in REPORTS.items():
        with db.read(path) as con:
            rec = _Recorder(con)
            try:
                report.func(rec)
            except KamError:            # a report that needs an option (an account, a period) to run
                continue
        reports_run.append(name)
        with_params = duckdb.connect(str(path), read_only=True)
        as_shell = duckdb.connect(str(path), read_only=True)
        db._prepare(with_params)
        for sql, params in rec.calls:
            if sql in ("register", "unregister"):
                for c in (with_params, as_shell):
                    getattr(c, sql)(*params)
                continue
            named = isinstance(params, dict)
            if not named:               # positional parameters: meta lookups and settings, run alike
                for c in (with_params, as_shell):
                    c.execute(sql) if params is None else c.execute(sql, params)
                continue
            expected = with_params.execute(sql, params)
            got = as_shell.execute(models.shell_script(sql, params))
            if _is_query(sql):
                assert _same(expected.df(), got.df()), (name, sql[:300])
                checked += 1
        with_params.close()
        as_shell.close()
    assert len(reports_run) >= 15, reports_run
    assert checked >= len(reports_run), checked
