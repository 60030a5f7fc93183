"""Words with a fixed meaning (role, status, side, sentiment, forecast category, relationship,
plan type, and the stages of a saved list): matched by their English and Italian forms after
normalisation (case, accents, apostrophes and punctuation ignored), multi-word ones included.

A word that matches none is not a dead end: it becomes a question for the user ("'Sponsor
esecutivo' → which role?"), answered once — on the Import page, or in the `values` part of
`--mapping FILE.json` — and remembered like a column mapping (setting `value_mappings`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from .coerce import Converted
from .fields import (FORECAST_WORDS, PLAN_TYPE_WORDS, RELATIONSHIP_WORDS, ROLE_WORDS, SENTIMENT_WORDS,
                     SIDE_WORDS, STATUS_WORDS)
from .read import norm

# field -> (its words, what the field is called in a question)
VOCABULARIES: dict[str, tuple[dict, str]] = {
    "relationship_strength": ({**RELATIONSHIP_WORDS, **{str(i): i for i in range(1, 6)},
                               **{f"{i}.0": i for i in range(1, 6)}}, "relationship strength (1-5 or a word)"),
    "status": (STATUS_WORDS, "status"),
    "side": (SIDE_WORDS, "side"),
    "sentiment": (SENTIMENT_WORDS, "sentiment"),
    "plan_type": (PLAN_TYPE_WORDS, "plan type"),
    "role": (ROLE_WORDS, "role"),
    "forecast_category": (FORECAST_WORDS, "forecast category"),
}


def word_key(value) -> str:
    """A word as compared: normalised, and '1' and '1.0' alike kept apart from letters."""
    text = re.sub(r"['’‘`´ʼ]", " ", str(value))   # d'azione, d’azione: the same word
    return " ".join(norm(text).replace("#", " ").split())


@dataclass(frozen=True)
class Question:
    """An unknown word of a fixed vocabulary, to be answered with one of `choices`."""
    field: str
    header: str
    word: str            # as first written in the file
    rows: int            # how many rows hold it
    choices: tuple[str, ...]

    def text(self) -> str:
        return (f"{self.word!r} in column {self.header!r} ({self.rows:,} row(s)): which {self.field.replace('_', ' ')} "
                f"is it? One of {', '.join(self.choices)}")


def choices(fld: str, stage_names: list[str] | None = None) -> tuple[str, ...]:
    if fld == "stage":
        return tuple(stage_names or ())
    words, _ = VOCABULARIES[fld]
    return tuple(str(v) for v in dict.fromkeys(words.values()))


def lookup(fld: str, answers: dict | None = None, base: dict | None = None) -> dict[str, object]:
    """normalised word -> canonical value: the vocabulary (or `base`), then the user's answers."""
    words = base if base is not None else VOCABULARIES[fld][0]
    out = {word_key(k): v for k, v in words.items()}
    for k, v in (answers or {}).items():
        if v is not None and v != "":
            out[word_key(k)] = v
    return out


def convert(s: pd.Series, fld: str, header: str, table: dict[str, object], what: str,
            stage_names: list[str] | None = None) -> tuple[Converted, list[Question]]:
    """The column's words as canonical values; each distinct unknown word once as a question
    (its rows are bad values until it is answered)."""
    text = s.astype("string").str.strip()
    keys = pd.Series(pd.unique(text.dropna()), dtype="string")
    mapped = {k: table.get(word_key(k)) for k in keys}
    out = text.astype(object).map(mapped)   # each distinct word looked up once, above
    bad = s.notna() & out.isna()
    questions = []
    if bad.any():
        counts = text[bad].value_counts(sort=False)
        seen: dict[str, Question] = {}
        for word, n in counts.items():
            k = word_key(word)
            if k in seen:
                q = seen[k]
                seen[k] = Question(q.field, q.header, q.word, q.rows + int(n), q.choices)
            else:
                seen[k] = Question(fld, header, str(word), int(n), choices(fld, stage_names))
        questions = list(seen.values())
    expected = (f"{what}: one of " + ", ".join(choices(fld, stage_names))
                + " (an unknown word is answered once in the value mapping: Import page, or --mapping "
                f'FILE.json {{"values": {{"{fld}": {{"<word>": "<value>"}}}}}})')
    return Converted(out.astype(object), bad, expected), questions


def check_answers(values: dict | None) -> tuple[dict, list[str]]:
    """The user's answers (`values` of a mapping: field -> word -> answer) with each answer
    as its field's canonical value — an answer may be any word of the vocabulary, in either
    language — and a sentence for each answer that is none (or a field without fixed words).
    Stage answers are stage names (a new name is allowed: the stage list follows the data)."""
    out: dict[str, dict] = {}
    errors: list[str] = []
    for fld, words in (values or {}).items():
        if fld == "stage":
            out[fld] = dict(words or {})
            continue
        if fld not in VOCABULARIES:
            errors.append(f"value mapping: {fld!r} is no field with fixed words (those are: stage, "
                          + ", ".join(VOCABULARIES) + ")")
            continue
        if not isinstance(words, dict):
            errors.append(f"value mapping for {fld!r}: expected word -> value pairs, got {words!r}")
            continue
        table = lookup(fld)
        for word, answer in words.items():
            if answer is None or answer == "":
                continue
            value = table.get(word_key(answer))
            if value is None:
                errors.append(f"value mapping: {word!r} -> {answer!r}: {answer!r} is no "
                              f"{VOCABULARIES[fld][1]}; expected one of {', '.join(choices(fld))}")
            else:
                out.setdefault(fld, {})[word] = value
    return out, errors
