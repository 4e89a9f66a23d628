"""The cycle's handling of offsets it cannot read, driven through fake ports.

A single real broker cannot be made to fail one group's offset fetch on demand, so
these decisions of the imperative shell are checked with in-memory stand-ins for the
Kafka adapters; the integration tests cover the same cycle against a real broker.
"""

from __future__ import annotations

from collectors.core.model import (
    CommittedOffsets,
    GroupDescription,
    GroupListing,
    RecordTimes,
    Status,
    Watermarks,
)
from collectors.cycle import ClusterCollector


class FakeSource:
    def __init__(self) -> None:
        self.offsets: dict[str, CommittedOffsets] = {}
        self.assigned: dict[str, frozenset] = {}
        self.marks = {("t", 0): Watermarks(0, 100), ("t", 1): Watermarks(0, 100)}

    def list_groups(self):
        return [GroupListing(g, "STABLE", False) for g in self.offsets]

    def describe_and_fetch_offsets(self, groups, from_log=None):
        descriptions = {
            g: GroupDescription(g, "STABLE", 1, self.assigned.get(g, frozenset())) for g in groups
        }
        return descriptions, {g: self.offsets[g] for g in groups}

    def watermarks(self, partitions, read_committed=False):
        return {tp: self.marks[tp] for tp in partitions}


class FakeReader:
    def __init__(self) -> None:
        self.requests: list = []

    def read(self, requests):
        self.requests += requests
        return {r: RecordTimes(50.0, 40.0) for r in requests}

    def close(self) -> None:
        pass


def _collector() -> tuple[ClusterCollector, FakeSource, FakeReader]:
    source, reader = FakeSource(), FakeReader()
    collector = ClusterCollector(
        "c",
        connect=lambda: (source, {False: reader, True: reader}),
        group_filter=lambda g: True,
        read_committed=lambda g: False,
    )
    return collector, source, reader


def test_a_group_unreadable_from_its_first_cycle_is_error_not_no_commit() -> None:
    collector, source, _ = _collector()
    source.offsets["g"] = CommittedOffsets("g", {}, "COORDINATOR_LOAD_IN_PROGRESS")
    source.assigned["g"] = frozenset({("t", 0)})
    cycle = collector.collect(lambda: 100.0)
    [row] = cycle.partitions
    assert row.status is Status.ERROR and row.error == "COORDINATOR_LOAD_IN_PROGRESS"
    assert row.offset_lag is None and not row.no_commit
    [group] = cycle.groups
    assert group.lag.status is Status.ERROR


def test_an_unreadable_group_without_partitions_rolls_up_as_error() -> None:
    collector, source, _ = _collector()
    source.offsets["g"] = CommittedOffsets("g", {}, "COORDINATOR_NOT_AVAILABLE")
    cycle = collector.collect(lambda: 100.0)
    assert len(cycle.partitions) == 0
    assert [(g.group, g.lag.status) for g in cycle.groups] == [("g", Status.ERROR)]


def test_unreadable_slots_keep_their_timestamps_and_cost_no_reads() -> None:
    collector, source, reader = _collector()
    source.offsets["g"] = CommittedOffsets("g", {("t", 0): 60, ("t", 1): 70})
    collector.collect(lambda: 100.0)
    assert len(reader.requests) == 2
    source.offsets["g"] = CommittedOffsets("g", {}, "COORDINATOR_NOT_AVAILABLE")
    cycle = collector.collect(lambda: 101.0)
    assert {r.status for r in cycle.partitions} == {Status.ERROR}
    assert len(reader.requests) == 2  # nothing read for the unreadable group
    source.offsets["g"] = CommittedOffsets("g", {("t", 0): 60, ("t", 1): 70})
    cycle = collector.collect(lambda: 102.0)
    assert len(reader.requests) == 2  # the answers from before still hold
    assert [r.staleness_s for r in cycle.partitions] == [52.0, 52.0]


def test_a_moved_log_start_renews_the_timestamps_of_uncommitted_partitions() -> None:
    collector, source, reader = _collector()
    source.offsets["g"] = CommittedOffsets("g", {})
    source.assigned["g"] = frozenset({("t", 0)})
    collector.collect(lambda: 100.0)
    collector.collect(lambda: 101.0)
    assert [r.committed for r in reader.requests] == [None]
    source.marks[("t", 0)] = Watermarks(30, 100)  # retention deleted offsets 0..29
    collector.collect(lambda: 102.0)
    assert [(r.committed, r.log_start) for r in reader.requests] == [(None, 0), (None, 30)]
