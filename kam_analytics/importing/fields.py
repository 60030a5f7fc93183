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
    "deal_field_history": ((), ("deal_id", "changed_at", "field")),   # a change to an empty value is a change
    "account_plans": (("account_id", "plan_date"), ("account_name", "plan_date")),
    "plans": (("deal_id", "plan_type"), ("deal_id", "plan_type")),
    "account_goals": (("account_id", "goal"), ("account_name", "goal")),
    "stakeholders": (("account_id", "name"), ("account_name", "name", "role")),
    "account_actions": (("account_id", "action_step"), ("account_name", "action_step", "status")),
    "plan_steps": (("deal_id", "plan_type", "step_no"), ("deal_id", "step")),
    "forecast_calls": (("owner", "period", "submitted_at"), ("owner", "period", "submitted_at")),
    "quotas": (("owner", "period"), ("owner", "period", "amount")),
}

# The id columns of every table: compared as written (case-sensitive) after trimming and
# Unicode NFKC, invisible characters refused (coerce.to_id), in a file and against the database.
ID_FIELDS = ("deal_id", "account_id")

# Load order: parents first.
LOAD_ORDER = ("accounts", "owners", "products", "fx_rates", "deals", "deal_history", "deal_field_history",
              "account_plans", "account_goals", "stakeholders", "account_actions",
              "plans", "plan_steps", "forecast_calls", "quotas")

STATUS_WORDS = {
    # account_actions / plan_steps statuses (English and Italian) -> canonical; matched after
    # normalisation (case, accents, apostrophes and punctuation ignored)
    "not started": "not started", "non iniziato": "not started", "da iniziare": "not started",
    "to do": "not started", "todo": "not started", "open": "not started", "planned": "not started",
    "non avviato": "not started", "non avviata": "not started", "da fare": "not started", "pianificato": "not started",
    "pianificata": "not started", "aperto": "not started", "aperta": "not started",
    "accepted": "accepted", "accettato": "accepted", "accettata": "accepted", "agreed": "accepted",
    "approved": "accepted", "approvato": "accepted", "approvata": "accepted", "concordato": "accepted",
    "in progress": "in progress", "in corso": "in progress", "ongoing": "in progress", "started": "in progress",
    "in lavorazione": "in progress", "avviato": "in progress", "avviata": "in progress", "in svolgimento": "in progress",
    "wip": "in progress", "work in progress": "in progress",
    "done": "done", "completed": "done", "complete": "done", "completato": "done",
    "completata": "done", "fatto": "done", "fatta": "done", "chiuso": "done", "chiusa": "done", "finished": "done",
    "closed": "done", "concluso": "done", "conclusa": "done", "terminato": "done", "terminata": "done",
    "rejected": "rejected", "rifiutato": "rejected", "rifiutata": "rejected", "declined": "rejected",
    "cancelled": "rejected", "canceled": "rejected", "annullato": "rejected", "annullata": "rejected",
    "respinto": "rejected", "respinta": "rejected",
}
RELATIONSHIP_WORDS = {
    "very weak": 1, "weak": 2, "moderate": 3, "strong": 4, "very strong": 5,
    "very poor": 1, "poor": 2, "fair": 3, "good": 4, "excellent": 5, "medium": 3, "neutral": 3,
    "molto debole": 1, "debole": 2, "buona": 3, "forte": 4, "molto forte": 5,
    "scarsa": 1, "discreta": 3, "media": 3, "moderata": 3, "ottima": 5, "eccellente": 5,
}
SENTIMENT_WORDS = {
    "supporter": "supporter", "positive": "supporter", "favorevole": "supporter", "sostenitore": "supporter",
    "supportive": "supporter", "positivo": "supporter", "positiva": "supporter", "promoter": "supporter",
    "promotore": "supporter", "sostenitrice": "supporter", "favourable": "supporter", "favorable": "supporter",
    "neutral": "neutral", "neutrale": "neutral", "neutro": "neutral", "neutra": "neutral", "indifferent": "neutral",
    "indifferente": "neutral", "undecided": "neutral", "indeciso": "neutral", "indecisa": "neutral",
    "detractor": "detractor", "negative": "detractor", "contrario": "detractor", "detrattore": "detractor",
    "contraria": "detractor", "negativo": "detractor", "negativa": "detractor", "opposed": "detractor",
    "critico": "detractor", "critica": "detractor", "detrattrice": "detractor", "sfavorevole": "detractor",
}
# Forecast categories (Salesforce, HubSpot, Dynamics and their Italian forms) -> canonical.
FORECAST_WORDS = {
    "pipeline": "pipeline", "in pipeline": "pipeline", "pipe": "pipeline",
    "best case": "best case", "bestcase": "best case", "upside": "best case", "caso migliore": "best case",
    "migliore dei casi": "best case", "scenario migliore": "best case", "probabile": "best case",
    "commit": "commit", "committed": "commit", "impegno": "commit", "impegnato": "commit", "impegnata": "commit",
    "confermato": "commit", "confermata": "commit",
    "closed": "closed", "closed won": "closed", "chiuso": "closed", "chiusa": "closed", "chiuso vinto": "closed",
    "omitted": "omitted", "omit": "omitted", "not forecasted": "omitted", "omesso": "omitted", "omessa": "omitted",
    "escluso": "omitted", "esclusa": "omitted", "non previsto": "omitted", "closed lost": "omitted",
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
                   "piano di chiusura": "closing", "close plan": "closing", "sales plan": "closing",
                   "mutual": "mutual", "mutual plan": "mutual", "mutual action plan": "mutual", "map": "mutual",
                   "mutual close plan": "mutual", "joint plan": "mutual", "joint action plan": "mutual",
                   "reciproco": "mutual", "piano d'azione reciproco": "mutual", "piano di azione reciproco": "mutual",
                   "piano d'azione condiviso": "mutual", "piano reciproco": "mutual", "condiviso": "mutual",
                   "piano condiviso": "mutual", "piano congiunto": "mutual"}
