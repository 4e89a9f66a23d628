"""Fixtures for collector tests: an in-process collector over the real broker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from collectors.bootstrap import build_service
from collectors.core.model import GroupLag, PartitionLag, Snapshot
from collectors.service import CollectorService
from collectors.settings import load_settings
from collectors.store.db import Store
from tests.kafka_helpers import commit, produce, wait_until

__all__ = ["commit", "produce", "wait_until"]


class Collector:
    """A collector service driven cycle by cycle, watching only this test's groups."""

    def __init__(self, service: CollectorService) -> None:
        self.service = service

    def cycle(self) -> Snapshot:
        return self.service.run_cycle()

    def cycle_until(
        self, predicate: Callable[[Snapshot], object], timeout_s: float, message: str
    ) -> Snapshot:
        deadline = time.monotonic() + timeout_s
        snap = self.cycle()
        while not predicate(snap):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout_s}s: {message}; last: {snap}")
            time.sleep(0.1)
            snap = self.cycle()
        return snap


def partition(snap: Snapshot, group: str, topic: str, part: int = 0) -> PartitionLag | None:
    for row in snap.partitions:
        if row.key.group == group and row.key.topic == topic and row.key.partition == part:
            return row
    return None


def group_row(snap: Snapshot, group: str) -> GroupLag | None:
    return next((g for g in snap.groups if g.group == group), None)


@pytest.fixture(params=["offsets_topic", "admin"])
def committed_offsets(request: pytest.FixtureRequest) -> str:
    """Every collector test runs with both sources of committed offsets."""
    return request.param


@pytest.fixture
def make_collector(
    kafka_bootstrap: str, tmp_path: Path, committed_offsets: str
) -> Iterator[Callable[..., Collector]]:
    services: list[CollectorService] = []
    stores: list[Store] = []

    def make(groups: list[str], store: bool = False, **collector: object) -> Collector:
        pattern = "|".join(groups)
        settings = load_settings(
            env={},
            overrides={
                "clusters.bootstrap_servers": kafka_bootstrap,
                "clusters.include": [pattern],
                "clusters.request_timeout_s": 5.0,
                "clusters.committed_offsets": committed_offsets,
                # Short, so that tests wait seconds, not minutes, for the time-based rules.
                "collector.status_window_s": collector.pop("status_window_s", 20),
                "collector.stall_floor_s": collector.pop("stall_floor_s", 3),
                **{f"collector.{k}": v for k, v in collector.items()},
            },
        )
        db = None
        if store:
            db = Store(tmp_path / f"lw-{len(stores)}.duckdb")
            stores.append(db)
        service = build_service(settings, store=db)
        services.append(service)
        return Collector(service)

    yield make
    for service in services:
        service.stop()
    for db in stores:
        db.close()


class BackgroundProducer:
    """Keeps producing one record every ``every_s`` on average until stopped.

    Paced by a schedule, not by sleeping ``every_s`` after each record: a thread that
    wakes late (the collector's cycle holds the GIL in the same process) sends the
    records it owes, so the rate stays 1 / ``every_s``. Sleeping between records made it
    drift down with the load (a 100/s producer ran near 80/s, which a test that consumes
    at 80/s to fall behind cannot tell from keeping up).
    """

    def __init__(self, bootstrap: str, topic: str, every_s: float = 0.05) -> None:
        self._producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        self._topic = topic
        self._every = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> BackgroundProducer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self._producer.flush(10)

    def _run(self) -> None:
        started, sent = time.monotonic(), 0
        while not self._stop.wait(max(0.0, started + (sent + 1) * self._every - time.monotonic())):
            due = int((time.monotonic() - started) / self._every)
            for _ in range(max(1, due - sent)):
                self._producer.produce(self._topic, value=b"tick", partition=0)
            sent = max(sent + 1, due)
            self._producer.poll(0)


class ProjectionConsumer:
    """A real subscribed consumer that consumes and commits until stopped (closed)."""

    def __init__(self, bootstrap: str, group: str, topic: str) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 500,
            }
        )
        self._consumer.subscribe([topic])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            message = self._consumer.poll(0.1)
            if message is not None and message.error() is None:
                self._consumer.commit(message=message, asynchronous=False)
        self._consumer.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(20)
