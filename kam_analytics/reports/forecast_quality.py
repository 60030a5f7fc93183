"""How good the forecast is: forecast accuracy (docs/metrics.md "Forecast accuracy", with owners'
calls), quota attainment (docs/metrics.md "Quota attainment") and the forecast range (a seeded
simulation of the period's outcome). All read the one snapshot model (forecasting.snapshot_sql)
and the win rates of the conversion report, computed as of the same date (no look-ahead)."""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from .. import derived, models, periods, settings, stage_list
from ..dates import parse_date, start_of
from ..errors import UsageError
from ..catalogue import ACCURACY_KEYS, ACCURACY_OWNER_KEYS, ATTAINMENT_BY, ATTAINMENT_KEYS, RANGE_KEYS
from . import forecasting, velocity

NO_QUOTA = "(no quota)"         # attainment's [DIM] for the owners without a quota for the period
AGE_BIN_DAYS = 30
RANGE_METHOD = (
    "Each of the {runs:,} runs (seed {seed}) plays out every deal that is open on {as_of} with a close date in or "
    "before {period}: the deal is won with the win rate from its current stage (among deals closed before "
    "{as_of}), and it closes inside {period} with the share of past deals in the same stage, and the same "
    "30-day band of time already spent in it, that closed within the {days:g} days left in {period} (measured "
    "only on deals observed for that long before {as_of}; below {min_sample} such deals the stage alone is "
    "used, from its visits' start, and below that all stages together). A deal counts when both happen (the "
    "product of the two taken to the nearest 1/65,536). Each run adds what was already won in "
    "{period} before {as_of}; P10, P50 and P90 are the totals that 10 %, 50 % and 90 % of runs ended at or below."
)


def _ratio(num, den):
    return None if den is None or num is None or den == 0 or den != den else num / den


def _period_and_as_of(con, period, as_of, conf, default_first_day: bool):
    name, p0, p1 = forecasting.period_window(con, period, conf)
    a = start_of(parse_date(as_of, "--as-of")) or (p0 if default_first_day else derived.default_as_of(con))
    return name, p0, p1, a


def _win_rates(con, as_of: datetime) -> dict[str, float]:
    """Win rate from each open stage among deals closed before the as-of (docs/metrics.md), from
    the conversion report's model, unrounded (the report rounds what it prints)."""
    conv = velocity._run(con, "conversion", None, as_of, velocity.CONVERSION_KEYS, "stage_order")
    return {r["stage"]: r["win_rate_from_stage"] for r in conv.to_dict("records")
            if r["win_rate_from_stage"] == r["win_rate_from_stage"] and r["win_rate_from_stage"] is not None}


def accuracy_by_owner(con: duckdb.DuckDBPyConnection, period: str | None = None, as_of=None,
                      rates: dict[str, float] | None = None) -> pd.DataFrame:
    """Per owner: the commit, best-case and weighted forecasts at the as-of (default: the
    period's first day), the actual won in the period, and the owner's latest call before
    the as-of, each compared with that owner's actual."""
    conf = settings.load(con)
    name, p0, p1, a = _period_and_as_of(con, period, as_of, conf, default_first_day=True)
    rates = _win_rates(con, a) if rates is None else rates
    params = {"as_of": a, "p0": p0.date(), "p1": p1.date(), "period": name,
              "wr_stages": list(rates), "wr_rates": [float(v) for v in rates.values()],
              **forecasting._base_params(con, conf)}
    df = con.execute(*forecasting.with_snapshots(con, "forecast_accuracy", params,
                                                 snapshot="as_of")).df()
    df.insert(1, "period", name)
    df.insert(2, "as_of", a.date())
    for kind in ("commit", "best_case", "weighted"):
        df[f"{kind}_accuracy"] = [_ratio(f, x) for f, x in zip(df[f"{kind}_forecast"], df["actual"])]
    for kind in ("commit", "best_case"):
        df[f"call_{kind}_accuracy"] = [_ratio(f, x) if f == f else None
                                       for f, x in zip(df[f"call_{kind}"], df["actual"])]
    notes = [f"Forecasts as of {a.date()}; win rates from deals closed before then; actual = won with "
             f"closed_date in {name} (data as of {derived.data_date(con)})."]
    notes += forecasting._rate_note(int(df["without_rate"].sum()), conf["currency"], "open deal(s) in the period")
    if int(df["without_win_rate"].sum()):
        notes.append(f"{int(df['without_win_rate'].sum()):,} open deal(s) are in a stage no deal closed from "
                     f"before {a.date()}: weighted at 0.")
    df.attrs.update({"report": "forecast-accuracy", "as_of": a, "period": name, "notes": notes, "win_rates": rates})
    return df


