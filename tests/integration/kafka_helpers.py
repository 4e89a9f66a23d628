"""Small helpers the integration tests share: produce, commit, wait with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import Consumer, Producer, TopicPartition


def produce(
    bootstrap: str,
    topic: str,
    count: int,
    partition: int = 0,
    timestamps: list[float] | None = None,
) -> None:
    """Produce ``count`` records to one partition, optionally with given timestamps (s)."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2})
    for i in range(count):
        kwargs = {} if timestamps is None else {"timestamp": int(timestamps[i] * 1000)}
        producer.produce(topic, value=f"event-{i}".encode(), partition=partition, **kwargs)
    assert producer.flush(30) == 0


def commit(bootstrap: str, group: str, topic: str, offset: int, partition: int = 0) -> None:
    """Commit ``offset`` for ``group`` the way a real consumer does (no subscription)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    try:
        consumer.commit(offsets=[TopicPartition(topic, partition, offset)], asynchronous=False)
    finally:
        consumer.close()


def wait_until(predicate: Callable[[], object], timeout_s: float, message: str) -> object:
    """Poll ``predicate`` until it returns something truthy; fail with ``message``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s}s: {message}")
