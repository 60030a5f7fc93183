"""The demo world: a realistic, deterministic data set that fills every canonical table.

Vectorised with numpy (a loop over the few steps of a deal's path, never over deals) and
bulk-loaded in one batch, so 1,000,000 deals generate and load in well under a minute.
The generator's parameters live in the tables below; tests check that the reports recover
them, so the demo is also a test of the reports.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from . import batches, db, periods, store
from .errors import InputError
from .settings import MUTUAL_PLAN_TEMPLATE

# The demo world's last day: fixed, so the same seed gives the same data on any day.
DEMO_END = date(2026, 11, 20)
HISTORY_DAYS = 730  # deals are created over the two years before DEMO_END

OPEN_STAGES = ("Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation")
WON_STAGE, LOST_STAGE = "Closed Won", "Closed Lost"
ALL_STAGES = (*OPEN_STAGES, WON_STAGE, LOST_STAGE)
WON, LOST = len(OPEN_STAGES), len(OPEN_STAGES) + 1

# Per stage: median days of one visit (before the segment's multiplier), lognormal sigma,
# chance to skip the next stage, chance to step back to the previous stage (a revisit),
# the forecast category and probability a deal in it carries, and the weight of losses
# that happen at the end of a visit of it.
STAGE_PARAMS = pd.DataFrame(
    [
        ("Prospecting", 5.0, 0.6, 0.15, 0.00, "pipeline", 0.10, 0.30),
        ("Qualification", 9.0, 0.6, 0.00, 0.06, "pipeline", 0.20, 0.25),
        ("Discovery", 14.0, 0.6, 0.10, 0.06, "pipeline", 0.40, 0.20),
        ("Proposal", 21.0, 0.6, 0.00, 0.12, "best case", 0.60, 0.15),
        ("Negotiation", 16.0, 0.6, 0.00, 0.08, "commit", 0.80, 0.10),
    ],
    columns=["stage", "median_days", "sigma", "p_skip_next", "p_back", "forecast_category",
             "probability", "loss_weight"],
)

# Per segment: share of accounts, multiplier of every stage's median days, win rate of
# closed deals, and the median quantity a deal sells.
SEGMENT_PARAMS = pd.DataFrame(
    [
        ("Enterprise", 0.25, 1.5, 0.30, 40),
        ("Mid-Market", 0.35, 1.0, 0.25, 12),
        ("SMB", 0.40, 0.7, 0.20, 3),
    ],
    columns=["segment", "share", "duration_multiplier", "win_rate", "median_quantity"],
)

# Changes inside a visit: how many extra history rows a visit gets (0, 1, 2), and what
# each one changes. A stale expected close date is pushed at the next stage change with
# p_push_when_late. A share of lost-to-be deals stall in their last stage: one in ten. (At one
# in four, the stalled losers, lingering six times a stage's median, made up 28 % of the open
# pipeline at the demo's last day, so an honest risk score had to put about a third of the
# pipeline in its high band, and the calibrated weights learnt that "open at a quarter start"
# itself meant losing.)
CHANGE_PARAMS = {
    "extra_rows_p": (0.15, 0.40, 0.45),
    "change_kind_p": {"push": 0.35, "pull_in": 0.10, "amount": 0.35, "forecast_category": 0.20},
    "push_days": (14, 60),
    "pull_in_days": (7, 30),
    "amount_change": (0.7, 1.25),
    "p_push_when_late": 0.7,
    "p_same_timestamp_correction": 0.02,
    "p_stall": 0.10,
    "stall_multiplier": 6.0,
    "p_start_at_qualification": 0.2,
}

PLAN_PARAMS = {
    "p_closing_plan": 0.5,            # of deals that reached Discovery
    "p_mutual_if_won": 0.75, "p_mutual_otherwise": 0.4,   # of closing plans
    "p_seller_signed": 0.7, "p_buyer_signed_after_seller": 0.65,
    "p_step_slipped": 0.3,
}

REGIONS = ("EMEA", "North America", "APAC", "LATAM")
REGION_P = (0.45, 0.3, 0.15, 0.1)
INDUSTRIES = ("Manufacturing", "Retail", "Financial Services", "Healthcare", "Technology",
              "Energy", "Logistics", "Public Sector", "Telecommunications", "Food & Beverage")
SOURCES = ("Inbound", "Outbound", "Partner", "Event", "Referral")
SOURCE_P = (0.3, 0.3, 0.15, 0.15, 0.1)
PRODUCTS = pd.DataFrame(
    [("Core Platform", "Platform", 4800.0), ("Core Platform Plus", "Platform", 9600.0),
     ("Analytics Add-on", "Add-ons", 1200.0), ("Integration Pack", "Add-ons", 2400.0),
     ("Premium Support", "Services", 1800.0), ("Onboarding Services", "Services", 3500.0),
     ("Edge Devices", "Hardware", 650.0), ("Data Center Kit", "Hardware", 22000.0)],
    columns=["product", "product_family", "list_price"],
)
LOSS_REASONS = ("Price", "Lost to competitor", "No decision", "Timing", "Missing feature",
                "Budget cut", "Champion left")
COMPETITORS = ("Acumen Systems", "Brightline", "CoreStack", "Datavault", "Orbit CRM")

FIRST = ("Anna", "Marco", "Giulia", "Luca", "Sara", "David", "Emma", "James", "Sofia", "Noah",
         "Olivia", "Liam", "Chiara", "Matteo", "Elena", "Paolo", "Hannah", "Lucas", "Mia",
         "Oliver", "Aisha", "Ravi", "Yuki", "Carlos", "Ines", "Tomas", "Nora", "Felix", "Lea", "Omar")
LAST = ("Rossi", "Bianchi", "Smith", "Johnson", "Ferrari", "Esposito", "Müller", "Garcia",
        "Martin", "Brown", "Romano", "Colombo", "Ricci", "Taylor", "Wilson", "Moreau", "Costa",
        "Silva", "Kowalski", "Novak", "Jensen", "Laurent", "Conti", "Greco", "Bruno", "Gallo",
        "Tanaka", "Patel", "Khan", "O'Brien")
NAME_A = ("Nord", "Alpha", "Blue", "Terra", "Vela", "Astra", "Luma", "Orion", "Silva", "Delta",
          "Nova", "Arca", "Sole", "Cima", "Mare", "Lago", "Vento", "Ferro", "Quarz", "Polar",
          "Zen", "Iris", "Atlas", "Gemma", "Helio", "Kappa", "Mira", "Onda", "Pietra", "Riva")
NAME_B = ("tech", "via", "logix", "gen", "tron", "mark", "dyne", "core", "vance", "flux",
          "corp", "nova", "works", "line", "soft", "med", "trade", "point", "wave", "port")
NAME_C = ("Systems", "Foods", "Logistics", "Energy", "Industries", "Retail", "Health", "Bank",
          "Telecom", "Group", "Labs", "Motors", "Pharma", "Textiles", "Media")
NAME_C_IT = ("Costruzioni S.p.A.", "Alimentari S.r.l.", "Meccanica S.p.A.", "Logistica S.r.l.",
             "Energia S.p.A.", "Tessile S.r.l.", "Farmaceutici S.p.A.", "Banca S.p.A.")

EN_TITLES = (("Chief Executive Officer", "decision maker"), ("Chief Financial Officer", "economic buyer"),
             ("Chief Information Officer", "technical buyer"), ("IT Manager", "champion"),
             ("Procurement Lead", "influencer"), ("Operations Lead", "user"))
IT_TITLES = (("Amministratore Delegato", "decision maker"), ("Direttore Finanziario", "economic buyer"),
             ("Direttore IT", "technical buyer"), ("Responsabile IT", "champion"),
             ("Responsabile Acquisti", "influencer"), ("Responsabile Operazioni", "user"))
# reports_to: the index of the manager within the six above (-1: the root)
TITLE_REPORTS_TO = (-1, 0, 0, 2, 1, 2)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    first = np.array(FIRST, dtype=object)[rng.integers(0, len(FIRST), n)]
    last = np.array(LAST, dtype=object)[rng.integers(0, len(LAST), n)]
    return first + " " + last


def _account_names(n: int, italian: np.ndarray) -> np.ndarray:
    i = np.arange(n)
    a = np.array(NAME_A, dtype=object)[i % len(NAME_A)]
    b = np.array(NAME_B, dtype=object)[(i // len(NAME_A)) % len(NAME_B)]
    c_en = np.array(NAME_C, dtype=object)[(i // (len(NAME_A) * len(NAME_B))) % len(NAME_C)]
    c_it = np.array(NAME_C_IT, dtype=object)[(i * 7 + i // len(NAME_A)) % len(NAME_C_IT)]
    base = a + b + " " + np.where(italian, c_it, c_en)
    # beyond the combinations, number the repeats so every name stays unique
    rep = i // (len(NAME_A) * len(NAME_B) * len(NAME_C))
    names = pd.Series(np.where(rep > 0, base + " " + (rep + 1).astype(str).astype(object), base))
    # Italian endings repeat sooner than the English ones: number any name seen before, so that
    # names stay unique (files name accounts by name; two accounts of one name cannot be told apart)
    seen = names.groupby(names).cumcount()
    letters = seen.map(lambda k: "" if k == 0 else " " + "BCDEFGHIJKLMNOPQRSTUVWXYZ"[(k - 1) % 25] * (1 + (k - 1) // 25))
    return (names + letters).to_numpy(dtype=object)


def _to_ts(t0: datetime, days: np.ndarray) -> np.ndarray:
    """Float days after t0 -> datetime64[us], rounded to the minute."""
    minutes = np.round(days * 1440.0).astype(np.int64)
    return np.datetime64(t0, "us") + (minutes * 60_000_000).astype("timedelta64[us]")


def _to_date(t0: datetime, days: np.ndarray) -> np.ndarray:
    return (np.datetime64(t0.date(), "D") + np.floor(days).astype(np.int64).astype("timedelta64[D]"))


class _Rows:
    """History rows collected step by step as column arrays."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, deal, t, sub, stage, amount, close_day, fc, prob) -> None:
        if len(deal):
            self.parts.append({"deal": deal, "t": t, "sub": sub, "stage": stage, "amount": amount,
                               "close_day": close_day, "fc": fc, "prob": prob})

    def frame(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}


