"""The product carries its own definitions and data (issue 25, part 4; issue 26, README).

- docs/metrics.md has a section (with its anchor) for every report the CLI lists and every risk
  flag the code knows, lists each report's columns, names no report or flag that does not exist,
  and its links lead somewhere;
- every `docs/<file>.md "Section"` the code and pages quote names a section of that file;
- no file of the product points to the team's design file or to a folder beside the repository;
- the Maven dataset the tests import is the repository's own copy, unchanged (its SOURCE.md);
- the CLI is also `kam` once installed (pyproject's entry point, the Makefile's install line)."""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from kam_analytics import settings
from kam_analytics.cli import build_parser
from kam_analytics.reports import REPORTS
from kam_analytics.reports import risk

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
METRICS = DOCS / "metrics.md"
MAVEN = ROOT / "tests" / "data" / "maven"


# ---- docs/metrics.md, read as sections ---------------------------------------------------------

def _parts(text: str) -> dict[str, str]:
    """'## Title' -> its text up to the next '## ' heading."""
    out, title = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            title = line[3:].strip()
            out[title] = ""
        elif title is not None:
            out[title] += line
    return out


def _keyed_sections(part: str) -> dict[str, str]:
    """'### Words (`key`)' -> the section's text (its anchor line first)."""
    out = {}
    for m in re.finditer(r"^### [^\n]*\(`([^`]+)`\)\n(.*?)(?=^### |\Z)", part, re.S | re.M):
        out[m.group(1)] = m.group(2)
    return out


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    h = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return h.replace(" ", "-")


def _anchors(text: str) -> set[str]:
    return ({_slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}
            | set(re.findall(r'<a id="([^"]+)"></a>', text)))


