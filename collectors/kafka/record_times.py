"""Adapter: read record timestamps around committed offsets (exact staleness, data age).

One plain consumer (``assign``, never ``subscribe``, never commits) reads a handful of
records per requested partition: starting a few offsets before the committed one, so a
single fetch yields both the last consumed record (offset < committed) and the first
unconsumed one (offset >= committed). Transaction control markers never reach the
application, which is exactly the brief's rule: markers alone are not lag.

Requests for several offsets of one partition (different groups at different
positions) share one read when they lie within ``MERGE_SPAN`` offsets of each other;
positions further apart take one read each, one after another (a partition is read at
one position at a time). At most ``WINDOW`` partitions are assigned at once: as soon as
a read is answered, the partition's next read or another partition's first one takes
its place, so the partitions with the most reads start first and none waits for the
slowest of a round. Why a window: librdkafka's fetcher visits every assigned partition
at every wake-up, and wake-ups grow with the partitions too, so its CPU grows with the
square of the assigned partitions (at 2,000 assigned and idle, about 0.2 s per second).
Why not a small one: a read costs one fetch round trip (about 50 ms here) whatever the
window, so the window sets the reads per round trip; reads end at their first records,
so partitions never sit idle in it for long (see ``WINDOW``). Small fetches
(``FETCH_BYTES`` per partition; the broker still returns a whole first record batch,
however large) keep it from decoding records nobody asked for.

Each read has ``timeout_s`` to be answered, counted from its own start. With
``rounds_budget_s`` no partition starts a second or later read once a call has spent
that long (every partition's first read always runs): the rest are answered None, so a
cold start publishes its first snapshot without waiting for every read, and the next
cycle asks again.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from collectors.core.model import RecordTimes, TimesRequest

# How far before the committed offset to start: covers the control markers a few
# transactions leave right before a committed position.
LOOKBACK = 8

# Partitions assigned at once (see the module docstring). Replaying a cold start at
# 100,000 group-partitions (11,006 positions on 2,000 partitions) took 9.1 s with 200,
# 3.0 s with 600 and 1.2-1.4 s with 1,000 or 2,000, at the same 0.35-0.42 s of CPU; with
# every partition in one window, one assignment (0.66 s for 11,757 positions).
WINDOW = 2000

# Fetch size per partition: a read needs LOOKBACK + 1 to MERGE_SPAN + LOOKBACK + 1
# records; 64 KB made every read decode hundreds of records it then threw away, 1 KB
# took a round trip per few small records (replaying a cold start: 96 fetch rounds with
# 1 KB, 52 with 4 KB, for the same records decoded). A bigger first record batch still
# comes whole.
FETCH_BYTES = 4096

TopicPart = tuple[str, int]


def _ts_seconds(message: Any) -> float | None:
    kind, millis = message.timestamp()
    return millis / 1000.0 if kind != 0 and millis >= 0 else None  # 0 = NOT_AVAILABLE


class RecordTimesReader:
    """Reads timestamps; returns ``None`` for a request it could not answer in time."""

    def __init__(
        self,
        config: Mapping[str, Any],
        read_committed: bool = False,
        timeout_s: float = 3.0,
        rounds_budget_s: float | None = None,
        window: int = WINDOW,
    ) -> None:
        """``timeout_s`` bounds one read; ``rounds_budget_s`` (None: no bound) the time
        after which a ``read`` starts no partition's second or later read; ``window``
        the partitions assigned at once (at least 1)."""
        if window < 1:
            raise ValueError(f"window must be at least 1 partition, got {window}")
        self._timeout = timeout_s
        self._budget = rounds_budget_s
        self._window = window
        self._consumer = Consumer(
            {
                "log_level": 2,
                **config,
                # A throwaway id: we only assign() and never commit, so no group is formed.
                "group.id": f"lagwatch-reader-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed" if read_committed else "read_uncommitted",
                "fetch.wait.max.ms": 50,
                "max.partition.fetch.bytes": FETCH_BYTES,
                # No fetch ahead while a batch waits to be applied (librdkafka counts the
                # consumer's whole queue): the answered partitions leave the window
                # before the next fetch, rather than fetching records nobody reads. The
                # queue is drained within milliseconds, so a short backoff (default 1 s)
                # suffices.
                "queued.min.messages": 100,
                "fetch.queue.backoff.ms": 5,
                # A window of small fetches queues well under this; the bound only
                # matters for huge record batches.
                "queued.max.messages.kbytes": 4096,
            }
        )

    def close(self) -> None:
        self._consumer.close()

    def read(self, requests: Sequence[TimesRequest]) -> dict[TimesRequest, RecordTimes | None]:
        plan = plan_reads(requests)
        queue = deque(schedule(plan))
        out: dict[TimesRequest, RecordTimes | None] = {}
        active: dict[TopicPart, _Read] = {}
        started = time.monotonic()
        try:
            self._assign(self._start_reads(plan, queue, active, [], started), active)
            while active:
                finished = self._consume_once(active, out)
                if finished:  # one call per batch: unassigning is not free
                    self._consumer.incremental_unassign([TopicPartition(*tp) for tp in finished])
                self._assign(self._start_reads(plan, queue, active, finished, started), active)
        finally:
            if active:
                self._consumer.incremental_unassign([TopicPartition(*tp) for tp in active])
        for tp, reads in plan.items():
            for batch in reads:  # not started: budget spent (or an error stopped the call)
                out.update((r, None) for r in batch)
            for item in active.get(tp, _Read([], 0.0)).waiting:
                out[item.request] = None
        return out

    def _start_reads(
        self,
        plan: dict[TopicPart, list[list[TimesRequest]]],
        queue: deque[TopicPart],
        active: dict[TopicPart, _Read],
        finished: list[TopicPart],
        started: float,
    ) -> list[TopicPart]:
        """The partitions whose next read starts now: those just finished that have
        another read (unless the budget is spent), then first reads from ``queue``
        while the window has room. Takes the started reads out of ``plan``."""
        now = time.monotonic()
        spent = self._budget is not None and now - started >= self._budget
        starting: list[TopicPart] = []
        for tp in finished:
            if plan[tp] and not spent:
                starting.append(tp)
            elif not plan[tp]:
                del plan[tp]
        while queue and len(active) + len(starting) < self._window:
            starting.append(queue.popleft())
        deadline = now + self._timeout
        for tp in starting:
            active[tp] = _Read([_Pending(r) for r in plan[tp].pop(0)], deadline)
        return starting

    def _assign(self, starting: list[TopicPart], active: dict[TopicPart, _Read]) -> None:
        if starting:
            self._consumer.incremental_assign(
                [TopicPartition(*tp, active[tp].offset) for tp in starting]
            )

    def _consume_once(
        self, active: dict[TopicPart, _Read], out: dict[TimesRequest, RecordTimes | None]
    ) -> list[TopicPart]:
        """Apply one batch of records; returns the partitions whose read is over
        (answered, failed or timed out; those timed out are answered None)."""
        finished: list[TopicPart] = []
        # Wait for one record at most 0.1 s, then take what is queued: consume() with
        # num_messages=10,000 would wait the whole timeout for the batch to fill, while
        # answered partitions go on fetching and free window slots stay empty.
        batch = self._consumer.consume(num_messages=1, timeout=0.1)
        if batch:
            batch += self._consumer.consume(num_messages=10_000, timeout=0)
        for message in batch:
            key = (message.topic(), message.partition())
            current = active.get(key)
            if current is None:
                continue  # a read already over (records it fetched before it ended)
            if _answer(message, current.waiting, out):
                del active[key]
                finished.append(key)
        now = time.monotonic()
        for key in [k for k, r in active.items() if r.deadline <= now]:
            for item in active.pop(key).waiting:
                out[item.request] = None  # timed out: the caller falls back to estimation
            finished.append(key)
        return finished


def plan_reads(requests: Sequence[TimesRequest]) -> dict[TopicPart, list[list[TimesRequest]]]:
    """Each partition's reads, in ascending position: the requests nearest the log
    start and those within ``MERGE_SPAN`` after them share one read, and so on. A
    request without a commit (read from the log start) is read alone. Duplicate
    requests are asked once."""
    by_partition: dict[TopicPart, list[TimesRequest]] = defaultdict(list)
    for request in dict.fromkeys(requests):
        by_partition[(request.topic, request.partition)].append(request)
    plan: dict[TopicPart, list[list[TimesRequest]]] = {}
    for tp, queue in by_partition.items():
        queue.sort(key=_position, reverse=True)  # nearest the log start last: popped first
        plan[tp] = []
        while queue:
            plan[tp].append(_pop_nearby(queue))
    return plan


def schedule(plan: Mapping[TopicPart, Sequence[object]]) -> list[TopicPart]:
    """The order in which partitions start their first read: most reads first (a
    partition reads one position after another, so the longest chains bound the
    time of a call), ties in topic and partition order."""
    return sorted(plan, key=lambda tp: (-len(plan[tp]), tp))


class _Read:
    """One partition's read in progress: its requests not answered yet, and when it
    times out."""

    __slots__ = ("deadline", "waiting")

    def __init__(self, waiting: list[_Pending], deadline: float) -> None:
        self.waiting = waiting
        self.deadline = deadline

    @property
    def offset(self) -> int:
        """Where the read starts: the earliest start of its requests."""
        return min(_start(item.request) for item in self.waiting)


# Requests of one partition whose positions lie this close share one read (a few
# records more to read is far cheaper than another read of the partition: replaying a
# cold start, 128 instead of 32 decoded as many records with half the CPU, as the
# second reads of a partition no longer re-read the first's look-back).
MERGE_SPAN = 128


class _Pending:
    """One request being answered: where its own read would have started, and the
    timestamp of the last record it saw before its committed offset."""

    __slots__ = ("last_before", "request", "start")

    def __init__(self, request: TimesRequest) -> None:
        self.request = request
        # A logical start (OFFSET_BEGINNING) sees every record: -1 admits them all.
        self.start = max(_start(request), -1)
        self.last_before: float | None = None


def _start(request: TimesRequest) -> int:
    """Where a read for ``request`` alone starts: a few offsets before committed."""
    if request.committed is None:
        return request.log_start if request.log_start is not None else OFFSET_BEGINNING
    floor = request.log_start or 0
    return max(floor, request.committed - LOOKBACK)


def _position(request: TimesRequest) -> int:
    return -1 if request.committed is None else request.committed


def _pop_nearby(queue: list[TimesRequest]) -> list[TimesRequest]:
    """Pop the request nearest the log start and those within MERGE_SPAN after it.
    A request without a commit (start from the log start) is always read alone."""
    first = queue.pop()
    taken = [first]
    if first.committed is None:
        return taken
    while queue and queue[-1].committed - first.committed <= MERGE_SPAN:
        taken.append(queue.pop())
    return taken


def _answer(message: Any, waiting: list[_Pending], out: dict) -> bool:
    """Apply one record (or end of partition, or error) to the requests of its
    partition; answered ones leave ``waiting``. Each request
    sees exactly the records its own read would have: those from its own start on.
    Returns True when none is left waiting."""
    error = message.error()
    if error is not None:
        for item in waiting:
            if error.code() == KafkaError._PARTITION_EOF:
                # Nothing at or after committed but (maybe) markers: no lag.
                out[item.request] = RecordTimes(None, item.last_before)
            else:
                out[item.request] = None
        waiting.clear()
        return True
    offset = message.offset()
    answered = 0
    for item in waiting:
        if offset < item.start:
            continue  # before where this request's own read would have started
        committed = item.request.committed
        if committed is not None and offset < committed:
            item.last_before = _ts_seconds(message)
            continue
        out[item.request] = RecordTimes(_ts_seconds(message), item.last_before)
        answered += 1
    if answered:
        waiting[:] = [item for item in waiting if item.request not in out]
    return not waiting
