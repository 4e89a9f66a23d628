"""One collection cycle for one cluster: Kafka readings → pure math → values.

The imperative shell around the pure modules (``lag``, ``status``, ``rollup``): it asks
the Kafka adapters for offsets and record timestamps, keeps the small per-partition
history the math needs (rates, estimation, status window), and returns frozen values.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

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
    """Mutable, service-internal memory of one group-partition across cycles.

    Besides the history the math needs, it memoises the last results that depend only
    on values that rarely change, because most of 100,000 partitions do not move
    between two cycles: the key, the offset lag of the last (log_start, log_end,
    committed), and the last status of a window whose observations are all alike.
    """

    key: PartitionKey
    window: deque[Observation]
    committed_points: deque[tuple[float, int]] = field(default_factory=deque)
    offsets_for: tuple[int | None, int | None, int | None] | None = None
    offsets: lag.OffsetLag | None = None
    # The last `alike` observations share `signature` (committed, log_end, offset_lag,
    # members). When that covers the whole window, status.evaluate reads nothing else
    # but whether the latest is caught up and the window length (see _status).
    signature: tuple[int | None, int | None, int | None, int] | None = None
    alike: int = 0
    status_for: tuple[object, ...] | None = None
    status: Status = Status.ERROR


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


_NOT_REQUESTED = Watermarks(None, None, "not requested")


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
        # group -> (topic, partition) -> history: plain string/tuple keys hash far
        # faster than a PartitionKey dataclass, which each history keeps for its rows.
        self._history: dict[str, dict[TopicPart, _PartitionHistory]] = {}
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
        known = {key.group for key in self.known_keys}
        # A group missing from the listing is asked for once more: a broker that is
        # shutting down (or a moving coordinator) can list no groups for a moment, which
        # must read as ERROR, not as "every group deleted". A really deleted group then
        # answers with no offsets and drops out.
        groups = sorted({g.group for g in listing if self._wanted(g.group)} | known)
        descriptions, committed = self._source.describe_and_fetch_offsets(groups)
        # librdkafka's admin client can stay stuck on a coordinator connection from
        # before a broker restart (every OffsetFetch times out while listing works);
        # a fresh client recovers, so ask for one when every group timed out.
        self._reconnect = bool(groups) and all(
            "TIMED_OUT" in (committed[g].error or "") for g in groups
        )

        wanted: dict[str, dict[TopicPart, int | None]] = {}
        unreadable: dict[str, str] = {}  # known groups whose offsets could not be read
        for group in groups:
            offsets = dict(committed[group].offsets)
            if committed[group].error:
                errors.append(("offset_fetch", f"{group}: {committed[group].error}"))
                if group in known and not offsets:
                    unreadable[group] = committed[group].error
                    continue
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
        rows_by_group: dict[str, dict[str, list[PartitionLag]]] = {}
        # (log_end history, produce rate) per partition, computed once per cycle and
        # shared by every group reading the partition.
        log_ends: dict[bool, dict[TopicPart, tuple[_LogEndHistory, float | None]]] = {
            False: {},
            True: {},
        }
        with _gc_paused():
            for group, offsets in wanted.items():
                rc = self._read_committed(group)
                desc = descriptions.get(group)
                members = desc.members if isinstance(desc, GroupDescription) else 0
                by_topic = self._collect_group(
                    group, offsets, members, rc, now, marks[rc], times, log_ends[rc], errors
                )
                if by_topic:
                    rows_by_group[group] = by_topic
                    for rows in by_topic.values():
                        partitions += rows
        for group, message in unreadable.items():
            by_topic = {}
            for row in self.error_rows(now, message, group=group):
                by_topic.setdefault(row.key.topic, []).append(row)
                partitions.append(row)
            rows_by_group[group] = by_topic
        states = {
            g: (d.state, d.members)
            for g, d in descriptions.items()
            if isinstance(d, GroupDescription)
        }
        topic_rows, group_rows = _rollups(self.cluster, rows_by_group, now, states)
        self._forget(wanted, keep=unreadable.keys())
        # Rows come out by group (listed in name order), topic, partition: already the
        # known_keys order unless a source lists groups unsorted.
        self.known_keys = [row.key for row in partitions]
        if groups != sorted(groups):
            self.known_keys.sort(key=lambda k: (k.group, k.topic, k.partition))
        return ClusterCycle(partitions, topic_rows, group_rows, hits, misses, errors)

    def _renew_clients(self) -> None:
        old_readers = self._readers
        self._source, self._readers = self._connect()
        self._reconnect = False
        for reader in (old_readers or {}).values():
            with contextlib.suppress(Exception):  # a reader of a dead connection may not close
                reader.close()

    def _collect_group(
        self,
        group: str,
        offsets: dict[TopicPart, int | None],
        members: int,
        rc: bool,
        now: float,
        marks: dict[TopicPart, Watermarks],
        times: dict[tuple[bool, str, int, int | None], RecordTimes | None],
        log_ends: dict[TopicPart, tuple[_LogEndHistory, float | None]],
        errors: list[tuple[str, str]],
    ) -> dict[str, list[PartitionLag]]:
        """One group's rows by topic, in (topic, partition) order."""
        histories = self._history.setdefault(group, {})
        by_topic: dict[str, list[PartitionLag]] = {}
        rows: list[PartitionLag] = []
        current_topic = None
        for tp in sorted(offsets):
            topic, part = tp
            commit = offsets[tp]
            history = histories.get(tp)
            if history is None:
                history = histories[tp] = _PartitionHistory(
                    PartitionKey(self.cluster, group, topic, part), deque(maxlen=self._window)
                )
            mark = marks.get(tp, _NOT_REQUESTED)
            if mark.error and mark.log_end is None:
                errors.append(("list_offsets", f"{topic}[{part}]: {mark.error}"))
            log_end = log_ends.get(tp)
            if log_end is None:
                log_end = log_ends[tp] = self._log_end_history(rc, topic, part, now, mark.log_end)
            if topic != current_topic:  # sorted: each topic's partitions are contiguous
                current_topic, rows = topic, by_topic.setdefault(topic, [])
            rows.append(
                self._partition(
                    history,
                    now,
                    mark,
                    commit,
                    members,
                    times.get((rc, topic, part, commit)),
                    log_end,
                )
            )
        return by_topic

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
        history: _PartitionHistory,
        now: float,
        mark: Watermarks,
        commit: int | None,
        members: int,
        times: RecordTimes | None,
        log_end: tuple[_LogEndHistory, float | None],
    ) -> PartitionLag:
        log_end_history, produce_rate = log_end
        offsets = _offset_lag(history, mark.log_start, mark.log_end, commit)
        offset_lag = offsets.offset_lag

        if times is not None:
            stale = lag.exact_staleness(now, offset_lag, times.first_unconsumed_ts)
            age = lag.data_age(now, times.last_consumed_ts)
            staleness_s, method = stale.seconds, StalenessMethod.EXACT
            skew = stale.clock_skew or age.clock_skew
            data_age_s = age.seconds
        else:
            staleness_s = lag.estimated_staleness(now, offset_lag, commit, log_end_history.changes)
            method = StalenessMethod.UNKNOWN if staleness_s is None else StalenessMethod.ESTIMATED
            skew, data_age_s = False, None

        if commit is not None:
            _push_point(history.committed_points, now, commit, self._rate_window_s)
        consume_rate = lag.rate(history.committed_points, now, self._rate_window_s)
        state = _status(
            history, _new_observation(now, commit, mark.log_end, offset_lag, staleness_s, members)
        )
        return _new_partition_lag(
            history.key,
            now,
            mark.log_start,
            mark.log_end,
            commit,
            offset_lag,
            offsets.no_commit,
            offsets.events_expired,
            staleness_s,
            method,
            data_age_s,
            skew,
            consume_rate,
            produce_rate,
            lag.eta(offset_lag, consume_rate, produce_rate),
            state,
            mark.error if state is Status.ERROR else None,
        )

    def _log_end_history(
        self, rc: bool, topic: str, part: int, now: float, log_end: int | None
    ) -> tuple[_LogEndHistory, float | None]:
        """Record ``log_end`` once per cycle per partition (several groups share it) and
        return the history with the partition's produce rate.

        ``changes`` keeps the first point of every change plus the latest point, which
        is all interpolation needs, so it stays short on idle topics.
        """
        history = self._log_ends.get((rc, topic, part))
        if history is None:
            history = self._log_ends[(rc, topic, part)] = _LogEndHistory(
                deque(maxlen=ESTIMATION_POINTS)
            )
        changes = history.changes
        if log_end is not None and not (changes and changes[-1].observed_at == now):
            _push_point(history.recent, now, log_end, self._rate_window_s)
            if len(changes) >= 2 and changes[-1].log_end == log_end == changes[-2].log_end:
                changes[-1] = LogEndPoint(now, log_end)  # extend the flat run
            else:
                changes.append(LogEndPoint(now, log_end))
        return history, lag.rate(history.recent, now, self._rate_window_s)

    def _forget(
        self, wanted: dict[str, dict[TopicPart, int | None]], keep: Iterable[str] = ()
    ) -> None:
        """Drop history of partitions no longer reported (group or topic deleted);
        groups in ``keep`` (unreadable this cycle) keep theirs."""
        for group in self._history.keys() - wanted.keys() - set(keep):
            del self._history[group]
        topics: set[TopicPart] = set()
        for group, offsets in wanted.items():
            histories = self._history.get(group, {})
            for tp in histories.keys() - offsets.keys():
                del histories[tp]
            topics.update(offsets)
        for rc_tp in [k for k in self._log_ends if (k[1], k[2]) not in topics]:
            del self._log_ends[rc_tp]

    def error_rows(self, now: float, message: str, group: str | None = None) -> list[PartitionLag]:
        """ERROR rows for every known partition (of ``group``, if given): what to report
        while the cluster, or that group's offsets, cannot be read."""
        rows = []
        for key in self.known_keys:
            if group is not None and key.group != group:
                continue
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
    rows_by_group: dict[str, dict[str, list[PartitionLag]]] = {}
    for row in rows:
        rows_by_group.setdefault(row.key.group, {}).setdefault(row.key.topic, []).append(row)
    return _rollups(cluster, rows_by_group, now, states)


