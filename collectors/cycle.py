"""One collection cycle for one cluster: Kafka readings → pure math → values.

The imperative shell around the pure modules (``lag``, ``status``, ``rollup``): it asks
the Kafka adapters for offsets and record timestamps, keeps the small per-partition
history the math needs (rates, estimation, status window), and returns frozen values.
"""

from __future__ import annotations

import contextlib
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from collectors import lag, rollup, status
from collectors.kafka_source import GroupDescription, KafkaOffsetsSource, TopicPart, Watermarks
from collectors.model import (
    GroupLag,
    GroupTopicLag,
    LogEndPoint,
    Observation,
    PartitionKey,
    PartitionLag,
    RecordTimes,
    StalenessMethod,
    Status,
)
from collectors.record_times import RecordTimesReader, TimesRequest

ESTIMATION_POINTS = 600  # log_end change points kept per partition for interpolation


class GroupFilter:
    """Include/exclude regular expressions over group names (full match)."""

    def __init__(self, include: Iterable[str], exclude: Iterable[str]) -> None:
        self._include = [re.compile(p) for p in include]
        self._exclude = [re.compile(p) for p in exclude]

    def __call__(self, group: str) -> bool:
        return any(p.fullmatch(group) for p in self._include) and not any(
            p.fullmatch(group) for p in self._exclude
        )


@dataclass(slots=True)
class _PartitionHistory:
    """Mutable, service-internal memory of one group-partition across cycles."""

    window: deque[Observation]
    committed_points: deque[tuple[float, int]] = field(default_factory=deque)


@dataclass(slots=True)
class _LogEndHistory:
    """log_end observations of one partition, shared by every group that reads it."""

    changes: deque[LogEndPoint]  # for interpolation: first point of each change + latest
    recent: deque[tuple[float, int]] = field(default_factory=deque)  # for produce rate


@dataclass(slots=True)
class _TimesEntry:
    log_end: int | None
    times: RecordTimes


@dataclass(frozen=True, slots=True)
class ClusterCycle:
    partitions: list[PartitionLag]
    topics: list[GroupTopicLag]
    groups: list[GroupLag]
    cache_hits: int
    cache_misses: int
    errors: list[tuple[str, str]]  # (kind, message), secrets already masked