FC_LEVELS = ("pipeline", "best case", "commit", "closed", "omitted")


def simulate_deals(n: int, rng: np.random.Generator, segment: np.ndarray, created: np.ndarray,
                   amount0: np.ndarray, end: float) -> dict:
    """Walk every deal through the stages at once. Times are float days after the start.
    Returns the history rows and each deal's final state."""
    sp = STAGE_PARAMS
    median = sp["median_days"].to_numpy()
    sigma = sp["sigma"].to_numpy()
    p_skip = sp["p_skip_next"].to_numpy()
    p_back = sp["p_back"].to_numpy()
    stage_fc = np.array([FC_LEVELS.index(x) for x in sp["forecast_category"]], dtype=np.int8)
    stage_prob = sp["probability"].to_numpy()
    mult = SEGMENT_PARAMS["duration_multiplier"].to_numpy()[segment]
    win_rate = SEGMENT_PARAMS["win_rate"].to_numpy()[segment]
    cp = CHANGE_PARAMS

    will_win = rng.random(n) < win_rate
    loss_w = sp["loss_weight"].to_numpy()
    lost_at = np.where(will_win, -1, rng.choice(len(OPEN_STAGES), n, p=loss_w / loss_w.sum()))
    stall = (~will_win) & (rng.random(n) < cp["p_stall"])
    stage = np.where(rng.random(n) < cp["p_start_at_qualification"], 1, 0)
    stage = np.where((lost_at == 0), 0, stage).astype(np.int8)
    expected_cycle = median.sum() * mult * 0.75 * np.exp(rng.normal(0, 0.3, n))
    close_day = np.floor(created + expected_cycle) + 1.0
    amount = amount0.copy()
    fc = stage_fc[stage].copy()
    t = created.copy()
    backs = np.zeros(n, dtype=np.int8)
    first_start = np.full((n, len(ALL_STAGES)), np.nan)
    closed_at = np.full(n, np.nan)
    all_idx = np.arange(n)

    rows = _Rows()
    rows.add(all_idx, t.copy(), np.ones(n, np.int8), stage.copy(), amount.copy(), close_day.copy(),
             fc.copy(), stage_prob[stage])
    first_start[all_idx, stage] = t
    active = np.ones(n, dtype=bool)
    for _step in range(8):
        idx = np.nonzero(active)[0]
        if not len(idx):
            break
        s = stage[idx]
        dur = median[s] * mult[idx] * np.exp(sigma[s] * rng.standard_normal(len(idx)))
        dur = np.where(stall[idx] & (s == lost_at[idx]), dur * cp["stall_multiplier"], dur)
        t0 = t[idx]
        t_end = t0 + dur

        # changes inside the visit: 0-2 extra rows, each pushing, pulling in, re-pricing
        # or re-categorising the deal
        n_extra = rng.choice(3, len(idx), p=cp["extra_rows_p"])
        u = np.sort(rng.uniform(0.05, 0.95, (len(idx), 2)), axis=1)
        kinds = list(cp["change_kind_p"])
        kind_p = np.array(list(cp["change_kind_p"].values()))
        for j in range(2):
            sel = (n_extra > j)
            tx = t0 + u[:, j] * dur
            sel &= tx < end
            k = idx[sel]
            if not len(k):
                continue
            kind = rng.choice(len(kinds), len(k), p=kind_p)
            push = kind == kinds.index("push")
            pull = kind == kinds.index("pull_in")
            amt = kind == kinds.index("amount")
            fcc = kind == kinds.index("forecast_category")
            close_day[k[push]] += rng.integers(cp["push_days"][0], cp["push_days"][1] + 1, push.sum())
            pulled = close_day[k[pull]] - rng.integers(cp["pull_in_days"][0], cp["pull_in_days"][1] + 1, pull.sum())
            close_day[k[pull]] = np.maximum(pulled, np.floor(tx[sel][pull]) + 1)
            amount[k[amt]] = np.round(amount[k[amt]] * rng.uniform(*cp["amount_change"], amt.sum()), -1)
            up = rng.random(fcc.sum()) < 0.6
            fc[k[fcc]] = np.clip(fc[k[fcc]] + np.where(up, 1, -1), 0, 2)
            rows.add(k, tx[sel], np.ones(len(k), np.int8), stage[k].copy(), amount[k].copy(),
                     close_day[k].copy(), fc[k].copy(), stage_prob[stage[k]])

        # where the visit leads
        r = rng.random(len(idx))
        nxt = s + 1
        can_back = (s > 0) & (backs[idx] == 0)
        go_back = can_back & (r < p_back[s])
        skip = (~go_back) & (rng.random(len(idx)) < p_skip[s]) & (s + 2 < len(OPEN_STAGES))
        nxt = np.where(skip, s + 2, nxt)
        lost_here = (lost_at[idx] >= 0)
        nxt = np.where(lost_here, np.minimum(nxt, np.maximum(lost_at[idx], s + 1)), nxt)
        nxt = np.where(go_back, s - 1, nxt)
        nxt = np.where(lost_here & (s >= lost_at[idx]) & ~go_back, LOST, nxt)
        nxt = np.where((~lost_here) & (s == len(OPEN_STAGES) - 1) & ~go_back, WON, nxt)
        backs[idx] += go_back

        happened = t_end < end
        k = idx[happened]
        te = t_end[happened]
        nx = nxt[happened].astype(np.int8)
        # an expected close date already passed is usually pushed at the stage change
        late = (close_day[k] <= te) & (nx < WON) & (rng.random(len(k)) < cp["p_push_when_late"])
        close_day[k[late]] = np.floor(te[late]) + rng.integers(7, 45, late.sum())
        closing = nx >= WON
        close_day[k[closing]] = np.floor(te[closing])
        fc[k] = np.where(nx == WON, FC_LEVELS.index("closed"),
                         np.where(nx == LOST, FC_LEVELS.index("omitted"), stage_fc[np.minimum(nx, WON - 1)]))
        prob = np.where(nx == WON, 1.0, np.where(nx == LOST, 0.0, stage_prob[np.minimum(nx, WON - 1)]))
        # a few rows are corrected at the same timestamp: a typo row, then the real one
        fix = rng.random(len(k)) < cp["p_same_timestamp_correction"]
        rows.add(k[fix], te[fix], np.zeros(fix.sum(), np.int8), nx[fix], amount[k[fix]] * 10,
                 close_day[k[fix]].copy(), fc[k[fix]].copy(), prob[fix])
        rows.add(k, te, np.ones(len(k), np.int8), nx, amount[k].copy(), close_day[k].copy(), fc[k].copy(), prob)
        stage[k] = nx
        t[k] = te
        fresh = np.isnan(first_start[k, nx])
        first_start[k[fresh], nx[fresh]] = te[fresh]
        closed_at[k[closing]] = te[closing]
        active[idx[~happened]] = False
        active[k[closing]] = False

    return {"rows": rows.frame(), "stage": stage, "amount": amount, "close_day": close_day,
            "fc": fc, "closed_at": closed_at, "first_start": first_start, "will_win": will_win}


