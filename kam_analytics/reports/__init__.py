"""The reports: one function each, (connection, options) -> pandas DataFrame.

Every number a page shows comes from one of these, and the CLI prints the same. What each
report is called, its options and its keys are in kam_analytics/catalogue.py; here each is
joined to its function."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from ..catalogue import SPECS, Option, ReportSpec
from . import accounts as _accounts
from . import forecast_quality as _quality
from . import forecasting as _forecasting
from . import mutual_plans as _mutual_plans
from . import pacing as _pacing
from . import risk as _risk
from . import stage_durations as _stage_durations
from . import velocity as _velocity
from . import win_loss as _win_loss

__all__ = ["REPORTS", "Option", "Report", "get"]


@dataclass(frozen=True)
class Report(ReportSpec):
    """A catalogue entry with its function."""

    func: Callable[..., pd.DataFrame] = None  # type: ignore[assignment]


FUNCTIONS: dict[str, Callable[..., pd.DataFrame]] = {
    "stage-durations": _stage_durations.stage_durations,
    "conversion": _velocity.conversion,
    "cycle": _velocity.cycle,
    "pipeline": _forecasting.pipeline,
    "pushes": _forecasting.pushes,
    "slippage": _forecasting.slippage,
    "waterfall": _forecasting.waterfall,
    "forecast-accuracy": _quality.forecast_accuracy,
    "attainment": _quality.attainment,
    "forecast-range": _quality.forecast_range,
    "pacing": _pacing.pacing,
    "risk": _risk.risk,
    "risk-backtest": _risk.risk_backtest,
    "win-loss": _win_loss.win_loss,
    "plan-effect": _win_loss.plan_effect,
    "step-lateness": _win_loss.step_lateness,
    "map-health": _mutual_plans.map_health,
    "accounts": _accounts.accounts,
    "account-goals": _accounts.account_goals,
}

REPORTS: dict[str, Report] = {
    name: Report(spec.name, spec.help, spec.keys, spec.options, func=FUNCTIONS[name]) for name, spec in SPECS.items()
}


def get(name: str) -> Report:
    return REPORTS[name]
