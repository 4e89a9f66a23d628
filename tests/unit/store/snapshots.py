"""Synthetic snapshots for the store tests (also imported by the crash-test child process)."""

from __future__ import annotations

from collectors.core.model import (
    Aggregate,
    CollectorStats,
    GroupLag,
    GroupTopicLag,
    PartitionKey,
    PartitionLag,
    Snapshot,
    StalenessMethod,
    Status,
)

STATS = CollectorStats(
    started_at=0.0,
    cycles_total=0,
    cycle_durations_s=(),
    cycle_duration_sum_s=0.0,
    cycle_duration_buckets=((float("inf"), 0),),
)


def partition(
    at: float,
    group: str = "g",
    topic: str = "t",
    partition: int = 0,
    *,
    cluster: str = "c",
    committed: int | None = 10,
    log_end: int | None = 15,
    staleness_s: float | None = 1.5,
    consume_rate: float | None = 2.0,
    status: Status = Status.OK,
) -> PartitionLag:
    lag = None if log_end is None else log_end - (committed if committed is not None else 0)
    return PartitionLag(
        key=PartitionKey(cluster, group, topic, partition),
        observed_at=at,
        log_start=0,
        log_end=log_end,
        committed=committed,
        offset_lag=lag,
        no_commit=committed is None,
        events_expired=False,
        staleness_s=staleness_s,
        staleness_method=StalenessMethod.EXACT,
        data_age_s=3.0,
        clock_skew=False,
        consume_rate=consume_rate,
        produce_rate=1.0,
        eta_s=None,
        status=status,
        error=None,
    )


def aggregate(parts: list[PartitionLag]) -> Aggregate:
    stale = [p.staleness_s for p in parts if p.staleness_s is not None]
    rates = [p.consume_rate for p in parts if p.consume_rate is not None]
    return Aggregate(
        offset_lag=sum(p.offset_lag or 0 for p in parts),
        staleness_s=max(stale) if stale else None,
        data_age_s=max((p.data_age_s or 0.0) for p in parts) if parts else None,
        consume_rate=sum(rates) if rates else None,
        produce_rate=float(len(parts)),
        eta_s=None,
        status=Status.OK,
        partitions=len(parts),
        no_commit_partitions=sum(p.no_commit for p in parts),
        events_expired_partitions=0,
    )


def snapshot(
    at: float, parts: list[PartitionLag], *, members: int = 2, cluster: str = "c"
) -> Snapshot:
    """A snapshot whose group and group-topic rows aggregate ``parts``."""
    by_group: dict[str, list[PartitionLag]] = {}
    by_topic: dict[tuple[str, str], list[PartitionLag]] = {}
    for p in parts:
        by_group.setdefault(p.key.group, []).append(p)
        by_topic.setdefault((p.key.group, p.key.topic), []).append(p)
    groups = tuple(
        GroupLag(
            cluster=cluster,
            group=g,
            observed_at=at,
            state="STABLE",
            members=members,
            topics=tuple(sorted({p.key.topic for p in ps})),
            lag=aggregate(ps),
        )
        for g, ps in by_group.items()
    )
    topics = tuple(
        GroupTopicLag(cluster=cluster, group=g, topic=t, observed_at=at, lag=aggregate(ps))
        for (g, t), ps in by_topic.items()
    )
    return Snapshot(
        taken_at=at,
        cycle_duration_s=0.1,
        partitions=tuple(parts),
        topics=topics,
        groups=groups,
        clusters=(),
        stats=STATS,
    )


def simple(at: float, *, committed: int = 10, members: int = 2, **kw: object) -> Snapshot:
    """One group "g", one topic "t", two partitions."""
    parts = [
        partition(at, partition=0, committed=committed, **kw),  # type: ignore[arg-type]
        partition(at, partition=1, committed=committed + 1, **kw),  # type: ignore[arg-type]
    ]
    return snapshot(at, parts, members=members)


def large(at: float, *, groups: int = 50, partitions: int = 100_000) -> Snapshot:
    """``partitions`` partitions spread over ``groups`` groups (10 topics each)."""
    per_group = partitions // groups
    parts = [
        partition(at, f"group-{g}", f"topic-{g}-{i % 10}", i // 10, committed=i, log_end=i + 5)
        for g in range(groups)
        for i in range(per_group)
    ]
    return snapshot(at, parts)
