"""The catalogue of reports: each report's name, what it answers, its command-line options and
the keys of its rows (the contract the CLI's csv/json/xlsx keep), in one place. The command
line builds its parser from it without loading a report (a light --help); reports/__init__.py
joins each entry to its function; docs/metrics.md describes every key (a test keeps them in step)."""

from __future__ import annotations

from dataclasses import dataclass, field

# the blank templates `kam template KIND` writes (templates.KINDS holds their sheets; a test keeps
# the two in step)
TEMPLATE_KINDS = ("account-plan", "account-map", "deals", "stage-history", "closing-plan", "mutual-plan")

# stage durations
STAGE_DURATIONS_KEYS = ("stage", "deals", "mean_days", "median_days", "p75_days", "p90_days",
                        "in_progress", "in_progress_median_age_days")
# velocity
CONVERSION_KEYS = ("stage", "reached", "conversion_to_next", "win_rate_from_stage")
CYCLE_KEYS = ("outcome", "deals", "mean_days", "median_days")
# forecasting
PUSHES_KEYS = ("deal_id", "pushes", "pull_ins", "days_pushed", "first_close_date", "close_date")
SLIPPAGE_KEYS = ("period", "expected_deals", "expected_amount", "won_deals", "won_amount", "lost_deals",
                 "lost_amount", "slipped_deals", "slipped_amount", "slippage_rate", "slippage_count_rate",
                 "open_deals", "open_amount")
PIPELINE_KEYS = ("stage", "forecast_category", "period", "deals", "amount")
WATERFALL_KEYS = ("category", "deals", "amount")
# forecast quality
ACCURACY_KEYS = ("period", "as_of", "commit_forecast", "best_case_forecast", "weighted_forecast", "actual",
                 "commit_accuracy", "best_case_accuracy", "weighted_accuracy", "commit_error", "best_case_error",
                 "weighted_error", "won_by_as_of", "calls_owners", "calls_commit", "calls_best_case", "calls_actual",
                 "calls_commit_accuracy", "calls_best_case_accuracy")
ACCURACY_OWNER_KEYS = ("owner", "period", "as_of", "commit_forecast", "best_case_forecast", "weighted_forecast",
                       "actual", "commit_accuracy", "best_case_accuracy", "weighted_accuracy", "call_commit",
                       "call_best_case", "call_submitted_at", "call_commit_accuracy", "call_best_case_accuracy")
ATTAINMENT_KEYS = ("period", "quota", "won_amount", "attainment", "open_amount", "coverage")
ATTAINMENT_BY = ("owner", "manager", "team")
RANGE_KEYS = ("period", "as_of", "p10", "p50", "p90", "commit_forecast", "weighted_forecast", "mean", "won_by_as_of",
              "deals", "runs", "seed")
# pacing
PACING_KEYS = ("period", "week_start", "week_index", "won_so_far", "commit_forecast", "best_case_forecast",
               "weighted_forecast", "quota", "typical_won_share", "typical_won_share_low", "typical_won_share_high",
               "pipeline_needed")
# risk
RISK_KEYS = ("deal_id", "score", "band", "flags", "reasons", "predicted_win_probability", "stage_win_rate")
RISK_EXTRA = ("expected_loss", "deal_name", "owner", "segment", "account_id", "stage", "amount", "currency",
              "close_date", "realistic_close_date", "current_values")
BACKTEST_KEYS = ("flag", "evaluations", "flagged_deals", "win_rate_flagged", "win_rate_unflagged", "lift",
                 "median_days_before_close", "stage_adjusted_lift", "default_weight")
BACKTEST_EXTRA = ("flagged_evaluations", "expected_win_rate_flagged", "current_values", "weight", "weight_set",
                  "threshold")
RELIABILITY_KEYS = ("decile", "evaluations", "predicted_win_rate", "actual_win_rate", "brier_score",
                    "brier_score_stage_alone")
RELIABILITY_EXTRA = ("won", "stage_win_rate", "decile_from", "decile_to")
# win loss
WIN_LOSS_KEYS = ("won", "lost", "win_rate", "won_amount", "lost_amount", "value_win_rate", "win_rate_low", "win_rate_high")
WIN_LOSS_EXTRA = ("deals",)
PLAN_FACTS = ("has_mutual_plan", "plan_signed", "completion_band", "buyer_on_time_band")
PLAN_EFFECT_KEYS = ("won", "lost", "win_rate")
PLAN_EFFECT_EXTRA = ("win_rate_low", "win_rate_high", "won_amount", "lost_amount", "value_win_rate", "deals")
STEP_KEYS = ("step", "outcome", "steps", "on_time_rate", "median_late_days", "overdue_at_close_rate")
STEP_EXTRA = ("completed_steps", "step_key")
# mutual plans
MAP_HEALTH_KEYS = ("deal_id", "steps", "completion", "overdue_buyer_steps", "overdue_seller_steps",
                   "buyer_engagement", "signed", "risk_band")
