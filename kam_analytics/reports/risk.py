"""Deals at risk (docs/metrics.md "Risk flags"), the flags' back-test on the team's own closed deals
(docs/metrics.md "Risk back-test") and the calibrated score (docs/metrics.md "Risk score and bands"). All
read sql/reports/risk.sql, which takes the facts behind every flag at any number of
as-of dates in one pass; this module words each flag as one sentence with its numbers, learns
each flag's default weight from the back-test's evaluations before the as-of (no look-ahead),
scores the deals as a predicted win probability against their stage's win rate, and sums the
back-test with its reliability table."""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from .. import db, derived, dims, models, periods, settings, stage_list
from ..dates import end_of, parse_date, start_of
from ..errors import UsageError
from ..catalogue import BACKTEST_EXTRA, BACKTEST_KEYS, RELIABILITY_EXTRA, RELIABILITY_KEYS, RISK_EXTRA, RISK_KEYS
from .forecast_quality import _win_rates
from .forecasting import deal_history

# every flag, in the order pages and reasons list them
FLAGS = settings.RISK_FLAGS
# flags resting on facts without dates: the account map, the deal's champion and economic
# buyer fields, and the steps' due dates and statuses are today's (docs/metrics.md)
CURRENT_VALUES = ("overdue_buyer_steps", "overdue_seller_steps", "no_account_map", "no_champion", "no_economic_buyer",
                  "single_threaded")
LABELS = {
    "stalled": "Stalled", "past_close_date": "Past close date", "behind_schedule": "Behind schedule",
    "overdue_buyer_steps": "Overdue buyer-side steps", "pushed_repeatedly": "Pushed repeatedly",
    "amount_dropped": "Amount dropped", "overdue_seller_steps": "Overdue seller-side steps", "no_plan": "No plan",
    "unsigned_plan": "Mutual plan unsigned", "no_account_map": "No account map", "no_champion": "No champion",
    "no_economic_buyer": "No economic buyer", "single_threaded": "Single-threaded", "stale": "Stale",
}
# the product's definition of each flag, for help texts
DEFINITIONS = {
    "stalled": "age of the current open visit > p90 of the completed durations of that stage (the configured "
               "revisit rule)",
    "past_close_date": "close_date < as_of",
    "pushed_repeatedly": "≥ {pushed_repeatedly_pushes} pushes or ≥ {pushed_repeatedly_days} days pushed in total",
    "amount_dropped": "amount ≤ {amount_dropped_share:.0%} of its peak",
    "overdue_buyer_steps": "overdue plan steps, buyer-side (not completed, not rejected, due date before the as-of)",
    "overdue_seller_steps": "overdue plan steps, seller-side (and joint)",
    "no_plan": "no plan at or after {no_plan_stage}",
    "unsigned_plan": "mutual plan unsigned (by both sides) at or after {unsigned_plan_stage}",
    "no_account_map": "the deal's account has no account map at all (no stakeholder on it); it replaces no "
                      "champion, no economic buyer and single-threaded, which need a map to be judged",
    "no_champion": "no champion (from the deal or the account map; judged only where the account has a map)",
    "no_economic_buyer": "no economic buyer (from the deal or the account map; judged only where the account has a "
                         "map)",
    "single_threaded": "fewer than {single_threaded_contacts} buyer contacts (the account's stakeholders other "
                       "than blockers; judged only where the account has a map)",
    "behind_schedule": "as_of + the remaining time (max(0, median of the current stage − its age) + the medians of "
                       "the later open stages that at least half of comparable won deals passed through) > "
                       "close_date",
    "stale": "no history row and no plan-step change for {stale_days} days",
}
# the calibrated score (docs/metrics.md "Risk score and bands")
NO_STAGE_RATE = "no stage win rate"
BANDS = ("high", "medium", "low", NO_STAGE_RATE)
SHRINK_EVALUATIONS = 50        # weight = ln(stage_adjusted_lift) × n / (n + 50)
CALIBRATION_QUARTERS = 8       # default weights as of t: the evaluations at the 8 quarter starts before t's
SCORE_DEFINITIONS = {
    "stage_adjusted_lift": "over the flagged back-test evaluations, (the sum of each one's win rate from its stage "
                           "as of that quarter start + 1) / (the number of them won + 1)",
    "default_weight": "ln(stage-adjusted lift) × n / (n + 50), n the flagged evaluations, floored at 0 (a weight "
                      "set in Settings overrides it)",
    "score": "the sum of the weights of the deal's flags",
    "bands": "high when score > ln 2 (the flags halve the stage's odds of winning), medium when score > ln 1.25, "
             "else low; \"no stage win rate\" where no closed deal reached the deal's stage yet",
    "predicted_win_probability": "the win rate from the deal's stage as of the as-of × exp(−score)",
    "stage_win_rate": "won / (won + lost) among the deals closed before the as-of that reached the deal's stage "
                      "(as in forecast accuracy)",
    "expected_loss": "amount (in the settings currency) × (stage win rate − predicted win probability)",
    "no_look_ahead": "the default weights used as of a date come only from the back-test's evaluations at the "
                     "fiscal-quarter starts before the latest quarter start at or before it, of deals closed "
                     "before that quarter start",
}


def definition(flag: str, risk_conf: dict) -> str:
    return DEFINITIONS[flag].format(**{k: v for k, v in risk_conf.items() if not isinstance(v, dict)})


