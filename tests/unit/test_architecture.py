"""The library's structure holds: the import-linter contracts in pyproject.toml pass (the write
path in layers, file steps off it, no streamlit), no two modules import each other even through
others, and a module imports one of the project's own modules inside a function only where a
comment on that line says why."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "kam_analytics"


def test_the_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> list[str] | None:
        if state.get(m) == 1:
            return path[path.index(m):] + [m]
        if state.get(m) == 2:
            return None
        state[m] = 1
        for d in sorted(graph.find_modules_directly_imported_by(m)):
            found = visit(d, path + [m])
            if found:
                return found
        state[m] = 2
        return None

    for m in sorted(graph.modules):
        found = visit(m, [])
        if found:
            return found
    return None


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("kam_analytics", cache_dir=None)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle():
    """The check above can fail: two modules that import each other are found."""
    graph = grimp.ImportGraph()
    for m in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(m)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    assert _cycle(graph) is None
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycle(graph) is not None


def _late_imports_without_reason(source: str) -> list[int]:
    tree = ast.parse(source)
    lines = source.splitlines()
    out = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            own = (isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("kam_analytics"))
                   or isinstance(node, ast.Import) and any(a.name.startswith("kam_analytics") for a in node.names))
            if own and "#" not in lines[node.lineno - 1]:
                out.append(node.lineno)
    return out


def test_late_imports_of_the_project_say_why():
    found = {}
    for f in sorted(LIBRARY.rglob("*.py")):
        bad = _late_imports_without_reason(f.read_text(encoding="utf-8"))
        if bad:
            found[str(f.relative_to(ROOT))] = bad
    assert not found, f"imports inside functions without a comment saying why (file: lines): {found}"


def test_the_late_import_rule_can_fail():
    assert _late_imports_without_reason("def f():\n    from . import db\n") == [2]
    assert _late_imports_without_reason("def f():\n    from . import db  # why\n") == []
    assert _late_imports_without_reason("from . import db\n") == []


def test_help_loads_neither_pandas_nor_duckdb():
    """`kam --help` and `kam report --help` are built from the catalogue alone."""
    code = ("import sys\nfrom kam_analytics import cli\n"
            "for argv in (['--help'], ['report', '--help'], ['report', 'risk', '--help']):\n"
            "    assert cli.main(argv) == 0\n"
            "print(sorted(m for m in ('pandas', 'duckdb', 'numpy', 'openpyxl') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-500:]


def test_the_catalogue_names_every_template_and_report_function():
    from kam_analytics import catalogue, templates
    from kam_analytics.reports import REPORTS

    assert catalogue.TEMPLATE_KINDS == tuple(templates.KINDS)
    assert list(REPORTS) == list(catalogue.SPECS)
    assert all(callable(r.func) for r in REPORTS.values())