MAP_HEALTH_EXTRA = ("health", "deal_name", "account_id", "owner", "segment", "stage", "amount", "close_date",
                    "risk_score", "unsigned_at_stage", "completed_steps", "buyer_due_steps", "days_to_mutual")

# key accounts (docs/metrics.md "Key accounts", "Coverage", "Goal progress")
ACCOUNTS_KEYS = ("account_id", "account_name", "value_12m", "potential", "relationship_strength", "plan_age_days",
                 "has_decision_maker", "has_economic_buyer", "has_champion", "overdue_actions", "coverage_score")
PLAN_ELEMENTS = (     # the seed's seven elements of a key-account plan, in its order: (column, label)
    ("has_customer_profile", "customer profile"),
    ("has_situation_analysis", "situation analysis (SWOT, competition)"),
    ("has_goals", "goals and objectives"),
    ("has_strategies", "strategies and tactics"),
    ("has_action_plan", "action plan"),
    ("has_resource_allocation", "resource allocation"),
    ("has_performance_monitoring", "performance monitoring"),
)
ACCOUNTS_EXTRA = ("plan_reviewed", "no_overdue_actions", "coverage_met", "gaps", "plan_elements", "missing_elements",
                  *(c for c, _ in PLAN_ELEMENTS), "tier", "segment", "industry", "region", "account_owner",
                  "key_reason", "open_pipeline", "open_deals", "potential_source", "won_deals_12m", "revenue_potential",
                  "annual_revenue", "plan_date", "next_review_date", "plans", "map_people", "actions", "goals")
ACCOUNT_GOALS_KEYS = ("account_id", "account_name", "goal", "metric", "target_value", "due_date", "status",
                      "fiscal_year", "measured", "actual", "progress")
ACCOUNT_GOALS_EXTRA = ("metric_key", "note", "expected_progress", "progress_status")


@dataclass(frozen=True)
class Option:
    flag: str                       # CLI flag, e.g. "--by"
    dest: str                       # keyword argument of the report function
    help: str
    choices: tuple[str, ...] | None = None
    default: object = None
    flag_only: bool = False         # a switch (store_true)


@dataclass(frozen=True)
class ReportSpec:
    name: str
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

