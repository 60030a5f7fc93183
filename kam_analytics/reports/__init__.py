"""The reports: one function each, (connection, options) -> pandas DataFrame.

Every number a page shows comes from one of these, and the CLI prints the same. Each
report's options are declared once here, so the CLI, the pages and the README agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from . import accounts as _accounts
from . import forecast_quality as _quality
from . import forecasting as _forecasting
from . import mutual_plans as _mutual_plans
from . import pacing as _pacing
from . import risk as _risk
from . import stage_durations as _stage_durations
from . import velocity as _velocity
from . import win_loss as _win_loss


@dataclass(frozen=True)
class Option:
    flag: str                       # CLI flag, e.g. "--by"
    dest: str                       # keyword argument of the report function
    help: str
    choices: tuple[str, ...] | None = None
    default: object = None
    flag_only: bool = False         # a switch (store_true)


@dataclass(frozen=True)
class Report:
    name: str
    func: Callable[..., pd.DataFrame]
    help: str
    keys: tuple[str, ...]           # the JSON contract's keys, in order ([DIM] first when split)
    options: tuple[Option, ...] = field(default_factory=tuple)


PERIOD_INSIDE = Option("--period", "period", "a fiscal quarter or month, e.g. FY2026-Q1 or FY2026-M02 (default: "
                      "the quarter of the data's date); --as-of, default the period's first day, must be inside it")
BY = Option("--by", "by", "split by a dimension: a named one (segment, region, owner, industry, …), size_band, or a text "
            "column with at most 50 values; never ids, names, amounts or dates")
CLOSED_RANGE = (
    Option("--from", "date_from", "deals closed on or after this day (default: every closed deal)"),
    Option("--to", "date_to", "deals closed on or before this day"),
    Option("--segment", "segment", "only deals of this segment"),
)

SCOPE = Option("--scope", "scope", "key: the key accounts (tier key, strategic, chiave or strategico; without such "
               "tiers, the accounts with an account plan); all: every account", ("key", "all"), "key")

REPORTS: dict[str, Report] = {
    r.name: r
    for r in (
        Report(
            "stage-durations",
            _stage_durations.stage_durations,
            "Time deals spend in each stage: completed visits and deals in progress.",
            _stage_durations.KEYS,
            (
                BY,
                Option("--outcome", "outcome", "which deals: all (open included), won or lost", ("all", "won", "lost"), "all"),
                Option("--revisits", "revisits", "how revisits of a stage count (default: the saved setting, else cumulative)",
                       ("cumulative", "first", "latest")),
                Option("--created-from", "created_from", "only deals created on or after this date"),
                Option("--created-to", "created_to", "only deals created on or before this date"),
            ),
        ),
        Report(
            "conversion",
            _velocity.conversion,
            "Closed deals reaching each stage, conversion to the next stage and win rate from it.",
            _velocity.CONVERSION_KEYS,
            (BY,),
        ),
        Report(
            "cycle",
            _velocity.cycle,
            "Sales-cycle length (created to closed, days) of won, lost and all closed deals.",
            _velocity.CYCLE_KEYS,
            (BY,),
        ),
        Report(
            "pipeline",
            _forecasting.pipeline,
            "The open pipeline at the as-of by stage, forecast category and close quarter: deals and amount.",
            _forecasting.PIPELINE_KEYS,
            (BY,),
        ),
        Report(
            "pushes",
            _forecasting.pushes,
            "Close-date pushes and pull-ins per deal, with the days pushed.",
            _forecasting.PUSHES_KEYS,
        ),
        Report(
            "slippage",
            _forecasting.slippage,
            "Deals expected to close in a period (open at its start, close date in it): won, lost, slipped or still due.",
            _forecasting.SLIPPAGE_KEYS,
            (PERIOD_INSIDE,),
        ),
        Report(
            "waterfall",
            _forecasting.waterfall,
            "How the pipeline of a close-date window moved between two dates: start, new, pulled in, increased, "
            "decreased, pushed out, won, lost, end.",
            _forecasting.WATERFALL_KEYS,
            (Option("--from", "date_from", "the window's first day (default: the period's first day)"),
             Option("--to", "date_to", "the window's last day (default: the period's last day, or the data's date "
                    "while it runs)"),
             Option("--period", "period", "the close-date window W, a fiscal quarter or month (default: the quarter "
                    "of the data's date)")),
        ),
        Report(
            "forecast-accuracy",
            _quality.forecast_accuracy,
            "Commit, best-case and weighted forecasts at the as-of against the actual won, and the owners' calls.",
            _quality.ACCURACY_KEYS,
            (Option("--period", "period", "a fiscal quarter or month (default: the quarter of the data's date); "
                    "--as-of defaults to its first day"),
             Option("--owners", "owners", "one row per owner (their own forecasts, call and actual)",
                    flag_only=True)),
        ),
        Report(
            "attainment",
            _quality.attainment,
            "Quota attainment and pipeline coverage per owner, or rolled up by manager or team; the owners "
            "without a quota on one last row, \"(no quota)\".",
            _quality.ATTAINMENT_KEYS,
            (Option("--period", "period", "a fiscal quarter or month (default: the quarter of the data's date)"),
             Option("--by", "by", "owner (default), manager or team", _quality.ATTAINMENT_BY, "owner")),
        ),
        Report(
            "forecast-range",
            _quality.forecast_range,
            "P10/P50/P90 of the period's won amount over seeded simulation runs, beside commit and weighted.",
            _quality.RANGE_KEYS,
            (Option("--period", "period", "a fiscal quarter or month (default: the quarter of the data's date)"),
             Option("--runs", "runs", "number of runs (default 10000)"),
             Option("--seed", "seed", "random seed (default 42)")),
        ),
        Report(
            "pacing",
            _pacing.pacing,
            "The period week by week: won so far, commit, best case and weighted as they stood at each week's "
            "start and at the as-of, against the quota and the typical pace of the last four periods; the "
            "pipeline still needed at the as-of.",
            _pacing.KEYS,
            (Option("--period", "period", "a fiscal quarter or month (default: the quarter of the data's date); "
                    "--as-of, default the data's date, must not be before its first day"),),
        ),
        Report(
            "risk",
            _risk.risk,
            "Open deals at risk: score (the sum of the flags' weights, learnt from the team's own closed deals), "
            "band, predicted win probability against the stage's win rate, the flags tripped and one sentence with "
            "the numbers behind each; the deals most likely to be lost by amount first.",
            (*_risk.RISK_KEYS, *_risk.RISK_EXTRA),
        ),
        Report(
            "risk-backtest",
            _risk.risk_backtest,
            "Each risk flag evaluated at every fiscal-quarter start in the range on deals that have since closed: "
            "win rates flagged and unflagged, the lift, the stage-adjusted lift and the default weight it gives; "
            "with --calibration the reliability table and the Brier scores instead.",
            (*_risk.BACKTEST_KEYS, *_risk.BACKTEST_EXTRA),
            (Option("--from", "date_from", "the range's first day (default: the eighth fiscal-quarter start before "
                    "the data's date)"),
             Option("--to", "date_to", "the range's last day (default: the data's date)"),
             Option("--calibration", "calibration", "the reliability table instead: per tenth of the predicted win "
                    "probability, the evaluations, the mean prediction and the actual win rate (keys: "
                    + ", ".join(_risk.RELIABILITY_KEYS + _risk.RELIABILITY_EXTRA) + "), with the Brier scores of "
                    "the prediction and of the stage win rate alone", flag_only=True)),
        ),
        Report(
            "win-loss",
            _win_loss.win_loss,
            "Won and lost deals closed in the range: win rate by count (with its 95% Wilson interval) and by value.",
            (*_win_loss.KEYS, *_win_loss.EXTRA),
            (BY, *CLOSED_RANGE),
        ),
        Report(
            "plan-effect",
            _win_loss.plan_effect,
            "Win rate of closed deals by a mutual-plan fact at their closing: has_mutual_plan, plan_signed, "
            "completion_band or buyer_on_time_band.",
            (*_win_loss.PLAN_EFFECT_KEYS, *_win_loss.PLAN_EFFECT_EXTRA),
            (Option("--by", "by", "the plan fact (default has_mutual_plan)", _win_loss.FACTS, "has_mutual_plan"),
             *CLOSED_RANGE),
        ),
        Report(
            "step-lateness",
            _win_loss.step_lateness,
            "Each mutual-plan step (grouped by name) in won and in lost deals: steps, share completed on time, "
            "median late days, share overdue at close.",
            (*_win_loss.STEP_KEYS, *_win_loss.STEP_EXTRA),
            CLOSED_RANGE,
        ),
        Report(
            "map-health",
            _mutual_plans.map_health,
            "Open deals' mutual action plans: steps, completion, overdue steps (buyer-side apart), buyer engagement, "
            "signed, and the deal's risk band.",
            (*_mutual_plans.MAP_HEALTH_KEYS, *_mutual_plans.MAP_HEALTH_EXTRA),
        ),
        Report(
            "accounts",
            _accounts.accounts,
            "Key accounts: value of the last 12 months, potential, relationship, plan coverage (plan reviewed within "
            "180 days; decision maker, economic buyer and champion on the map; no overdue actions) and the plan's "
            "seven elements.",
            (*_accounts.KEYS, *_accounts.EXTRA),
            (SCOPE,),
        ),
        Report(
            "account-goals",
            _accounts.account_goals,
            "The key accounts' goals with progress from the deals over the fiscal year of each goal's due date (won "
            "amount, won deals, open pipeline, win rate); other metrics are not measurable from deals.",
            (*_accounts.GOAL_KEYS, *_accounts.GOAL_EXTRA),
            (SCOPE,),
        ),
    )
}


def get(name: str) -> Report:
    return REPORTS[name]
