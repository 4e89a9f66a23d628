"""Choosing between ``__consumer_offsets`` and the Admin API (pure logic, a fake log)."""

from __future__ import annotations

import pytest

from collectors.kafka.committed_offsets import CommittedOffsetsFromLog, progress_line
from collectors.kafka.offsets_log import OffsetsLogUnavailable, ReadProgress, partition_for


class FakeLog:
    """``slices`` catch-ups time out before one succeeds, each reading ``per_slice``;
    while a partial catch-up is unfinished, the groups in ``unread`` are hidden."""

    def __init__(
        self, error: OffsetsLogUnavailable | None = None, slices: int = 0, per_slice: int = 1
    ) -> None:
        self.error = error
        self.closed = False
        self.data = {"g": {("t", 0): 5}}
        self.slices = slices
        self.per_slice = per_slice
        self.records_parsed = 0
        self.calls = 0
        self.hidden: set[str] = set()
        self.unread: set[str] = set()
        self.pending_unread: set[str] = set()
        self.timeouts: list[float] = []

    def hides_commits_of(self, group: str) -> bool:
        return group in self.hidden or group in self.unread

    def catch_up(self, timeout_s: float, partial: bool = False) -> bool:
        self.calls += 1
        self.timeouts.append(timeout_s)
        if self.error is not None:
            raise self.error
        if self.slices:
            self.slices -= 1
            self.records_parsed += self.per_slice
            if partial:
                self.unread = set(self.pending_unread)
                return False
            raise OffsetsLogUnavailable(f"not caught up within {timeout_s:g}s")
        self.unread = set()
        return True

    def progress(self) -> ReadProgress:
        return ReadProgress(40, 100)

    def offsets(self, group: str):
        return self.data.get(group, {})

    def close(self) -> None:
        self.closed = True


def test_offsets_come_from_the_log_when_it_reads() -> None:
    source = CommittedOffsetsFromLog(FakeLog, "auto", 1.0)
    result = source.fetch(["g", "other"])
    assert result["g"].offsets == {("t", 0): 5} and result["g"].error is None
    assert result["other"].offsets == {}


def test_auto_falls_back_to_the_admin_api_for_good_when_not_permitted(caplog) -> None:
    logs = []

    def open_log():
        logs.append(FakeLog(OffsetsLogUnavailable("TOPIC_AUTHORIZATION_FAILED", permanent=True)))
        return logs[-1]

    source = CommittedOffsetsFromLog(open_log, "auto", 1.0)
    assert source.fetch(["g"]) is None
    assert source.fetch(["g"]) is None
    assert len(logs) == 1 and logs[0].closed and not source.active
    assert "Admin API" in caplog.text


@pytest.mark.parametrize("mode", ["auto", "offsets_topic"])
def test_a_transient_failure_is_every_groups_error(mode: str) -> None:
    log = FakeLog(OffsetsLogUnavailable("3 of 50 partitions not caught up within 2s"))
    source = CommittedOffsetsFromLog(lambda: log, mode, 1.0)
    result = source.fetch(["a", "b"])
    assert {g: r.error for g, r in result.items()} == {
        "a": "3 of 50 partitions not caught up within 2s",
        "b": "3 of 50 partitions not caught up within 2s",
    }
    assert source.active and not log.closed


def test_offsets_topic_mode_never_falls_back() -> None:
    log = FakeLog(OffsetsLogUnavailable("TOPIC_AUTHORIZATION_FAILED", permanent=True))
    source = CommittedOffsetsFromLog(lambda: log, "offsets_topic", 1.0)
    result = source.fetch(["g"])
    assert result["g"].error == "TOPIC_AUTHORIZATION_FAILED"


def test_admin_mode_never_opens_the_log() -> None:
    def open_log():
        raise AssertionError("must not be opened")

    assert CommittedOffsetsFromLog(open_log, "admin", 1.0).fetch(["g"]) is None


