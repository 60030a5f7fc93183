"""Blank templates to fill in (`template KIND -o FILE.xlsx [--lang en|it]`): an instructions
sheet, one example row, drop-downs for stages, statuses, sides and roles. Every label is
one the importer recognises, so a filled template imports back with every value intact."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from .errors import UsageError
from .exports import put
from .settings import MUTUAL_PLAN_TEMPLATE

LANGS = ("en", "it")
DEFAULT_STAGES = ["Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]


@dataclass(frozen=True)
class Col:
    field: str
    en: str
    it: str
    example_en: object = None
    example_it: object = None
    choices: str | None = None        # name of a drop-down list

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.it

    def example(self, lang: str):
        return self.example_en if lang == "en" or self.example_it is None else self.example_it


CHOICES = {
    "status": {"en": ["not started", "accepted", "in progress", "done", "rejected"],
               "it": ["Non iniziato", "Accettato", "In corso", "Completato", "Rifiutato"]},
    "side": {"en": ["buyer", "seller", "joint"], "it": ["acquirente", "venditore", "congiunto"]},
    "role": {"en": ["decision maker", "economic buyer", "champion", "influencer", "technical buyer", "user",
                    "blocker", "coach"],
             "it": ["decisore", "decisore economico", "sostenitore interno", "influenzatore", "acquirente tecnico",
                    "utente", "oppositore", "mentore"]},
    "sentiment": {"en": ["supporter", "neutral", "detractor"], "it": ["favorevole", "neutrale", "contrario"]},
    "forecast": {"en": ["pipeline", "best case", "commit", "closed", "omitted"],
                 "it": ["pipeline", "best case", "commit", "closed", "omitted"]},
    "plan_type": {"en": ["closing", "mutual"], "it": ["di chiusura", "reciproco"]},
    "influence": {"en": ["1", "2", "3", "4", "5"], "it": ["1", "2", "3", "4", "5"]},
}

DEALS = [
    Col("deal_id", "Deal ID", "ID trattativa", "D-1001", "T-1001"),
    Col("account_name", "Account", "Cliente", "Alpha Foods", "Ferretti Costruzioni S.p.A."),
    Col("deal_name", "Deal name", "Nome trattativa", "Alpha Foods – Core Platform", "Ferretti – Piattaforma"),
    Col("owner", "Owner", "Responsabile", "Anna Smith", "Marco Bianchi"),
    Col("segment", "Segment", "Segmento", "Enterprise"),
    Col("region", "Region", "Regione", "EMEA"),
    Col("source", "Source", "Fonte", "Inbound", "Evento"),
    Col("product", "Product", "Prodotto", "Core Platform"),
    Col("amount", "Amount", "Importo", 48000.0),
    Col("currency", "Currency", "Valuta", "EUR"),
    Col("created_date", "Created date", "Data creazione", date(2026, 1, 12)),
    Col("close_date", "Close date", "Data di chiusura", date(2026, 4, 30)),
    Col("stage", "Stage", "Fase", "@stage", choices="stages"),
    Col("forecast_category", "Forecast category", "Categoria previsione", "pipeline", choices="forecast"),
    Col("loss_reason", "Loss reason", "Motivo perdita"),
    Col("competitor", "Competitor", "Concorrente", "Brightline"),
    Col("champion", "Champion", "Sponsor interno", "Lucas Martin", "Chiara Conti"),
    Col("economic_buyer", "Economic buyer", "Decisore economico", "Emma Brown", "Paolo Greco"),
]
HISTORY = [
    Col("deal_id", "Deal ID", "ID trattativa", "D-1001", "T-1001"),
    Col("changed_at", "Changed at", "Data modifica", datetime(2026, 2, 3, 14, 30)),
    Col("stage", "Stage", "Fase", "@stage", choices="stages"),
    Col("amount", "Amount", "Importo", 48000.0),
    Col("close_date", "Close date", "Data di chiusura", date(2026, 4, 30)),
    Col("forecast_category", "Forecast category", "Categoria previsione", "pipeline", choices="forecast"),
    Col("probability", "Probability", "Probabilità", 0.2),
]
ACCOUNT_KV = [Col("account_name", "Account", "Cliente", "Alpha Foods", "Ferretti Costruzioni S.p.A.")]
PLAN_KV = ACCOUNT_KV + [
    Col("plan_date", "Plan date", "Data", date(2026, 1, 15)),
    Col("created_by", "Created by", "Creato da", "Anna Smith", "Marco Bianchi"),
    Col("version", "Version", "Versione", "1.0"),
    Col("objective", "Objective", "Obiettivo", "Expand to a second business unit",
        "Estendere la fornitura a una seconda divisione"),
    Col("annual_target", "Annual target", "Obiettivo annuale", 250000.0),
    Col("next_review_date", "Next review date", "Prossima revisione", date(2026, 4, 15)),
    Col("customer_profile", "Customer profile", "Profilo cliente", "Market leader in its region; three plants",
        "Leader di mercato nella sua regione; tre stabilimenti"),
    Col("situation_analysis", "Situation analysis", "Analisi della situazione",
        "Strengths: long relationship. Weakness: one contact in IT. Competition: Brightline",
        "Punti di forza: relazione lunga. Debolezza: un solo contatto in IT. Concorrenza: Brightline"),
    Col("strategies", "Strategies and tactics", "Strategie e tattiche", "Land the analytics add-on first",
        "Introdurre prima l'add-on di analisi"),
    Col("resource_allocation", "Resource allocation", "Allocazione delle risorse", "Solution engineer 2 days/month",
        "Solution engineer 2 giorni al mese"),
    Col("performance_monitoring", "Performance monitoring", "Monitoraggio delle prestazioni",
        "Quarterly business review", "Revisione trimestrale"),
]
ACTIONS = [
    Col("action_step", "Action step", "Fase di azione", "Executive briefing", "Incontro con il vertice"),
    Col("owner", "Owner", "Responsabile", "Anna Smith", "Marco Bianchi"),
    Col("description", "Description", "Descrizione", "Present the roadmap to the leadership team",
        "Presentare la roadmap al comitato direttivo"),
    Col("status", "Status", "Stato", "@status", choices="status"),
    Col("external_stakeholders", "External stakeholders", "Azionisti esterni", "CIO", "Direttore IT"),
    Col("due_date", "Due date", "Scadenza", date(2026, 3, 31)),
    Col("completed_date", "Completed date", "Data completamento"),
    Col("notes", "Notes / constraints", "Note/Vincoli", "Budget approved only in January",
        "Budget approvato solo a gennaio"),
]
GOALS = [
    Col("goal", "Goal", "Traguardo", "Won amount this year", "Fatturato vinto quest'anno"),
    Col("metric", "Metric", "Metrica", "won amount"),
    Col("target_value", "Target value", "Valore obiettivo", 250000.0),
    Col("due_date", "Due date", "Scadenza", date(2026, 12, 31)),
    Col("status", "Status", "Stato", "on track", "in linea"),
]
MAP = [
    Col("name", "Name", "Nome", "Emma Brown", "Paolo Greco"),
    Col("title", "Title", "Qualifica", "Chief Financial Officer", "Direttore Finanziario"),
    Col("role", "Role", "Ruolo", "@role", choices="role"),
    Col("reports_to", "Reports to", "Riporta a", "Olivia Taylor", "Sofia Romano"),
    Col("influence", "Influence", "Influenza", 4, choices="influence"),
    Col("sentiment", "Sentiment", "Atteggiamento", "@sentiment", choices="sentiment"),
    Col("preferred_communication", "Preferred communication", "Canale preferito", "email"),
]


def _plan_kv(kind: str) -> list[Col]:
    mutual = kind == "mutual-plan"
    cols = [
        Col("deal_id", "Deal ID", "ID trattativa", "D-1001", "T-1001"),
        Col("plan_type", "Plan type", "Tipo piano", "mutual" if mutual else "closing",
            "reciproco" if mutual else "di chiusura", choices="plan_type"),
        Col("seller_owner", "Seller owner", "Responsabile venditore", "Anna Smith", "Marco Bianchi"),
        Col("buyer_owner", "Buyer owner", "Responsabile cliente", "Lucas Martin", "Chiara Conti"),
        Col("problem", "Problem", "Problema", "Forecasting takes two days a month",
            "Le previsioni richiedono due giorni al mese"),
        Col("proposed_solution", "Proposed solution", "Soluzione proposta", "Core Platform with analytics",
            "Piattaforma con modulo di analisi"),
        Col("target_date", "Target date", "Data obiettivo", date(2026, 4, 30)),
        Col("created_date", "Created date", "Data creazione", date(2026, 1, 20)),
    ]
    if mutual:
        cols += [Col("converted_date", "Converted date", "Data conversione", date(2026, 2, 2)),
                 Col("seller_signed_date", "Seller signed date", "Firmato venditore", date(2026, 2, 5)),
                 Col("buyer_signed_date", "Buyer signed date", "Firmato cliente", date(2026, 2, 9))]
    return cols


STEPS = [
    Col("step_no", "Step no", "N.", 1),
    Col("step", "Step", "Passo", "@step"),
    Col("stage", "Stage", "Fase", "@step_stage", choices="stages"),
    Col("owner", "Owner", "Responsabile", "Anna Smith", "Marco Bianchi"),
    Col("side", "Side", "Lato", "@side", choices="side"),
    Col("original_due_date", "Original due date", "Scadenza originale", date(2026, 2, 13)),
    Col("due_date", "Due date", "Scadenza", date(2026, 2, 20)),
    Col("completed_date", "Completed date", "Data completamento", date(2026, 2, 18)),
    Col("status", "Status", "Stato", "@status_done", choices="status"),
]

# kind -> sheets: (title en, title it, key-value block, table)
KINDS = {
    "account-plan": [("Account plan", "Piano account", PLAN_KV, ACTIONS), ("Goals", "Traguardi", ACCOUNT_KV, GOALS)],
    "account-map": [("Account map", "Mappa account", ACCOUNT_KV, MAP)],
    "deals": [("Deals", "Trattative", [], DEALS)],
    "stage-history": [("Stage history", "Storico fasi", [], HISTORY)],
    "closing-plan": [("Closing plan", "Piano di chiusura", _plan_kv("closing-plan"), STEPS)],
    "mutual-plan": [("Mutual action plan", "Piano d'azione reciproco", _plan_kv("mutual-plan"), STEPS)],
}

INSTRUCTIONS = {
    "en": ["How to fill in this template",
           "Write one row per item under the header row; the first row is an example: overwrite it.",
           "Keep the header row and the labels ending with ':' as they are; the importer recognises them.",
           "Dates as dates (or 2026-03-31); amounts as plain numbers; pick stages, statuses, sides and "
           "roles from the drop-downs.",
           "Import it on the Import page or with: python -m kam_analytics import FILE.xlsx"],
    "it": ["Come compilare questo modello",
           "Scrivi una riga per elemento sotto l'intestazione; la prima riga è un esempio: sovrascrivila.",
           "Lascia invariate l'intestazione e le etichette che finiscono con ':'; l'importazione le riconosce.",
           "Date come date (o 2026-03-31); importi come numeri; scegli fasi, stati, lati e ruoli dagli elenchi.",
           "Importalo dalla pagina Import o con: python -m kam_analytics import FILE.xlsx"],
}


def _example(col: Col, lang: str, stages: list[str], row: int = 0):
    v = col.example(lang)
    if not isinstance(v, str) or not v.startswith("@"):
        return v
    step = MUTUAL_PLAN_TEMPLATE[row % len(MUTUAL_PLAN_TEMPLATE)]
    won = next((s for s in stages if "won" in s.lower() or "vint" in s.lower()), stages[-1])
    if v == "@stage":
        return stages[min(2, len(stages) - 1)]
    if v == "@step":
        return step["step"]
    if v == "@step_stage":
        return won if step["stage"] == "won" else (step["stage"] if step["stage"] in stages else stages[0])
    if v == "@side":
        return CHOICES["side"][lang][["buyer", "seller", "joint"].index(step["side"])]
    if v == "@status":
        return CHOICES["status"][lang][2]
    if v == "@status_done":
        return CHOICES["status"][lang][3]
    if v == "@role":
        return CHOICES["role"][lang][1]
    if v == "@sentiment":
        return CHOICES["sentiment"][lang][0]
    raise ValueError(v)


def _localised(col: Col, value, lang: str):
    """A stored value as the template writes it: drop-down words in the template's language,
    dates as dates, missing as an empty cell."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if col.choices in ("side", "status", "plan_type", "sentiment", "role", "forecast"):
        words = CHOICES[col.choices]
        if value in words["en"]:
            return words[lang][words["en"].index(value)]
    return value