def _stats_sql(con, as_ofs: list[datetime], conf: dict, cfg) -> tuple[str, dict]:
    """sql/derived/stage_stats.sql at the as-ofs: its materialised table when it was built for the one
    as-of asked, else computed live (the back-test's quarter starts, all in one query)."""
    if len(as_ofs) == 1 and db.get_meta(con, "stage_stats_key") == derived.stats_key(as_ofs[0], conf, cfg):
        return "select s.*, a.as_of from stage_stats s cross join as_ofs a", {}
    # computed on its own first (a temp table): one query holding both needs twice the memory.
    # One as-of at a time: the per-stage quantiles are holistic aggregates DuckDB cannot spill,
    # and 8 quarter starts at 1,000,000 deals together need more than the 1 GB cap (bench/risk.py)
    query, dim = derived.stats_query(con, conf)
    for i, as_of in enumerate(as_ofs):
        con.execute(f"create or replace temp table kam_risk_stats as {query}" if i == 0 else
                    f"insert into temp.kam_risk_stats {query}", derived.stats_params(cfg, [as_of], dim))
    return "select * from temp.kam_risk_stats", {}


def facts(con: duckdb.DuckDBPyConnection, as_ofs: list[datetime], conf: dict | None = None,
          closed_since: bool = False, only_mutual: bool = False, account_id: str | None = None) -> pd.DataFrame:
    """sql/reports/risk.sql: one row per (as_of, deal open then) with every flag's facts and flags.
    With `closed_since` (the back-test) only the deals closed by now, and only the columns
    the back-test sums: a quarter of the rows and a fifth of the columns to hand to pandas.
    With `only_mutual` only the deals that have a mutual plan (map-health); with `account_id`
    only that account's deals (the Account page)."""
    conf = conf or settings.load(con)
    cfg = stage_list.stage_config(con, conf)
    r = conf["risk"]
    stats, stats_params = _stats_sql(con, as_ofs, conf, cfg)
    dim = dims.resolve(con, conf["comparable_by"], conf)
    query = models.query("risk", stage_stats=stats, dim=dim.expr, joins=dim.joins)
    position = {s: i for i, s in enumerate(cfg.open, start=1)}
    params = {
        "as_ofs": list(as_ofs), "won_stages": list(cfg.won), "lost_stages": list(cfg.lost),
        "open_stages": list(cfg.open), "min_visits": int(conf["comparable_min_visits"]),
        "push_count": int(r["pushed_repeatedly_pushes"]), "push_days": int(r["pushed_repeatedly_days"]),
        "drop_share": float(r["amount_dropped_share"]),
        # a configured stage not in the stage list: the flag cannot trip (said in the notes)
        "no_plan_pos": position.get(r["no_plan_stage"]), "unsigned_pos": position.get(r["unsigned_plan_stage"]),
        "min_contacts": int(r["single_threaded_contacts"]), "stale_days": float(r["stale_days"]),
        "only_mutual": bool(only_mutual), "account_id": account_id, "currency": conf["currency"],
        **stats_params, **dim.params,
    }
    if closed_since:
        query = (f"select as_of, deal_id, stage, status_now, closed_date, {', '.join(FLAGS)} from ({query}) "
                 "where status_now in ('won', 'lost')")
    return con.execute(query, models.used_params(query, params)).df()


# ---- the calibrated score ---------------------------------------------------------------------

def stage_adjusted_lift(expected_wins: float, won: int) -> float:
    """(the sum of the flagged evaluations' stage win rates + 1) / (the number of them won + 1)."""
    return (float(expected_wins) + 1.0) / (float(won) + 1.0)


def default_weight(lift: float, n: int) -> float:
    """ln(stage-adjusted lift) shrunk toward 0 by n / (n + 50), floored at 0."""
    return max(0.0, math.log(lift) * n / (n + SHRINK_EVALUATIONS))


def flag_stats(ev: pd.DataFrame) -> pd.DataFrame:
    """Per flag, over the evaluations that have a stage win rate (`ev`: rows of evaluations()):
    the flagged ones (n), how many of them were won, the sum of their stage win rates (the
    wins their stages alone would give), the stage-adjusted lift and the default weight."""
    rated = ev[ev["stage_win_rate"].notna()] if len(ev) else ev
    won = rated["won"].to_numpy(dtype=bool) if len(rated) else np.zeros(0, bool)
    rate = rated["stage_win_rate"].to_numpy(dtype=float) if len(rated) else np.zeros(0)
    rows = []
    for f in FLAGS:
        on = rated[f].to_numpy(dtype=bool) if len(rated) else np.zeros(0, bool)
        n, w, e = int(on.sum()), int(won[on].sum()), float(rate[on].sum())
        lift = stage_adjusted_lift(e, w)
        rows.append({"flag": f, "flagged": n, "won": w, "expected_wins": e, "stage_adjusted_lift": lift,
                     "default_weight": default_weight(lift, n)})
    return pd.DataFrame(rows).set_index("flag")


def _quarter_start_at(t: datetime, start_month: int) -> datetime:
    """The latest fiscal-quarter start at or before t (t: the start of a day)."""
    return start_of(periods.bounds(periods.fiscal_quarter(t.date(), start_month), start_month)[0])


def _starts_before(q: datetime, n: int, start_month: int) -> list[datetime]:
    """The n fiscal-quarter starts before the quarter start q, oldest first."""
    out, day = [], q.date()
    for _ in range(n):
        day = periods.bounds(periods.fiscal_quarter(day - timedelta(days=1), start_month), start_month)[0]
        out.append(start_of(day))
    return out[::-1]


