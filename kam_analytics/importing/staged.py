"""What the check step hands on: each file's report (kind, mapping, counts, notes, questions),
the staged rows of a table ready to load, and the result of an import or a preview."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from .mapping import Mapping


PREVIEW_ROWS = 20


@dataclass
class FileReport:
    file: str
    sheet: str | None
    header_row: int | None
    kind: str | None
    confidence: float
    mapping: str
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: int = 0
    notes: list[str] = field(default_factory=list)
    detected: Mapping | None = None          # for the Import page's editable mapping
    aliases: list[tuple[str, str, str]] = field(default_factory=list)  # (name in file, existing name, its id)
    remembered: bool = False                 # the mapping came from an earlier confirmed override
    preview: pd.DataFrame | None = None      # the first rows as they will be stored
    questions: list = field(default_factory=list)   # unknown words of a fixed vocabulary (vocabulary.Question)
    currency: str | None = None              # the currency the import gave rows with amounts but none of their own
    currency_from: str | None = None         # column (the file's own) | given (--currency, the page) | settings


@dataclass
class ImportResult:
    status: str                     # loaded | rejected | unchanged
    batch_id: int | None
    files: list[FileReport]
    rejects: pd.DataFrame
    message: str


@dataclass
class Staged:
    report: FileReport
    kind: str
    frame: pd.DataFrame             # converted good rows; `_row` the spreadsheet row
    columns: list[str]              # canonical columns the file provides
    stage_columns: dict[str, str]   # wide history: header -> stage
    snapshot: tuple[datetime, str] | None = None   # a deals export's date, and where it came from
    remember: tuple[str, dict] | None = None       # header signature -> override, kept on load