def forecast_accuracy(con: duckdb.DuckDBPyConnection, period: str | None = None, as_of=None,
                      owners: bool = False, rates: dict[str, float] | None = None) -> pd.DataFrame:
    """One row for the period: the commit, best-case and weighted forecasts at the as-of
    (default: the period's first day) against the actual won, and the owners' calls summed
    and compared with the same owners' actual. With `owners`: one row per owner."""
    per_owner = accuracy_by_owner(con, period, as_of, rates)
    if owners:
        df = per_owner[list(ACCURACY_OWNER_KEYS)].copy()
        df.attrs.update(per_owner.attrs)
        return df
    callers = per_owner[per_owner["call_commit"].notna() | per_owner["call_best_case"].notna()]
    row = {"period": per_owner.attrs["period"], "as_of": per_owner.attrs["as_of"].date()}
    for kind in ("commit", "best_case", "weighted"):
        row[f"{kind}_forecast"] = float(per_owner[f"{kind}_forecast"].sum())
    row["actual"] = float(per_owner["actual"].sum())
    for kind in ("commit", "best_case", "weighted"):
        row[f"{kind}_accuracy"] = _ratio(row[f"{kind}_forecast"], row["actual"])
        row[f"{kind}_error"] = row[f"{kind}_forecast"] - row["actual"]
    row["won_by_as_of"] = float(per_owner["won_by_as_of"].sum())
    row["calls_owners"] = len(callers)
    row["calls_commit"] = float(callers["call_commit"].sum()) if len(callers) else None
    row["calls_best_case"] = float(callers["call_best_case"].sum()) if len(callers) else None
    row["calls_actual"] = float(callers["actual"].sum()) if len(callers) else None
    row["calls_commit_accuracy"] = _ratio(row["calls_commit"], row["calls_actual"])
    row["calls_best_case_accuracy"] = _ratio(row["calls_best_case"], row["calls_actual"])
    df = pd.DataFrame([row], columns=list(ACCURACY_KEYS))
    df.attrs.update(per_owner.attrs)
    df.attrs["report"] = "forecast-accuracy"
    return df


def past_periods(con: duckdb.DuckDBPyConnection, count: int = 8) -> list[str]:
    """The last `count` fiscal quarters that have ended by the data's date, oldest first."""
    conf = settings.load(con)
    return periods.quarters_around(derived.data_date(con), int(conf["fiscal_year_start_month"]), count, 0)[:-1]


def accuracy_history(con: duckdb.DuckDBPyConnection, count: int = 8) -> pd.DataFrame:
    """forecast-accuracy at the first day of each of the last `count` ended quarters that
    hold any deal, oldest first."""
    rows = []
    first = con.execute("select min(least(created_date, close_date)) from deals").fetchone()[0]
    start_month = int(settings.load(con)["fiscal_year_start_month"])
    with forecasting.snapshots_inlined(con):        # each quarter start is read once
        for name in past_periods(con, count):
            _, p1 = periods.bounds(name, start_month)
            if first is None or p1 <= first:
                continue
            rows.append(forecast_accuracy(con, name))
    return (pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(ACCURACY_KEYS)))