# (database, data version, settings, quarter start) -> evaluations; ("stage rates", ..., as-of) -> rates
_CACHE: OrderedDict = OrderedDict()
_CACHE_MAX = 32                           # at 1,000,000 deals a quarter start's evaluations take ~9 MB
_CACHE_LOCK = threading.Lock()
_EVALUATION_COLUMNS = ("as_of", "deal_id", "stage", "won", "closed_date", "stage_win_rate", *FLAGS)


def _data_key(con, conf: dict) -> tuple:
    """What the evaluations rest on: the database file, its data version and last batch (a file
    made again starts its versions again), and the settings the flags read (not the weights)."""
    version = db.data_version(con)
    # (fetchall, and last: a result left half read blocks a later con.register)
    path = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchall()
    last = con.execute("select max(batch_id), max(started_at) from import_batches").fetchall()
    risk_conf = {k: v for k, v in conf["risk"].items() if k not in ("weights", "bands", "weights_scale")}
    flags_conf = json.dumps({**conf, "risk": risk_conf}, sort_keys=True, default=str)
    return (path[0][0] if path else None, version, str(last), flags_conf)


def _remember(key: tuple, value):
    """Keep a value computed for the data version (least recently used out first)."""
    with _CACHE_LOCK:
        _CACHE[key] = value
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
    return value


def _recall(key: tuple):
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    return None


def _stage_rates(con, as_of: datetime, base: tuple | None = None) -> dict[str, float]:
    """The win rate from each stage as of the as-of, as forecast accuracy takes it (deals closed
    before the as-of; a stage no closed deal reached has none); kept for the data version."""
    key = ("stage rates", base or _data_key(con, settings.load(con)), as_of)
    rates = _recall(key)
    return rates if rates is not None else _remember(key, _win_rates(con, as_of))


def evaluations(con: duckdb.DuckDBPyConnection, starts: list[datetime], conf: dict | None = None) -> pd.DataFrame:
    """The back-test's evaluations at the fiscal-quarter starts: one row per deal open at a start
    that has closed by the data's date, with its stage then, whether it was won, its closed
    date, the win rate from its stage as of that start (null when none yet) and every flag.
    Computed once per quarter start and kept for the data version (so `risk` stays fast)."""
    conf = conf or settings.load(con)
    base = _data_key(con, conf)
    found = {s: v for s in dict.fromkeys(starts) if (v := _recall((base, s))) is not None}
    missing = [s for s in dict.fromkeys(starts) if s not in found]
    for i in range(0, len(missing), 8):           # 8 quarter starts a query, as the back-test always did
        chunk = missing[i:i + 8]
        df = facts(con, chunk, conf, closed_since=True)
        as_of = pd.to_datetime(df["as_of"]).to_numpy()
        for s in chunk:
            part = df[as_of == np.datetime64(s)]
            rates = _stage_rates(con, s, base)
            found[s] = _remember((base, s), part.assign(
                won=part["status_now"].eq("won"), stage_win_rate=part["stage"].map(rates).astype(float)
            )[list(_EVALUATION_COLUMNS)].reset_index(drop=True))
    parts = [found[s] for s in starts]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=bool if c in FLAGS or c == "won" else object)
                             for c in _EVALUATION_COLUMNS})
    return pd.concat(parts, ignore_index=True)


# The flag statistics behind the weights as of a quarter start are also kept on disk, beside
# the database, per data version: at 1,000,000 deals they take about 15 s to compute (facts at
# eight quarter starts), so without them every CLI call (a new process) paid that; now only the
# first read after a write does. A few hundred bytes a file; the oldest beyond 64 are removed.
_DISK_KEEP = 64


def _disk_file(key: tuple) -> Path | None:
    path = key[1][0]                      # (kind, _data_key(...) = (database file, ...), quarter start)
    if not path:
        return None                       # an in-memory database: nothing to keep
    digest = hashlib.sha1(json.dumps(key, default=str).encode()).hexdigest()[:20]
    return Path(path).parent / ".kam-cache" / f"risk-calibration-{digest}.json"


def _disk_recall(key: tuple) -> pd.DataFrame | None:
    f = _disk_file(key)
    try:
        return pd.DataFrame(json.loads(f.read_text(encoding="utf-8"))).set_index("flag") if f else None
    except (OSError, ValueError):
        return None


def _disk_remember(key: tuple, stats: pd.DataFrame) -> None:
    f = _disk_file(key)
    if f is None:
        return
    try:
        f.parent.mkdir(exist_ok=True)
        tmp = f.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stats.reset_index().to_dict("records")), encoding="utf-8")   # floats exact
        tmp.replace(f)                    # whole or not at all, for a reader in another process
        kept = sorted(f.parent.glob("risk-calibration-*.json"), key=lambda x: x.stat().st_mtime)
        for old in kept[:-_DISK_KEEP]:
            old.unlink(missing_ok=True)
    except OSError:
        pass                              # a read-only folder: the figures are computed each time


