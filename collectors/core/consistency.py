"""The consistency values a snapshot carries for /metrics: plain frozen data.

Imports nothing from the rest of ``core`` (``model.Snapshot`` refers to it), so the
modules that compute these values (``visibility``, ``slo``) build on it, not the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CumulativeHistogram:
    """A Prometheus histogram: ``buckets`` = cumulative counts per bound of
    ``visibility.BOUNDS``, then +Inf (equal to ``count``)."""

    buckets: tuple[int, ...]
    total: float  # sum of observed values
    count: int


@dataclass(frozen=True, slots=True)
class WindowStats:
    """Freshness SLO over one window: None where the window holds no observation.

    ``compliance`` = good / observations; ``burn_rate`` = (1 - compliance) /
    (1 - objective), 1 meaning the error budget is spent exactly at the rate the
    objective allows; ``error_budget_remaining`` = 1 - bad / allowed bad (1 untouched,
    0 spent, negative overspent).
    """

    observations: int
    good: int
    compliance: float | None
    burn_rate: float | None
    error_budget_remaining: float | None


@dataclass(frozen=True, slots=True)
class ConsistencyView:
    """Visibility, probe and windowed-SLO values as of one snapshot (cumulative since
    the collector started, except the SLO windows, computed from the stored history)."""

    visibility: Mapping[tuple[str, str], CumulativeHistogram] = field(default_factory=dict)
    replay_samples: Mapping[tuple[str, str], int] = field(default_factory=dict)
    probes: Mapping[str, CumulativeHistogram] = field(default_factory=dict)
    probe_outcomes: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (probe, outcome)
    probe_failures: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (probe, reason)
    slo_windows: Mapping[tuple[str, str], Mapping[str, WindowStats]] = field(default_factory=dict)
