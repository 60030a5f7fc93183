"""Issue 27, item 8: leftovers and messages, each on the command line (a subprocess: its exit
status and its message). A killed restore leaves its unpacked copy beside the database, never in
the temp folder, and the next start removes it; `backup -o DIR` writes into DIR with a default
name and `-o /missing/b.zip` names the missing folder, with no `.partial` left either way;
`import /dev/zero` says it is not a regular file; `--db ""` is wrong usage; an upload's name of
any length is shortened for the file system where the product writes it."""

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from kam_analytics import backup

from ..conftest import load_fixture

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args, cwd=ROOT, env=None, timeout=120):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    run = subprocess.run([sys.executable, "-m", "kam_analytics", *map(str, args)], capture_output=True, text=True,
                         cwd=cwd, env=env, timeout=timeout)
    assert "Traceback" not in run.stderr and "unexpected failure" not in run.stderr, run.stderr
    return run


@pytest.fixture
def world(tmp_path) -> Path:
    return load_fixture(tmp_path / "db" / "w.duckdb", "accounts")


@pytest.fixture
def temp(tmp_path) -> Path:
    """The processes' temp folder: nothing may stay in it."""
    t = tmp_path / "temp"
    t.mkdir()
    return t


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_killed_restore_leaves_its_copy_beside_the_database_and_the_next_start_removes_it(world, tmp_path, temp):
    zip_path = tmp_path / "b.zip"
    backup.export(world, zip_path, "csv")
    target = tmp_path / "db" / "restored.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temp)}
    seen = None
    for _attempt in range(3):       # killed while the copy is unpacked (the window is short on a small backup)
        proc = subprocess.Popen([sys.executable, "-m", "kam_analytics", "--db", str(target), "restore", str(zip_path),
                                 "--replace"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        partial = target.parent / f".{target.name}.restore-partial-{proc.pid}"
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if partial.exists() and any(partial.iterdir()):
                proc.send_signal(signal.SIGKILL)
                seen = partial
                break
            time.sleep(0.002)
        proc.wait()
        if seen:
            break
    assert seen, "the restore never showed its unpacked copy beside the database"
    assert seen.exists() and list(temp.iterdir()) == []          # beside the database, nothing in the temp folder
    run = _cli("--db", target, "batches", env={"TMPDIR": str(temp)})
    assert not seen.exists()                                      # the next start cleaned it
    assert run.returncode in (0, 1)


def test_the_next_start_removes_only_the_leftovers_of_dead_processes(world):
    folder = world.parent
    dead = folder / f".{world.name}.restore-partial-{_dead_pid()}"
    dead.mkdir()
    (dead / "deals.csv").write_text("deal_id\nA1\n")
    dead_rebuild = folder / f".{world.name}.rebuild-{_dead_pid()}"
    dead_rebuild.write_bytes(b"x" * 1000)
    alive = folder / f".{world.name}.restore-partial-{os.getpid()}"        # this test's process: still running
    alive.mkdir()
    other = folder / ".other.duckdb.restore-partial-1"                      # another database's: not ours to judge
    other.mkdir()
    run = _cli("--db", world, "batches")
    assert run.returncode == 0, run.stderr
    assert not dead.exists() and not dead_rebuild.exists()
    assert alive.exists() and other.exists()


def test_backup_into_an_existing_folder_writes_a_default_name_and_no_partial(world, tmp_path, temp):
    out = tmp_path / "backups"
    out.mkdir()
    run = _cli("--db", world, "backup", "-o", out, env={"TMPDIR": str(temp)})
    assert run.returncode == 0, run.stderr
    files = list(out.iterdir())
    assert len(files) == 1 and files[0].name.startswith("kam-backup-") and files[0].suffix == ".zip"
    assert f"to {files[0]}" in run.stdout
    with zipfile.ZipFile(files[0]) as z:
        assert "manifest.json" in z.namelist()
    assert not [p for p in tmp_path.rglob("*") if "partial" in p.name]
    assert list(temp.iterdir()) == []


def test_backup_to_a_missing_folder_names_it_and_leaves_nothing(world, tmp_path):
    target = tmp_path / "missing" / "b.zip"
    run = _cli("--db", world, "backup", "-o", target)
    assert run.returncode == 1
    assert f"the folder {tmp_path / 'missing'} does not exist" in run.stderr
    assert not (tmp_path / "missing").exists()
    assert not [p for p in tmp_path.rglob("*") if "partial" in p.name]


def test_backup_over_a_pipe_is_refused_with_a_reason(world, tmp_path):
    # a named pipe of our own, never a device of the machine: a release without the check replaced
    # the target with the zip (as root, /dev/null itself)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    run = _cli("--db", world, "backup", "-o", fifo)
    assert run.returncode == 1
    assert f"{fifo}: it exists and is not a regular file" in run.stderr
    assert not fifo.is_file()


def test_import_of_a_device_says_it_is_not_a_regular_file(world):
    started = time.monotonic()
    run = _cli("--db", world, "import", "/dev/zero", timeout=60)
    assert run.returncode == 1
    assert "/dev/zero: not a regular file (a device, a pipe or a socket)" in run.stderr
    assert "folder" not in run.stderr
    assert time.monotonic() - started < 60


def test_import_of_a_folder_still_says_folder(world, tmp_path):
    run = _cli("--db", world, "import", tmp_path)
    assert run.returncode == 1 and "this is a folder, not a file" in run.stderr


def test_an_empty_db_path_is_wrong_usage(tmp_path):
    run = _cli("--db", "", "batches", cwd=tmp_path)
    assert run.returncode == 2
    assert "--db: expected the path of a database file, got an empty name" in run.stderr
    assert not (tmp_path / "data").exists()        # the default database was not used (nor created)


def test_a_db_path_that_is_a_folder_is_wrong_usage(tmp_path):
    run = _cli("--db", tmp_path, "batches")
    assert run.returncode == 2 and "this is a folder; expected the path of a database file" in run.stderr


def test_an_upload_name_of_300_characters_is_shortened_where_it_is_written(tmp_path, world):
    long_name = "Pipeline export " + "x" * 280 + " 2026-06-30.csv"           # 16 + 280 + 15 = 311 characters
    assert len(long_name) == 311
    stored = backup.stored_name(long_name)
    assert len(stored.encode("utf-8")) <= 120 and stored.endswith(".csv") and stored.startswith("Pipeline export x")
    assert backup.stored_name(long_name.replace("2026", "2025")) != stored          # two long names stay two files
    accents = backup.stored_name("è" * 300 + ".xlsx")                               # 2 bytes each: never half of one
    assert len(accents.encode("utf-8")) <= 120 and accents.endswith(".xlsx")
    accents.encode("utf-8").decode("utf-8")
    assert backup.stored_name("../../etc/passwd") == "passwd" and backup.stored_name("deals.csv") == "deals.csv"
    # the shortened name is a file the product can write and import (the full name cannot be written)
    with pytest.raises(OSError):
        (tmp_path / long_name).write_text("x")
    f = tmp_path / stored
    f.write_text("deal_id,deal_name,account_id,owner,stage,amount,currency,close_date\n"
                 "N1,New one,K1,Ann Lee,A,1000,EUR,2026-09-30\n", encoding="utf-8")
    run = _cli("--db", world, "import", f)
    assert run.returncode == 0, run.stderr
