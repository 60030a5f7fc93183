"""The Import page's check of uploaded files (run.preview) run in a child process with a
memory cap (issue 27): read.py's limits refuse what a workbook would expand to before it is
read, and this cap is the bound for whatever they miss - a file that needs more memory stops
its own process with a message, never the Streamlit server that serves everyone. The CLI
runs in-process (one command, one user), bounded by the same limits in read.py.

The child is a fresh interpreter (`python -m kam_analytics.importing.sandbox`): the
arguments go in and the result comes out pickled over its stdin and stdout."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

from . import run
from .check import rejects_frame
from .staged import ImportResult

# RLIMIT_AS caps the child's address space, and so its resident memory. The libraries alone
# (pandas, pyarrow, duckdb, their thread pools) map ~2.2 GB of address space of which ~0.2 GB
# is resident, so the cap is set once they are loaded: what the child maps then, plus this
# much for the check itself - resident memory stays under ~0.2 GB + 1.75 GB, the 2 GB bound.
MAX_CHECK_BYTES = 1792 << 20
ROOT = Path(__file__).resolve().parents[2]


def _memory_message(cap: int) -> str:
    return (f"the check of these files needed more than the {cap / (1 << 20):,.0f} MB of memory it may use and was "
            "stopped (nothing was loaded, the app is unharmed): a file holds far more than its size shows (a very "
            "long or wide sheet, text repeated in many cells). Split the file into smaller ones, or export its "
            "sheets as csv, and upload them again")


def _rejected(message: str) -> ImportResult:
    return ImportResult("rejected", None, [], rejects_frame([]), message)


def preview(path, files: list[Path], names: list[str] | None = None, overrides: dict | None = None,
            cap_bytes: int = MAX_CHECK_BYTES, **options) -> ImportResult:
    """run.preview(path, files, names, overrides, **options) in a child process whose
    address space may grow by cap_bytes once its libraries are loaded; past it, a rejected
    result that says so."""
    payload = pickle.dumps((cap_bytes, (path, [Path(f) for f in files], names, overrides), options))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.run([sys.executable, "-m", "kam_analytics.importing.sandbox"], input=payload,
                          capture_output=True, cwd=ROOT, env=env)
    try:
        kind, value = pickle.loads(proc.stdout) if proc.stdout else ("died", None)
    except Exception:  # noqa: BLE001 - a child killed while writing its answer
        kind, value = "died", None
    if kind == "ok":
        return value
    if kind == "error":
        raise value
    # killed by a signal: Rust aborts (SIGABRT) when an allocation fails, some C code
    # dereferences the NULL it got (SIGSEGV), the kernel's OOM killer sends SIGKILL
    if kind == "memory" or proc.returncode < 0 or b"memory allocation" in proc.stderr:
        return _rejected(_memory_message(cap_bytes))
    tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
    return _rejected(f"the check of these files stopped unexpectedly (exit {proc.returncode}: {tail[0][:200]}); "
                     "nothing was loaded. Try again; if it happens again, split the files or export them as csv")


# (a thread's stack counts in the address space: under the cap a new thread fails to start,
# "Failed to launch worker thread: Resource temporarily unavailable" from Arrow)
_OUT_OF_MEMORY = ("OutOfMemory", "failed to map segment", "bad_alloc", "Cannot allocate memory",
                  "memory allocation", "Failed to launch worker thread", "can't start new thread")


def _mapped_bytes() -> int:
    """The process's address space now (VmSize)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) << 10 for line in f if line.startswith("VmSize:"))


def _child() -> None:
    import resource

    cap, args, options = pickle.loads(sys.stdin.buffer.read())
    out = sys.stdout.buffer
    try:
        limit = _mapped_bytes() + cap
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        answer = ("ok", run.preview(*args, **options))
    except MemoryError:
        answer = ("memory", None)
    except Exception as exc:  # noqa: BLE001 - raised again in the parent, as in-process
        # under the cap a library may fail its own way: duckdb's OutOfMemoryException, a
        # shared library that cannot be mapped, a C++ bad_alloc
        said = f"{type(exc).__name__} {exc}"
        answer = ("memory", None) if any(w in said for w in _OUT_OF_MEMORY) else ("error", exc)
    try:
        data = pickle.dumps(answer)
    except MemoryError:
        data = pickle.dumps(("memory", None))
    except Exception as exc:  # noqa: BLE001 - an exception that does not pickle
        data = pickle.dumps(("error", RuntimeError(repr(exc))))
    out.write(data)
    out.flush()


if __name__ == "__main__":
    _child()