def calibration(con: duckdb.DuckDBPyConnection, as_of_ts: datetime, conf: dict) -> tuple[pd.DataFrame, datetime]:
    """flag_stats() as of t, out of sample: over the evaluations at the fiscal-quarter starts before
    the latest one at or before t (q), of deals closed before q. Returns them and q. Kept for
    the data version in memory and on disk (see _DISK_KEEP)."""
    start_month = int(conf["fiscal_year_start_month"])
    q = _quarter_start_at(as_of_ts, start_month)
    key = ("calibration", _data_key(con, conf), q)
    stats = _recall(key)
    if stats is None:
        stats = _disk_recall(key)
        if stats is None:
            ev = evaluations(con, _starts_before(q, CALIBRATION_QUARTERS, start_month), conf)
            if len(ev):
                ev = ev[(pd.to_datetime(ev["closed_date"]) < pd.Timestamp(q)).to_numpy(dtype=bool)]
            stats = flag_stats(ev)
            _disk_remember(key, stats)
        _remember(key, stats)
    return stats.copy(), q


def weights_as_of(con: duckdb.DuckDBPyConnection, as_of_ts: datetime, conf: dict
                  ) -> tuple[dict[str, float], pd.DataFrame, datetime]:
    """Each flag's weight as of t: the one set in Settings, else the calibrated default as of t."""
    stats, q = calibration(con, as_of_ts, conf)
    set_ = conf["risk"]["weights"]
    weights = {f: float(set_[f]) if set_.get(f) is not None else float(stats.at[f, "default_weight"])
               for f in FLAGS}
    return weights, stats, q


def _band(score: np.ndarray, rate: np.ndarray, bands: dict) -> np.ndarray:
    return np.where(np.isnan(rate), NO_STAGE_RATE,
                    np.where(score > bands["high"], "high", np.where(score > bands["medium"], "medium", "low")))


def _scores(df: pd.DataFrame, weights: dict[str, float]) -> np.ndarray:
    score = np.zeros(len(df))
    for f in FLAGS:
        if weights[f]:
            score += df[f].to_numpy(dtype=bool) * weights[f]
    return score


def score_deals(con: duckdb.DuckDBPyConnection, df: pd.DataFrame, conf: dict, as_of_ts: datetime,
                weights: dict[str, float] | None = None) -> pd.DataFrame:
    """For facts() rows at one as-of: score (the sum of the flags' weights), band, the win rate
    from the deal's stage as of the as-of, and the predicted win probability = that rate ×
    exp(−score) (null, with the band "no stage win rate", where the stage has no rate)."""
    if weights is None:
        weights = weights_as_of(con, as_of_ts, conf)[0]
    score = _scores(df, weights)
    rates = _stage_rates(con, as_of_ts, _data_key(con, conf))
    rate = df["stage"].map(rates).to_numpy(dtype=float) if len(df) else np.zeros(0)
    return pd.DataFrame({"score": score, "band": _band(score, rate, conf["risk"]["bands"]),
                         "predicted_win_probability": rate * np.exp(-score), "stage_win_rate": rate},
                        index=df.index)


def _percent(x: float) -> str:
    return f"{x * 100:.0f} %"


def _lift_text(stats: pd.DataFrame, q: datetime) -> dict[str, str]:
    """Each flag's lift in words, for its reason sentence."""
    out = {}
    for f in FLAGS:
        n, won, expected = (stats.at[f, k] for k in ("flagged", "won", "expected_wins"))
        out[f] = (f"deals flagged so won {_percent(won / n)} against {_percent(expected / n)} for their stages "
                  f"({_plural(int(n), 'back-tested deal-quarter')} before {q.date()})" if n else
                  f"no deal closed before {q.date()} was flagged so at a quarter start, so there is no lift to learn "
                  "from yet")
    return out


def _amount_base(con, df: pd.DataFrame, currency: str) -> np.ndarray:
    """Each deal's amount in the settings currency (sql/models/fx_rated.sql: the rate valid at its close
    date, else the latest; null when none), converting only the few (currency, date) pairs."""
    own = (df["currency"] == currency.upper()).to_numpy(dtype=bool)
    rate = np.where(own, 1.0, np.nan)
    pairs = df.loc[~own, ["currency", "close_date"]].drop_duplicates()
    if len(pairs):
        con.register("kam_risk_fx_pairs", pairs)
        try:
            rated = con.execute("with fx_source as (select currency, close_date from kam_risk_fx_pairs), "
                                f"rated as ({models.query('fx_rated')}) select * from rated",
                                {"currency": currency}).df()
        finally:
            con.unregister("kam_risk_fx_pairs")
        key = pd.MultiIndex.from_arrays([rated["currency"], pd.to_datetime(rated["close_date"])])
        found = pd.Series(rated["rate"].to_numpy(dtype=float), index=key)
        look = pd.MultiIndex.from_arrays([df.loc[~own, "currency"], pd.to_datetime(df.loc[~own, "close_date"])])
        rate[~own] = found.reindex(look).to_numpy(dtype=float)
    return df["amount"].to_numpy(dtype=float) * rate


def _days(x) -> str:
    return f"{x:,.0f} day" + ("" if round(x) == 1 else "s")


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def _day_text(values: pd.Series) -> list[str]:
    """Dates (or timestamps) as the pages write them: 2026-03-31, with the time when it has one."""
    ts = pd.to_datetime(values)
    has_time = (ts != ts.dt.normalize()).to_numpy()
    day, minute = ts.dt.strftime("%Y-%m-%d").tolist(), ts.dt.strftime("%Y-%m-%d %H:%M").tolist()
    return [m if t else d for d, m, t in zip(day, minute, has_time)]


