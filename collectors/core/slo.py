"""Pure freshness-SLO math over cumulative good/total observation counts.

An observation is one group-level staleness value per cycle; it is good when the
staleness is at most the target. ``SloCounter`` counts since the collector started;
the windowed values (5m, 30m, 1h, 6h and the SLO period) come from per-minute counts in
the store (``window_stats``), computed the way the Prometheus recording rules compute
them from the counters (``deploy/prometheus/recording_rules.yml``), so both agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from collectors.core.consistency import WindowStats
from collectors.core.model import GroupLag, SloState, Status

DEFAULT_PERIOD_S = 30 * 86400.0
BUCKET_S = 60.0  # stored counts per minute: the windows' resolution
WINDOWS: tuple[tuple[str, float], ...] = (
    ("5m", 300.0),
    ("30m", 1800.0),
    ("1h", 3600.0),
    ("6h", 21600.0),
)


@dataclass(frozen=True, slots=True)
class SloRule:
    """``[[slo]]``: groups whose name fully matches ``group`` should be at most
    ``target_s`` stale in ``objective`` (e.g. 0.99) of their observations."""

    group: str
    target_s: float
    objective: float
    period_s: float = DEFAULT_PERIOD_S
    # A replay (REWIND) re-reads old events on purpose: by default its staleness is not
    # an observation of the read model's freshness (``[[slo]] count_replays``).
    count_replays: bool = False


class SloCounter:
    """Cumulative good/total group-staleness observations per (cluster, group).

    One observation per group per cycle; an unknown staleness is no observation (it is
    neither good nor bad: the group was unreadable), and neither is a group in REWIND
    unless its rule has ``count_replays``. The first rule that matches a
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
            replaying = group.lag.status is Status.REWIND and not rule.count_replays
            if group.lag.staleness_s is not None and not replaying:
                counts[0] += 1
                counts[1] += group.lag.staleness_s <= rule.target_s
            states.append(
                SloState(
                    group.cluster,
                    group.group,
                    rule.target_s,
                    rule.objective,
                    *counts,
                    period_s=rule.period_s,
                )
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


# --- windows over stored per-minute counts ---------------------------------------------


def bucket_end(t: float) -> float:
    """The end of the minute bucket holding an observation at ``t``: buckets are
    ``(end - 60, end]``, so a counter sampled at a minute boundary covers exactly the
    buckets ending at or before it (as Prometheus's range ``[T - w, T]`` does)."""
    return math.ceil(t / BUCKET_S) * BUCKET_S


def deltas(
    previous: Mapping[tuple[str, str], tuple[int, int]], states: Iterable[SloState]
) -> list[tuple[str, str, int, int]]:
    """(cluster, group, good, observations) added since ``previous`` (cumulative
    (good, observations) by (cluster, group), as last written). A key not in
    ``previous`` counts from 0; a counter that went down (a restarted counter) counts
    from 0 again, as Prometheus's ``rate`` does on a reset. Zero deltas are left out."""
    out = []
    for s in states:
        good0, total0 = previous.get((s.cluster, s.group), (0, 0))
        if s.observations_total < total0 or s.good_total < good0:
            good0, total0 = 0, 0
        good, total = s.good_total - good0, s.observations_total - total0
        if total or good:
            out.append((s.cluster, s.group, good, total))
    return out


def window_stats(
    ends: np.ndarray,
    good: np.ndarray,
    total: np.ndarray,
    now: float,
    window_s: float,
    objective: float,
) -> WindowStats:
    """SLO values over the buckets ending in ``(bucket_end(now) - window_s,
    bucket_end(now)]``: the last ``window_s / 60`` minutes, the current (open) minute
    included. At a minute boundary this is exactly Prometheus's
    ``1 - rate(good[w]) / rate(total[w])`` over counters sampled each minute.

    ``ends``, ``good``, ``total``: per-bucket columns (bucket end, counts), any order.
    Every field but the counts is None when the window holds no observation.
    """
    hi = bucket_end(now)
    inside = (ends > hi - window_s) & (ends <= hi)
    n_total = int(total[inside].sum())
    n_good = int(good[inside].sum())
    return stats_of_counts(n_good, n_total, objective)


def stats_of_counts(good: int, total: int, objective: float) -> WindowStats:
    """``WindowStats`` of ``good`` out of ``total`` observations (see ``window_stats``)."""
    if total <= 0:
        return WindowStats(0, 0, None, None, None)
    compliance = good / total
    error_ratio = 1.0 - compliance
    allowed = 1.0 - objective
    return WindowStats(
        observations=total,
        good=good,
        compliance=compliance,
        burn_rate=error_ratio / allowed,
        error_budget_remaining=1.0 - error_ratio / allowed,
    )


def all_windows(
    ends: np.ndarray, good: np.ndarray, total: np.ndarray, now: float, state: SloState
) -> dict[str, WindowStats]:
    """``WINDOWS`` plus ``"period"`` (the SLO's own period) for one SLO."""
    out = {
        name: window_stats(ends, good, total, now, width, state.objective)
        for name, width in WINDOWS
    }
    out["period"] = window_stats(ends, good, total, now, state.period_s, state.objective)
    return out