def attainment(con: duckdb.DuckDBPyConnection, period: str | None = None, by: str | None = None,
               as_of=None) -> pd.DataFrame:
    """Per owner with a quota for the period (or rolled up by manager or team): quota, won
    in the period by the as-of (won so far), attainment = won / quota, the open amount due in
    the period and coverage = open / (quota − won), null once the quota is met. The owners
    without a quota come last, together on one row whose [DIM] is NO_QUOTA ("(no quota)"):
    quota, attainment and coverage null, their won and open amounts summed, so that the won
    column adds up to the period's won so far (the actual, once the period has ended)."""
    by = by or "owner"
    if by not in ATTAINMENT_BY:
        raise UsageError(f"--by: expected one of {', '.join(ATTAINMENT_BY)}, got {by!r}")
    conf = settings.load(con)
    name, p0, p1, a = _period_and_as_of(con, period, as_of, conf, default_first_day=False)
    months = periods.months_of(name)
    params = {"as_of": a, "p0": p0.date(), "p1": p1.date(), "period": name, "months": months,
              **forecasting._base_params(con, conf)}
    per_owner = con.execute(*forecasting.with_snapshots(con, "attainment", params,
                                                        snapshot="as_of")).df()
    label = {"manager": "(no manager)", "team": "(no team)"}
    with_quota, without = per_owner[per_owner["quota"].notna()].copy(), per_owner[per_owner["quota"].isna()]
    if by != "owner":
        with_quota[by] = with_quota[by].fillna(label[by])
    grouped = (with_quota.groupby(by, sort=True, dropna=False)[["quota", "won_amount", "open_amount"]].sum()
               .reset_index())
    if len(without):
        grouped = pd.concat([grouped, pd.DataFrame([{by: NO_QUOTA, "quota": float("nan"),
                                                     "won_amount": float(without["won_amount"].sum()),
                                                     "open_amount": float(without["open_amount"].sum())}])],
                            ignore_index=True)
    grouped.insert(1, "period", name)
    grouped["attainment"] = [_ratio(w, q) for w, q in zip(grouped["won_amount"], grouped["quota"])]
    grouped["coverage"] = [_ratio(o, q - w) if q - w > 0 else None
                           for o, q, w in zip(grouped["open_amount"], grouped["quota"], grouped["won_amount"])]
    df = grouped[[by, *ATTAINMENT_KEYS]]
    judged_to = min(a, start_of(p1)) - pd.Timedelta(days=1)
    notes = [f"Won in {name} up to {judged_to.date()} and open deals with close dates in {name} as of {a.date()}, "
             f"in {conf['currency']}; quotas as loaded for {name}" + (" (or the sum of its months)." if months else ".")]
    notes += forecasting._rate_note(int(per_owner["without_rate"].sum()), conf["currency"])
    if len(without):
        notes.append(f"{len(without):,} owner(s) with deals in {name} have no quota for it: their won and open "
                     f"amounts are on the row \"{NO_QUOTA}\" (no attainment, no coverage), so that the won column "
                     f"adds up to all won in {name} by the as-of.")
    df.attrs.update({"report": "attainment", "as_of": a, "period": name, "by": by, "notes": notes})
    return df


def range_inputs(con: duckdb.DuckDBPyConnection, period: str | None = None, as_of=None) -> pd.DataFrame:
    """Per deal open at the as-of with a close date in or before the period: its stage,
    amount, age bin, the win rate from its stage, the probability of closing inside the
    period (with the basis and the number of past visits behind it) and q, their product."""
    conf = settings.load(con)
    name, p0, p1, a = _period_and_as_of(con, period, as_of, conf, default_first_day=False)
    p1_ts = start_of(p1)
    remaining_s = max(0.0, (p1_ts - a).total_seconds())
    base = forecasting._base_params(con, conf)
    deals = con.execute(*forecasting.with_snapshots(con, "forecast_range",
                                                    {"as_of": a, "p1": p1.date(), **base}, snapshot="as_of")).df()
    rates = _win_rates(con, a)
    cfg = stage_list.stage_config(con, conf)
    min_sample = int(conf["min_sample"])
    groups = deals.groupby(["stage", "age_bin"], sort=True).size().index   # the few (stage, bin) pairs
    pairs = sorted({(s, int(b)) for s, b in groups} | {(s, 0) for s in cfg.open})
    obs = con.execute(models.query("close_within"), {
        "as_of": a, "remaining_s": remaining_s, "pair_stages": [p[0] for p in pairs],
        "pair_bins": [p[1] for p in pairs]}).df()
    table = {(s, int(b)): (int(v), int(c)) for s, b, v, c in zip(obs["stage"], obs["age_bin"], obs["visits"],
                                                                 obs["closed_within"])}
    pooled_v = sum(v for (s, b), (v, c) in table.items() if b == 0 and s in cfg.open)
    pooled_c = sum(c for (s, b), (v, c) in table.items() if b == 0 and s in cfg.open)
    per_pair = []                  # the figures of each pair, then one merge onto the deals
    for s, b in groups:
        v, c = table.get((s, int(b)), (0, 0))
        how = "stage and age"
        if v < min_sample:
            v, c = table.get((s, 0), (0, 0))
            how = "stage"
        if v < min_sample:
            v, c, how = pooled_v, pooled_c, "all stages"
        per_pair.append((s, b, float(rates.get(s, 0.0)), 0.0 if remaining_s <= 0 or v == 0 else c / v, how, v))
    figures = pd.DataFrame(per_pair, columns=["stage", "age_bin", "win_rate", "p_close_in_period", "basis",
                                              "visits_behind"])
    deals = deals.merge(figures, on=["stage", "age_bin"], how="left", sort=False)
    deals["visits_behind"] = deals["visits_behind"].astype("int64")
    deals["q"] = deals["win_rate"] * deals["p_close_in_period"]
    deals.attrs.update({"period": name, "p0": p0, "p1": p1, "as_of": a, "remaining_days": remaining_s / 86400,
                        "win_rates": rates,
                        "min_sample": min_sample, "currency": conf["currency"]})
    return deals


