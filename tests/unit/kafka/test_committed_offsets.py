"""Choosing between ``__consumer_offsets`` and the Admin API (pure logic, a fake log)."""

from __future__ import annotations

import pytest

from collectors.kafka.committed_offsets import CommittedOffsetsFromLog
from collectors.kafka.offsets_log import OffsetsLogUnavailable, partition_for


class FakeLog:
    """``slices`` catch-ups time out before one succeeds, each reading ``per_slice``."""

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

    def hides_commits_of(self, group: str) -> bool:
        return group in self.hidden

    def catch_up(self, timeout_s: float) -> None:
        self.calls += 1
        if self.error is not None:
            raise self.error
        if self.slices:
            self.slices -= 1
            self.records_parsed += self.per_slice
            raise OffsetsLogUnavailable(f"not caught up within {timeout_s:g}s")

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


def test_the_cold_read_goes_on_while_records_arrive_and_logs_progress(caplog) -> None:
    caplog.set_level("INFO")
    log = FakeLog(slices=3, per_slice=400_000)
    source = CommittedOffsetsFromLog(lambda: log, "auto", 10.0)
    result = source.fetch(["g"])
    assert result["g"].error is None and log.calls == 4
    assert "reading __consumer_offsets: 1,200,000 records" in caplog.text
    assert "1,200,000 records read" in caplog.text
    # Later reads are ordinary catch-ups: one call, and a timeout is every group's error.
    log.slices = 1
    assert source.fetch(["g"])["g"].error == "not caught up within 10s"


def test_a_cold_read_that_stops_progressing_ends_with_the_error_and_resumes_later() -> None:
    log = FakeLog(slices=2, per_slice=0)
    source = CommittedOffsetsFromLog(lambda: log, "auto", 10.0)
    assert source.fetch(["g"])["g"].error == "not caught up within 5s"
    assert log.calls == 1
    assert source.fetch(["g"])["g"].error == "not caught up within 5s"  # still cold
    assert source.fetch(["g"])["g"].error is None


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
