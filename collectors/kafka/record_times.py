"""Adapter: read record timestamps around committed offsets (exact staleness, data age).

One plain consumer (``assign``, never ``subscribe``, never commits) reads a handful of
records per requested partition: starting a few offsets before the committed one, so a
single fetch yields both the last consumed record (offset < committed) and the first
unconsumed one (offset >= committed). Transaction control markers never reach the
application, which is exactly the brief's rule: markers alone are not lag.

Requests for several offsets of one partition (different groups at different
positions) share one read when they lie within ``MERGE_SPAN`` offsets of each other;
positions further apart are served in rounds, one read per partition per round. With
``rounds_budget_s`` no further round starts once a call has spent that long (the first
round always runs): the rest are answered None, so a cold start publishes its first
snapshot without waiting for every round, and the next cycle asks again.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from collectors.core.model import RecordTimes, TimesRequest

# How far before the committed offset to start: covers the control markers a few
# transactions leave right before a committed position.
LOOKBACK = 8


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
    ) -> None:
        """``timeout_s`` bounds one round; ``rounds_budget_s`` (None: no bound) the
        time after which a ``read`` starts no further round."""
        self._timeout = timeout_s
        self._budget = rounds_budget_s
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
                "max.partition.fetch.bytes": 65536,
                "queued.max.messages.kbytes": 16384,
            }
        )

    def close(self) -> None:
        self._consumer.close()

    def read(self, requests: Sequence[TimesRequest]) -> dict[TimesRequest, RecordTimes | None]:
        by_partition: dict[tuple[str, int], list[TimesRequest]] = defaultdict(list)
        for request in dict.fromkeys(requests):
            by_partition[(request.topic, request.partition)].append(request)
        for queue in by_partition.values():
            queue.sort(key=_position, reverse=True)  # nearest the log start last: popped first
        out: dict[TimesRequest, RecordTimes | None] = {}
        started = time.monotonic()
        while by_partition:
            if out and self._budget is not None and time.monotonic() - started >= self._budget:
                # Unknown, not guessed: the caller estimates or leaves these unknown and
                # asks again next cycle.
                out.update((r, None) for queue in by_partition.values() for r in queue)
                break
            batch = {tp: _pop_nearby(queue) for tp, queue in by_partition.items()}
            by_partition = {tp: q for tp, q in by_partition.items() if q}
            out.update(self._read_round(batch))
        return out

    def _read_round(
        self, batch: dict[tuple[str, int], list[TimesRequest]]
    ) -> dict[TimesRequest, RecordTimes | None]:
        """One read per partition, answering each of its requests (ascending positions)."""
        pending: dict[tuple[str, int], list[_Pending]] = {}
        assignment = []
        for tp, requests in batch.items():
            pending[tp] = [_Pending(request) for request in requests]
            assignment.append(TopicPartition(*tp, min(_start(r) for r in requests)))
        out: dict[TimesRequest, RecordTimes | None] = {}
        self._consumer.incremental_assign(assignment)
        deadline = time.monotonic() + self._timeout
        try:
            while pending and time.monotonic() < deadline:
                done = []
                for message in self._consumer.consume(num_messages=10_000, timeout=0.1):
                    key = (message.topic(), message.partition())
                    waiting = pending.get(key)
                    if waiting is None:
                        continue
                    if _answer(message, waiting, out):
                        del pending[key]
                        done.append(TopicPartition(*key))
                if done:  # one call per batch: unassigning is not free at 2,000 partitions
                    self._consumer.incremental_unassign(done)
        finally:
            if pending:
                self._consumer.incremental_unassign([TopicPartition(*tp) for tp in pending])
        for waiting in pending.values():
            for item in waiting:
                out[item.request] = None  # timed out: the caller falls back to estimation
        return out


# Requests of one partition whose positions lie this close share one read (a few
# records more to read is far cheaper than another round over every partition).
MERGE_SPAN = 32


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
