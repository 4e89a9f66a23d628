"""The Kafka side of ``lagwatch bench collector``: benchmark topics and groups, and the
trickle of records and commits that keeps the collector's caches honest.

Setup is idempotent: topics are created in one AdminClient call (existing ones are
reused), partitions are topped up to a few records each, and every group commits an
offset for every partition (a plain Consumer ``commit(offsets=…)``, no subscribe), so
``groups x partitions`` group-partitions exist however often setup runs.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import random
import time
from dataclasses import dataclass

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

ADMIN_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class BenchCluster:
    """Names and sizes of the benchmark's topics and groups on one broker."""

    bootstrap: str
    prefix: str
    topics: int
    partitions: int  # in total, spread evenly over the topics
    groups: int
    records_per_partition: int = 5
    lagging_fraction: float = 0.1  # group-partitions that start a few records behind

    @property
    def topic_names(self) -> list[str]:
        return [f"{self.prefix}.events-{i:03d}" for i in range(self.topics)]

    @property
    def group_names(self) -> list[str]:
        return [f"{self.prefix}-projection-{i:03d}" for i in range(self.groups)]

    @property
    def group_pattern(self) -> str:
        return f"{self.prefix}-projection-.*"

    @property
    def per_topic(self) -> int:
        return self.partitions // self.topics

    def topic_partitions(self) -> list[tuple[str, int]]:
        return [(t, p) for t in self.topic_names for p in range(self.per_topic)]


def setup(cluster: BenchCluster, progress=print) -> None:
    """Create (or reuse) the topics, fill them, and commit every group on every partition."""
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap, "log_level": 2})
    started = time.perf_counter()
    _create_topics(admin, cluster)
    ends = _top_up(admin, cluster)
    _commit_groups(cluster, ends)
    progress(
        f"setup: {cluster.topics} topics x {cluster.per_topic} partitions, "
        f"{cluster.groups} groups committed in {time.perf_counter() - started:.1f} s"
    )


def teardown(cluster: BenchCluster) -> None:
    """Delete the benchmark's groups and topics (errors ignored: best effort)."""
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap, "log_level": 2})
    for future in admin.delete_consumer_groups(cluster.group_names).values():
        with contextlib.suppress(KafkaException):
            future.result()
    for future in admin.delete_topics(cluster.topic_names, operation_timeout=30).values():
        with contextlib.suppress(KafkaException):
            future.result()


def _create_topics(admin: AdminClient, cluster: BenchCluster) -> None:
    new = [NewTopic(t, cluster.per_topic, 1) for t in cluster.topic_names]
    for future in admin.create_topics(new, operation_timeout=ADMIN_TIMEOUT_S).values():
        try:
            future.result()
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    # Wait until every partition has a leader, or the first produce/commit may fail.
    deadline = time.monotonic() + ADMIN_TIMEOUT_S
    while time.monotonic() < deadline:
        metadata = admin.list_topics(timeout=10).topics
        if all(
            t in metadata
            and len(metadata[t].partitions) >= cluster.per_topic
            and all(p.leader >= 0 for p in metadata[t].partitions.values())
            for t in cluster.topic_names
        ):
            return
        time.sleep(0.2)
    raise RuntimeError("benchmark topics did not get leaders in time")


def log_ends(admin: AdminClient, parts: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """High watermarks; retried while a new topic's leaders are still settling."""
    deadline = time.monotonic() + ADMIN_TIMEOUT_S
    while True:
        request = {TopicPartition(t, p): OffsetSpec.latest() for t, p in parts}
        futures = admin.list_offsets(request, request_timeout=ADMIN_TIMEOUT_S)
        try:
            return {(tp.topic, tp.partition): f.result().offset for tp, f in futures.items()}
        except KafkaException:
            # NOT_LEADER_FOR_PARTITION for a while after creation, though not "retriable"
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _top_up(admin: AdminClient, cluster: BenchCluster) -> dict[tuple[str, int], int]:
    """Produce until every partition holds ``records_per_partition``; returns log ends."""
    parts = cluster.topic_partitions()
    ends = log_ends(admin, parts)
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "linger.ms": 20, "log_level": 2})
    for (topic, part), end in ends.items():
        for i in range(end, cluster.records_per_partition):
            producer.produce(topic, value=f"bench-{i}".encode(), partition=part)
            ends[(topic, part)] = i + 1
        producer.poll(0)
    if producer.flush(60) != 0:
        raise RuntimeError("benchmark records were not all delivered")
    return ends


def _commit_groups(cluster: BenchCluster, ends: dict[tuple[str, int], int]) -> None:
    """Every group commits every partition: most caught up, ``lagging_fraction`` behind."""
    rng = random.Random(7)
    for group in cluster.group_names:
        consumer = Consumer(
            {
                "bootstrap.servers": cluster.bootstrap,
                "group.id": group,
                "enable.auto.commit": False,
                "log_level": 2,
            }
        )
        try:
            offsets = []
            for (topic, part), end in ends.items():
                behind = rng.randint(1, end) if rng.random() < cluster.lagging_fraction else 0
                offsets.append(TopicPartition(topic, part, end - behind))
            consumer.commit(offsets=offsets, asynchronous=False)
        finally:
            consumer.close()


# ---- the trickle: a separate process, so its CPU is not counted as the collector's ----


class Trickle:
    """Every ``every_s`` seconds: produce one record to ``per_tick`` random partitions and
    move a random group's committed offset there (to the new end, or one behind).

    Runs in a child process: the collector's process CPU time stays its own.
    """

    def __init__(self, cluster: BenchCluster, per_tick: int, every_s: float) -> None:
        self._per_tick = per_tick
        self._stop = mp.get_context("spawn").Event()
        self._process = mp.get_context("spawn").Process(
            target=_trickle_main,
            args=(cluster, per_tick, every_s, self._stop),
            name="lagwatch-bench-trickle",
            daemon=True,
        )

    def __enter__(self) -> Trickle:
        if self._per_tick > 0:
            self._process.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._process.is_alive():
            self._process.join(30)


def _trickle_main(cluster: BenchCluster, per_tick: int, every_s: float, stop) -> None:
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap, "log_level": 2})
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "linger.ms": 5, "log_level": 2})
    parts = cluster.topic_partitions()
    groups = cluster.group_names
    rng = random.Random()
    while not stop.wait(every_s):
        new_ends: dict[tuple[str, int], int] = {}

        def delivered(error, message, new_ends=new_ends) -> None:
            if error is None:
                new_ends[(message.topic(), message.partition())] = message.offset() + 1

        for topic, part in rng.sample(parts, min(per_tick, len(parts))):
            producer.produce(topic, value=b"trickle", partition=part, on_delivery=delivered)
        producer.flush(10)
        by_group: dict[str, list[TopicPartition]] = {}
        for (topic, part), end in new_ends.items():
            offset = end - (1 if rng.random() < 0.25 else 0)  # never behind a previous commit
            by_group.setdefault(rng.choice(groups), []).append(TopicPartition(topic, part, offset))
        _alter_offsets(admin, by_group)


def _alter_offsets(admin: AdminClient, by_group: dict[str, list[TopicPartition]]) -> None:
    futures = []
    for group, offsets in by_group.items():  # the Admin API takes one group per request
        futures += admin.alter_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group, offsets)], request_timeout=10
        ).values()
    for future in futures:
        # A missed trickle commit only makes the cycle's work lighter.
        with contextlib.suppress(KafkaException):
            future.result()
