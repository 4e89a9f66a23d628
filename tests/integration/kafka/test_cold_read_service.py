"""A cold ``__consumer_offsets`` read spread over cycles keeps the collector healthy.

Before, the second cycle read the whole rest of the topic at once: on a big cluster it
ran for tens of seconds, the snapshot aged past two intervals, ``/healthz`` said
degraded and ``/metrics`` withdrew every lag series, at every start. Now each cycle
reads for its budget only; here the budget is made small so that a modest log takes
several cycles, and the collector must stay healthy through all of them.
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, TopicPartition
from fastapi.testclient import TestClient

from collectors.bootstrap import build_service
from collectors.kafka import committed_offsets
from collectors.serving.app import create_app
from collectors.settings import load_settings
from tests.kafka_helpers import commit

pytestmark = pytest.mark.integration

INTERVAL_S = 1.0
PARTITIONS = 300
COMMITS = 150  # of every partition: 45,000 records in __consumer_offsets


def fill_offsets_log(bootstrap: str, group: str, topic: str) -> None:
    """Write ``PARTITIONS * COMMITS`` commit records of ``group`` (the last: offset 0)."""
    commit(bootstrap, group, topic, 0)  # waits until the group's coordinator is ready
    failed: list[object] = []
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "on_commit": lambda error, _: failed.append(error) if error else None,
        }
    )
    try:
        offsets = [TopicPartition(topic, p, 0) for p in range(PARTITIONS)]
        for _ in range(COMMITS - 1):
            consumer.commit(offsets=offsets, asynchronous=True)
        consumer.commit(offsets=offsets, asynchronous=False)
    finally:
        consumer.close()
    assert not failed, f"commits failed: {failed[:3]}"


def test_the_collector_stays_healthy_while_the_cold_read_spans_cycles(
    kafka_bootstrap: str, create_topic, group_name, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(committed_offsets, "cold_budget_s", lambda interval_s: 0.005)
    monkeypatch.setattr(committed_offsets, "COLD_FIRST_SLICE_S", 0.005)
    caplog.set_level("INFO", logger=committed_offsets.log.name)
    topic = create_topic(partitions=PARTITIONS)
    group = group_name()
    fill_offsets_log(kafka_bootstrap, group, topic)
    settings = load_settings(
        env={},
        overrides={
            "clusters.bootstrap_servers": kafka_bootstrap,
            "clusters.include": [group],
            "clusters.committed_offsets": "offsets_topic",
            "collector.interval_s": INTERVAL_S,
        },
    )
    service = build_service(settings)
    app = create_app(service)
    app.state.interval_s = INTERVAL_S
    client = TestClient(app)
    service.start()
    try:
        deadline = time.monotonic() + 60
        while service.snapshot() is None:
            assert time.monotonic() < deadline, "no first snapshot"
            time.sleep(0.05)
        snapshots = set()
        while "records read in" not in caplog.text:
            assert time.monotonic() < deadline, "the cold read never finished"
            health = client.get("/healthz")
            assert health.status_code == 200, f"during the cold read: {health.json()}"
            metrics = client.get("/metrics").text
            assert f'lagwatch_partition_offset_lag{{cluster="default",group="{group}"' in metrics
            snap = service.snapshot()
            rows = [r for r in snap.partitions if r.key.group == group]
            # Exact every cycle: the group's offsets from the log once read, from
            # OffsetFetch before.
            assert len(rows) == PARTITIONS and {r.committed for r in rows} == {0}
            snapshots.add(snap.taken_at)
            time.sleep(0.1)
        # Several cycles published during the cold read, or this test proved nothing.
        assert len(snapshots) >= 3, f"the cold read took {len(snapshots)} cycles only"
        assert "groups read from it, the others asked with the Admin API" in caplog.text
    finally:
        service.stop()
