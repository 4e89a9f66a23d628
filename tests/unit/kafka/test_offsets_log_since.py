"""When each committed offset was first committed, as ``__consumer_offsets`` shows it:
the status rules' evidence that an offset has stood still since before the collector
started (collectors/core/commit_evidence.py)."""

from __future__ import annotations

from collectors.kafka.offsets_log import CommittedOffsetsLog
from tests.unit.kafka.test_offsets_codec import key, value

CREATE_TIME = 1  # librdkafka's TIMESTAMP_CREATE_TIME; 0 is "not available"


class Record:
    """A keyed record as confluent-kafka hands it over."""

    def __init__(self, k: bytes, v: bytes | None, millis: int, kind: int = CREATE_TIME) -> None:
        self._k, self._v, self._ts = k, v, (kind, millis)

    def key(self) -> bytes:
        return self._k

    def value(self) -> bytes | None:
        return self._v

    def timestamp(self) -> tuple[int, int]:
        return self._ts

    def error(self) -> None:
        return None


def fresh_log() -> CommittedOffsetsLog:
    log = object.__new__(CommittedOffsetsLog)  # no librdkafka: only the applying state
    log._wanted = lambda group: True
    log._decisions, log._offsets, log._since, log._known = {}, {}, {}, {}
    log._known_groups = {}
    log._layout, log._layout_clock, log._records, log._malformed = {}, 0, 0, 0
    log._tps = {}
    return log


def commit(offset: int, millis: int, partition: int = 3, kind: int = CREATE_TIME) -> Record:
    return Record(key(1, partition=partition), value(3, offset), millis, kind)


def test_since_is_the_time_the_offset_was_first_committed_not_re_committed() -> None:
    log = fresh_log()
    log._apply([commit(10, 1_000_000), commit(42, 2_000_000)])
    log._apply([commit(42, 3_000_000), commit(42, 4_000_000)])  # the same offset again
    assert log.offsets("g") == {("t", 3): 42}
    assert log.since("g") == {("t", 3): 2_000.0}
    log._apply([commit(43, 5_000_000)])  # it moved: the clock starts again
    assert log.since("g") == {("t", 3): 5_000.0}


def test_a_record_without_a_time_leaves_the_time_unknown_and_tombstones_forget_it() -> None:
    log = fresh_log()
    log._apply([commit(1, 1_000_000, partition=0), commit(7, 2_000_000, partition=1)])
    log._apply([commit(2, -1, partition=0, kind=0)])  # moved, but no time on the record
    assert log.since("g") == {("t", 1): 2_000.0}
    log._apply([Record(key(1, partition=1), None, 3_000_000)])  # tombstone
    assert log.offsets("g") == {("t", 0): 2} and log.since("g") == {}
    log._apply([Record(key(1, partition=0), None, 3_000_000)])  # the group's last one
    assert log.offsets("g") == {} and log.since("g") == {}
    log._apply([commit(9, 4_000_000, partition=0)])  # a new life for the group
    assert log.since("g") == {("t", 0): 4_000.0}


def test_a_version_0_key_and_a_version_1_key_share_one_time() -> None:
    log = fresh_log()
    log._apply([Record(key(0), value(1, 5), 1_000_000), commit(5, 2_000_000)])
    assert log.since("g") == {("t", 3): 1_000.0}  # same offset under the other key version


def test_groups_committing_one_partition_share_its_key_object() -> None:
    log = fresh_log()
    log._apply(
        [Record(key(1, group=g, partition=p), value(3, 5), 1_000) for g in "ab" for p in (0, 1)]
    )
    a, b = dict(log.offsets("a")), dict(log.offsets("b"))
    assert a == b == {("t", 0): 5, ("t", 1): 5}
    for tp in a:  # one tuple (and topic name) per partition, not one per group
        assert next(k for k in b if k == tp) is tp


def test_known_keys_update_their_own_group_whatever_its_name() -> None:
    """The fast path finds a known key's group by the name bytes in the key: long
    names (a length above 255 takes both length bytes) and non-ASCII ones included."""
    groups = ["a", "b", "g" * 44, "g" * 300, "gruppe-äöü-✓"]  # 300 = 256 + 44
    log = fresh_log()
    log._apply([Record(key(1, group=g, partition=0), value(3, 1), 1_000) for g in groups])
    moved = [
        Record(key(1, group=g, partition=0), value(3, 10 + i), 2_000) for i, g in enumerate(groups)
    ]
    log._apply(moved)  # every key known now: the fast path
    for i, g in enumerate(groups):
        assert log.offsets(g) == {("t", 0): 10 + i}
        assert log.since(g) == {("t", 0): 2.0}