class _Lists(dict):
    """A frame's columns as Python lists, each converted the first time a sentence needs it."""

    def __init__(self, frame: pd.DataFrame):
        super().__init__()
        self.frame = frame

    def __missing__(self, name: str) -> list:
        self[name] = values = self.frame[name].tolist()
        return values


# the facts() columns the reason sentences read
REASON_COLUMNS = ("stage", "age_days", "p90_days", "p90_deals", "close_date", "pushes", "days_pushed", "amount",
                  "peak_amount", "overdue_buyer", "overdue_seller", "has_mutual", "account_id", "contacts",
                  "remaining_days", "scope", "realistic_close_date", "quiet_days", "last_change_at")


def _reasons(flag: str, d: pd.DataFrame, r: dict, rule: str, as_of: datetime) -> list[str]:
    """The flag's sentence with the numbers behind it, for each row of `d` (the rows where
    it tripped), built a column at a time: 80,000 deals take a fraction of a second."""
    col = _Lists(d)
    if flag == "stalled":
        return [f"Stalled: {_days(a)} in {s}; 90 % of the {n:,} deals' completed time in {s} was at most {_days(p)} "
                f"({rule} rule)" for s, a, p, n in zip(col["stage"], col["age_days"], col["p90_days"], col["p90_deals"])]
    if flag == "past_close_date":
        late = (pd.Timestamp(as_of.date()) - pd.to_datetime(d["close_date"])).dt.days.tolist()
        return [f"Past close date: the close date {c} was {_days(n)} before the as-of"
                for c, n in zip(_day_text(d["close_date"]), late)]
    if flag == "pushed_repeatedly":
        return [f"Pushed repeatedly: {_plural(p, 'push', 'pushes')}, {_days(x)} in total (flagged from "
                f"{r['pushed_repeatedly_pushes']} pushes or {r['pushed_repeatedly_days']} days)"
                for p, x in zip(col["pushes"], col["days_pushed"])]
    if flag == "amount_dropped":
        return [f"Amount dropped: {a:,.0f} is {a / p:.0%} of its peak {p:,.0f} (flagged at "
                f"{r['amount_dropped_share']:.0%} or less)" for a, p in zip(col["amount"], col["peak_amount"])]
    if flag in ("overdue_buyer_steps", "overdue_seller_steps"):
        buyer = flag == "overdue_buyer_steps"
        side = "buyer-side" if buyer else "seller-side or joint"
        return [f"{LABELS[flag]}: {_plural(n, side + ' step')} of the {'mutual' if m else 'closing'} plan past due "
                "and not completed (current due dates and statuses)"
                for n, m in zip(col["overdue_buyer" if buyer else "overdue_seller"], col["has_mutual"])]
    if flag == "no_plan":
        return [f"No plan: in {s}, at or after {r['no_plan_stage']}, with no closing or mutual plan" for s in col["stage"]]
    if flag == "unsigned_plan":
        return [f"Mutual plan unsigned: in {s}, at or after {r['unsigned_plan_stage']}, and "
                + ("its mutual plan is not signed by both sides" if m else "it has no mutual plan")
                for s, m in zip(col["stage"], col["has_mutual"])]
    if flag == "no_account_map":
        return [("No account map: the deal has no account" if a is None or a != a or not str(a).strip() else
                 f"No account map: the account {a} has no stakeholder on its account map")
                + ", so its champion, economic buyer and buyer contacts cannot be judged (current values)"
                for a in col["account_id"]]
    if flag in ("no_champion", "no_economic_buyer"):
        return [f"{LABELS[flag]}: none named on the deal or on the account map (current values)"] * len(d)
    if flag == "single_threaded":
        return [f"Single-threaded: {_plural(n, 'buyer contact')} on the account map (stakeholders other than "
                f"blockers; flagged below {r['single_threaded_contacts']}) (current values)" for n in col["contacts"]]
    if flag == "behind_schedule":
        return [f"Behind schedule: {_days(x)} still to go by the medians of "
                f"{'the deal' + chr(39) + 's comparable group' if sc == 'group' else 'all deals'} gives {rc}, after "
                f"the close date {c}" for x, sc, rc, c in zip(col["remaining_days"], col["scope"],
                                                               _day_text(d["realistic_close_date"]),
                                                               _day_text(d["close_date"]))]
    if flag == "stale":
        return [f"Stale: no history row or plan change for {_days(q)} (since {since}; flagged from {r['stale_days']} "
                "days)" for q, since in zip(col["quiet_days"], _day_text(d["last_change_at"]))]
    raise ValueError(flag)


