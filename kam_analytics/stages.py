"""The stage list inferred from the data, until the user saves one (docs/metrics.md "Stages").

Evidence, strongest first, decides the order of two open stages:
1. the median position of each stage's first visit in the histories of deals that passed
   through two or more stages;
2. the stage's typical probability, then its typical forecast category (pipeline < best case
   < commit);
3. a built-in vocabulary of common CRM stage names in English and Italian, in their usual order.
Where none of them decides between two neighbours, the list is undecided there: every
stage-based page and CLI note says so until the list is confirmed in Settings. Closed stages
come last (won, then lost): ordered by position, a lost stage would sit mid-list, because lost
deals close early in their path."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Common stage names, by their usual place in a sales path (English and Italian).
STAGE_VOCABULARY: dict[int, tuple[str, ...]] = {
    0: ("lead", "new", "new lead", "nuovo", "nuova", "suspect", "prospect", "prospecting", "prospezione",
        "identified", "identificato", "identificata", "contatto", "primo contatto", "first contact", "inbound"),
    1: ("qualify", "qualification", "qualified", "qualificazione", "qualificato", "qualificata", "da qualificare",
        "contacted", "contattato", "engaging", "engaged", "engagement", "ingaggio"),
    2: ("discovery", "needs analysis", "analisi dei bisogni", "analisi esigenze", "analisi", "scoperta",
        "meeting", "incontro", "appuntamento", "demo", "demonstration", "dimostrazione", "value proposition",
        "id decision makers", "perception analysis", "develop", "sviluppo", "develop solution"),
    3: ("solution", "solution design", "evaluation", "valutazione", "technical validation", "validazione tecnica",
        "presentation", "presentazione", "proof of concept", "poc", "trial", "prova", "pilot", "pilota"),
    4: ("proposal", "propose", "proposta", "proposal made", "quote", "quotation", "preventivo", "offerta",
        "proposal price quote", "price quote", "offer", "proposta inviata", "offerta inviata"),
    5: ("negotiation", "negotiate", "negotiation review", "negoziazione", "trattativa", "contract", "contratto",
        "contract sent", "commit", "verbal", "verbal commit", "closing", "in chiusura", "legal", "legale",
        "procurement", "acquisti", "approvazione", "approval", "decision", "decisione", "firma", "signature"),
}
_PHRASES = sorted(((p, rank) for rank, ps in STAGE_VOCABULARY.items() for p in ps), key=lambda pr: -len(pr[0]))


def _words(name: str) -> str:
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " " + " ".join(re.sub(r"[^a-z]+", " ", s).split()) + " "


def vocabulary_rank(name: str) -> int | None:
    """The usual place of a stage name: its longest known phrase, as whole words."""
    w = _words(name)
    for phrase, rank in _PHRASES:
        if f" {phrase} " in w:
            return rank
    return None


@dataclass(frozen=True)
class Evidence:
    stage: str
    median_position: float | None
    median_probability: float | None
    category_rank: float | None

    @property
    def vocabulary(self) -> int | None:
        return vocabulary_rank(self.stage)


def _decide(a: Evidence, b: Evidence) -> int | None:
    """-1 when a comes before b, 1 after, None when no evidence tells them apart."""
    for x, y in ((a.median_position, b.median_position), (a.median_probability, b.median_probability),
                 (a.category_rank, b.category_rank), (a.vocabulary, b.vocabulary)):
        if x is not None and y is not None and x != y:
            return -1 if x < y else 1
    return None


def infer_order(evidence: list[Evidence], is_won, is_lost) -> tuple[list[str], list[tuple[str, str]]]:
    """The ordered list and the neighbouring open stages no evidence orders (undecided)."""
    closed = [e for e in evidence if is_won(e.stage) or is_lost(e.stage)]
    open_ = [e for e in evidence if e not in closed]
    # the strongest evidence first: stages with a position, by position; then the others
    first = sorted((e for e in open_ if e.median_position is not None), key=lambda e: (e.median_position, e.stage))
    rest = sorted((e for e in open_ if e.median_position is None),
                  key=lambda e: (e.vocabulary is None, e.vocabulary or 0, e.stage))
    ordered: list[Evidence] = []
    for e in first + rest:
        place = len(ordered)
        for i, other in enumerate(ordered):
            if _decide(e, other) == -1:
                place = i
                break
        ordered.insert(place, e)
    undecided = [(a.stage, b.stage) for a, b in zip(ordered, ordered[1:]) if _decide(a, b) is None]
    by_position = lambda e: (e.median_position is None, e.median_position or 0.0, e.stage)  # noqa: E731
    won = sorted((e for e in closed if is_won(e.stage)), key=by_position)
    lost = sorted((e for e in closed if not is_won(e.stage)), key=by_position)
    return [e.stage for e in ordered + won + lost], undecided