def test_the_cold_read_leaves_unread_groups_to_the_admin_api_then_reads_on(caplog) -> None:
    caplog.set_level("INFO")
    log = FakeLog(slices=3, per_slice=400_000)
    log.data["h"] = {("t", 1): 9}
    log.pending_unread = {"h"}
    source = CommittedOffsetsFromLog(lambda: log, "auto", 10.0)
    # The first cycle reads one short slice and answers the groups read up to date; the
    # others are left out (the caller asks OffsetFetch), never given a guessed offset.
    first = source.fetch(["g", "h"])
    assert set(first) == {"g"} and first["g"].offsets == {("t", 0): 5}
    assert log.timeouts == [0.5]
    assert "reading __consumer_offsets: 40% (400k records)" in caplog.text
    assert "1 of 2 groups read from it" in caplog.text
    # The second reads on while records arrive, a progress line per slice.
    done = source.fetch(["g", "h"])
    assert done["h"].offsets == {("t", 1): 9} and done["h"].error is None
    assert log.timeouts == [0.5, 2.0, 2.0, 2.0]
    assert "(800k records)" in caplog.text and "(1.2M records)" in caplog.text
    assert "1,200,000 records read" in caplog.text
    # Later reads are ordinary catch-ups: one call, and a timeout is every group's error.
    log.slices = 1
    assert source.fetch(["g"])["g"].error == "not caught up within 10s"
    assert log.timeouts[-1] == 10.0


def test_a_cold_read_slice_that_brings_nothing_ends_the_cycle_and_the_next_resumes() -> None:
    log = FakeLog(slices=2, per_slice=0)
    log.pending_unread = {"h"}
    source = CommittedOffsetsFromLog(lambda: log, "auto", 1.5)
    assert set(source.fetch(["g", "h"])) == {"g"}
    assert set(source.fetch(["g", "h"])) == {"g"}  # stalled: h still asked elsewhere
    assert set(source.fetch(["g", "h"])) == {"g", "h"}
    assert log.timeouts == [0.5, 1.5, 1.5]  # slices never exceed the request timeout


def test_a_cold_read_that_cannot_reach_the_broker_is_every_groups_error_and_resumes() -> None:
    log = FakeLog(OffsetsLogUnavailable("__consumer_offsets list offsets: timed out"))
    source = CommittedOffsetsFromLog(lambda: log, "auto", 10.0)
    assert source.fetch(["g"])["g"].error == "__consumer_offsets list offsets: timed out"
    log.error = None
    assert source.fetch(["g"])["g"].offsets == {("t", 0): 5}


@pytest.mark.parametrize(
    ("progress", "records", "elapsed", "expected"),
    [
        (ReadProgress(40, 100), 1_234_567, 3.14, "40% (1.2M records), 3.1 s"),
        (ReadProgress(999, 1000), 999_999, 0.0, "99% (999k records), 0.0 s"),
        (ReadProgress(29, 100), 999, 1.0, "29% (999 records), 1.0 s"),
        (ReadProgress(0, 0), 0, 0.25, "100% (0 records), 0.2 s"),
        (ReadProgress(150, 100), 12_000_000, 10.0, "100% (12M records), 10.0 s"),
        (ReadProgress(0, 50), 1000, 0.5, "0% (1k records), 0.5 s"),
    ],
)
def test_progress_line(progress: ReadProgress, records: int, elapsed: float, expected: str) -> None:
    assert progress_line(progress, records, elapsed) == f"reading __consumer_offsets: {expected}"


def test_groups_whose_commits_the_log_may_hide_are_left_to_the_admin_api() -> None:
    log = FakeLog()
    log.hidden = {"behind-open-transaction"}
    source = CommittedOffsetsFromLog(lambda: log, "auto", 1.0)
    assert set(source.fetch(["g", "behind-open-transaction"])) == {"g"}


@pytest.mark.parametrize(
    ("group", "java_hash_code"),
    [
        ("", 0),
        ("a", 97),
        ("hello", 99162322),
        ("lagwatch-group", None),  # checked against the formula below
        ("\U0001f600", 1772899),  # a surrogate pair: two UTF-16 code units
        ("polygenelubricants", -(2**31)),  # Integer.MIN_VALUE: Kafka's Utils.abs gives 0
    ],
)
def test_partition_for_uses_javas_string_hash_code(group: str, java_hash_code) -> None:
    if java_hash_code is None:
        h = 0
        for ch in group:  # ASCII: one code unit per character
            h = (31 * h + ord(ch)) % 2**32
        java_hash_code = h - 2**32 if h >= 2**31 else h
    expected = 0 if java_hash_code == -(2**31) else abs(java_hash_code)
    for partitions in (1, 10, 50):
        assert partition_for(group, partitions) == expected % partitions