def generate(deals: int = 5000, seed: int = 42) -> dict[str, pd.DataFrame]:
    """Every canonical table of the demo world as DataFrames (ids as small integers where
    the loader builds the text keys in SQL)."""
    rng = np.random.default_rng(seed)
    n = deals
    t0 = datetime.combine(DEMO_END - timedelta(days=HISTORY_DAYS), datetime.min.time())
    end = float(HISTORY_DAYS + 1)     # rows strictly before the day after DEMO_END

    # --- accounts -----------------------------------------------------------------------
    n_acc = int(np.clip(n // 25, 40, 40_000))
    seg = rng.choice(len(SEGMENT_PARAMS), n_acc, p=SEGMENT_PARAMS["share"].to_numpy())
    region = rng.choice(len(REGIONS), n_acc, p=REGION_P)
    italian = (np.asarray(REGIONS)[region] == "EMEA") & (rng.random(n_acc) < 0.5)
    key = rng.random(n_acc) < np.where(seg == 0, 0.2, 0.06)
    # however small the world, it holds an English and an Italian key account
    region[:2], italian[:2], key[:2] = REGIONS.index("EMEA"), (False, True), True
    acc_names = _account_names(n_acc, italian)
    tier = np.where(key, np.where(italian, np.where(rng.random(n_acc) < 0.5, "strategico", "chiave"), "key"),
                    np.where(rng.random(n_acc) < 0.5, "standard", "growth"))
    revenue = np.round(np.exp(rng.normal(np.log([2e9, 2e8, 2e7])[seg], 0.8)), -5)
    potential = np.round(revenue * rng.uniform(0.0005, 0.004, n_acc), -3)
    accounts = pd.DataFrame({
        "account_id": [f"ACC-{i:05d}" for i in range(1, n_acc + 1)],
        "account_name": acc_names,
        "industry": np.asarray(INDUSTRIES, dtype=object)[rng.integers(0, len(INDUSTRIES), n_acc)],
        "segment": SEGMENT_PARAMS["segment"].to_numpy()[seg],
        "region": np.asarray(REGIONS, dtype=object)[region],
        "annual_revenue": revenue,
        "revenue_potential": np.where(rng.random(n_acc) < 0.85, potential, np.nan),
        "relationship_strength": rng.choice(5, n_acc, p=(0.08, 0.2, 0.35, 0.27, 0.1)) + 1,
        "tier": tier,
    })

    # --- owners: teams of about seven, each with a manager, per region -------------------
    n_own = int(np.clip(round(n / 150), 8, 600))
    own_region = np.sort(rng.choice(len(REGIONS), n_own, p=REGION_P))
    own_names = pd.Series(_names(rng, n_own))
    own_names = (own_names + np.where(own_names.duplicated(keep="first"),
                                      " " + pd.Series(np.arange(n_own)).astype(str), "")).to_numpy()
    team_no = np.zeros(n_own, dtype=int)
    for r in range(len(REGIONS)):  # a loop over four regions
        m = own_region == r
        team_no[m] = np.arange(m.sum()) // 7 + 1
    team = np.asarray(REGIONS, dtype=object)[own_region] + " Team " + team_no.astype(str).astype(object)
    managers = {t: f"{FIRST[i % len(FIRST)]} {LAST[(i * 7 + 3) % len(LAST)]} (Mgr {i + 1})"
                for i, t in enumerate(pd.unique(team))}
    owners = pd.DataFrame({"owner": own_names, "manager": [managers[t] for t in team], "team": team,
                           "region": np.asarray(REGIONS, dtype=object)[own_region]})
    accounts["account_owner"] = own_names[_pick_by_group(rng, own_region, region)]

    # --- deals ---------------------------------------------------------------------------
    weight = np.where(key, 5.0, 1.0)
    deal_acc = rng.choice(n_acc, n, p=weight / weight.sum())
    d_seg = seg[deal_acc]
    created = rng.uniform(0, HISTORY_DAYS, n)
    created = np.floor(created) + rng.uniform(8 / 24, 18 / 24, n)  # office hours
    prod = rng.integers(0, len(PRODUCTS), n)
    qty = np.maximum(1, np.round(np.exp(rng.normal(np.log(SEGMENT_PARAMS["median_quantity"].to_numpy()[d_seg]), 0.8))))
    amount0 = np.round(PRODUCTS["list_price"].to_numpy()[prod] * qty, -1)
    sim = simulate_deals(n, rng, d_seg, created, amount0, end)

    status = np.where(sim["stage"] == WON, "won", np.where(sim["stage"] == LOST, "lost", "open"))
    lost = status == "lost"
    reached_disc = ~np.isnan(sim["first_start"][:, [2, 3, 4, WON]]).all(axis=1)
    acc_region = region[deal_acc]
    deal_owner = own_names[_pick_by_group(rng, own_region, acc_region)]
    champion = np.where(reached_disc & (rng.random(n) < 0.75), _names(rng, n), None)
    econ = np.where(reached_disc & (rng.random(n) < 0.6), _names(rng, n), None)
    competitor = np.where((lost & (rng.random(n) < 0.6)) | (rng.random(n) < 0.1),
                          np.asarray(COMPETITORS, dtype=object)[rng.integers(0, len(COMPETITORS), n)], None)
    deals = pd.DataFrame({
        "deal_no": np.arange(1, n + 1),
        "account_no": deal_acc,
        "owner": deal_owner,
        "segment": SEGMENT_PARAMS["segment"].to_numpy()[d_seg],
        "region": np.asarray(REGIONS, dtype=object)[acc_region],
        "source": np.asarray(SOURCES, dtype=object)[rng.choice(len(SOURCES), n, p=SOURCE_P)],
        "product_no": prod,
        "amount": sim["amount"],
        "currency": np.where(acc_region == REGIONS.index("North America"), "USD", "EUR"),
        "created_date": _to_date(t0, created),
        "close_date": _to_date(t0, sim["close_day"]),
        "stage_no": sim["stage"],
        "forecast_category": np.asarray(FC_LEVELS, dtype=object)[sim["fc"]],
        "closed_date": np.where(np.isnan(sim["closed_at"]), np.datetime64("NaT"),
                                _to_date(t0, np.nan_to_num(sim["closed_at"]))),
        "loss_reason": np.where(lost, np.asarray(LOSS_REASONS, dtype=object)[rng.integers(0, len(LOSS_REASONS), n)], None),
        "competitor": competitor,
        "champion": champion,
        "economic_buyer": econ,
    })
    hist = sim["rows"]
    history = pd.DataFrame({
        "deal_no": hist["deal"] + 1,
        "changed_at": _to_ts(t0, hist["t"]),
        "sub": hist["sub"],
        "stage_no": hist["stage"],
        "amount": hist["amount"],
        "close_date": _to_date(t0, hist["close_day"]),
        "forecast_category": np.asarray(FC_LEVELS, dtype=object)[hist["fc"]],
        "probability": hist["prob"],
    }).sort_values(["deal_no", "changed_at", "sub"], kind="stable")
    history["seq"] = np.arange(1, len(history) + 1)     # the import order

    out = {"accounts": accounts, "owners": owners, "products": PRODUCTS.copy(),
           "deals": deals, "deal_history": history}
    out.update(_plans(rng, t0, sim, deals, end))
    out.update(_account_world(rng, t0, accounts, key, italian, own_names))
    out.update(_forecasting(rng, deals))
    out["fx_rates"] = _fx_rates(rng)
    return out


def _pick_by_group(rng, owner_group: np.ndarray, wanted_group: np.ndarray) -> np.ndarray:
    """For each wanted group, a random owner index of that group (any owner if none)."""
    out = rng.integers(0, len(owner_group), len(wanted_group))
    for g in np.unique(wanted_group):
        members = np.nonzero(owner_group == g)[0]
        sel = wanted_group == g
        if len(members):
            out[sel] = members[rng.integers(0, len(members), sel.sum())]
    return out


def _plans(rng, t0: datetime, sim: dict, deals: pd.DataFrame, end: float) -> dict[str, pd.DataFrame]:
    """Closing plans from Discovery on; some become mutual plans with the template's steps,
    some signed by both sides, buyer steps late more often."""
    pp = PLAN_PARAMS
    n = len(deals)
    fs = sim["first_start"]
    disc = fs[:, 2]
    has = ~np.isnan(disc) & (rng.random(n) < pp["p_closing_plan"])
    idx = np.nonzero(has)[0]
    created = disc[idx] + rng.uniform(0, 3, len(idx))
    created = np.minimum(created, end - 1)
    won = sim["stage"][idx] == WON
    mutual = rng.random(len(idx)) < np.where(won, pp["p_mutual_if_won"], pp["p_mutual_otherwise"])
    conv = created + rng.uniform(2, 20, len(idx))
    closed_at = sim["closed_at"][idx]
    mutual &= (conv < end) & (np.isnan(closed_at) | (conv < closed_at))
    seller_signed = mutual & (rng.random(len(idx)) < pp["p_seller_signed"])
    buyer_signed = seller_signed & (rng.random(len(idx)) < pp["p_buyer_signed_after_seller"])
    s_sign = conv + rng.uniform(1, 10, len(idx))
    b_sign = s_sign + rng.uniform(0, 12, len(idx))
    s_sign_ok = seller_signed & (s_sign < end) & (np.isnan(closed_at) | (s_sign < closed_at))
    b_sign_ok = buyer_signed & s_sign_ok & (b_sign < end) & (np.isnan(closed_at) | (b_sign < closed_at))

    def d(x, ok=None):
        v = _to_date(t0, np.nan_to_num(x))
        if ok is not None:
            v = np.where(ok, v, np.datetime64("NaT"))
        return v

    deal_no = deals["deal_no"].to_numpy()[idx]
    champion = deals["champion"].to_numpy()[idx]
    closing = pd.DataFrame({
        "deal_no": deal_no, "plan_type": "closing", "created_date": d(created),
        "converted_date": np.datetime64("NaT"), "seller_owner": deals["owner"].to_numpy()[idx],
        "buyer_owner": None, "problem": None, "proposed_solution": None,
        "target_date": deals["close_date"].to_numpy()[idx],
        "seller_signed_date": np.datetime64("NaT"), "buyer_signed_date": np.datetime64("NaT"),
    })
    m = mutual
    problems = np.array(["Manual forecasting takes two days a month", "No single view of key accounts",
                         "Deal slippage is found too late", "Onboarding takes too long"], dtype=object)
    solutions = np.array(["Core Platform with the analytics add-on", "Platform roll-out in two phases",
                          "Integration pack and premium support", "Pilot in one region, then roll-out"], dtype=object)
    mutual_df = pd.DataFrame({
        "deal_no": deal_no[m], "plan_type": "mutual", "created_date": d(conv[m]),
        "converted_date": d(conv[m]), "seller_owner": deals["owner"].to_numpy()[idx][m],
        "buyer_owner": champion[m], "problem": problems[rng.integers(0, 4, m.sum())],
        "proposed_solution": solutions[rng.integers(0, 4, m.sum())],
        "target_date": deals["close_date"].to_numpy()[idx][m],
        "seller_signed_date": d(s_sign[m], s_sign_ok[m]), "buyer_signed_date": d(b_sign[m], b_sign_ok[m]),
    })
    plans = pd.concat([closing, mutual_df], ignore_index=True)

    # closing plans: four seller steps; mutual plans: the template's nine
    closing_steps = [("Confirm budget and timeline", "Discovery"), ("Map the buying committee", "Discovery"),
                     ("Deliver the solution demo", "Proposal"), ("Agree commercial terms", "Negotiation")]
    template = MUTUAL_PLAN_TEMPLATE
    stage_no = {s: i for i, s in enumerate(OPEN_STAGES)} | {"won": WON}
    med = STAGE_PARAMS["median_days"].to_numpy()
    seg_mult = SEGMENT_PARAMS.set_index("segment")["duration_multiplier"]
    parts = []
    for plan_type, sel, start, steps in (
        ("closing", np.ones(len(idx), bool), created,
         [{"step": s, "side": "seller", "stage": st} for s, st in closing_steps]),
        ("mutual", m, conv, template),
    ):
        k = np.nonzero(sel)[0]
        mult = seg_mult.reindex(deals["segment"].to_numpy()[idx][k]).to_numpy()
        for no, step in enumerate(steps, start=1):   # a loop over the template's steps
            st = stage_no[step["stage"]]
            # due at the end of the step's stage, by the stages' medians from Discovery on
            through = min(st, WON - 1)
            due = start[k] + med[2:through + 1].sum() * mult + (0 if st < WON else 10)
            slipped = rng.random(len(k)) < PLAN_PARAMS["p_step_slipped"]
            cur_due = due + np.where(slipped, rng.uniform(7, 30, len(k)), 0)
            # completed once the deal moved past the step's stage (won: after closing)
            passed_at = np.fmin.reduce(fs[idx[k], st + 1:WON + 1], axis=1) if st < WON else fs[idx[k], WON]
            late = np.exp(rng.normal(1.0 if step["side"] == "buyer" else 0.3, 1.0, len(k)))
            done_at = np.where(st >= WON, passed_at + rng.uniform(3, 20, len(k)),
                               np.minimum(passed_at, due + late - 2))
            done_at = np.maximum(done_at, start[k])
            completed = ~np.isnan(passed_at) & (done_at < end)
            rejected = ~completed & (rng.random(len(k)) < 0.03)
            parts.append(pd.DataFrame({
                "deal_no": deal_no[k], "plan_type": plan_type, "step_no": no, "step": step["step"],
                "stage": step["stage"] if step["stage"] != "won" else WON_STAGE,
                "owner": np.where(step["side"] == "buyer", champion[k], deals["owner"].to_numpy()[idx][k]),
                "side": step["side"], "original_due_date": d(due), "due_date": d(cur_due),
                "completed_date": d(done_at, completed),
                "status": np.where(completed, "done", np.where(rejected, "rejected",
                                   np.where(start[k] + 7 < end, "in progress", "not started"))),
            }))
    steps_df = pd.concat(parts, ignore_index=True)
    return {"plans": plans, "plan_steps": steps_df}


def _account_world(rng, t0: datetime, accounts: pd.DataFrame, key: np.ndarray, italian: np.ndarray,
                   owner_names: np.ndarray) -> dict[str, pd.DataFrame]:
    """Account plans, goals, the account map and action plans for key accounts (Italian
    where the account is); a small map for some other accounts."""
    end_day = np.datetime64(DEMO_END, "D")
    kidx = np.nonzero(key)[0]
    k_it = italian[kidx]
    acc_id = accounts["account_id"].to_numpy()
    nk = len(kidx)
    plan_age = rng.integers(5, 400, nk)
    plan_date = end_day - plan_age.astype("timedelta64[D]")
    has_plan = rng.random(nk) < 0.85
    has_plan[:2] = True
    pk = kidx[has_plan]
    pit = k_it[has_plan]
    fy_end = np.datetime64(f"{DEMO_END.year}-12-31", "D")

    def text(en: str, it: str, sel: np.ndarray, p_missing: float = 0.15) -> np.ndarray:
        v = np.where(sel, it, en).astype(object)
        return np.where(rng.random(len(sel)) < p_missing, None, v)

    account_plans = pd.DataFrame({
        "account_id": acc_id[pk], "plan_date": plan_date[has_plan],
        "created_by": accounts["account_owner"].to_numpy()[pk],
        "version": np.where(rng.random(len(pk)) < 0.5, "1.0", "2.0"),
        "objective": text("Grow the account by expanding to a second business unit",
                          "Crescere nell'account estendendo la fornitura a una seconda divisione", pit, 0),
        "annual_target": np.round(accounts["revenue_potential"].fillna(100_000).to_numpy()[pk] * 0.6, -3),
        "next_review_date": plan_date[has_plan] + np.timedelta64(90, "D"),
        "customer_profile": text("Market leader in its region; three plants; growing online sales",
                                 "Leader di mercato nella sua regione; tre stabilimenti; vendite online in crescita", pit),
        "situation_analysis": text("Strengths: long relationship. Weaknesses: single contact in IT. "
                                   "Competition: Brightline in the pilot.",
                                   "Punti di forza: relazione di lungo periodo. Debolezze: un solo contatto in IT. "
                                   "Concorrenza: Brightline nel pilota.", pit),
        "strategies": text("Land the analytics add-on, then propose the platform upgrade",
                           "Introdurre l'add-on di analisi, poi proporre l'aggiornamento della piattaforma", pit),
        "resource_allocation": text("Solution engineer two days a month; executive sponsor",
                                    "Un solution engineer due giorni al mese; sponsor esecutivo", pit, 0.3),
        "performance_monitoring": text("Quarterly business review against the annual target",
                                       "Revisione trimestrale rispetto all'obiettivo annuale", pit, 0.3),
    })

    goal_defs = [("Won amount this year", "won amount", 250_000), ("New deals won", "won deals", 4),
                 ("Open pipeline", "open pipeline", 400_000), ("Customer satisfaction (NPS)", "nps", 40)]
    goal_it = ["Fatturato vinto quest'anno", "Nuove trattative vinte", "Pipeline aperta", "Soddisfazione cliente (NPS)"]
    goals = []
    for gi, (g, metric, target) in enumerate(goal_defs):
        goals.append(pd.DataFrame({
            "account_id": acc_id[pk], "goal": np.where(pit, goal_it[gi], g), "metric": metric,
            "target_value": float(target) * rng.uniform(0.5, 2.0, len(pk)).round(1),
            "due_date": fy_end, "status": rng.choice(["on track", "at risk", "off track"], len(pk)),
        }))
    account_goals = pd.concat(goals, ignore_index=True)

    # the account map: six roles with reporting lines for key accounts; some roles missing
    people = []
    for ti in range(6):
        present = rng.random(nk) < (0.97 if ti == 0 else 0.85)
        names = _names(rng, nk)
        people.append((ti, present, names))
    maps = []
    for ti, present, names in people:
        mgr_i = TITLE_REPORTS_TO[ti]
        manager = people[mgr_i][2] if mgr_i >= 0 else np.full(nk, None, dtype=object)
        manager = np.where((mgr_i >= 0) & people[max(mgr_i, 0)][1], manager, None) if mgr_i >= 0 else manager
        title = np.where(k_it, IT_TITLES[ti][0], EN_TITLES[ti][0])
        sentiment = rng.choice(["supporter", "neutral", "detractor"], nk, p=(0.5, 0.35, 0.15))
        maps.append(pd.DataFrame({
            "account_id": acc_id[kidx], "name": names, "title": title, "role": EN_TITLES[ti][1],
            "reports_to": manager, "influence": rng.integers(1, 6, nk),
            "sentiment": sentiment,
            "preferred_communication": rng.choice(["email", "phone", "in person", "video call"], nk),
        })[present])
    blockers = rng.random(nk) < 0.15
    maps.append(pd.DataFrame({
        "account_id": acc_id[kidx][blockers], "name": _names(rng, blockers.sum()) + " Jr.",
        "title": np.where(k_it[blockers], "Responsabile Legale", "Legal Counsel"), "role": "blocker",
        "reports_to": None, "influence": 3, "sentiment": "detractor", "preferred_communication": "email",
    }))
    others = np.nonzero(~key & (rng.random(len(key)) < 0.3))[0]
    for role, title in (("champion", "Project Manager"), ("user", "Team Lead")):
        maps.append(pd.DataFrame({
            "account_id": acc_id[others], "name": _names(rng, len(others)), "title": title, "role": role,
            "reports_to": None, "influence": rng.integers(1, 4, len(others)),
            "sentiment": rng.choice(["supporter", "neutral"], len(others)),
            "preferred_communication": "email",
        }))
    stakeholders = pd.concat(maps, ignore_index=True).drop_duplicates(["account_id", "name"])

    steps_en = [("Executive briefing", "Present the roadmap to the leadership team"),
                ("Security questionnaire", "Complete the customer's security questionnaire"),
                ("Quarterly business review", "Review results against the plan"),
                ("Reference visit", "Organise a visit to a reference customer")]
    steps_it = [("Incontro con il vertice", "Presentare la roadmap al comitato direttivo"),
                ("Questionario di sicurezza", "Compilare il questionario di sicurezza del cliente"),
                ("Revisione trimestrale", "Verificare i risultati rispetto al piano"),
                ("Visita di referenza", "Organizzare una visita presso un cliente di riferimento")]
    acts = []
    for si in range(4):
        due = end_day + rng.integers(-60, 90, nk).astype("timedelta64[D]")
        status = rng.choice(["not started", "accepted", "in progress", "done", "rejected"], nk,
                            p=(0.2, 0.15, 0.3, 0.3, 0.05))
        done = status == "done"
        acts.append(pd.DataFrame({
            "account_id": acc_id[kidx],
            "action_step": np.where(k_it, steps_it[si][0], steps_en[si][0]),
            "owner": accounts["account_owner"].to_numpy()[kidx],
            "description": np.where(k_it, steps_it[si][1], steps_en[si][1]),
            "status": status,
            "external_stakeholders": np.where(k_it, "Direttore IT", "CIO"),
            "due_date": due,
            "completed_date": np.where(done, due - rng.integers(0, 10, nk).astype("timedelta64[D]"), np.datetime64("NaT")),
            "notes": np.where(rng.random(nk) < 0.3, np.where(k_it, "Vincolo: budget approvato solo a gennaio",
                                                             "Constraint: budget approved only in January"), None),
        }))
    account_actions = pd.concat(acts, ignore_index=True)
    done = account_actions["status"] == "done"
    future = account_actions["completed_date"] > end_day
    account_actions.loc[done & future, "completed_date"] = end_day
    return {"account_plans": account_plans, "account_goals": account_goals,
            "stakeholders": stakeholders, "account_actions": account_actions}


def _forecasting(rng, deals: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Quotas per owner and quarter, and owners' commit / best-case calls (two a quarter: a
    week before it starts, so that forecast accuracy at its first day has them, and in its
    seventh week), set around what each owner actually won."""
    closed = pd.to_datetime(deals["closed_date"])
    won = deals[(deals["stage_no"] == WON) & closed.notna()].copy()
    won["period"] = [periods.fiscal_quarter(d.date()) for d in pd.to_datetime(won["closed_date"])] if len(won) else []
    by = won.groupby(["owner", "period"])["amount"].sum()
    start = DEMO_END - timedelta(days=HISTORY_DAYS)
    quarters = sorted({periods.fiscal_quarter(start + timedelta(days=d)) for d in range(0, HISTORY_DAYS + 1, 30)}
                      | {periods.fiscal_quarter(DEMO_END)})
    owners = sorted(deals["owner"].unique())
    grid = pd.MultiIndex.from_product([owners, quarters], names=["owner", "period"])
    actual = by.reindex(grid, fill_value=0.0)
    typical = actual.groupby("owner").transform(lambda s: s[s > 0].median() if (s > 0).any() else 10_000.0)
    quotas = pd.DataFrame({"amount": np.round(typical.to_numpy() * 1.15, -3)}, index=grid).reset_index()
    calls = []
    for days, noise in ((-7, 0.25), (45, 0.12)):
        q_start = np.array([periods.quarter_bounds(p)[0] for p in grid.get_level_values("period")], dtype="datetime64[D]")
        submitted = q_start + np.timedelta64(days, "D") + np.timedelta64(10, "h")
        keep = submitted < np.datetime64(DEMO_END, "D")
        commit = np.round(actual.to_numpy() * rng.normal(0.9, noise, len(grid)).clip(0.3), -2)
        calls.append(pd.DataFrame({
            "owner": grid.get_level_values("owner"), "period": grid.get_level_values("period"),
            "submitted_at": submitted.astype("datetime64[us]"), "commit": commit,
            "best_case": np.round(commit * rng.uniform(1.1, 1.5, len(grid)), -2),
        })[keep])
    return {"quotas": quotas, "forecast_calls": pd.concat(calls, ignore_index=True)}


def _fx_rates(rng) -> pd.DataFrame:
    """Monthly USD rates (EUR per USD) over the demo's two years and the month before."""
    months = pd.date_range(DEMO_END - timedelta(days=HISTORY_DAYS + 31), DEMO_END, freq="MS")
    walk = 0.92 + np.cumsum(rng.normal(0, 0.01, len(months)))
    return pd.DataFrame({"currency": "USD", "rate": np.round(walk, 4), "valid_from": months.date})


def _insert(con, table: str, select_sql: str, frame: pd.DataFrame, params: dict) -> int:
    con.register("demo_src", frame)
    try:
        con.execute(f'insert into "{table}" by name {select_sql}', params)
    finally:
        con.unregister("demo_src")
    return len(frame)


DEMO_MEMORY_LIMIT = os.environ.get("KAM_DEMO_MEMORY_LIMIT", "2GB")   # a large demo's one batch (see load)


def load(path, deals: int = 5000, seed: int = 42, if_empty: bool = False, progress=None) -> str:
    """Generate the demo world and load it as one batch. Refuses a database that already
    holds deals (with if_empty, does nothing and says so). `progress(fraction, text)`
    reports progress to a page."""
    say = progress or (lambda f, t: None)
    with db.read(path) as con:
        existing = con.execute("select count(*) from deals").fetchone()[0]
    if existing:
        msg = (f"the database {db.db_path(path)} already holds {existing:,} deals; the demo "
               "loads only into an empty database (use --db with a new file)")
        if if_empty:
            return "demo data not loaded: " + msg.split("; ")[0].replace("the database", "database") + "."
        raise InputError(msg)
    say(0.05, f"Generating {deals:,} deals…")
    world = generate(deals, seed)
    say(0.5, "Loading into the database…")
    stages = list(ALL_STAGES)
    n_rows = 0
    with batches.batch(path, "demo", f"demo data: {deals:,} deals, seed {seed}") as b:
        p = {"b": b.batch_id}
        con = b.con
        n_rows += _insert(con, "accounts", "select *, $b as batch_id from demo_src", world["accounts"], p)
        n_rows += _insert(con, "owners", "select *, $b as batch_id from demo_src", world["owners"], p)
        n_rows += _insert(con, "products", "select *, $b as batch_id from demo_src", world["products"], p)
        n_rows += _insert(con, "fx_rates", "select *, $b as batch_id from demo_src", world["fx_rates"], p)
        con.register("demo_accounts", world["accounts"][["account_id", "account_name"]].assign(
            account_no=np.arange(len(world["accounts"]))))
        con.register("demo_products", world["products"].assign(product_no=np.arange(len(world["products"]))))
        n_rows += _insert(con, "deals", """
            select 'D' || lpad(s.deal_no::varchar, 7, '0') as deal_id, a.account_id,
                   a.account_name || ' – ' || pr.product as deal_name,
                   s.owner, s.segment, s.region, s.source, pr.product, s.amount, s.currency,
                   s.created_date::date as created_date, s.close_date::date as close_date,
                   $stages[s.stage_no + 1] as stage, s.forecast_category,
                   s.closed_date::date as closed_date, s.loss_reason, s.competitor, s.champion,
                   s.economic_buyer, $b as batch_id
            from demo_src s
            join demo_accounts a using (account_no)
            join demo_products pr using (product_no)
        """, world["deals"], {**p, "stages": stages})
        say(0.65, "Loading the deal histories…")
        n_rows += _insert(con, "deal_history", """
            select 'D' || lpad(deal_no::varchar, 7, '0') as deal_id, changed_at,
                   $stages[stage_no + 1] as stage, amount, close_date::date as close_date,
                   forecast_category, probability, seq, $b as batch_id
            from demo_src
        """, world["deal_history"], {**p, "stages": stages})
        for table in ("plans", "plan_steps"):
            frame = world[table]
            n_rows += _insert(con, table, f"""
                select * exclude (deal_no), 'D' || lpad(deal_no::varchar, 7, '0') as deal_id,
                       $b as batch_id
                from demo_src
            """, frame, p)
        for table in ("account_plans", "account_goals", "stakeholders", "account_actions",
                      "quotas", "forecast_calls"):
            n_rows += _insert(con, table, "select *, $b as batch_id from demo_src", world[table], p)
        con.unregister("demo_accounts")
        con.unregister("demo_products")
        b.rows_loaded = n_rows
        b.touched.update(db.DATA_TABLES)
        # the whole world is one transaction: at 1,000,000 deals its 12,000,000 uncommitted rows
        # stay in DuckDB's memory while the derived tables are built, and the import caps
        # (db.WRITE_MEMORY_LIMIT, db.MEMORY_LIMIT) ran out of memory inferring the stage order
        if deals > 100_000:
            con.execute("set memory_limit = ?", [DEMO_MEMORY_LIMIT])
        say(0.85, "Building the stage visits…")
        batch_id = b.batch_id
    say(1.0, "Done.")
    return (f"loaded the demo data as batch {batch_id}: {deals:,} deals, "
            f"{len(world['deal_history']):,} history rows, {n_rows:,} rows in all (seed {seed}).")


# --- the demo beside the user's own data (issue 26) ---------------------------------------------

def present(con) -> dict | None:
    """The demo data still in the database: the demo batches not undone whose rows are still
    there (an import that replaced them leaves the batch loaded but empty), and their deals;
    None when there is none."""
    loaded = [r[0] for r in con.execute("select batch_id from import_batches where action = 'demo' "
                                        "and status = 'loaded' order by 1").fetchall()]
    if not loaded:
        return None
    ids = [b for b in loaded if any(con.execute(f'select exists (select 1 from "{t}" where batch_id = ?)', [b])
                                    .fetchone()[0] for t in db.DATA_TABLES)]
    if not ids:
        return None
    deals = con.execute("select count(*) from deals where list_contains(?, batch_id)", [ids]).fetchone()[0]
    return {"batch_ids": ids, "deals": int(deals)}


def sentence(found: dict) -> str:
    """What every page's header says while the demo data is loaded."""
    batches = ", ".join(map(str, found["batch_ids"]))
    return (f"Demo data: the {found['deals']:,} deals here are generated examples (batch {batches}), not yours. "
            "Import your own files on the Import page to replace it.")


def must_choose(found: dict) -> InputError:
    """An import into the demo, with no choice made: never mixed silently, never deleted by default."""
    return InputError(
        f"the database holds the demo data ({found['deals']:,} deals, batch "
        f"{', '.join(map(str, found['batch_ids']))}); say what to do with it: --replace-demo (start clean: the "
        "demo's rows are removed in this import's batch, so undoing the import brings them back) or --keep-demo "
        "(your rows beside the demo's)")


def remove_rows(con, found: dict, keep_in: store.Batch | None = None) -> set[str]:
    """Remove the demo's rows (inside the caller's transaction); with `keep_in`, every removed
    row is kept in that batch's undo log, so that undoing the batch puts them back exactly.
    Returns the tables changed."""
    touched = set()
    where, ids = "list_contains(?::bigint[], batch_id)", [found["batch_ids"]]
    for table in db.DATA_TABLES:
        if con.execute(f'select exists (select 1 from "{table}" where {where})', ids).fetchone()[0]:
            if keep_in is not None:
                keep_in.save_prior_rows(table, where, ids)
            con.execute(f'delete from "{table}" where {where}', ids)
            touched.add(table)
    return touched
