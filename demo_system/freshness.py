"""How stale a read model is, measured from Kafka (not from the projection's word).

Staleness of a partition (the brief's definition): 0 when nothing committed is left to
apply (transaction markers alone are not lag), otherwise ``now - timestamp`` of the
first record not yet applied, i.e. the committed record at or after the read model's
checkpoint. A ``read_committed`` probe consumer fetches that record; its timestamp is
cached per (partition, offset) because it never changes, so only a moved checkpoint
costs a fetch.
"""

from __future__ import annotations

import threading
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

AT_END = -1  # cached marker: nothing committed after this offset when last looked


class Freshness:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": "lagwatch-demo-freshness",  # assign() only, never commits
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "fetch.wait.max.ms": 10,
            }
        )
        self._lock = threading.Lock()
        self._io = threading.Lock()  # one thread at a time uses the consumer
        self._first_ts: dict[tuple[int, int], int] = {}  # (partition, offset) -> ts
        self._at_end: dict[tuple[int, int], float] = {}  # (partition, offset) -> seen at
        self.partitions: list[int] = []

    def refresh(self, checkpoints: dict[int, int], timeout_s: float = 2.0) -> None:
        """Look up the first unapplied record of every partition whose answer is unknown.

        Called from the background thread and, for a checkpoint not looked up yet, from
        a request (``Reader.answer``); one at a time. Readers use ``staleness``.
        """
        with self._io:
            self._refresh(checkpoints, timeout_s)

    def _refresh(self, checkpoints: dict[int, int], timeout_s: float) -> None:
        if not self.partitions:
            metadata = self.consumer.list_topics(self.topic, timeout=10).topics[self.topic]
            self.partitions = sorted(metadata.partitions)
        wanted = {p: checkpoints.get(p, OFFSET_BEGINNING) for p in self.partitions}
        todo = {p: o for p, o in wanted.items() if (p, o) not in self._first_ts}
        if not todo:
            return
        self.consumer.assign([TopicPartition(self.topic, p, o) for p, o in todo.items()])
        found: dict[tuple[int, int], int] = {}
        ended: set[tuple[int, int]] = set()
        deadline = time.monotonic() + timeout_s
        while todo and time.monotonic() < deadline:
            for message in self.consumer.consume(len(todo) * 50, timeout=0.2):
                p = message.partition()
                if p not in todo:
                    continue
                error = message.error()
                if error is None:
                    found[(p, todo.pop(p))] = message.timestamp()[1]
                elif error.code() == KafkaError._PARTITION_EOF:
                    ended.add((p, todo.pop(p)))
        self.consumer.unassign()
        now = time.time()
        with self._lock:
            self._first_ts.update(found)
            self._at_end = {key: now for key in ended}
            if len(self._first_ts) > 10_000:
                self._first_ts = dict(list(self._first_ts.items())[-1000:])

    def staleness(self, checkpoints: dict[int, int], now: float) -> dict:
        """``{"staleness_s": max over partitions or None, "partitions": {p: s}}``.

        A partition whose checkpoint has not been looked up yet reports None (unknown).
        """
        per_partition: dict[int, float | None] = {}
        with self._lock:
            for p in self.partitions:
                key = (p, checkpoints.get(p, OFFSET_BEGINNING))
                if key in self._first_ts:
                    per_partition[p] = round(max(0.0, now - self._first_ts[key] / 1000), 3)
                elif key in self._at_end:
                    per_partition[p] = 0.0
                else:
                    per_partition[p] = None
        known = [s for s in per_partition.values() if s is not None]
        worst = max(known) if known and len(known) == len(per_partition) else None
        return {"staleness_s": worst, "partitions": per_partition}

    def close(self) -> None:
        self.consumer.close()
