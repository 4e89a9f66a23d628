"""The collector against a real broker: the brief's definitions, observed end to end."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, TopicPartition

from collectors.core.model import StalenessMethod, Status

from .conftest import (
    BackgroundProducer,
    ProjectionConsumer,
    commit,
    group_row,
    partition,
    produce,
)


def test_exact_offset_lag_and_staleness_from_backdated_records(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    topic = create_topic(partitions=3)
    now = time.time()
    # Partition p holds 10 records; record i is (1000 - 10*i) seconds old.
    stamps = [round(now - 1000.0 + 10 * i, 3) for i in range(10)]  # ms precision on the wire
    for p in range(3):
        produce(kafka_bootstrap, topic, 10, partition=p, timestamps=stamps)
    group = group_name()
    committed = {0: 4, 1: 10, 2: 0}
    for p, offset in committed.items():
        commit(kafka_bootstrap, group, topic, offset, partition=p)

    collector = make_collector([group])
    before = time.time()
    snap = collector.cycle()
    after = time.time()

    for p, offset in committed.items():
        row = partition(snap, group, topic, p)
        assert row is not None
        assert row.offset_lag == 10 - offset
        assert row.committed == offset and row.log_end == 10
        assert not row.no_commit and not row.events_expired
        assert row.staleness_method is StalenessMethod.EXACT
        if offset == 10:
            assert row.staleness_s == 0
        else:
            # the first unconsumed record is record `offset`: its age, within one cycle
            first_unconsumed = stamps[offset]
            assert before - first_unconsumed - 0.002 <= row.staleness_s
            assert row.staleness_s <= after - first_unconsumed + 0.002
        if offset > 0:
            last_consumed = stamps[offset - 1]
            assert before - last_consumed - 0.002 <= row.data_age_s <= after - last_consumed + 0.002
    agg = group_row(snap, group).lag
    assert agg.offset_lag == 6 + 0 + 10
    assert before - stamps[0] - 0.002 <= agg.staleness_s <= after - stamps[0] + 0.002


def test_no_commit_and_events_expired_flags(
    kafka_bootstrap: str, create_topic, group_name, make_collector, admin
) -> None:
    from confluent_kafka.admin import AdminClient

    topic = create_topic(partitions=1)
    produce(kafka_bootstrap, topic, 20)
    # Delete the first 15 records: log_start becomes 15.
    admin_client: AdminClient = admin
    future = admin_client.delete_records([TopicPartition(topic, 0, 15)])
    next(iter(future.values())).result(30)
    expired = group_name()
    commit(kafka_bootstrap, expired, topic, 5)

    idle_member = group_name()
    consumer = Consumer(
        {"bootstrap.servers": kafka_bootstrap, "group.id": idle_member, "enable.auto.commit": False}
    )
    consumer.subscribe([topic])
    try:
        collector = make_collector([expired, idle_member])

        def assigned(snap):
            return partition(snap, idle_member, topic)

        for _ in range(100):  # the member joins and gets its assignment
            consumer.poll(0.1)
            snap = collector.cycle()
            if assigned(snap):
                break
        row = partition(snap, expired, topic)
        assert row.events_expired and row.offset_lag == 15 and row.log_start == 15
        fresh = assigned(snap)
        assert fresh is not None, "assigned partition without commit not reported"
        assert fresh.no_commit and fresh.committed is None
        assert fresh.offset_lag == 5  # log_end - log_start
    finally:
        consumer.close()


def test_records_deleted_under_an_expired_commit_move_its_staleness(
    kafka_bootstrap: str, create_topic, group_name, make_collector, admin
) -> None:
    topic = create_topic(partitions=1)
    now = time.time()
    stamps = [round(now - 1000.0 + 10 * i, 3) for i in range(20)]
    produce(kafka_bootstrap, topic, 20, timestamps=stamps)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 2)
    collector = make_collector([group])
    row = partition(collector.cycle(), group, topic)
    assert row.staleness_s >= now - stamps[2] - 0.002  # the first unconsumed: record 2

    # Retention (here DeleteRecords) removes offsets 0..9 under the commit: the first
    # unconsumed record is now record 10, and the staleness must say so.
    next(iter(admin.delete_records([TopicPartition(topic, 0, 10)]).values())).result(30)
    before = time.time()
    row = partition(collector.cycle(), group, topic)
    after = time.time()
    assert row.events_expired and row.log_start == 10 and row.offset_lag == 18
    assert before - stamps[10] - 0.002 <= row.staleness_s <= after - stamps[10] + 0.002


def test_stopped_consumer_goes_stopped_and_back_to_ok(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    topic = create_topic(partitions=1)
    group = group_name()
    collector = make_collector([group])
    with BackgroundProducer(kafka_bootstrap, topic, every_s=0.05):
        projection = ProjectionConsumer(kafka_bootstrap, group, topic)
        collector.cycle_until(
            lambda s: (g := group_row(s, group)) and g.members == 1 and g.lag.status is Status.OK,
            60,
            "projection consuming and OK",
        )
        projection.close()  # stops consuming; producers continue
        snap = collector.cycle_until(
            lambda s: (g := group_row(s, group)) and g.lag.status is Status.STOPPED,
            60,
            "STOPPED after the consumer stopped",
        )
        assert group_row(snap, group).lag.offset_lag > 0
        resumed = ProjectionConsumer(kafka_bootstrap, group, topic)
        try:
            collector.cycle_until(
                lambda s: (g := group_row(s, group)) and g.lag.status is Status.OK,
                60,
                "back to OK after the consumer resumed",
            )
        finally:
            resumed.close()


def test_reset_to_earliest_shows_rewind(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    topic = create_topic(partitions=1)
    produce(kafka_bootstrap, topic, 50)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 50)
    collector = make_collector([group])
    snap = collector.cycle()
    assert partition(snap, group, topic).offset_lag == 0
    commit(kafka_bootstrap, group, topic, 0)  # kafka-consumer-groups --reset-offsets --to-earliest
    snap = collector.cycle()
    row = partition(snap, group, topic)
    assert row.offset_lag == 50
    assert row.status is Status.REWIND
    assert group_row(snap, group).lag.status is Status.REWIND


def test_caught_up_quiet_topic_is_idle_with_growing_data_age(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    topic = create_topic(partitions=1)
    now = time.time()
    produce(kafka_bootstrap, topic, 5, timestamps=[now - 60] * 5)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 5)
    collector = make_collector([group])
    first = collector.cycle_until(
        lambda s: (p := partition(s, group, topic)) and p.status is Status.IDLE,
        30,
        "IDLE on a quiet caught-up topic",
    )
    row = partition(first, group, topic)
    assert row.staleness_s == 0 and row.offset_lag == 0
    time.sleep(0.3)  # let wall-clock time pass so data age must grow
    later = partition(collector.cycle(), group, topic)
    assert later.status is Status.IDLE and later.staleness_s == 0
    assert later.data_age_s >= 60
    assert later.data_age_s > row.data_age_s
    assert later.eta_s == 0


def test_timestamp_cache_only_fetches_moved_partitions(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    topic = create_topic(partitions=4)
    for p in range(4):
        produce(kafka_bootstrap, topic, 10, partition=p)
    group = group_name()
    for p in range(4):
        commit(kafka_bootstrap, group, topic, 3, partition=p)
    collector = make_collector([group])
    first = collector.cycle().stats
    assert first.timestamp_cache_misses == 4
    commit(kafka_bootstrap, group, topic, 5, partition=2)
    second = collector.cycle().stats
    assert second.timestamp_cache_misses - first.timestamp_cache_misses == 1
    assert second.timestamp_cache_hits - first.timestamp_cache_hits == 3


def test_transaction_markers_alone_are_not_lag(
    kafka_bootstrap: str, create_topic, group_name, make_collector, unique_name
) -> None:
    from confluent_kafka import Producer

    topic = create_topic(partitions=1)
    producer = Producer(
        {"bootstrap.servers": kafka_bootstrap, "transactional.id": unique_name("tx")}
    )
    producer.init_transactions(30)
    for _ in range(2):
        producer.begin_transaction()
        producer.produce(topic, value=b"e", partition=0)
        producer.commit_transaction(30)
    # offsets: 0 record, 1 marker, 2 record, 3 marker -> log_end 4
    group = group_name()
    commit(kafka_bootstrap, group, topic, 3)  # consumed everything but the last marker
    row = partition(make_collector([group]).cycle(), group, topic)
    # Lag in events is 0; the raw gap (what Kafka's tools show) keeps the marker.
    assert row.log_end == 4 and row.offset_lag == 0 and row.offset_gap == 1
    assert row.staleness_s == 0
    assert row.status in (Status.OK, Status.IDLE)


def test_deleted_topic_and_group_do_not_break_the_cycle(
    kafka_bootstrap: str, create_topic, group_name, make_collector, admin
) -> None:
    topic = create_topic(partitions=1)
    produce(kafka_bootstrap, topic, 3)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 1)
    collector = make_collector([group])
    assert partition(collector.cycle(), group, topic).offset_lag == 2
    admin.delete_topics([topic])[topic].result(30)
    snap = collector.cycle_until(
        lambda s: (
            partition(s, group, topic) is None or partition(s, group, topic).status is Status.ERROR
        ),
        30,
        "deleted topic disappears or reads as ERROR",
    )
    assert all(c.up for c in snap.clusters)
    admin.delete_consumer_groups([group])[group].result(30)
    collector.cycle_until(lambda s: group_row(s, group) is None, 30, "deleted group disappears")


def test_store_receives_every_cycle(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    topic = create_topic(partitions=1)
    produce(kafka_bootstrap, topic, 10)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 4)
    collector = make_collector([group], store=True)
    collector.service.start()
    store = collector.service._store

    def stored() -> list:
        points = store.series("offset_lag", group, start=time.time() - 60, end=time.time() + 1)
        return [v for _, v in points if v is not None]

    from .conftest import wait_until

    values = wait_until(lambda: len(stored()) >= 1 and stored(), 30, "lag series stored")
    assert set(values) == {6}


def test_an_open_transaction_does_not_hide_another_groups_commit(
    kafka_bootstrap: str, create_topic, group_name, make_collector, admin
) -> None:
    """An open transaction that commits offsets holds back the last stable offset of
    its ``__consumer_offsets`` partition: a read_committed reader sees no later record
    of any group stored there. The collector must still read such a group's commit."""
    from collectors.kafka.offsets_log import OFFSETS_TOPIC, partition_for
    from tests.integration.kafka.test_offsets_log import Transactions

    topic = create_topic()
    produce(kafka_bootstrap, topic, 20)
    tx_group = group_name()
    commit(kafka_bootstrap, tx_group, topic, 1)  # __consumer_offsets exists from here on
    partitions = len(admin.list_topics(OFFSETS_TOPIC, timeout=30).topics[OFFSETS_TOPIC].partitions)
    home = partition_for(tx_group, partitions)
    group = next(
        g for g in (group_name() for _ in range(10_000)) if partition_for(g, partitions) == home
    )
    collector = make_collector([group])
    transactions = Transactions(kafka_bootstrap, tx_group)
    transactions.begin(topic, 5)  # stays open while the other group commits
    try:
        commit(kafka_bootstrap, group, topic, 12)
        collector.cycle_until(
            lambda s: (row := partition(s, group, topic)) and row.committed == 12,
            20,
            "the commit behind an open transaction is read",
        )
    finally:
        transactions.commit()