SPECS: dict[str, ReportSpec] = {
    r.name: r
    for r in (
        ReportSpec(
            "stage-durations",
            "Time deals spend in each stage: completed visits and deals in progress.",
            STAGE_DURATIONS_KEYS,
            (
                BY,
                Option("--outcome", "outcome", "which deals: all (open included), won or lost", ("all", "won", "lost"), "all"),
                Option("--revisits", "revisits", "how revisits of a stage count (default: the saved setting, else cumulative)",
                       ("cumulative", "first", "latest")),
                Option("--created-from", "created_from", "only deals created on or after this date"),
                Option("--created-to", "created_to", "only deals created on or before this date"),
            ),
        ),
        ReportSpec(
            "conversion",
            "Closed deals reaching each stage, conversion to the next stage and win rate from it.",
            CONVERSION_KEYS,
            (BY,),
        ),
        ReportSpec(
            "cycle",
            "Sales-cycle length (created to closed, days) of won, lost and all closed deals.",
            CYCLE_KEYS,
            (BY,),
        ),
        ReportSpec(
            "pipeline",
            "The open pipeline at the as-of by stage, forecast category and close quarter: deals and amount.",
            PIPELINE_KEYS,
            (BY,),
        ),
        ReportSpec(
            "pushes",
            "Close-date pushes and pull-ins per deal, with the days pushed.",
            PUSHES_KEYS,
        ),
        ReportSpec(
            "slippage",
            "Deals expected to close in a period (open at its start, close date in it): won, lost, slipped or still due.",
            SLIPPAGE_KEYS,
            (PERIOD_INSIDE,),
        ),
        ReportSpec(
            "waterfall",
            "How the pipeline of a close-date window moved between two dates: start, new, pulled in, increased, "
            "decreased, pushed out, won, lost, end.",
            WATERFALL_KEYS,
            (Option("--from", "date_from", "the window's first day (default: the period's first day)"),
             Option("--to", "date_to", "the window's last day (default: the period's last day, or the data's date "
                    "while it runs)"),
             Option("--period", "period", "the close-date window W, a fiscal quarter or month (default: the quarter "
                    "of the data's date)")),
        ),
        ReportSpec(
            "forecast-accuracy",
            "Commit, best-case and weighted forecasts at the as-of against the actual won, and the owners' calls.",
            ACCURACY_KEYS,
            (Option("--period", "period", "a fiscal quarter or month (default: the quarter of the data's date); "
                    "--as-of defaults to its first day"),
             Option("--owners", "owners", "one row per owner (their own forecasts, call and actual)",
                    flag_only=True)),
        ),
        ReportSpec(
            "attainment",
            "Quota attainment and pipeline coverage per owner, or rolled up by manager or team; the owners "
            "without a quota on one last row, \"(no quota)\".",
            ATTAINMENT_KEYS,
            (Option("--period", "period", "a fiscal quarter or month (default: the quarter of the data's date)"),
             Option("--by", "by", "owner (default), manager or team", ATTAINMENT_BY, "owner")),
        ),
        ReportSpec(
            "forecast-range",
            "P10/P50/P90 of the period's won amount over seeded simulation runs, beside commit and weighted.",
            RANGE_KEYS,
            (Option("--period", "period", "a fiscal quarter or month (default: the quarter of the data's date)"),
             Option("--runs", "runs", "number of runs (default 10000)"),
             Option("--seed", "seed", "random seed (default 42)")),
        ),
        ReportSpec(
            "pacing",
            "The period week by week: won so far, commit, best case and weighted as they stood at each week's "
            "start and at the as-of, against the quota and the typical pace of the last four periods; the "
            "pipeline still needed at the as-of.",
            PACING_KEYS,
            (Option("--period", "period", "a fiscal quarter or month (default: the quarter of the data's date); "
                    "--as-of, default the data's date, must not be before its first day"),),
        ),
        ReportSpec(
            "risk",
            "Open deals at risk: score (the sum of the flags' weights, learnt from the team's own closed deals), "
            "band, predicted win probability against the stage's win rate, the flags tripped and one sentence with "
            "the numbers behind each; the deals most likely to be lost by amount first.",
            (*RISK_KEYS, *RISK_EXTRA),
        ),
        ReportSpec(
            "risk-backtest",
            "Each risk flag evaluated at every fiscal-quarter start in the range on deals that have since closed: "
            "win rates flagged and unflagged, the lift, the stage-adjusted lift and the default weight it gives; "
            "with --calibration the reliability table and the Brier scores instead.",
            (*BACKTEST_KEYS, *BACKTEST_EXTRA),
            (Option("--from", "date_from", "the range's first day (default: the eighth fiscal-quarter start before "
                    "the data's date)"),
             Option("--to", "date_to", "the range's last day (default: the data's date)"),
             Option("--calibration", "calibration", "the reliability table instead: per tenth of the predicted win "
                    "probability, the evaluations, the mean prediction and the actual win rate (keys: "
                    + ", ".join(RELIABILITY_KEYS + RELIABILITY_EXTRA) + "), with the Brier scores of "
                    "the prediction and of the stage win rate alone", flag_only=True)),
        ),
        ReportSpec(
            "win-loss",
            "Won and lost deals closed in the range: win rate by count (with its 95% Wilson interval) and by value.",
            (*WIN_LOSS_KEYS, *WIN_LOSS_EXTRA),
            (BY, *CLOSED_RANGE),
        ),
        ReportSpec(
            "plan-effect",
            "Win rate of closed deals by a mutual-plan fact at their closing: has_mutual_plan, plan_signed, "
            "completion_band or buyer_on_time_band.",
            (*PLAN_EFFECT_KEYS, *PLAN_EFFECT_EXTRA),
            (Option("--by", "by", "the plan fact (default has_mutual_plan)", PLAN_FACTS, "has_mutual_plan"),
             *CLOSED_RANGE),
        ),
        ReportSpec(
            "step-lateness",
            "Each mutual-plan step (grouped by name) in won and in lost deals: steps, share completed on time, "
            "median late days, share overdue at close.",
            (*STEP_KEYS, *STEP_EXTRA),
            CLOSED_RANGE,
        ),
        ReportSpec(
            "map-health",
            "Open deals' mutual action plans: steps, completion, overdue steps (buyer-side apart), buyer engagement, "
            "signed, and the deal's risk band.",
            (*MAP_HEALTH_KEYS, *MAP_HEALTH_EXTRA),
        ),
        ReportSpec(
            "accounts",
            "Key accounts: value of the last 12 months, potential, relationship, plan coverage (plan reviewed within "
            "180 days; decision maker, economic buyer and champion on the map; no overdue actions) and the plan's "
            "seven elements.",
            (*ACCOUNTS_KEYS, *ACCOUNTS_EXTRA),
            (SCOPE,),
        ),
        ReportSpec(
            "account-goals",
            "The key accounts' goals with progress from the deals over the fiscal year of each goal's due date (won "
            "amount, won deals, open pipeline, win rate); other metrics are not measurable from deals.",
            (*ACCOUNT_GOALS_KEYS, *ACCOUNT_GOALS_EXTRA),
            (SCOPE,),
        ),
    )
}
