"""What each canonical table needs from a file: its key, its required fields and the order
tables load in. Column types come from the database schema itself (one source)."""

from __future__ import annotations

# table -> (key fields, required fields)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "accounts": (("account_id",), ("account_name",)),
    "owners": (("owner",), ("owner",)),
    "products": (("product",), ("product",)),
    "fx_rates": (("currency", "valid_from"), ("currency", "rate", "valid_from")),
    "deals": (("deal_id",), ("deal_id", "stage")),
    "deal_history": ((), ("deal_id", "changed_at", "stage")),
    "deal_field_history": ((), ("deal_id", "changed_at", "field", "new_value")),
    "account_plans": (("account_id", "plan_date"), ("account_name", "plan_date")),
    "plans": (("deal_id", "plan_type"), ("deal_id", "plan_type")),
    "account_goals": (("account_id", "goal"), ("account_name", "goal")),
    "stakeholders": (("account_id", "name"), ("account_name", "name", "role")),
    "account_actions": (("account_id", "action_step"), ("account_name", "action_step", "status")),
    "plan_steps": (("deal_id", "plan_type", "step_no"), ("deal_id", "step")),
    "forecast_calls": (("owner", "period", "submitted_at"), ("owner", "period", "submitted_at")),
    "quotas": (("owner", "period"), ("owner", "period", "amount")),
}

# Load order: parents first.
LOAD_ORDER = ("accounts", "owners", "products", "fx_rates", "deals", "deal_history", "deal_field_history",
              "account_plans", "account_goals", "stakeholders", "account_actions",
              "plans", "plan_steps", "forecast_calls", "quotas")

STATUS_WORDS = {
    # account_actions / plan_steps statuses (English and Italian) -> canonical
    "not started": "not started", "non iniziato": "not started", "da iniziare": "not started",
    "accepted": "accepted", "accettato": "accepted", "accettata": "accepted",
    "in progress": "in progress", "in corso": "in progress", "ongoing": "in progress",
    "done": "done", "completed": "done", "complete": "done", "completato": "done",
    "completata": "done", "fatto": "done", "chiuso": "done",
    "rejected": "rejected", "rifiutato": "rejected", "rifiutata": "rejected",
}
RELATIONSHIP_WORDS = {
    "very weak": 1, "weak": 2, "moderate": 3, "strong": 4, "very strong": 5,
    "molto debole": 1, "debole": 2, "buona": 3, "forte": 4, "molto forte": 5,
}
SENTIMENT_WORDS = {
    "supporter": "supporter", "positive": "supporter", "favorevole": "supporter", "sostenitore": "supporter",
    "neutral": "neutral", "neutrale": "neutral", "neutro": "neutral",
    "detractor": "detractor", "negative": "detractor", "contrario": "detractor", "detrattore": "detractor",
}
# A field-change log's field names -> the deal_history field they change (others are ignored).
LOGGED_FIELDS = {"stage": "stage", "stagename": "stage", "opportunity stage": "stage", "deal stage": "stage",
                 "fase": "stage", "amount": "amount", "importo": "amount", "value": "amount",
                 "close date": "close_date", "closedate": "close_date", "expected close date": "close_date",
                 "data chiusura": "close_date", "data di chiusura": "close_date",
                 "forecast category": "forecast_category", "forecastcategoryname": "forecast_category",
                 "forecast category name": "forecast_category", "probability": "probability",
                 "probability %": "probability", "probabilita": "probability"}
# Fields a file may hold that are not database columns: their types.
FILE_ONLY_TYPES = {"deal_field_history": {"changed_at": "TIMESTAMP"}}

PLAN_TYPE_WORDS = {"closing": "closing", "closing plan": "closing", "di chiusura": "closing", "chiusura": "closing",
                   "piano di chiusura": "closing", "mutual": "mutual", "mutual plan": "mutual",
                   "mutual action plan": "mutual", "map": "mutual", "reciproco": "mutual",
                   "piano d azione reciproco": "mutual", "piano reciproco": "mutual", "condiviso": "mutual"}
ROLE_WORDS = {r: r for r in ("decision maker", "economic buyer", "champion", "influencer", "technical buyer",
                             "user", "blocker", "coach")} | {
    "decisore": "decision maker", "decisore economico": "economic buyer", "sostenitore interno": "champion",
    "influenzatore": "influencer", "acquirente tecnico": "technical buyer", "utente": "user",
    "oppositore": "blocker", "bloccante": "blocker", "mentore": "coach"}
SIDE_WORDS = {"buyer": "buyer", "acquirente": "buyer", "cliente": "buyer", "customer": "buyer",
              "seller": "seller", "venditore": "seller", "vendor": "seller", "us": "seller",
              "joint": "joint", "both": "joint", "congiunto": "joint", "entrambi": "joint"}
