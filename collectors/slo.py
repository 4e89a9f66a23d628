"""Pure freshness-SLO math over cumulative good/total observation counts.

An observation is one group-level staleness value per cycle; it is good when the
staleness is at most the target. Burn rates over windows are left to Prometheus
(``deploy/prometheus/recording_rules.yml``), which has the counters' history.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.model import SloState


@dataclass(frozen=True, slots=True)
class SloSummary:
    compliance: float | None  # good / total; None before the first observation
    error_budget_remaining: float | None  # 1 = untouched, 0 = spent, < 0 = overspent
    meeting_objective: bool | None


def summarize(state: SloState) -> SloSummary:
    """Compliance and error budget since the collector started.

    The budget is the share of bad observations the objective allows: with objective
    0.99 and 1,000 observations, 10 may be bad; 5 bad leaves 0.5 of the budget.
    """
    if state.observations_total == 0:
        return SloSummary(None, None, None)
    bad = state.observations_total - state.good_total
    allowed = (1.0 - state.objective) * state.observations_total
    compliance = state.good_total / state.observations_total
    return SloSummary(compliance, 1.0 - bad / allowed, compliance >= state.objective)
