"""SLO inputs, cluster health and collector self-metrics.

Same conventions as ``collectors.serving.metric_families``: rows of ``(label string, value)``
in, exposition text of whole families out; unknown values produce no sample.
"""

from __future__ import annotations

from collections.abc import Sequence

from collectors.core.model import ClusterHealth, CollectorStats, SloState
from collectors.serving.metric_text import format_le, gauge_family, header, labels


def _flag(value: bool) -> int:
    return 1 if value else 0


def slo_families(rows: Sequence[tuple[str, SloState]]) -> list[str]:
    """Freshness SLO inputs; recording rules turn the counters into SLI and burn rates."""
    return [
        gauge_family(
            "lagwatch_slo_target_seconds",
            "Freshness SLO target: staleness an observation must stay under to be good.",
            rows,
            lambda s: s.target_s,
        ),
        gauge_family(
            "lagwatch_slo_objective_ratio",
            "Freshness SLO objective: fraction of observations that must be good.",
            rows,
            lambda s: s.objective,
        ),
        gauge_family(
            "lagwatch_slo_observations_total",
            "Group staleness observations counted for the SLO since the collector started.",
            rows,
            lambda s: s.observations_total,
            kind="counter",
        ),
        gauge_family(
            "lagwatch_slo_good_observations_total",
            "Observations with staleness under the SLO target since the collector started.",
            rows,
            lambda s: s.good_total,
            kind="counter",
        ),
    ]


def cluster_families(clusters: Sequence[ClusterHealth]) -> list[str]:
    """``lagwatch_up`` and the last time each cluster was read successfully."""
    rows = [(labels(cluster=c.cluster), c) for c in clusters]
    return [
        gauge_family(
            "lagwatch_up",
            "1 when the collector's last cycle reached the cluster, 0 otherwise.",
            rows,
            lambda c: _flag(c.up),
        ),
        gauge_family(
            "lagwatch_cluster_last_success_timestamp_seconds",
            "UNIX time of the last cycle that read the cluster successfully.",
            rows,
            lambda c: c.last_success_at,
        ),
    ]


def last_success_family(last_success_at: float | None) -> str:
    """Last successful cycle; 0 before the first one, so ``time() - x`` alerts fire."""
    name = "lagwatch_collector_last_success_timestamp_seconds"
    help_text = "UNIX time of the last successful collection cycle; 0 before the first one."
    return header(name, "gauge", help_text) + f"{name} {last_success_at or 0}\n"


def collector_families(stats: CollectorStats, taken_at: float) -> list[str]:
    """Self-metrics: cycle histogram, errors by kind, cache, start and snapshot times."""
    lookups = stats.timestamp_cache_hits + stats.timestamp_cache_misses
    ratio = None if lookups == 0 else stats.timestamp_cache_hits / lookups
    cache_rows = [
        ('result="hit"', stats.timestamp_cache_hits),
        ('result="miss"', stats.timestamp_cache_misses),
    ]
    return [
        _cycle_histogram(stats),
        gauge_family(
            "lagwatch_collector_errors_total",
            "Errors by kind since the collector started (a cycle may count several).",
            [(labels(kind=k), n) for k, n in sorted(stats.errors_total.items())],
            lambda n: n,
            kind="counter",
        ),
        last_success_family(stats.last_success_at),
        _scalar(
            "lagwatch_collector_start_time_seconds",
            "UNIX time the collector started.",
            stats.started_at,
        ),
        _scalar(
            "lagwatch_collector_snapshot_timestamp_seconds",
            "UNIX time the served snapshot was taken: every value here is as of this time.",
            taken_at,
        ),
        gauge_family(
            "lagwatch_collector_timestamp_cache_lookups_total",
            "Record-timestamp cache lookups by result (hit: no fetch from Kafka needed).",
            cache_rows,
            lambda n: n,
            kind="counter",
        ),
        _scalar(
            "lagwatch_collector_timestamp_cache_hit_ratio",
            "Hits / lookups of the record-timestamp cache since start; absent before any.",
            ratio,
        ),
    ]


def _scalar(name: str, help_text: str, value: float | None) -> str:
    body = "" if value is None else f"{name} {value}\n"
    return header(name, "gauge", help_text) + body


def _cycle_histogram(stats: CollectorStats) -> str:
    """Cycle duration histogram; ``_count`` is the +Inf bucket (cycles_total if no buckets)."""
    name = "lagwatch_collector_cycle_duration_seconds"
    buckets = list(stats.cycle_duration_buckets)
    if not buckets or buckets[-1][0] != float("inf"):
        buckets.append((float("inf"), stats.cycles_total))
    lines = [f'{name}_bucket{{le="{format_le(le)}"}} {count}\n' for le, count in buckets]
    lines.append(f"{name}_sum {stats.cycle_duration_sum_s}\n")
    lines.append(f"{name}_count {buckets[-1][1]}\n")
    return header(name, "histogram", "Duration of collection cycles.") + "".join(lines)
