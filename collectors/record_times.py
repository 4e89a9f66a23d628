"""Adapter: read record timestamps around committed offsets (exact staleness, data age).

One plain consumer (``assign``, never ``subscribe``, never commits) reads a handful of
records per requested partition: starting a few offsets before the committed one, so a
single fetch yields both the last consumed record (offset < committed) and the first
unconsumed one (offset >= committed). Transaction control markers never reach the
application, which is exactly the brief's rule: markers alone are not lag.

Requests for several offsets of one partition (different groups at different
positions) are served in rounds, one position per partition per round.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from collectors.model import RecordTimes

# How far before the committed offset to start: covers the control markers a few
# transactions leave right before a committed position.
LOOKBACK = 8


@dataclass(frozen=True, slots=True)
class TimesRequest:
    topic: str
    partition: int
    committed: int | None  # None: the group never committed; first unconsumed = log start
    log_start: int | None


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
    ) -> None:
        self._timeout = timeout_s
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
        out: dict[TimesRequest, RecordTimes | None] = {}
        while by_partition:
            batch = [queue.pop() for queue in by_partition.values()]
            by_partition = {tp: q for tp, q in by_partition.items() if q}
            out.update(self._read_round(batch))
        return out

    def _read_round(self, batch: list[TimesRequest]) -> dict[TimesRequest, RecordTimes | None]:
        pending: dict[tuple[str, int], TimesRequest] = {}
        assignment = []
        for request in batch:
            if request.committed is None:
                start = request.log_start if request.log_start is not None else OFFSET_BEGINNING
            else:
                floor = request.log_start or 0
                start = max(floor, request.committed - LOOKBACK)
            pending[(request.topic, request.partition)] = request
            assignment.append(TopicPartition(request.topic, request.partition, start))
        last_before: dict[tuple[str, int], float | None] = {}
        out: dict[TimesRequest, RecordTimes | None] = {}
        self._consumer.incremental_assign(assignment)
        deadline = time.monotonic() + self._timeout
        try:
            while pending and time.monotonic() < deadline:
                for message in self._consumer.consume(num_messages=10_000, timeout=0.1):
                    key = (message.topic(), message.partition())
                    request = pending.get(key)
                    if request is None:
                        continue
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            # Nothing at or after committed but (maybe) markers: no lag.
                            out[request] = RecordTimes(None, last_before.get(key))
                        else:
                            out[request] = None
                        del pending[key]
                        self._consumer.incremental_unassign([TopicPartition(*key)])
                        continue
                    committed = request.committed
                    if committed is not None and message.offset() < committed:
                        last_before[key] = _ts_seconds(message)
                        continue
                    out[request] = RecordTimes(_ts_seconds(message), last_before.get(key))
                    del pending[key]
                    self._consumer.incremental_unassign([TopicPartition(*key)])
        finally:
            if pending:
                self._consumer.incremental_unassign([TopicPartition(*tp) for tp in pending])
        for request in pending.values():
            out[request] = None  # timed out: the caller falls back to estimation
        return out