def risk(con: duckdb.DuckDBPyConnection, as_of=None) -> pd.DataFrame:
    """Every deal open at the as-of (default: the data's date) with its score, band, predicted
    win probability against its stage's win rate, flags and one sentence per flag (with the
    flag's lift); the deals most likely to be lost by amount (expected loss) first."""
    conf = settings.load(con)
    r = conf["risk"]
    as_of_ts = start_of(parse_date(as_of, "--as-of")) or derived.default_as_of(con)
    df = facts(con, [as_of_ts], conf)
    weights, stats, q = weights_as_of(con, as_of_ts, conf)
    scored = score_deals(con, df, conf, as_of_ts, weights)
    for c in scored.columns:
        df[c] = scored[c]
    df["expected_loss"] = (_amount_base(con, df, conf["currency"])
                           * (df["stage_win_rate"] - df["predicted_win_probability"]).to_numpy(dtype=float))
    rule = conf["revisit_rule"]
    lifts = _lift_text(stats, q)
    names, reasons = [[] for _ in range(len(df))], [[] for _ in range(len(df))]
    worded = df[[c for c in REASON_COLUMNS if c in df.columns]]      # only what the sentences read
    for f in FLAGS:
        rows = np.flatnonzero(df[f].to_numpy(dtype=bool))
        for i, text in zip(rows.tolist(), _reasons(f, worded.iloc[rows], r, rule, as_of_ts) if len(rows) else []):
            names[i].append(f)
            reasons[i].append(f"{text}; {lifts[f]}")
    out = df[[c for c in (*RISK_KEYS, *RISK_EXTRA) if c in df.columns]].copy()
    out["flags"], out["reasons"] = names, reasons
    out["current_values"] = [[f for f in fs if f in CURRENT_VALUES] for fs in names]
    out = out.sort_values(["expected_loss", "score", "amount", "deal_id"], ascending=[False, False, False, True],
                          na_position="last")
    out = out[[*RISK_KEYS, *RISK_EXTRA]].reset_index(drop=True)
    for c in ("score", "predicted_win_probability", "stage_win_rate", "expected_loss"):
        out[c] = out[c].astype(float)
    set_by_user = [f for f in FLAGS if r["weights"].get(f) is not None]
    notes = [f"Open deals as of {as_of_ts.date()}, the deals most likely to be lost by amount first: expected_loss "
             f"= {SCORE_DEFINITIONS['expected_loss']} ({conf['currency']}).",
             f"predicted_win_probability = {SCORE_DEFINITIONS['predicted_win_probability']}; stage_win_rate = "
             f"{SCORE_DEFINITIONS['stage_win_rate']}; score = {SCORE_DEFINITIONS['score']}.",
             f"Bands: high when score > {r['bands']['high']:.4g}, medium when > {r['bands']['medium']:.4g}, else low; "
             f"\"{NO_STAGE_RATE}\" where no closed deal reached the deal's stage before the as-of.",
             f"Default weights learnt from the back-test before {q.date()} (no look-ahead): "
             + ", ".join(f"{f} {weights[f]:.3f}" for f in FLAGS if f not in set_by_user)
             + ("; set in Settings: " + ", ".join(f"{f} {weights[f]:g}" for f in set_by_user) if set_by_user else "")
             + ".",
             "Flags marked current values rest on undated facts (the account map, champion and economic buyer, "
             "steps' due dates and statuses), taken as they are today."]
    if int(out["band"].eq(NO_STAGE_RATE).sum()):
        notes.append(f"{int(out['band'].eq(NO_STAGE_RATE).sum()):,} open deal(s) are in a stage no deal closed "
                     f"from before {as_of_ts.date()}: no predicted win probability.")
    no_loss = out["expected_loss"].isna() & out["stage_win_rate"].notna()
    no_amount = int((no_loss & out["amount"].isna()).sum())
    if no_amount:
        notes.append(f"{no_amount:,} open deal(s) have no amount: no expected loss.")
    if int(no_loss.sum()) - no_amount:
        notes.append(f"{int(no_loss.sum()) - no_amount:,} open deal(s) in another currency have no fx rate into "
                     f"{conf['currency']}: no expected loss.")
    cfg = stage_list.stage_config(con, conf)
    for key in ("no_plan_stage", "unsigned_plan_stage"):
        if r[key] not in cfg.open:
            notes.append(f"The {key.replace('_', ' ')} {r[key]!r} is not an open stage of the stage list, so that "
                         "flag cannot trip: change it on the Settings page.")
    out.attrs.update({"report": "risk", "as_of": as_of_ts, "notes": notes, "weights": weights,
                      "calibrated_at": q, "calibration": stats.to_dict("index")})
    return out


def quarter_starts(con, date_from, date_to, conf: dict, as_of=None) -> tuple[list[datetime], datetime, datetime]:
    """The fiscal-quarter starts in [from, to) (docs/metrics.md: a window is [from 00:00, day after to
    00:00)). Default: the eight quarter starts before the as-of (the data's date)."""
    start_month = int(conf["fiscal_year_start_month"])
    t1 = (end_of(parse_date(date_to, "--to")) or start_of(parse_date(as_of, "--as-of"))
          or derived.default_as_of(con))
    t0 = start_of(parse_date(date_from, "--from"))
    if t0 is None:
        name = periods.fiscal_quarter((t1 - timedelta(microseconds=1)).date(), start_month)
        starts = []
        for _ in range(8):
            p0, _p1 = periods.bounds(name, start_month)
            starts.append(start_of(p0))
            name = periods.fiscal_quarter(p0 - timedelta(days=1), start_month)
        t0 = min(starts)
    if t1 <= t0:
        raise UsageError(f"--to must be on or after --from (the range is {t0.date()} to "
                         f"{(t1 - timedelta(days=1)).date()})")
    out = []
    name = periods.fiscal_quarter(t0.date(), start_month)
    p0, _ = periods.bounds(name, start_month)
    q = start_of(p0)
    while q < t1:
        if q >= t0:
            out.append(q)
        nxt = periods.bounds(periods.fiscal_quarter((q + timedelta(days=100)).date(), start_month), start_month)[0]
        q = start_of(nxt)
    if len(out) > 80:
        raise UsageError(f"the range holds {len(out)} quarter starts; at most 80 (20 years) can be back-tested at once")
    return out, t0, t1