class ClusterCollector:
    """Keeps the per-partition history of one cluster and runs its cycles."""

    def __init__(
        self,
        cluster: str,
        connect: Callable[[], tuple[KafkaOffsetsSource, dict[bool, RecordTimesReader] | None]],
        group_filter: Callable[[str], bool],
        read_committed: Callable[[str], bool],
        window: int = 10,
        rate_window_s: float = 30.0,
    ) -> None:
        self.cluster = cluster
        self._connect = connect
        self._source, self._readers = connect()  # readers keyed by read_committed
        self._reconnect = False
        self._wanted = group_filter
        self._read_committed = read_committed
        self._window = window
        self._rate_window_s = rate_window_s
        self._history: dict[PartitionKey, _PartitionHistory] = {}
        self._log_ends: dict[tuple[bool, str, int], _LogEndHistory] = {}
        self._times: dict[tuple[bool, str, int, int | None], _TimesEntry] = {}
        self.known_keys: list[PartitionKey] = []

    def collect(self, clock: Callable[[], float]) -> ClusterCycle:
        """Read everything, compute everything. Raises only when the cluster is
        unreachable as a whole (listing groups failed); per-group and per-partition
        problems come back as ERROR values and ``errors``.
        """
        if self._reconnect:
            self._renew_clients()
        errors: list[tuple[str, str]] = []
        try:
            listing = self._source.list_groups()
        except Exception:
            self._reconnect = True
            raise
        groups = [g.group for g in listing if self._wanted(g.group)]
        descriptions = self._source.describe_groups(groups)
        committed = self._source.committed_offsets(groups)
        # librdkafka's admin client can stay stuck on a coordinator connection from
        # before a broker restart (every OffsetFetch times out while listing works);
        # a fresh client recovers, so ask for one when every group timed out.
        self._reconnect = bool(groups) and all(
            "TIMED_OUT" in (committed[g].error or "") for g in groups
        )

        wanted: dict[str, dict[TopicPart, int | None]] = {}
        for group in groups:
            offsets = dict(committed[group].offsets)
            if committed[group].error:
                errors.append(("offset_fetch", f"{group}: {committed[group].error}"))
            desc = descriptions.get(group)
            if isinstance(desc, GroupDescription):
                for tp in desc.assigned:
                    offsets.setdefault(tp, None)
            elif isinstance(desc, str):
                errors.append(("describe_group", f"{group}: {desc}"))
            wanted[group] = offsets

        marks = {
            rc: self._source.watermarks(
                [tp for g, o in wanted.items() if self._read_committed(g) == rc for tp in o],
                read_committed=rc,
            )
            for rc in (False, True)
        }
        now = clock()
        times, hits, misses = self._record_times(wanted, marks)

        partitions: list[PartitionLag] = []
        seen: set[PartitionKey] = set()
        for group, offsets in wanted.items():
            rc = self._read_committed(group)
            desc = descriptions.get(group)
            members = desc.members if isinstance(desc, GroupDescription) else 0
            for (topic, part), commit in sorted(offsets.items()):
                key = PartitionKey(self.cluster, group, topic, part)
                seen.add(key)
                mark = marks[rc].get((topic, part), Watermarks(None, None, "not requested"))
                if mark.error and mark.log_end is None:
                    errors.append(("list_offsets", f"{topic}[{part}]: {mark.error}"))
                partitions.append(
                    self._partition(
                        key, now, mark, commit, members, times.get((rc, topic, part, commit)), rc
                    )
                )
        states = {
            g: (d.state, d.members)
            for g, d in descriptions.items()
            if isinstance(d, GroupDescription)
        }
        topic_rows, group_rows = build_rollups(self.cluster, partitions, now, states)
        self._forget(seen)
        self.known_keys = sorted(seen, key=lambda k: (k.group, k.topic, k.partition))
        return ClusterCycle(partitions, topic_rows, group_rows, hits, misses, errors)

    def _renew_clients(self) -> None:
        old_readers = self._readers
        self._source, self._readers = self._connect()
        self._reconnect = False
        for reader in (old_readers or {}).values():
            with contextlib.suppress(Exception):  # a reader of a dead connection may not close
                reader.close()

    # --- record timestamps, cached per (partition, committed offset) ---------------

    def _record_times(
        self, wanted: dict[str, dict[TopicPart, int | None]], marks: dict[bool, dict]
    ) -> tuple[dict[tuple[bool, str, int, int | None], RecordTimes | None], int, int]:
        if self._readers is None:
            return {}, 0, 0
        out: dict[tuple[bool, str, int, int | None], RecordTimes | None] = {}
        to_read: dict[bool, list[TimesRequest]] = {False: [], True: []}
        hits = misses = 0
        for group, offsets in wanted.items():
            rc = self._read_committed(group)
            for (topic, part), commit in offsets.items():
                cache_key = (rc, topic, part, commit)
                if cache_key in out:
                    hits += 1
                    continue
                mark = marks[rc].get((topic, part))
                if mark is None or mark.log_end is None:
                    continue
                entry = self._times.get(cache_key)
                # A "nothing after committed" answer is only true until the log grows.
                if entry is not None and (
                    entry.times.first_unconsumed_ts is not None or entry.log_end == mark.log_end
                ):
                    out[cache_key] = entry.times
                    hits += 1
                    continue
                misses += 1
                out[cache_key] = None
                to_read[rc].append(TimesRequest(topic, part, commit, mark.log_start))
        for rc, requests in to_read.items():
            if not requests:
                continue
            for request, result in self._readers[rc].read(requests).items():
                cache_key = (rc, request.topic, request.partition, request.committed)
                out[cache_key] = result
                if result is not None:
                    mark = marks[rc].get((request.topic, request.partition))
                    self._times[cache_key] = _TimesEntry(mark.log_end if mark else None, result)
        for stale in self._times.keys() - out.keys():
            del self._times[stale]
        return out, hits, misses

    # --- per-partition math ---------------------------------------------------------

    def _partition(
        self,
        key: PartitionKey,
        now: float,
        mark: Watermarks,
        commit: int | None,
        members: int,
        times: RecordTimes | None,
        rc: bool,
    ) -> PartitionLag:
        history = self._history.get(key)
        if history is None:
            history = self._history[key] = _PartitionHistory(deque(maxlen=self._window))
        log_ends = self._log_end_history(rc, key.topic, key.partition, now, mark.log_end)
        offsets = lag.offset_lag(mark.log_start, mark.log_end, commit)

        if times is not None:
            stale = lag.exact_staleness(now, offsets.offset_lag, times.first_unconsumed_ts)
            age = lag.data_age(now, times.last_consumed_ts)
            staleness_s, method = stale.seconds, StalenessMethod.EXACT
            skew = stale.clock_skew or age.clock_skew
            data_age_s = age.seconds
        else:
            staleness_s = lag.estimated_staleness(now, offsets.offset_lag, commit, log_ends.changes)
            method = StalenessMethod.UNKNOWN if staleness_s is None else StalenessMethod.ESTIMATED
            skew, data_age_s = False, None

        if commit is not None:
            _push_point(history.committed_points, now, commit, self._rate_window_s)
        consume_rate = lag.rate(history.committed_points, now, self._rate_window_s)
        produce_rate = lag.rate(log_ends.recent, now, self._rate_window_s)
        history.window.append(
            Observation(now, commit, mark.log_end, offsets.offset_lag, staleness_s, members)
        )
        state = status.evaluate(history.window)
        return PartitionLag(
            key=key,
            observed_at=now,
            log_start=mark.log_start,
            log_end=mark.log_end,
            committed=commit,
            offset_lag=offsets.offset_lag,
            no_commit=offsets.no_commit,
            events_expired=offsets.events_expired,
            staleness_s=staleness_s,
            staleness_method=method,
            data_age_s=data_age_s,
            clock_skew=skew,
            consume_rate=consume_rate,
            produce_rate=produce_rate,
            eta_s=lag.eta(offsets.offset_lag, consume_rate, produce_rate),
            status=state,
            error=mark.error if state is Status.ERROR else None,
        )

    def _log_end_history(
        self, rc: bool, topic: str, part: int, now: float, log_end: int | None
    ) -> _LogEndHistory:
        """Record ``log_end`` once per cycle per partition (several groups share it).

        ``changes`` keeps the first point of every change plus the latest point, which
        is all interpolation needs, so it stays short on idle topics.
        """
        history = self._log_ends.get((rc, topic, part))
        if history is None:
            history = self._log_ends[(rc, topic, part)] = _LogEndHistory(
                deque(maxlen=ESTIMATION_POINTS)
            )
        changes = history.changes
        if log_end is None or (changes and changes[-1].observed_at == now):
            return history
        _push_point(history.recent, now, log_end, self._rate_window_s)
        if len(changes) >= 2 and changes[-1].log_end == log_end == changes[-2].log_end:
            changes[-1] = LogEndPoint(now, log_end)  # extend the flat run
        else:
            changes.append(LogEndPoint(now, log_end))
        return history

    def _forget(self, seen: set[PartitionKey]) -> None:
        """Drop history of partitions no longer reported (group or topic deleted)."""
        for key in self._history.keys() - seen:
            del self._history[key]
        topics = {(key.topic, key.partition) for key in seen}
        for rc_tp in [k for k in self._log_ends if (k[1], k[2]) not in topics]:
            del self._log_ends[rc_tp]

    def error_rows(self, now: float, message: str) -> list[PartitionLag]:
        """What to report for every known partition while the cluster is unreachable."""
        rows = []
        for key in self.known_keys:
            rows.append(
                PartitionLag(
                    key=key,
                    observed_at=now,
                    log_start=None,
                    log_end=None,
                    committed=None,
                    offset_lag=None,
                    no_commit=False,
                    events_expired=False,
                    staleness_s=None,
                    staleness_method=StalenessMethod.UNKNOWN,
                    data_age_s=None,
                    clock_skew=False,
                    consume_rate=None,
                    produce_rate=None,
                    eta_s=None,
                    status=Status.ERROR,
                    error=message,
                )
            )
        return rows


