"""The metric families lagwatch exposes, one function per level.

Every function takes rows of ``(label string, value object)`` and returns exposition text
for whole families. Names, types and meanings are documented in ``docs/metrics.md``; a
unit test keeps the two in step. A value that is not known (None) produces no sample:
Prometheus then marks the series stale instead of storing a made-up number.
"""

from __future__ import annotations

from collections.abc import Sequence

from collectors.metrics_text import (
    escape_label_value,
    format_le,
    gauge_family,
    header,
    labels,
    one_hot_family,
)
from collectors.model import (
    Aggregate,
    ClusterHealth,
    CollectorStats,
    GroupLag,
    PartitionLag,
    SloState,
    Status,
)

STATES = tuple(s.value for s in Status)


def _flag(value: bool) -> int:
    return 1 if value else 0


def aggregate_families(prefix: str, what: str, rows: Sequence[tuple[str, Aggregate]]) -> list[str]:
    """Roll-up families (``lagwatch_group_*`` or ``lagwatch_group_topic_*``) of ``Aggregate``s."""
    return [
        gauge_family(
            f"{prefix}_offset_lag",
            f"Offsets not yet consumed, summed over the partitions of the {what}.",
            rows,
            lambda a: a.offset_lag,
        ),
        gauge_family(
            f"{prefix}_staleness_seconds",
            f"Age of the oldest unconsumed record over the {what} (max over partitions); "
            "0 when caught up.",
            rows,
            lambda a: a.staleness_s,
        ),
        gauge_family(
            f"{prefix}_data_age_seconds",
            f"Age of the newest consumed record, max over the partitions of the {what}.",
            rows,
            lambda a: a.data_age_s,
        ),
        gauge_family(
            f"{prefix}_consume_rate_offsets_per_second",
            f"Committed-offset advance of the {what}, offsets per second over the rate window.",
            rows,
            lambda a: a.consume_rate,
        ),
        gauge_family(
            f"{prefix}_produce_rate_offsets_per_second",
            f"Log-end advance of the {what}'s partitions, offsets per second over the window.",
            rows,
            lambda a: a.produce_rate,
        ),
        gauge_family(
            f"{prefix}_eta_seconds",
            f"Estimated time for the {what} to catch up; absent when not catching up.",
            rows,
            lambda a: a.eta_s,
        ),
        gauge_family(
            f"{prefix}_partitions",
            f"Partitions of the {what}.",
            rows,
            lambda a: a.partitions,
        ),
        gauge_family(
            f"{prefix}_no_commit_partitions",
            f"Partitions of the {what} with no committed offset (lag counted from log start).",
            rows,
            lambda a: a.no_commit_partitions,
        ),
        gauge_family(
            f"{prefix}_events_expired_partitions",
            f"Partitions of the {what} whose committed offset is below the log start: events "
            "were deleted before being applied.",
            rows,
            lambda a: a.events_expired_partitions,
        ),
        one_hot_family(
            f"{prefix}_status",
            f"Status of the {what}: one series per state, 1 for the current one.",
            "status",
            STATES,
            [(lbl, a.status.value) for lbl, a in rows],
        ),
    ]


def group_only_families(rows: Sequence[tuple[str, GroupLag]]) -> list[str]:
    """Group facts that have no topic-level counterpart: members and consumer-group state."""
    state_lines = "".join(
        f'lagwatch_group_state{{{lbl},state="{escape_label_value(g.state)}"}} 1\n'
        for lbl, g in rows
    )
    return [
        gauge_family(
            "lagwatch_group_members",
            "Members of the consumer group.",
            rows,
            lambda g: g.members,
        ),
        header(
            "lagwatch_group_state",
            "gauge",
            "Consumer-group state reported by the broker (STABLE, EMPTY, DEAD, ...): "
            "one series with value 1 for the current state.",
        )
        + state_lines,
    ]


def partition_families(rows: Sequence[tuple[str, PartitionLag]]) -> list[str]:
    """Per-partition families (see docs/metrics.md for what is left out and why).

    Status is one series per partition labelled with the current state, not seven;
    consume and produce rates are not repeated per partition: ``rate()`` over
    ``lagwatch_partition_committed_offset`` and ``lagwatch_partition_log_end_offset``
    gives them.
    """
    return [
        gauge_family(
            "lagwatch_partition_offset_lag",
            "Offsets not yet consumed: log end - committed (log end - log start without a "
            "commit). Never negative.",
            rows,
            lambda p: p.offset_lag,
        ),
        gauge_family(
            "lagwatch_partition_staleness_seconds",
            "Age of the first unconsumed record; 0 when caught up.",
            rows,
            lambda p: p.staleness_s,
        ),
        gauge_family(
            "lagwatch_partition_data_age_seconds",
            "Age of the last consumed record.",
            rows,
            lambda p: p.data_age_s,
        ),
        gauge_family(
            "lagwatch_partition_eta_seconds",
            "Estimated time to catch up; absent when not catching up.",
            rows,
            lambda p: p.eta_s,
        ),
        gauge_family(
            "lagwatch_partition_committed_offset",
            "The group's committed offset; absent when the group never committed.",
            rows,
            lambda p: p.committed,
        ),
        gauge_family(
            "lagwatch_partition_log_end_offset",
            "High watermark (last stable offset for read_committed groups).",
            rows,
            lambda p: p.log_end,
        ),
        gauge_family(
            "lagwatch_partition_no_commit",
            "1 when the group has no committed offset for the partition.",
            rows,
            lambda p: _flag(p.no_commit),
        ),
        gauge_family(
            "lagwatch_partition_events_expired",
            "1 when the committed offset is below the log start: the read model can no "
            "longer be rebuilt from the log.",
            rows,
            lambda p: _flag(p.events_expired),
        ),
        header(
            "lagwatch_partition_status",
            "gauge",
            "Status of the partition: one series, value 1, labelled with the current state.",
        )
        + "".join(
            f'lagwatch_partition_status{{{lbl},status="{p.status.value}"}} 1\n' for lbl, p in rows
        ),
    ]


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
