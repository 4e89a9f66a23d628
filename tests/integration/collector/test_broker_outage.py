"""The collector survives its broker going away and recovers on its own; the outage is
reported in a few log lines, not one per partition (issue 14: a restart at 100,000
group-partitions wrote 74,400 lines)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from collectors.core.model import Status
from collectors.devtools import kafka_local

from .conftest import commit, group_row, produce, wait_until

# Partitions of the wide topic, each committed by every wide group: the per-partition
# errors of a restart must not scale the log with them.
WIDE_PARTITIONS = 300
WIDE_GROUPS = 2
# Warnings from the stop until the collector is healthy again: a handful of summaries
# and the up/down changes, whatever the partition count (a restart under 10,000
# group-partitions logged 9; one line per partition and cycle logged 2,254), far below
# the 600 wide group-partitions here.
MAX_OUTAGE_LINES = 40


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    # Local to this function: no test client left talking to the broker during the outage.
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 2})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result()


def commit_all(bootstrap: str, group: str, topic: str, partitions: int) -> None:
    """Commit offset 0 on every partition in one request (retried while the fresh
    broker's coordinator loads)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    offsets = [TopicPartition(topic, p, 0) for p in range(partitions)]
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                consumer.commit(offsets=offsets, asynchronous=False)
                return
            except KafkaException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        consumer.close()


def test_broker_restart_mid_run_is_survived(
    tmp_path: Path, group_name, committed_offsets: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A broker of this test's own: the session broker must stay up for other tests.
    port = kafka_local.free_port()
    data_dir = tmp_path / "own-broker"
    state, _ = kafka_local.start(port, data_dir, timeout_s=120)
    try:
        produce(state.bootstrap, "outage-topic", 8)
        group = group_name()
        commit(state.bootstrap, group, "outage-topic", 3)
        # With the Admin API as the source, librdkafka 2.16 crashes the process when an
        # OffsetFetch answer carries NOT_COORDINATOR, which a restarting broker sends
        # while it loads (rd_kafka_cgrp_op on a NULL group; librdkafka#5040). That is a
        # flake of the admin run, before the wide topic too (5 crashes in 7 runs on a
        # loaded machine), and the wide topic's longer load made it crash in 4 of 4. So
        # the wide topic runs with __consumer_offsets only.
        wide = [group_name() for _ in range(WIDE_GROUPS if committed_offsets != "admin" else 0)]
        if wide:
            create_topic(state.bootstrap, "outage-wide", WIDE_PARTITIONS)
        for g in wide:
            commit_all(state.bootstrap, g, "outage-wide", WIDE_PARTITIONS)

        from collectors.bootstrap import build_service
        from collectors.settings import load_settings

        settings = load_settings(
            env={},
            overrides={
                "clusters.bootstrap_servers": state.bootstrap,
                "clusters.include": [group, *wide],
                "clusters.request_timeout_s": 2.0,
                "clusters.committed_offsets": committed_offsets,
                "collector.interval_s": 0.3,
            },
        )
        service = build_service(settings)
        service.start()
        try:

            def healthy():
                snap = service.snapshot()
                g = snap and group_row(snap, group)
                rows = [snap and group_row(snap, w) for w in wide]
                return (
                    g
                    and snap.clusters[0].up
                    and g.lag.offset_lag == 5
                    and all(r and r.lag.partitions == WIDE_PARTITIONS for r in rows)
                    and all(r.lag.status is not Status.ERROR for r in rows)
                )

            wait_until(healthy, 60, "collector sees the groups before the outage")
            caplog.clear()
            caplog.set_level(logging.INFO)

            kafka_local.stop(port, data_dir)

            def down():
                snap = service.snapshot()
                g = snap and group_row(snap, group)
                return g and not snap.clusters[0].up and g.lag.status is Status.ERROR

            wait_until(down, 60, "ERROR and up=0 while the broker is down")
            snap = service.snapshot()
            errors_during = snap.stats.errors_total
            assert errors_during.get("cluster_unreachable", 0) >= 1
            assert snap.clusters[0].error, "the health says why the cluster is unreachable"

            kafka_local.start(port, data_dir, timeout_s=120)
            wait_until(healthy, 90, "collector recovers by itself when the broker returns")
            assert service.snapshot().stats.last_success_at is not None
        finally:
            service.stop()
    finally:
        kafka_local.stop(port, data_dir)

    ours = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith(("lagwatch", "collectors"))
    ]
    lines = "\n".join(r.getMessage()[:300] for r in ours)
    print(f"{len(ours)} warning lines from the stop until recovery:\n{lines}")  # -rP shows them
    # Still says what is wrong: the outage itself, and its recovery.
    assert any("cluster unreachable" in r.getMessage() for r in ours), lines
    assert any("cluster reachable" in r.getMessage() for r in ours), lines
    assert len(ours) <= MAX_OUTAGE_LINES, f"{len(ours)} warning lines:\n{lines}"
