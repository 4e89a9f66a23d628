"""The cold read's focus: which partitions of ``__consumer_offsets`` are fetched at once."""

from __future__ import annotations

from collectors.kafka import offsets_log
from collectors.kafka.offsets_log import ACTIVE_PARTITIONS, CommittedOffsetsLog


class FakeConsumer:
    def __init__(self) -> None:
        self.paused: set[int] = set()

    def pause(self, partitions) -> None:
        assert all(tp.topic == offsets_log.OFFSETS_TOPIC for tp in partitions)
        self.paused |= {tp.partition for tp in partitions}

    def resume(self, partitions) -> None:
        self.paused -= {tp.partition for tp in partitions}


def reader(next_offsets: dict[int, int]) -> tuple[CommittedOffsetsLog, FakeConsumer]:
    log = object.__new__(CommittedOffsetsLog)  # no librdkafka: only the focus state
    consumer = FakeConsumer()
    log._consumer = consumer
    log._next = dict(next_offsets)
    log._paused = set()
    log._reached = set()
    return log, consumer


def test_the_partitions_with_the_fewest_offsets_left_are_fetched_the_rest_paused() -> None:
    assert ACTIVE_PARTITIONS == 2
    log, consumer = reader({0: 0, 1: 90, 2: 0, 3: 50})
    # Left: 0 -> 100, 1 -> 10, 2 -> 30, 3 -> 50.
    log._focus({0: 100, 1: 100, 2: 30, 3: 100})
    assert consumer.paused == {0, 3}
    # Partition 1 done: the next fewest (3, 50 left) is resumed, 0 stays paused.
    log._focus({0: 100, 2: 30, 3: 100})
    assert consumer.paused == {0}
    # Nothing pending (read up to date, or an ordinary catch-up): every partition fetched.
    log._focus({})
    assert consumer.paused == set()


def test_ties_go_to_the_lower_partition_and_few_pending_pause_nothing() -> None:
    log, consumer = reader({})
    log._focus({5: 10, 3: 10, 4: 10})
    assert consumer.paused == {5}
    log._focus({5: 10})
    assert consumer.paused == set()


def test_a_partition_read_up_to_date_once_is_never_paused_and_takes_no_slot() -> None:
    log, consumer = reader({0: 95, 1: 0, 2: 0, 3: 0})
    log._reached = {0}  # read up to date before; 5 new commits since
    log._focus({0: 100, 1: 100, 2: 200, 3: 300})
    assert consumer.paused == {3}  # 1 and 2 take the slots; 0 is fetched besides
