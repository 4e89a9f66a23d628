"""Values the collector reads, computes and serves. Pure data: no I/O imports.

Times are UNIX epoch seconds (float); durations are seconds. Offsets are Kafka offsets
("log_end is the offset of the last record + 1", the high watermark).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collectors.core.consistency import ConsistencyView


class Status(StrEnum):
    """Burrow-style partition/group status. Order of severity: see ``SEVERITY``."""

    OK = "OK"
    WARN = "WARN"  # lag growing: the projection consumes, but slower than producers write
    STALL = "STALL"  # group has members, but the committed offset does not move while lagging
    STOPPED = "STOPPED"  # no one consumes (no members / no commits) while lagging
    REWIND = "REWIND"  # committed offset went back: a replay, never paged as live lag
    IDLE = "IDLE"  # caught up and no traffic
    ERROR = "ERROR"  # offsets could not be read


# Worst first. A group's status is the worst of its partitions.
SEVERITY: dict[Status, int] = {
    Status.ERROR: 6,
    Status.STOPPED: 5,
    Status.STALL: 4,
    Status.WARN: 3,
    Status.REWIND: 2,
    Status.OK: 1,
    Status.IDLE: 0,
}


class StalenessMethod(StrEnum):
    EXACT = "exact"  # timestamp of the first unconsumed record was read
    ESTIMATED = "estimated"  # interpolated from the history of log_end observations
    UNKNOWN = "unknown"  # neither was possible (e.g. no history yet and no read access)


# --- readings: what the Kafka adapters hand to the cycle ------------------------------

TopicPart = tuple[str, int]  # (topic, partition)


@dataclass(frozen=True, slots=True)
class GroupListing:
    group: str
    state: str  # STABLE, EMPTY, ... as upper-case text; UNKNOWN when not reported
    is_simple: bool


@dataclass(frozen=True, slots=True)
class GroupDescription:
    group: str
    state: str
    members: int
    # partitions assigned to members (empty when the group has no members)
    assigned: frozenset[TopicPart]


@dataclass(frozen=True, slots=True)
class Watermarks:
    """Low and high watermark of one partition; None where unreadable (see ``error``)."""

    log_start: int | None
    log_end: int | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CommittedOffsets:
    """A group's committed offsets; partitions with no commit map to None.

    ``since``: when each offset was committed first, as the commit log shows (epoch
    seconds; absent or None when unknown, e.g. from the Admin API): the offset has
    not moved since then."""

    group: str
    offsets: Mapping[TopicPart, int | None]
    error: str | None = None
    since: Mapping[TopicPart, float] | None = None


@dataclass(frozen=True, slots=True)
class TimesRequest:
    """Which record timestamps to read: those around ``committed`` of one partition."""

    topic: str
    partition: int
    committed: int | None  # None: the group never committed; first unconsumed = log start
    log_start: int | None


@dataclass(frozen=True, slots=True)
class PartitionKey:
    cluster: str
    group: str
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    """One raw reading of a (group, topic, partition) at ``observed_at``.

    ``log_start``/``log_end`` are None when the watermarks could not be read (e.g. the
    topic was deleted); ``committed`` is None when the group never committed.
    ``log_end`` is the last stable offset for groups configured ``read_committed``.
    """

    key: PartitionKey
    observed_at: float
    log_start: int | None
    log_end: int | None
    committed: int | None


@dataclass(frozen=True, slots=True)
class RecordTimes:
    """Record timestamps around a committed offset, as read from the log.

    ``first_unconsumed_ts``: timestamp of the first data record at offset >= committed
    (None when no data record exists there: caught up, or only transaction markers).
    ``last_consumed_ts``: timestamp of the last data record at offset < committed
    (None when unknown: nothing consumed yet, or it was deleted / not readable).
    """

    first_unconsumed_ts: float | None
    last_consumed_ts: float | None


@dataclass(frozen=True, slots=True)
class LogEndPoint:
    """One observation of a partition's log end: "log_end was E at time t"."""

    observed_at: float
    log_end: int


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """Everything lagwatch knows about one (cluster, group, topic, partition) at one time."""

    key: PartitionKey
    observed_at: float
    log_start: int | None
    log_end: int | None
    committed: int | None
    offset_lag: int | None  # None only when the offsets could not be read (ERROR)
    no_commit: bool
    events_expired: bool
    staleness_s: float | None
    staleness_method: StalenessMethod
    data_age_s: float | None
    clock_skew: bool  # a record timestamp was in the future; ages clamped to 0
    consume_rate: float | None  # offsets/s over the rate window
    produce_rate: float | None
    eta_s: float | None  # None when not catching up
    status: Status
    error: str | None = None
    # Raw ``log_end - committed`` (``log_end - log_start`` with no commit), what Kafka's
    # own tools show; ``offset_lag`` is in events (0 when only transaction markers remain).
    offset_gap: int | None = None
    offset_out_of_range: bool = False  # committed offset past the log end: never OK
    replay_progress: float | None = None  # 0..1 while REWIND, else None


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Roll-up over a set of partitions (a group, or one topic of a group)."""

    offset_lag: int | None  # sum over partitions with a known lag; None if none is known
    staleness_s: float | None  # max: the read model's consistency window
    data_age_s: float | None  # max
    consume_rate: float | None  # sum
    produce_rate: float | None  # sum
    eta_s: float | None  # max over partitions that lag; None if any lagging one has no ETA
    status: Status  # worst
    partitions: int
    no_commit_partitions: int
    events_expired_partitions: int


@dataclass(frozen=True, slots=True)
class GroupTopicLag:
    cluster: str
    group: str
    topic: str
    observed_at: float
    lag: Aggregate


@dataclass(frozen=True, slots=True)
class GroupLag:
    cluster: str
    group: str
    observed_at: float
    state: str  # STABLE, EMPTY, DEAD, PREPARING_REBALANCE, ... or UNKNOWN
    members: int | None  # None when the group could not be described (never 0 for unknown)
    topics: tuple[str, ...]
    lag: Aggregate


@dataclass(frozen=True, slots=True)
class ClusterHealth:
    cluster: str
    up: bool  # the last cycle reached the cluster
    last_success_at: float | None
    error: str | None  # secrets masked


@dataclass(frozen=True, slots=True)
class CollectorStats:
    """Self-metrics, cumulative since the collector started."""

    started_at: float
    cycles_total: int
    cycle_durations_s: tuple[float, ...]  # recent cycle durations, newest last (bounded)
    cycle_duration_sum_s: float
    cycle_duration_buckets: tuple[tuple[float, int], ...]  # (le, cumulative count), +Inf last
    errors_total: dict[str, int] = field(default_factory=dict)  # by kind
    timestamp_cache_hits: int = 0
    timestamp_cache_misses: int = 0
    last_success_at: float | None = None


@dataclass(frozen=True, slots=True)
class SloState:
    """Freshness SLO of one read model (group): "``objective`` of observations have
    staleness under ``target_s``". Counters are cumulative since the collector started;
    an observation is one group-level staleness value per cycle (unknown ones not counted).
    """

    cluster: str
    group: str
    target_s: float
    objective: float  # e.g. 0.99
    observations_total: int
    good_total: int
    period_s: float = 30 * 86400.0  # the SLO period (error budget horizon)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The latest complete cycle, served from memory to /metrics and the API."""

    taken_at: float
    cycle_duration_s: float
    partitions: Sequence[PartitionLag]  # a PartitionRows from the collector
    topics: tuple[GroupTopicLag, ...]
    groups: tuple[GroupLag, ...]
    clusters: tuple[ClusterHealth, ...]
    stats: CollectorStats
    slos: tuple[SloState, ...] = ()
    consistency: ConsistencyView | None = None  # visibility, probes, SLO windows


@dataclass(frozen=True, slots=True)
class Annotation:
    """Something worth marking on a chart: status change, error, collector restart."""

    at: float
    kind: str  # "status_change" | "error" | "collector_start" | ...
    cluster: str | None
    group: str | None
    message: str
