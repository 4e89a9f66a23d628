"""The write side's balances, as the command handler's committed events say.

Served by the command API as ``GET /accounts/{id}/write-side``. The handler keeps its
write model in memory only (rebuilt from ``bank.events`` on start), so this view is
computed the same way: a ``read_committed`` consumer folds every committed event of
``bank.events`` with ``domain.apply`` (malformed records skipped, as the handler does).

``as_of_ms`` is the newest moment at which every partition was known to be read to its
end: every event committed before it is included (an idle partition counts as at its
end as of the last empty poll). Until each partition has reached its
end once (the start-up replay), the view is not ready (``as_of_ms`` None).
"""

from __future__ import annotations

import logging
import threading
import time

from confluent_kafka import Consumer, KafkaError, TopicPartition

from demo_system import domain

log = logging.getLogger("demo_system.write_side")


class WriteSideView:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": "lagwatch-demo-write-side",  # assign() only, never commits
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "fetch.wait.max.ms": 20,
            }
        )
        self.balances: dict[str, int] = {}
        self._at_end_ms: dict[int, int] = {}  # partition -> last time it was read to its end
        self._partitions: list[int] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="write-side", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def balance(self, account_id: str) -> tuple[int | None, int | None]:
        """(balance or None for an account not opened, as_of_ms or None if not ready)."""
        with self._lock:
            ready = self._partitions and len(self._at_end_ms) == len(self._partitions)
            as_of = min(self._at_end_ms.values()) if ready else None
            return self.balances.get(account_id), as_of

    def _run(self) -> None:
        try:
            metadata = self.consumer.list_topics(self.topic, timeout=30).topics[self.topic]
            self._partitions = sorted(metadata.partitions)
            self.consumer.assign([TopicPartition(self.topic, p, 0) for p in self._partitions])
            while not self._stop.is_set():
                asked_ms = time.time_ns() // 1_000_000
                self._step(self.consumer.consume(1000, timeout=0.2), asked_ms)
        except Exception:  # the command API keeps serving commands; the view says not ready
            log.exception("write-side view stopped")
        finally:
            self.consumer.close()

    def _step(self, messages: list, asked_ms: int) -> None:
        now_ms = time.time_ns() // 1_000_000
        with self._lock:
            for message in messages:
                error = message.error()
                if error is None:
                    self._fold(message.value())
                elif error.code() == KafkaError._PARTITION_EOF:
                    self._at_end_ms[message.partition()] = now_ms
            if not messages:
                # nothing arrived while we waited (fetches wait at most 20 ms): every
                # partition read to its end once is still at its end as of the asking
                for partition in self._at_end_ms:
                    self._at_end_ms[partition] = asked_ms

    def _fold(self, value: bytes | None) -> None:
        try:
            event = domain.parse_event(value)
        except domain.MalformedEvent:
            return
        domain.apply(self.balances, event)