def risk_backtest(con: duckdb.DuckDBPyConnection, date_from=None, date_to=None, as_of=None,
                  calibration: bool = False) -> pd.DataFrame:
    """Each flag evaluated at every fiscal-quarter start in the range on the deals open then that
    have closed by the data's date: how the flagged and unflagged evaluations ended, the
    stage-adjusted lift and the default weight it gives. The range ends at --to, else at
    --as-of, else at the data's date. With `calibration`: the reliability table instead (per
    tenth of the predicted win probability, each evaluation predicted with the weights as of
    its own quarter start) and the Brier scores of the prediction and of the stage rate alone."""
    conf = settings.load(con)
    r = conf["risk"]
    starts, t0, t1 = quarter_starts(con, date_from, date_to, conf, as_of)
    base = evaluations(con, starts, conf)
    range_note = (f"Evaluations: each deal open at a fiscal-quarter start from {t0.date()} to "
                  f"{(t1 - timedelta(days=1)).date()} ({len(starts)} quarter start(s): "
                  f"{', '.join(str(s.date()) for s in starts) or 'none'}) that has closed by the data's date")
    if calibration:
        return _reliability(con, base, conf, t0, t1, starts, range_note)
    won = base["won"].to_numpy(dtype=bool)
    stats = flag_stats(base)
    weights, _, q = weights_as_of(con, t1, conf)
    rows = []
    for f in FLAGS:
        on = base[f].to_numpy(dtype=bool)
        n_on, n_off = int(on.sum()), int((~on).sum())
        rate_on = float(won[on].mean()) if n_on else None
        rate_off = float(won[~on].mean()) if n_off else None
        first = base.loc[on, ["deal_id", "as_of", "closed_date"]].sort_values("as_of").drop_duplicates("deal_id")
        before = (pd.to_datetime(first["closed_date"]) - pd.to_datetime(first["as_of"])).dt.days.dropna()
        st = stats.loc[f]
        rows.append({
            "flag": f, "evaluations": len(base), "flagged_deals": int(first["deal_id"].nunique()),
            "win_rate_flagged": rate_on, "win_rate_unflagged": rate_off,
            "lift": rate_off / rate_on if rate_on and rate_off is not None else None,
            "median_days_before_close": float(before.median()) if len(before) else None,
            "stage_adjusted_lift": float(st["stage_adjusted_lift"]), "default_weight": float(st["default_weight"]),
            "flagged_evaluations": n_on,
            "expected_win_rate_flagged": float(st["expected_wins"] / st["flagged"]) if st["flagged"] else None,
            "current_values": f in CURRENT_VALUES, "weight": weights[f], "weight_set": r["weights"].get(f) is not None,
            "threshold": definition(f, r),
        })
    df = pd.DataFrame(rows, columns=[*BACKTEST_KEYS, *BACKTEST_EXTRA])
    df["flagged_deals"] = df["flagged_deals"].astype("int64")
    unrated = int(base["stage_win_rate"].isna().sum()) if len(base) else 0
    notes = [range_note + "; win rates are over evaluations, lift = unflagged / flagged.",
             f"stage_adjusted_lift = {SCORE_DEFINITIONS['stage_adjusted_lift']}; default_weight = "
             f"{SCORE_DEFINITIONS['default_weight']}; expected_win_rate_flagged = their stages' win rate alone."
             + (f" {unrated:,} evaluation(s) in a stage with no win rate yet at their quarter start are left out "
                "of these." if unrated else ""),
             f"weight: the weight the risk report uses as of {t1.date()} (set in Settings where weight_set, else the "
             f"default learnt from the evaluations before {q.date()} of deals closed before then: no look-ahead).",
             "median_days_before_close: from the quarter start at which the flag first showed to the deal's "
             "closed date.",
             "Flags marked current values rest on today's account map, champion fields and steps' due dates, "
             "so their back-test looks back with today's knowledge."]
    df.attrs.update({"report": "risk-backtest", "from": t0, "to": t1, "quarter_starts": starts, "notes": notes,
                     "as_of": t1})
    return df


def predicted(con: duckdb.DuckDBPyConnection, ev: pd.DataFrame, conf: dict) -> tuple[np.ndarray, np.ndarray]:
    """Each evaluation's score and predicted win probability out of sample: its stage's win rate
    as of its quarter start × exp(−score), the score with the weights as of that quarter start."""
    score, out = np.zeros(len(ev)), np.full(len(ev), np.nan)
    as_of = pd.to_datetime(ev["as_of"]).to_numpy()
    for s in pd.unique(as_of):
        at = as_of == s
        weights = weights_as_of(con, pd.Timestamp(s).to_pydatetime(), conf)[0]
        part = ev[at]
        score[at] = _scores(part, weights)
        out[at] = part["stage_win_rate"].to_numpy(dtype=float) * np.exp(-score[at])
    return score, out


def brier(probability, won) -> float | None:
    """The mean squared difference between a probability and the outcome (1 won, 0 lost)."""
    p, y = np.asarray(probability, dtype=float), np.asarray(won, dtype=float)
    return float(np.mean((p - y) ** 2)) if len(p) else None


