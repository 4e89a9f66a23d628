"""Record timestamps read around committed offsets, against the real broker."""

from __future__ import annotations

import pytest

from collectors.core.model import RecordTimes, TimesRequest
from collectors.kafka.record_times import MERGE_SPAN, RecordTimesReader
from tests.kafka_helpers import produce

pytestmark = pytest.mark.integration

BASE_S = 1_700_000_000.0


def test_a_spent_budget_leaves_later_reads_unknown_and_the_next_call_answers_them(
    kafka_bootstrap: str, create_topic
) -> None:
    topic = create_topic()
    count = 2 * MERGE_SPAN + 20
    produce(kafka_bootstrap, topic, count, timestamps=[BASE_S + i for i in range(count)])
    near, far = 10, 2 * MERGE_SPAN + 10  # too far apart to share one read: two reads
    requests = [TimesRequest(topic, 0, near, 0), TimesRequest(topic, 0, far, 0)]
    reader = RecordTimesReader({"bootstrap.servers": kafka_bootstrap}, rounds_budget_s=0.0)
    try:
        first = reader.read(requests)
        # A partition's first read always runs; its second does not start: unknown, not
        # guessed.
        assert first == {
            requests[0]: RecordTimes(BASE_S + near, BASE_S + near - 1),
            requests[1]: None,
        }
        assert reader.read(requests[1:]) == {
            requests[1]: RecordTimes(BASE_S + far, BASE_S + far - 1)
        }
    finally:
        reader.close()


def test_a_window_of_one_partition_answers_every_read_of_every_partition_exactly(
    kafka_bootstrap: str, create_topic
) -> None:
    topic = create_topic(partitions=3)
    count = 3 * MERGE_SPAN
    for part in range(3):
        stamps = [BASE_S + 1000 * part + i for i in range(count)]
        produce(kafka_bootstrap, topic, count, partition=part, timestamps=stamps)
    # Per partition: reads far apart (one after another), one at the log end (nothing
    # left to consume: the end of the partition answers it) and one never committed.
    positions = [1, MERGE_SPAN + 5, 2 * MERGE_SPAN + 9, count, None]
    requests = [TimesRequest(topic, part, c, 0) for part in range(3) for c in positions]
    reader = RecordTimesReader({"bootstrap.servers": kafka_bootstrap}, window=1)
    try:
        answers = reader.read(requests)
    finally:
        reader.close()

    def ts(part: int, offset: int) -> float:
        return BASE_S + 1000 * part + offset

    assert answers == {
        TimesRequest(topic, part, c, 0): (
            RecordTimes(None, ts(part, count - 1))
            if c == count
            else RecordTimes(ts(part, 0), None)
            if c is None
            else RecordTimes(ts(part, c), ts(part, c - 1))
        )
        for part in range(3)
        for c in positions
    }
