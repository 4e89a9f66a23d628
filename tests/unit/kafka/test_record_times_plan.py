"""The record-timestamp reader's plan: which requests share a read, and which
partitions start first."""

from __future__ import annotations

import pytest

from collectors.core.model import TimesRequest
from collectors.kafka.record_times import MERGE_SPAN, RecordTimesReader, plan_reads, schedule


def req(committed: int | None, partition: int = 0, topic: str = "t") -> TimesRequest:
    return TimesRequest(topic, partition, committed, 0)


def test_positions_within_the_merge_span_share_one_read_in_ascending_order() -> None:
    first = 10 + MERGE_SPAN + 1  # too far after 10 to share its read
    near = [req(first), req(first + MERGE_SPAN), req(10)]  # first and first + span: one read
    far = req(first + MERGE_SPAN + 1)  # counted from the read's first position
    assert plan_reads([*near, far]) == {("t", 0): [[req(10)], [req(first), near[1]], [far]]}


def test_a_request_without_a_commit_is_read_alone_and_duplicates_once() -> None:
    plan = plan_reads([req(5), req(None), req(5), req(None, partition=1)])
    assert plan == {("t", 0): [[req(None)], [req(5)]], ("t", 1): [[req(None, partition=1)]]}


def test_partitions_with_the_most_reads_start_first_ties_in_partition_order() -> None:
    far = 2 * (MERGE_SPAN + 1)
    plan = plan_reads(
        [
            req(0, partition=2),
            *(req(0, partition=1), req(far, partition=1)),
            req(0, partition=0),
            *(req(0, partition=3), req(far, partition=3), req(2 * far, partition=3)),
        ]
    )
    assert schedule(plan) == [("t", 3), ("t", 1), ("t", 0), ("t", 2)]


def test_no_requests_plan_nothing() -> None:
    assert plan_reads([]) == {}
    assert schedule({}) == []


def test_a_window_below_one_partition_is_refused_with_what_would_be_right() -> None:
    with pytest.raises(ValueError, match="window must be at least 1 partition, got 0"):
        RecordTimesReader({"bootstrap.servers": "127.0.0.1:1"}, window=0)