@dataclass
class Sheet:
    """One sheet of a template: its titles, key-value block and table, and optionally what
    fills it (header field -> value; one dict per table row) and extra trailing columns
    that the importer leaves aside (a refreshed export's figures)."""
    title_en: str
    title_it: str
    kv: list
    table: list
    values: dict | None = None
    rows: list[dict] | None = None
    extra: list = field(default_factory=list)


def build(kind: str, lang: str = "en", stages: list[str] | None = None, values: dict | None = None,
          rows: list[dict] | None = None) -> bytes:
    """A template workbook. With `values` (header field -> value) and `rows` (one dict of
    field -> value per table row) it is filled in instead of holding the example: an export
    in the template's shape, which imports back (e.g. a generated closing plan)."""
    if kind not in KINDS:
        raise UsageError(f"unknown template {kind!r}; templates: {', '.join(KINDS)}")
    return workbook([Sheet(*spec, values=values, rows=rows) for spec in KINDS[kind]], lang, stages)


def workbook(sheets: list[Sheet], lang: str = "en", stages: list[str] | None = None,
             numbers: tuple[str, list[tuple[str, object]]] | None = None) -> bytes:
    """The workbook of `sheets` after the instructions sheet; `numbers` (title, [(label,
    value)]) adds a sheet of `label:` value lines, which the importer reads as a key-value
    block that is no table's header, so it imports nothing."""
    if lang not in LANGS:
        raise UsageError(f"--lang: expected en or it, got {lang!r}")
    stages = stages or DEFAULT_STAGES
    lists = {**{k: v[lang] for k, v in CHOICES.items()}, "stages": stages}
    wb = Workbook()
    ws = wb.active
    ws.title = "Instructions" if lang == "en" else "Istruzioni"
    for i, line in enumerate(INSTRUCTIONS[lang], start=1):
        put(ws, i, 1, line).font = Font(bold=(i == 1), size=14 if i == 1 else 11)
    ws.column_dimensions["A"].width = 110
    # the drop-down lists live on a hidden sheet (long lists do not fit inline)
    lists_ws = wb.create_sheet("Lists" if lang == "en" else "Elenchi")
    refs = {}
    for j, (name, words) in enumerate(lists.items(), start=1):
        put(lists_ws, 1, j, name)
        for i, v in enumerate(words, start=2):
            put(lists_ws, i, j, v)
        letter = lists_ws.cell(row=1, column=j).column_letter
        refs[name] = f"'{lists_ws.title}'!${letter}$2:${letter}${len(words) + 1}"
    lists_ws.sheet_state = "hidden"
    header_fill = PatternFill("solid", fgColor="DBEAFE")
    for sheet in sheets:
        kv, table, values, rows = sheet.kv, sheet.table, sheet.values, sheet.rows
        ws = wb.create_sheet(sheet.title_en if lang == "en" else sheet.title_it)
        r = 1
        for col in kv:
            put(ws, r, 1, col.label(lang) + ":").font = Font(bold=True)
            v = _example(col, lang, stages) if values is None else _localised(col, values.get(col.field), lang)
            cell = put(ws, r, 2, v)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if col.choices:
                dv = DataValidation(type="list", formula1=refs[col.choices], allow_blank=True)
                ws.add_data_validation(dv)
                dv.add(cell.coordinate)
            r += 1
        if kv:
            r += 1
        header_row = r
        columns = [*table, *(sheet.extra if rows is not None else [])]
        for j, col in enumerate(columns, start=1):
            c = put(ws, header_row, j, col.label(lang))
            c.font = Font(bold=True)
            c.fill = header_fill if j <= len(table) else PatternFill("solid", fgColor="FEF3C7")
            ws.column_dimensions[c.column_letter].width = max(14, len(col.label(lang)) + 4)
        if rows is not None:
            for k, row in enumerate(rows):
                for j, col in enumerate(columns, start=1):
                    put(ws, header_row + 1 + k, j, _localised(col, row.get(col.field), lang))
        else:
            examples = len(MUTUAL_PLAN_TEMPLATE) if table is STEPS else 1
            for k in range(examples):
                for j, col in enumerate(table, start=1):
                    v = _example(col, lang, stages, k)
                    if col.field == "step_no":
                        v = k + 1
                    put(ws, header_row + 1 + k, j, v)
        for j, col in enumerate(table, start=1):
            if col.choices:
                dv = DataValidation(type="list", formula1=refs[col.choices], allow_blank=True)
                ws.add_data_validation(dv)
                letter = ws.cell(row=header_row, column=j).column_letter
                dv.add(f"{letter}{header_row + 1}:{letter}{header_row + 1000}")
        ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width or 0, 28)
        if kv:
            ws.column_dimensions["B"].width = max(ws.column_dimensions["B"].width or 0, 40)
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    if numbers is not None:
        title, lines = numbers
        ws = wb.create_sheet(title)
        for i, (label, value) in enumerate(lines, start=1):
            put(ws, i, 1, label + ":").font = Font(bold=True)
            put(ws, i, 2, _localised(Col("", "", ""), value, lang))
        ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 34, 60
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