def build_rollups(
    cluster: str,
    rows: list[PartitionLag],
    now: float,
    states: dict[str, tuple[str, int]],
) -> tuple[list[GroupTopicLag], list[GroupLag]]:
    """Per (group, topic) and per group aggregates; ``states`` gives (state, members)
    per group, missing groups are UNKNOWN with 0 members. Groups with no partitions
    (described but never committed or assigned) are still listed.
    """
    by_group: dict[str, dict[str, list[PartitionLag]]] = {g: {} for g in states}
    for row in rows:
        by_group.setdefault(row.key.group, {}).setdefault(row.key.topic, []).append(row)
    topics: list[GroupTopicLag] = []
    groups: list[GroupLag] = []
    for group, by_topic in by_group.items():
        state, members = states.get(group, ("UNKNOWN", 0))
        everything: list[PartitionLag] = []
        for topic, parts in by_topic.items():
            topics.append(GroupTopicLag(cluster, group, topic, now, rollup.aggregate(parts)))
            everything += parts
        groups.append(
            GroupLag(
                cluster, group, now, state, members, tuple(by_topic), rollup.aggregate(everything)
            )
        )
    return topics, groups


def _push_point(points: deque[tuple[float, int]], now: float, value: int, window_s: float) -> None:
    points.append((now, value))
    # Keep one point older than the window so the rate spans the whole window.
    while len(points) > 2 and points[1][0] < now - window_s:
        points.popleft()
