"""Pure freshness-SLO math over cumulative good/total observation counts.

An observation is one group-level staleness value per cycle; it is good when the
staleness is at most the target. Burn rates over windows are left to Prometheus
(``deploy/prometheus/recording_rules.yml``), which has the counters' history.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from collectors.core.model import GroupLag, SloState


@dataclass(frozen=True, slots=True)
class SloRule:
    """``[[slo]]``: groups whose name fully matches ``group`` should be at most
    ``target_s`` stale in ``objective`` (e.g. 0.99) of their observations."""

    group: str
    target_s: float
    objective: float


class SloCounter:
    """Cumulative good/total group-staleness observations per (cluster, group).

    One observation per group per cycle; an unknown staleness is no observation (it is
    neither good nor bad: the group was unreadable). The first rule that matches a
    group applies; groups no rule matches are not counted.
    """

    def __init__(self, rules: Sequence[SloRule]) -> None:
        self._rules = [(re.compile(r.group), r) for r in rules]
        self._counts: dict[tuple[str, str], list[int]] = {}

    def observe(self, groups: Iterable[GroupLag]) -> tuple[SloState, ...]:
        states = []
        for group in groups:
            rule = next((r for p, r in self._rules if p.fullmatch(group.group)), None)
            if rule is None:
                continue
            counts = self._counts.setdefault((group.cluster, group.group), [0, 0])
            if group.lag.staleness_s is not None:
                counts[0] += 1
                counts[1] += group.lag.staleness_s <= rule.target_s
            states.append(
                SloState(group.cluster, group.group, rule.target_s, rule.objective, *counts)
            )
        return tuple(states)


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
