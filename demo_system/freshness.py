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

        Under load the checkpoint moves between refreshes (every 0.25 s), so a
        checkpoint not looked up yet uses the newest lookup of the same partition at an
        earlier offset, as an upper bound: a record found there is no younger than the
        first unapplied one (``now - its timestamp``), and "nothing after it" seen at
        time T means every later record was written after T (``now - T``). Too high by
        at most the time between the two lookups. A partition with no earlier lookup
        reports None (unknown), never 0. No Kafka call here: answers never wait.
        """
        per_partition: dict[int, float | None] = {}
        with self._lock:
            for p in self.partitions:
                offset = checkpoints.get(p, OFFSET_BEGINNING)
                key = (p, offset)
                if key in self._first_ts:
                    ts = self._first_ts[key]
                elif key in self._at_end:
                    per_partition[p] = 0.0
                    continue
                else:
                    ts = self._bound_before(p, offset)
                per_partition[p] = None if ts is None else round(max(0.0, now - ts / 1000), 3)
        known = [s for s in per_partition.values() if s is not None]
        worst = max(known) if known and len(known) == len(per_partition) else None
        return {"staleness_s": worst, "partitions": per_partition}

    def _bound_before(self, partition: int, offset: int) -> float | None:
        """Epoch ms no later than the first unapplied record at ``offset``, from the
        newest lookup of ``partition`` at an earlier offset (None: none). Call locked."""
        best: tuple[int, float] | None = None
        for (p, o), ts in self._first_ts.items():
            if p == partition and o < offset and (best is None or o > best[0]):
                best = (o, ts)
        for (p, o), seen_at in self._at_end.items():
            if p == partition and o < offset and (best is None or o >= best[0]):
                best = (o, seen_at * 1000)  # nothing after o at seen_at: later records are newer
        return None if best is None else best[1]

    def close(self) -> None:
        self.consumer.close()
