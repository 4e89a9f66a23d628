"""Small helpers the integration tests share: produce, commit, wait with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition


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


# What a consumer sees from a broker that is still starting (librdkafka does not flag
# all of these as retriable for a synchronous commit).
_TRANSIENT = {
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.NOT_COORDINATOR,
    KafkaError.REQUEST_TIMED_OUT,
    KafkaError._TRANSPORT,
    KafkaError._TIMED_OUT,
}


def commit(
    bootstrap: str,
    group: str,
    topic: str,
    offset: int,
    partition: int = 0,
    timeout_s: float = 60.0,
) -> None:
    """Commit ``offset`` for ``group`` the way a real consumer does (no subscription).

    A broker that has just started answers COORDINATOR_LOAD_IN_PROGRESS (and similar
    retriable errors) until it has loaded ``__consumer_offsets``: those are retried until
    ``timeout_s``, as a real consumer would.
    """
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                consumer.commit(
                    offsets=[TopicPartition(topic, partition, offset)], asynchronous=False
                )
                return
            except KafkaException as error:
                transient = error.args[0].retriable() or error.args[0].code() in _TRANSIENT
                if not transient or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
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