def simulate(amounts: np.ndarray, q: np.ndarray, runs: int, seed: int, chunk: int = 32,
             block: int = 512) -> np.ndarray:
    """The total of each run: every deal adds its amount with probability q, independently.
    A deal is won in a run when a uniform 16-bit draw falls below q × 65,536 rounded: q is
    used to the nearest 1/65,536 (below 1/131,072 it never wins, that close to 1 it always
    does), far inside the sampling error of 10,000 runs (about 1/200 for one deal's share).
    Raw generator output, four draws per 64-bit word: 0.35 -> 0.20 s for 50,000 deals against
    32-bit draws. A small chunk of deals at a time (chunk × runs draws stay in the CPU cache);
    each block of chunks draws from its own stream spawned from `seed`, so the result does not
    depend on how the two threads share the blocks (numpy releases the GIL while it draws)."""
    from concurrent.futures import ThreadPoolExecutor

    amounts, q = amounts.astype("float64"), q.astype("float64")
    below = np.round(q * 65536.0)
    totals = np.full(runs, amounts[below >= 65536].sum())      # won in every run, no draw needed
    keep = (below > 0) & (below < 65536)                         # (0, and NaN: never won)
    amounts, below = amounts[keep], below[keep].astype(np.uint16)[:, None]
    starts = list(range(0, len(amounts), block))
    streams = np.random.SeedSequence(seed).spawn(len(starts))
    words = (runs + 3) // 4

    def one(i: int) -> np.ndarray:
        bits, total = np.random.default_rng(streams[i]).bit_generator, np.zeros(runs)
        for s in range(starts[i], min(starts[i] + block, len(amounts)), chunk):
            e = min(s + chunk, starts[i] + block, len(amounts))
            draws = bits.random_raw((e - s) * words).view(np.uint16).reshape(e - s, 4 * words)[:, :runs]
            total += amounts[s:e] @ (draws < below[s:e])
        return total

    with ThreadPoolExecutor(max_workers=2) as pool:
        for part in pool.map(one, range(len(starts))):
            totals += part
    return totals


def forecast_range(con: duckdb.DuckDBPyConnection, period: str | None = None, runs=None, seed=None,
                   as_of=None) -> pd.DataFrame:
    """P10/P50/P90 of the period's won amount over seeded runs, beside the commit and
    weighted forecasts at the same as-of (default: the data's date)."""
    runs = _positive_int(runs, "--runs", 10_000)
    seed = _positive_int(seed, "--seed", 42, allow_zero=True)
    forecasting.share_snapshots(con)              # the inputs and the forecasts: one as-of
    inputs = range_inputs(con, period, as_of)
    at = inputs.attrs
    acc = forecast_accuracy(con, at["period"], at["as_of"].date(), rates=at["win_rates"])
    won = float(acc["won_by_as_of"].iloc[0])
    amounts = inputs["amount_base"].fillna(0.0).to_numpy()
    totals = won + simulate(amounts, inputs["q"].to_numpy(), runs, seed)
    p10, p50, p90 = np.quantile(totals, [0.1, 0.5, 0.9], method="inverted_cdf")
    row = {"period": at["period"], "as_of": at["as_of"].date(), "p10": float(p10), "p50": float(p50),
           "p90": float(p90), "commit_forecast": float(acc["commit_forecast"].iloc[0]),
           "weighted_forecast": float(acc["weighted_forecast"].iloc[0]), "mean": float(totals.mean()),
           "won_by_as_of": won, "deals": len(inputs), "runs": runs, "seed": seed}
    df = pd.DataFrame([row], columns=list(RANGE_KEYS))
    method = RANGE_METHOD.format(runs=runs, seed=seed, as_of=at["as_of"].date(), period=at["period"],
                                 days=round(at["remaining_days"], 2), min_sample=at["min_sample"])
    notes = [method]
    no_amount = int(inputs["amount_base"].isna().sum())
    if no_amount:
        notes.append(f"{no_amount:,} deal(s) have no amount in {at['currency']} and add 0.")
    df.attrs.update({"report": "forecast-range", "as_of": at["as_of"], "period": at["period"], "notes": notes,
                     "method": method, "totals": totals, "accuracy": acc})
    return df


def _positive_int(value, flag: str, default: int, allow_zero: bool = False) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(str(value).strip())
    except ValueError:
        raise UsageError(f"{flag}: expected a whole number, got {value!r}") from None
    if n < 0 or (n == 0 and not allow_zero) or n > 1_000_000:
        raise UsageError(f"{flag}: expected a whole number from {0 if allow_zero else 1} to 1,000,000, got {value!r}")
    return n
