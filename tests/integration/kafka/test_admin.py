"""The project's own adapter reads what a real broker and a real consumer did."""

from __future__ import annotations

from collections.abc import Callable

from collectors.kafka.admin import KafkaOffsetsSource
from tests.kafka_helpers import commit, produce


def test_reads_high_watermark_and_committed_offset(
    kafka_bootstrap: str, create_topic: Callable[..., str], group_name: Callable[[], str]
) -> None:
    topic = create_topic(partitions=2)
    produce(kafka_bootstrap, topic, 25, partition=0)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 7, partition=0)
    source = KafkaOffsetsSource({"bootstrap.servers": kafka_bootstrap})

    marks = source.watermarks([(topic, 0), (topic, 1)])
    assert marks[(topic, 0)].log_start == 0
    assert marks[(topic, 0)].log_end == 25
    assert marks[(topic, 1)].log_end == 0  # empty partition: start == end == 0
    assert marks[(topic, 0)].error is None

    committed = source.committed_offsets([group])[group]
    assert committed.error is None
    assert committed.offsets[(topic, 0)] == 7
    assert group in {g.group for g in source.list_groups()}


def test_group_that_never_committed_reads_as_no_commit(
    kafka_bootstrap: str, create_topic: Callable[..., str], group_name: Callable[[], str]
) -> None:
    topic = create_topic()
    produce(kafka_bootstrap, topic, 3)
    source = KafkaOffsetsSource({"bootstrap.servers": kafka_bootstrap})
    never = group_name()
    result = source.committed_for(never, [(topic, 0)])
    assert result.error is None
    assert result.offsets == {(topic, 0): None}
    assert source.committed_offsets([never])[never].offsets == {}


def test_unknown_partition_is_a_value_not_an_exception(kafka_bootstrap: str, topic_name) -> None:
    source = KafkaOffsetsSource({"bootstrap.servers": kafka_bootstrap}, request_timeout_s=5)
    missing = topic_name()
    marks = source.watermarks([(missing, 0)])
    assert marks[(missing, 0)].log_end is None
    assert marks[(missing, 0)].error


def test_watermarks_asked_in_chunks_answer_every_partition(
    kafka_bootstrap: str, create_topic: Callable[..., str], monkeypatch
) -> None:
    from collectors.kafka import admin

    monkeypatch.setattr(admin, "LIST_OFFSETS_CHUNK", 2)  # 5 partitions: 3 requests a side
    topic = create_topic(partitions=5)
    for partition in range(5):
        produce(kafka_bootstrap, topic, partition + 1, partition=partition)
    source = KafkaOffsetsSource({"bootstrap.servers": kafka_bootstrap})
    marks = source.watermarks([(topic, p) for p in range(5)])
    assert {tp: (m.log_start, m.log_end, m.error) for tp, m in marks.items()} == {
        (topic, p): (0, p + 1, None) for p in range(5)
    }