def _reliability(con, base: pd.DataFrame, conf: dict, t0: datetime, t1: datetime, starts: list[datetime],
                 range_note: str) -> pd.DataFrame:
    """The reliability table: per tenth of the predicted probability (0-10 %, ..., 90-100 %), the
    evaluations, their mean prediction and their actual win rate; the Brier scores on every row."""
    score, pred = predicted(con, base, conf) if len(base) else (np.zeros(0), np.zeros(0))
    rated = ~np.isnan(pred)
    ev = base[rated].assign(predicted=pred[rated])
    won = ev["won"].to_numpy(dtype=float)
    b_pred, b_stage = brier(ev["predicted"], won), brier(ev["stage_win_rate"], won)
    band = _band(score[rated], ev["stage_win_rate"].to_numpy(dtype=float), conf["risk"]["bands"])
    bands = {b: {"evaluations": int((band == b).sum()),
                 "actual_win_rate": float(won[band == b].mean()) if (band == b).any() else None}
             for b in ("high", "medium", "low")}
    ev = ev.assign(decile=np.minimum(np.floor(ev["predicted"].to_numpy() * 10), 9).astype(int), won_=won)
    g = ev.groupby("decile").agg(evaluations=("won_", "size"), won=("won_", "sum"),
                                 predicted_win_rate=("predicted", "mean"), stage_win_rate=("stage_win_rate", "mean"))
    g = g.reset_index()
    df = pd.DataFrame({
        "decile": [f"{10 * d}-{10 * d + 10}%" for d in g["decile"]],
        "evaluations": g["evaluations"].astype("int64"),
        "predicted_win_rate": g["predicted_win_rate"].astype(float),
        "actual_win_rate": (g["won"] / g["evaluations"]).astype(float),
        "brier_score": b_pred, "brier_score_stage_alone": b_stage,
        "won": g["won"].astype("int64"), "stage_win_rate": g["stage_win_rate"].astype(float),
        "decile_from": (g["decile"] / 10).astype(float), "decile_to": ((g["decile"] + 1) / 10).astype(float),
    }, columns=[*RELIABILITY_KEYS, *RELIABILITY_EXTRA])
    notes = [range_note + f"; {int(rated.sum()):,} of them have a stage win rate at their quarter start and are "
             "predicted.",
             "Each evaluation is predicted out of sample: its stage's win rate as of its quarter start × exp(−score), "
             "with the weights as of that quarter start (learnt only from deals closed before it).",
             "decile: a tenth of the predicted win probability; predicted_win_rate: the mean prediction in it; "
             "actual_win_rate: the share of its evaluations won.",
             "Bands as predicted then: " + "; ".join(
                 f"{b} {v['evaluations']:,} won {_percent(v['actual_win_rate']) if v['evaluations'] else '—'}"
                 for b, v in bands.items()) + ".",
             "Brier score: the mean of (probability − outcome)², outcome 1 won and 0 lost; lower is better. "
             + verdict(b_pred, b_stage)]
    df.attrs.update({"report": "risk-backtest", "from": t0, "to": t1, "quarter_starts": starts, "notes": notes,
                     "as_of": t1, "brier_score": b_pred, "brier_score_stage_alone": b_stage, "bands": bands})
    return df


def verdict(b_pred: float | None, b_stage: float | None) -> str:
    """Whether the score beats the stage win rate alone, in words."""
    if b_pred is None or b_stage is None:
        return "No closed deal with a stage win rate was open at a quarter start: nothing to judge the score by."
    if b_pred < b_stage:
        return (f"The score beats the stage win rate alone on these deals (Brier score {b_pred:.4f} against "
                f"{b_stage:.4f}).")
    return (f"The score does not beat the stage win rate alone on these deals (Brier score {b_pred:.4f} against "
            f"{b_stage:.4f}): on this data the flags add nothing to the stage's own win rate.")


def deal_timeline(con: duckdb.DuckDBPyConnection, deal_id: str, as_of=None) -> dict[str, pd.DataFrame]:
    """One deal's timeline for the drill-down, as it stood at the as-of: its stage visits, its
    states over time (close-date pushes and amount; forecasting.deal_history) and its plan
    steps, each overdue one marked buyer-side or seller-side (docs/metrics.md "Plan steps")."""
    as_of_ts = start_of(parse_date(as_of, "--as-of")) or derived.default_as_of(con)
    visits = con.execute(
        "select visit_no, stage, started_at, case when ended_at < $a then ended_at end as ended_at, "
        "epoch(least(coalesce(ended_at, $a), $a) - started_at) / 86400.0 as days, "
        "ended_at is null or ended_at >= $a as in_progress "
        "from stage_visits where deal_id = $d and started_at < $a order by started_at",
        {"d": str(deal_id), "a": as_of_ts}).df()
    history = deal_history(con, str(deal_id))
    history = history[history["changed_at"] < as_of_ts].reset_index(drop=True)
    steps = con.execute(
        "select s.plan_type, s.step_no, s.step, s.side, s.owner, s.original_due_date, s.due_date, "
        "case when s.completed_date < $a then s.completed_date end as completed_date, s.status, "
        "case when s.due_date < $a and s.status is distinct from 'rejected' "
        "          and (s.completed_date is null or s.completed_date >= $a) "
        "     then case when s.side = 'buyer' then 'overdue, buyer-side' else 'overdue, seller-side' end end "
        "  as overdue "
        "from plan_steps s join plans p on p.deal_id = s.deal_id and p.plan_type = s.plan_type "
        "where s.deal_id = $d and (p.created_date is null or p.created_date < $a) "
        "order by s.plan_type desc, s.step_no", {"d": str(deal_id), "a": as_of_ts}).df()
    return {"visits": visits, "history": history, "steps": steps}