def _cli_report_names() -> list[str]:
    """The report names `kam report --help` lists: the choices of the CLI's own parser."""
    def subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        return next(a.choices for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return list(subparsers(subparsers(build_parser())["report"]))


@pytest.fixture(scope="module")
def metrics() -> str:
    return METRICS.read_text(encoding="utf-8")


def test_the_section_parser_reads_a_small_document():
    # the helpers above, on a text whose sections are known: a section per key, anchors and slugs
    doc = ("## Reports\n\n### Stage durations (`stage-durations`)\n<a id=\"report-stage-durations\"></a>\n\n"
           "| stage | x |\n\n### Win-loss (`win-loss`)\n<a id=\"report-win-loss\"></a>\n\nwin_rate\n"
           "## Risk flags\n\n### Stale (`stale`)\nno change\n")
    parts = _parts(doc)
    assert list(parts) == ["Reports", "Risk flags"]
    assert list(_keyed_sections(parts["Reports"])) == ["stage-durations", "win-loss"]
    assert "win_rate" in _keyed_sections(parts["Reports"])["win-loss"]
    assert "win_rate" not in _keyed_sections(parts["Reports"])["stage-durations"]
    assert _slug("Reached, conversion, win rate from stage") == "reached-conversion-win-rate-from-stage"
    assert {"report-win-loss", "risk-flags", "reports"} <= _anchors(doc)


def test_every_report_the_cli_lists_has_its_section_and_no_section_names_another(metrics):
    names = _cli_report_names()
    assert names == list(REPORTS), "the CLI lists the registry's reports"
    sections = _keyed_sections(_parts(metrics)["Reports"])
    assert [n for n in names if n not in sections] == [], "reports without a section in docs/metrics.md"
    assert [s for s in sections if s not in names] == [], "sections of docs/metrics.md naming no report"
    for name, text in sections.items():
        assert f'<a id="report-{name}"></a>' in text.split("\n", 1)[0], f"{name}: its anchor under the heading"
        assert f"kam report {name}" in text, f"{name}: the command that prints it"
        assert "*Example" in text, f"{name}: a worked example"


def test_every_column_of_every_report_is_explained(metrics):
    sections = _keyed_sections(_parts(metrics)["Reports"])
    missing = []
    for name, report in REPORTS.items():
        table = "\n".join(line for line in sections[name].splitlines() if line.startswith("| "))
        words = set(re.findall(r"[a-z_0-9]+", table))
        missing += [f"{name}: {k}" for k in report.keys if k not in words]
    assert missing == [], "columns not in their report's table in docs/metrics.md"


def test_every_risk_flag_has_its_section_with_the_label_the_pages_show(metrics):
    assert tuple(risk.FLAGS) == tuple(settings.RISK_FLAGS) and set(risk.LABELS) == set(risk.FLAGS)
    part = _parts(metrics)["Risk flags"]
    sections = _keyed_sections(part)
    assert [f for f in risk.FLAGS if f not in sections] == [], "flags without a section in docs/metrics.md"
    assert [s for s in sections if s not in risk.FLAGS] == [], "sections of docs/metrics.md naming no flag"
    for flag in risk.FLAGS:
        assert f"### {risk.LABELS[flag]} (`{flag}`)\n" in part, f"{flag}: heading with its label"
        assert f'<a id="flag-{flag}"></a>' in sections[flag].split("\n", 1)[0]
        assert "*Example" in sections[flag], f"{flag}: a worked example"


def test_every_link_inside_docs_leads_to_a_section():
    for doc in sorted(DOCS.glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        anchors = _anchors(text)
        broken = [t for t in re.findall(r"\]\(#([^)]+)\)", text) if t not in anchors]
        assert broken == [], f"{doc.name}: links to no section"


def test_every_link_of_the_pages_to_the_definitions_page_leads_to_a_section():
    """The pages' help texts link to the Definitions page (views/definitions.py shows
    docs/metrics.md and docs/data.md) by a heading's anchor."""
    anchors = set()
    for doc in ("metrics.md", "data.md"):
        anchors |= _anchors((DOCS / doc).read_text(encoding="utf-8"))
    links = {m for f in sorted((ROOT / "views").glob("*.py"))
             for m in re.findall(r"\(/definitions#([a-z0-9-]+)\)", f.read_text(encoding="utf-8"))}
    assert {"forecast-accuracy", "push", "time-in-stage", "win-rate"} <= links
    assert sorted(links - anchors) == []


# ---- the product's files -----------------------------------------------------------------------

_SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".kam-cache", "node_modules"}


def _product_files() -> list[Path]:
    """The repository's files as a clone has them (tracked and new, not ignored); without git,
    every file outside the caches."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True, timeout=60).stdout.decode()
        files = [ROOT / f for f in out.split("\0") if f]
    except (OSError, subprocess.SubprocessError):
        files = [p for p in ROOT.rglob("*") if not _SKIP_DIRS & set(p.relative_to(ROOT).parts)]
    return [f for f in files if f.is_file() and not _SKIP_DIRS & set(f.relative_to(ROOT).parts)]


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# the team's design file and the folder beside the repository: users who clone have neither
# (the words are put together here so that this file does not name them itself)
_DESIGN, _SHARED = "DES" + "IGN", "shared" + "/"
OUTSIDE = re.compile(rf"\b{_DESIGN}\b|{_SHARED}")


def test_the_outside_pattern_catches_what_it_should():
    for line in (f'see {_DESIGN}.md "Push"', f"({_DESIGN} deal_history)", f"../{_SHARED}datasets/maven"):
        assert OUTSIDE.search(line), line
    for line in ("docs/metrics.md", "share_snapshots(con)", "tests/data/maven/SOURCE.md", "shared snapshot", "DESIGNED"):
        assert not OUTSIDE.search(line), line


def test_no_file_points_outside_the_repository():
    found = []
    for f in _product_files():
        text = _text(f)
        if text is None:
            continue
        for no, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                found.append(f"{f.relative_to(ROOT)}:{no}: {line.strip()[:120]}")
    assert found == [], "point to a file outside the repository (say it in docs/metrics.md instead):\n" + \
        "\n".join(found)


def test_every_quoted_section_of_docs_exists():
    quoted = re.compile(r"docs/(\w+)\.md(?:,)? ((?:\"[^\"\n]+\"(?:,? (?:and )?)?)+)")
    missing = []
    for f in _product_files():
        if f.suffix not in (".py", ".sql", ".md") or f.parent == DOCS:
            continue
        text = _text(f) or ""
        for m in quoted.finditer(text.replace('\\"', '"')):
            doc = DOCS / f"{m.group(1)}.md"
            headings = set(re.findall(r"^#{2,3} (.+?)\s*$", doc.read_text(encoding="utf-8"), re.M)) \
                if doc.exists() else set()
            for name in re.findall(r"\"([^\"]+)\"", m.group(2)):
                if name not in headings:
                    missing.append(f"{f.relative_to(ROOT)}: docs/{m.group(1)}.md \"{name}\"")
    assert missing == [], "quoted sections that docs/ does not have:\n" + "\n".join(missing)


def test_the_maven_dataset_is_the_repositorys_own_unchanged_copy():
    source = (MAVEN / "SOURCE.md").read_text(encoding="utf-8")
    assert "Public Domain" in source and "Maven Analytics" in source
    sums = dict(re.findall(r"^\| (\S+\.csv) \| [\d,]+ \| `([0-9a-f]{64})` \|$", source, re.M))
    assert sorted(sums) == sorted(p.name for p in MAVEN.glob("*.csv")), "every csv listed with its checksum"
    for name, digest in sums.items():
        assert hashlib.sha256((MAVEN / name).read_bytes()).hexdigest() == digest, f"{name} changed"


# ---- the CLI as `kam` --------------------------------------------------------------------------

def test_pyproject_installs_the_cli_as_kam():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    target = project["project"]["scripts"]["kam"]
    module, func = target.split(":")
    assert callable(getattr(importlib.import_module(module), func))
    assert module == "kam_analytics.cli" and func == "main"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    venv_step = makefile.split("$(VENV)/.runtime:", 1)[1].split("\n\n", 1)[0]
    assert "pyproject.toml" in venv_step.splitlines()[0], "a changed entry point reinstalls"
    assert re.search(r"pip install .*--no-deps -e \.", venv_step), "the venv step installs the package in place"


def test_kam_runs_from_the_venv():
    kam = Path(sys.executable).parent / "kam"
    if not kam.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{kam} is missing: the Makefile's venv step installs it (make run / make test)")
        pytest.skip(f"{kam} is not installed in this environment (make run installs it)")
    done = subprocess.run([str(kam), "report", "--help"], capture_output=True, text=True, timeout=120,
                          cwd=Path("/"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: kam report"), done.stdout[:200]
    assert "stage-durations" in done.stdout
