"""Committed offsets read from ``__consumer_offsets`` against the real broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from collectors.devtools import kafka_local
from collectors.kafka import committed_offsets
from collectors.kafka.admin import KafkaOffsetsSource
from collectors.kafka.offsets_log import OFFSETS_TOPIC, CommittedOffsetsLog, OffsetsLogUnavailable
from tests.kafka_helpers import commit, produce, wait_until

pytestmark = pytest.mark.integration

CATCH_UP_S = 30.0


@pytest.fixture
def offsets_log(kafka_bootstrap: str) -> Iterator[Callable[..., CommittedOffsetsLog]]:
    """Factory: ``offsets_log(group, ...)`` keeps exactly those groups."""
    made: list[CommittedOffsetsLog] = []

    def make(*groups: str, bootstrap: str = kafka_bootstrap) -> CommittedOffsetsLog:
        wanted = set(groups)
        log = CommittedOffsetsLog({"bootstrap.servers": bootstrap}, wanted.__contains__)
        made.append(log)
        return log

    yield make
    for log in made:
        log.close()


def caught_up(log: CommittedOffsetsLog) -> CommittedOffsetsLog:
    log.catch_up(CATCH_UP_S)
    return log


def test_a_commit_is_visible_with_its_exact_offset_and_a_later_one_replaces_it(
    kafka_bootstrap: str, create_topic, group_name, offsets_log
) -> None:
    topic = create_topic(partitions=2)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 17, partition=1)
    log = caught_up(offsets_log(group))
    assert dict(log.offsets(group)) == {(topic, 1): 17}
    assert log.groups() == {group}

    commit(kafka_bootstrap, group, topic, 23, partition=1)
    log.catch_up(CATCH_UP_S)  # one call suffices: the commit was acknowledged before it
    assert dict(log.offsets(group)) == {(topic, 1): 23}
    assert log.records_parsed >= 2
    assert log.malformed_skipped == 0


def test_a_group_filtered_out_is_not_kept(
    kafka_bootstrap: str, create_topic, group_name, offsets_log
) -> None:
    topic = create_topic()
    kept, ignored = group_name(), group_name()
    commit(kafka_bootstrap, kept, topic, 4)
    commit(kafka_bootstrap, ignored, topic, 9)
    log = caught_up(offsets_log(kept))
    assert log.groups() == {kept}
    assert dict(log.offsets(ignored)) == {}
    assert log.layout_version(ignored) == 0


def test_layout_version_moves_when_a_partition_is_added_not_when_an_offset_moves(
    kafka_bootstrap: str, create_topic, group_name, offsets_log
) -> None:
    topic = create_topic(partitions=2)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 1, partition=0)
    log = caught_up(offsets_log(group))
    first = log.layout_version(group)
    assert first > 0

    commit(kafka_bootstrap, group, topic, 5, partition=0)
    log.catch_up(CATCH_UP_S)
    assert log.offsets(group)[(topic, 0)] == 5
    assert log.layout_version(group) == first

    commit(kafka_bootstrap, group, topic, 2, partition=1)
    log.catch_up(CATCH_UP_S)
    assert dict(log.offsets(group)) == {(topic, 0): 5, (topic, 1): 2}
    assert log.layout_version(group) != first


def test_deleting_the_group_removes_it(
    kafka_bootstrap: str, admin: AdminClient, create_topic, group_name, offsets_log
) -> None:
    topic = create_topic(partitions=2)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 3, partition=0)
    commit(kafka_bootstrap, group, topic, 6, partition=1)
    log = caught_up(offsets_log(group))
    assert len(log.offsets(group)) == 2
    assert log.layout_version(group) > 0

    admin.delete_consumer_groups([group], request_timeout=10)[group].result(timeout=30)
    log.catch_up(CATCH_UP_S)
    assert log.groups() == set()
    assert dict(log.offsets(group)) == {}
    assert log.layout_version(group) == 0


class Transactions:
    """A transactional producer committing offsets for ``group`` (exactly-once style)."""

    def __init__(self, bootstrap: str, group: str) -> None:
        self._producer = Producer(
            {"bootstrap.servers": bootstrap, "transactional.id": f"tx-{group}"}
        )
        self._producer.init_transactions(60)
        member = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
        self._group = member.consumer_group_metadata()
        member.close()

    def commit_offset(self, topic: str, offset: int, *, abort: bool = False) -> None:
        self.begin(topic, offset)
        if abort:
            self._producer.abort_transaction(30)
        else:
            self._producer.commit_transaction(30)

    def begin(self, topic: str, offset: int) -> None:
        self._producer.begin_transaction()
        self._producer.send_offsets_to_transaction(
            [TopicPartition(topic, 0, offset)], self._group, 30
        )

    def commit(self) -> None:
        self._producer.commit_transaction(30)


def tail_is_a_control_marker(bootstrap: str, group: str) -> bool:
    """Whether the last offset of the group's ``__consumer_offsets`` partition holds a
    transaction marker: the last record delivered (read_uncommitted) is not there."""
    reader = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"t-tail-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        parts = reader.list_topics(OFFSETS_TOPIC, timeout=10).topics[OFFSETS_TOPIC].partitions
        reader.assign([TopicPartition(OFFSETS_TOPIC, p, 0) for p in parts])
        last: dict[int, int] = {}  # partition -> offset of its last record
        ends: dict[int, int] = {}
        home = None
        deadline = time.monotonic() + 30
        while len(ends) < len(parts) and time.monotonic() < deadline:
            for message in reader.consume(10_000, 0.2):
                if message.error() is not None:
                    ends[message.partition()] = message.offset()
                    continue
                last[message.partition()] = message.offset()
                if group.encode() in message.key():
                    home = message.partition()
        assert home is not None and home in ends, "the group's partition was read to its end"
        return last[home] < ends[home] - 1
    finally:
        reader.close()


def markers_written(bootstrap: str, group: str) -> None:
    """Wait until the broker has written the last transaction's marker to the group's
    partition, which it does shortly after ``commit_transaction()`` returns."""
    wait_until(
        lambda: tail_is_a_control_marker(bootstrap, group),
        30,
        "the transaction marker ends the group's partition",
    )


def timed_catch_up(log: CommittedOffsetsLog) -> float:
    started = time.monotonic()
    log.catch_up(CATCH_UP_S)
    return time.monotonic() - started


def test_transactional_commits_count_once_committed_and_aborted_ones_never(
    kafka_bootstrap: str, create_topic, group_name, offsets_log
) -> None:
    topic = create_topic()
    group = group_name()
    transactions = Transactions(kafka_bootstrap, group)
    log = caught_up(offsets_log(group))  # warm: the timings below are not a cold start

    transactions.commit_offset(topic, 10)
    markers_written(kafka_bootstrap, group)
    # The partition's last offset is a commit marker, which no consumer ever receives:
    # catch_up must still see that it has read past it, at once.
    assert timed_catch_up(log) < 1.0
    assert dict(log.offsets(group)) == {(topic, 0): 10}

    transactions.commit_offset(topic, 20, abort=True)
    markers_written(kafka_bootstrap, group)
    assert timed_catch_up(log) < 1.0
    assert dict(log.offsets(group)) == {(topic, 0): 10}

    # Open transaction: catch_up stops before it and does not show its offset...
    transactions.begin(topic, 30)
    assert timed_catch_up(log) < 1.0
    assert dict(log.offsets(group)) == {(topic, 0): 10}
    # ...until it commits.
    transactions.commit()
    markers_written(kafka_bootstrap, group)
    assert timed_catch_up(log) < 1.0
    assert dict(log.offsets(group)) == {(topic, 0): 30}


def test_a_cold_start_after_transactions_reads_the_committed_state(
    kafka_bootstrap: str, create_topic, group_name, offsets_log
) -> None:
    topic = create_topic()
    group = group_name()
    transactions = Transactions(kafka_bootstrap, group)
    transactions.commit_offset(topic, 5)
    transactions.commit_offset(topic, 8, abort=True)
    markers_written(kafka_bootstrap, group)
    log = offsets_log(group)
    assert timed_catch_up(log) < 10
    assert dict(log.offsets(group)) == {(topic, 0): 5}


def test_catch_up_survives_a_broker_restart(tmp_path: Path, group_name, offsets_log) -> None:
    # A broker of this test's own: the session broker must stay up for other tests.
    port = kafka_local.free_port()
    data_dir = tmp_path / "own-broker"
    state, _ = kafka_local.start(port, data_dir, timeout_s=120)
    try:
        group = group_name()
        produce(state.bootstrap, "restart-topic", 1)  # creates the topic (auto-create)
        commit(state.bootstrap, group, "restart-topic", 3)
        log = offsets_log(group, bootstrap=state.bootstrap)
        log.catch_up(CATCH_UP_S)
        assert dict(log.offsets(group)) == {("restart-topic", 0): 3}

        kafka_local.stop(port, data_dir)
        with pytest.raises(OffsetsLogUnavailable) as raised:
            log.catch_up(2.0)
        assert not raised.value.permanent

        kafka_local.start(port, data_dir, timeout_s=120)
        commit(state.bootstrap, group, "restart-topic", 7)

        seen: list[str] = []  # what each try got, for the failure message

        def caught_up_again() -> bool:
            try:
                log.catch_up(5.0)
            except OffsetsLogUnavailable as error:
                assert not error.permanent
                seen.append(f"{type(error).__name__}: {error}")
                return False
            offsets = dict(log.offsets(group))
            seen.append(f"read {offsets}")
            return offsets == {("restart-topic", 0): 7}

        try:
            wait_until(caught_up_again, 90, "catch_up works again once the broker is back")
        except AssertionError as failure:
            raise AssertionError(f"{failure}; the last tries got: {seen[-3:]}") from None
    finally:
        kafka_local.stop(port, data_dir)


def test_a_cold_read_in_slices_answers_exactly_from_the_first_cycle_and_logs_progress(
    kafka_bootstrap: str, create_topic, group_name, monkeypatch, caplog
) -> None:
    # Budgets far too short to read the topic at once (each cycle applies what is
    # fetched at least once): the first answers must come from the Admin API for the
    # groups not read yet, the later ones from the log itself.
    monkeypatch.setattr(committed_offsets, "COLD_FIRST_SLICE_S", 0.001)
    monkeypatch.setattr(committed_offsets, "COLD_MIN_SLICE_S", 0.001)
    caplog.set_level("INFO", logger=committed_offsets.log.name)
    topic = create_topic(partitions=3)
    groups = [group_name() for _ in range(3)]
    expected = {}
    for i, group in enumerate(groups):
        for partition in range(3):
            commit(kafka_bootstrap, group, topic, 10 * i + partition + 1, partition=partition)
        expected[group] = {(topic, p): 10 * i + p + 1 for p in range(3)}
    config = {"bootstrap.servers": kafka_bootstrap}
    from_log = committed_offsets.CommittedOffsetsFromLog(
        lambda: CommittedOffsetsLog(config, set(groups).__contains__),
        "auto",
        CATCH_UP_S,
        interval_s=0.001,
    )
    source = KafkaOffsetsSource(config, request_timeout_s=CATCH_UP_S)
    try:
        answers = 0
        deadline = time.monotonic() + CATCH_UP_S
        while "records read in" not in caplog.text:
            assert time.monotonic() < deadline, "the cold read never finished"
            _, committed = source.describe_and_fetch_offsets(groups, from_log.fetch)
            answers += 1
            assert {g: (dict(c.offsets), c.error) for g, c in committed.items()} == {
                g: (offsets, None) for g, offsets in expected.items()
            }
        assert answers > 1 and "reading __consumer_offsets: " in caplog.text
        assert "groups read from it, the others asked with the Admin API" in caplog.text
        # Read up to date: the log answers every group by itself.
        answer = from_log.fetch(groups)
        assert {g: dict(c.offsets) for g, c in answer.items()} == expected
    finally:
        from_log.close()