def _rollups(
    cluster: str,
    rows_by_group: dict[str, dict[str, list[PartitionLag]]],
    now: float,
    states: dict[str, tuple[str, int]],
) -> tuple[list[GroupTopicLag], list[GroupLag]]:
    """``build_rollups`` over rows already grouped (group -> topic -> rows, in row order)."""
    by_group: dict[str, dict[str, list[PartitionLag]]] = {g: {} for g in states}
    by_group.update(rows_by_group)  # described groups first, then the others in row order
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


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the rows are built.

    A cycle allocates a few objects per group-partition, none of them in reference
    cycles (reference counting frees them), yet every allocation burst makes the
    collector rescan the long-lived histories of every partition: a fifth of the
    cycle at 100,000 group-partitions. It runs again right after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _offset_lag(
    history: _PartitionHistory, log_start: int | None, log_end: int | None, commit: int | None
) -> lag.OffsetLag:
    """``lag.offset_lag``, reusing the last result while its inputs stay the same."""
    inputs = (log_start, log_end, commit)
    if history.offsets_for != inputs or history.offsets is None:
        history.offsets_for, history.offsets = inputs, lag.offset_lag(log_start, log_end, commit)
    return history.offsets


def _status(history: _PartitionHistory, latest: Observation) -> Status:
    """Append ``latest`` to the window and evaluate it.

    ``status.evaluate`` over a window whose observations all share (committed, log_end,
    offset_lag, members) reads nothing else but whether the latest is caught up and
    the window's length; so while that holds and neither changed, the last status
    stands. That is every idle or stalled partition, most of a big cluster.
    """
    signature = (latest.committed, latest.log_end, latest.offset_lag, latest.members)
    if signature == history.signature:
        history.alike += 1
    else:
        history.signature, history.alike = signature, 1
    window = history.window
    window.append(latest)
    if history.alike < len(window):
        return status.evaluate(window)
    inputs = (signature, lag.is_caught_up(latest.offset_lag, latest.staleness_s), len(window))
    if inputs != history.status_for:
        history.status_for, history.status = inputs, status.evaluate(window)
    return history.status


def _slots_constructor(cls: type) -> Callable[..., Any]:
    """A constructor of the frozen, slotted dataclass ``cls`` that takes every field
    positionally and sets the slots directly. The frozen ``__init__`` goes through
    ``object.__setattr__`` per field, which costs twice as much; at 100,000 rows per
    cycle that is a tenth of a second. ``new(*values) == cls(*values)``.
    """
    names = [f.name for f in dataclasses.fields(cls)]
    setters = {f"_set_{name}": getattr(cls, name).__set__ for name in names}
    body = "".join(f"    _set_{name}(obj, {name})\n" for name in names)
    source = f"def new({', '.join(names)}):\n    obj = _new(_cls)\n{body}    return obj\n"
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, **setters}
    exec(source, namespace)  # the code is built from the dataclass's own field names
    return namespace["new"]


_new_partition_lag = _slots_constructor(PartitionLag)
_new_observation = _slots_constructor(Observation)


def _push_point(points: deque[tuple[float, int]], now: float, value: int, window_s: float) -> None:
    points.append((now, value))
    # Keep one point older than the window so the rate spans the whole window.
    while len(points) > 2 and points[1][0] < now - window_s:
        points.popleft()