ROLE_WORDS = {r: r for r in ("decision maker", "economic buyer", "champion", "influencer", "technical buyer",
                             "user", "blocker", "coach")} | {
    "decisore": "decision maker", "decision-maker": "decision maker", "key decision maker": "decision maker",
    "final decision maker": "decision maker", "responsabile della decisione": "decision maker",
    "decisore finale": "decision maker", "chi decide": "decision maker",
    "decisore economico": "economic buyer", "acquirente economico": "economic buyer", "budget holder": "economic buyer",
    "budget owner": "economic buyer", "titolare del budget": "economic buyer", "responsabile del budget": "economic buyer",
    "sostenitore interno": "champion", "campione": "champion", "promotore interno": "champion",
    "internal champion": "champion", "sponsor interno": "champion",
    "influenzatore": "influencer", "influencer interno": "influencer", "influente": "influencer",
    "acquirente tecnico": "technical buyer", "valutatore tecnico": "technical buyer",
    "technical evaluator": "technical buyer", "referente tecnico": "technical buyer",
    "utente": "user", "end user": "user", "utente finale": "user", "user buyer": "user", "utilizzatore": "user",
    "oppositore": "blocker", "bloccante": "blocker", "ostacolo": "blocker", "detrattore interno": "blocker",
    "mentore": "coach", "guida": "coach", "consigliere": "coach", "allenatore": "coach"}
SIDE_WORDS = {"buyer": "buyer", "acquirente": "buyer", "cliente": "buyer", "customer": "buyer", "client": "buyer",
              "buyer side": "buyer", "lato cliente": "buyer", "prospect": "buyer", "compratore": "buyer",
              "seller": "seller", "venditore": "seller", "vendor": "seller", "us": "seller", "we": "seller",
              "seller side": "seller", "lato venditore": "seller", "fornitore": "seller", "noi": "seller",
              "supplier": "seller", "sales": "seller",
              "joint": "joint", "both": "joint", "congiunto": "joint", "entrambi": "joint", "mutual": "joint",
              "congiunta": "joint", "insieme": "joint", "shared": "joint", "condiviso": "joint", "ambedue": "joint"}
