"""Choosing between ``__consumer_offsets`` and the Admin API (pure logic, a fake log)."""

from __future__ import annotations

import pytest

from collectors.kafka.committed_offsets import (
    CommittedOffsetsFromLog,
    cold_budget_s,
    progress_line,
)
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

    discovered = True  # the topic's partitions are known

    def progress(self) -> ReadProgress:
        return ReadProgress(40, 100)

    def offsets(self, group: str):
        return self.data.get(group, {})

    def since(self, group: str):
        return {tp: 1_700_000_000.0 for tp in self.data.get(group, {})}

    def close(self) -> None:
        self.closed = True


def test_offsets_come_from_the_log_when_it_reads() -> None:
    source = CommittedOffsetsFromLog(FakeLog, "auto", 1.0)
    result = source.fetch(["g", "other"])
    assert result["g"].offsets == {("t", 0): 5} and result["g"].error is None
    assert result["g"].since == {("t", 0): 1_700_000_000.0}  # when the log says it was set
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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class LongLog(FakeLog):
    """A cold read of ``total`` records at ``rate`` records per second of reading: a
    slice uses its whole timeout (on ``clock``) unless the rest fits. Group ``g`` lives in
    a partition read up to date after ``ready["g"]`` records; until then it is hidden."""

    def __init__(self, clock: Clock, total: int, rate: float, ready: dict[str, int]) -> None:
        super().__init__()
        self.clock = clock
        self.total = total
        self.rate = rate
        self.ready = ready
        self.data = {g: {("t", i): 100 + i} for i, g in enumerate(ready)}

    def catch_up(self, timeout_s: float, partial: bool = False) -> bool:
        assert partial or self.records_parsed == self.total, "cold read done with partial"
        self.calls += 1
        self.timeouts.append(timeout_s)
        left = self.total - self.records_parsed
        read = min(left, int(timeout_s * self.rate))
        self.clock.now += timeout_s if read < left else read / self.rate
        self.records_parsed += read
        self.unread = {g for g, n in self.ready.items() if self.records_parsed < n}
        return self.records_parsed == self.total

    discovered = True

    def progress(self) -> ReadProgress:
        return ReadProgress(self.records_parsed, self.total)


def test_a_long_cold_read_is_spread_over_cycles_within_budget_and_exact_every_cycle(
    caplog,
) -> None:
    caplog.set_level("INFO")
    clock = Clock()
    ready = {"early": 250_000, "middle": 1_200_000, "late": 2_400_000}
    log = LongLog(clock, total=2_400_000, rate=1_000_000, ready=ready)
    source = CommittedOffsetsFromLog(lambda: log, "auto", 10.0, interval_s=1.0, clock=clock)
    assert cold_budget_s(1.0) == 0.25
    answered: list[set[str]] = []
    while not answered or answered[-1] != set(ready):
        assert len(answered) < 20, "the cold read never finished"
        calls, started = log.calls, clock.now
        result = source.fetch(list(ready))
        # Within its budget: at most 0.25 s of reading per cycle.
        assert clock.now - started <= 0.25 + 1e-9
        assert sum(log.timeouts[calls:]) <= 0.25 + 1e-9
        # Exact every cycle: the groups read up to date come from the log with their
        # offsets, the others are left out (the caller asks OffsetFetch), never guessed.
        for g, committed in result.items():
            assert log.records_parsed >= ready[g]
            assert committed.offsets == log.data[g] and committed.error is None
        assert set(result) == {g for g, n in ready.items() if log.records_parsed >= n}
        answered.append(set(result))
        clock.now = started + 1.0  # the next cycle, an interval later
    assert len(answered) == 10  # 2.4M records at 250k per cycle
    assert answered[0] == {"early"} and {"early", "middle"} in answered
    # Progress: after the first cycle and after every 2 s of reading (8 cycles), then done.
    lines = [r.getMessage() for r in caplog.records if "reading __consumer_offsets" in r.message]
    assert len(lines) == 2
    assert lines[0].startswith("reading __consumer_offsets: 10% (250k records), 0.2 s; 1 of 3")
    assert lines[1].startswith("reading __consumer_offsets: 93% (2.2M records), 8.")
    assert lines[1].endswith(
        "s; 2 of 3 groups read from it, the others asked with the Admin API meanwhile"
    )
    assert "2,400,000 records read in 9.1 s" in caplog.text
    # Read up to date: later cycles are ordinary catch-ups with the request timeout.
    calls = log.calls
    assert source.fetch(list(ready))["late"].offsets == log.data["late"]
    assert log.timeouts[calls:] == [10.0]


def test_a_long_interval_reads_longer_per_cycle_with_a_progress_line_every_2_s(caplog) -> None:
    caplog.set_level("INFO")
    clock = Clock()
    log = LongLog(clock, total=10_000_000, rate=1_000_000, ready={"g": 10_000_000})
    source = CommittedOffsetsFromLog(lambda: log, "auto", 10.0, interval_s=15.0, clock=clock)
    for _ in range(3):
        started = clock.now
        assert source.fetch(["g"]) == {}  # g's partition is not read yet: OffsetFetch
        assert clock.now - started <= cold_budget_s(15.0) + 1e-9
    # The first cycle only a short slice (the first snapshot comes soon), then 3.75 s each,
    # cut at every 2 s of reading for a progress line.
    assert log.timeouts == [0.5, 2.0, 1.75, 0.25, 2.0, 1.5]
    lines = [r.getMessage() for r in caplog.records if "reading __consumer_offsets" in r.message]
    assert [line.split(":")[1].split(",")[0] for line in lines] == [
        " 5% (500k records)",
        " 25% (2.5M records)",
        " 45% (4.5M records)",
        " 65% (6.5M records)",
    ]


def test_a_timeout_longer_than_the_budget_never_lets_a_slice_exceed_the_request_timeout() -> None:
    clock = Clock()
    log = LongLog(clock, total=10_000_000, rate=1_000_000, ready={"g": 10_000_000})
    source = CommittedOffsetsFromLog(lambda: log, "auto", 1.5, interval_s=60.0, clock=clock)
    source.fetch(["g"])
    source.fetch(["g"])
    assert log.timeouts == [0.5, 1.5]


def _slices_take_their_time(log: FakeLog) -> Clock:
    """A clock that each of ``log``'s catch-ups moves on by its whole timeout (a
    stalled slice, or one that reads until its time is up)."""
    clock = Clock()
    real_catch_up = log.catch_up

    def catch_up(timeout_s: float, partial: bool = False) -> bool:
        clock.now += timeout_s
        return real_catch_up(timeout_s, partial)

    log.catch_up = catch_up
    return clock


def test_a_cold_read_slice_that_brings_nothing_ends_the_cycle_and_the_next_resumes() -> None:
    log = FakeLog(slices=2, per_slice=0)
    log.pending_unread = {"h"}
    clock = _slices_take_their_time(log)
    source = CommittedOffsetsFromLog(lambda: log, "auto", 10.0, interval_s=1.0, clock=clock)
    assert set(source.fetch(["g", "h"])) == {"g"}
    assert set(source.fetch(["g", "h"])) == {"g"}  # stalled: h still asked elsewhere
    assert set(source.fetch(["g", "h"])) == {"g", "h"}
    assert log.timeouts == [0.25, 0.25, 0.25]


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


def test_a_topic_not_found_yet_leaves_every_group_to_the_admin_api_and_looks_again() -> None:
    """A metadata answer without __consumer_offsets (seen on a loaded broker) is not "no
    commits anywhere": the groups would read as caught up (a false IDLE)."""
    log = FakeLog()
    log.discovered = False
    log.hidden = {"g"}  # what the real log's hides_commits_of says until it finds the topic
    source = CommittedOffsetsFromLog(lambda: log, "auto", 1.0)
    assert source.fetch(["g"]) == {}  # nobody answered from the log: the caller asks Admin
    assert source.cold  # not done: the next cycle looks for the topic again
    log.discovered, log.hidden = True, set()
    assert source.fetch(["g"])["g"].offsets == {("t", 0): 5}
    assert not source.cold


def test_the_real_log_hides_every_group_until_the_topic_is_found() -> None:
    from collectors.kafka.offsets_log import CommittedOffsetsLog

    log = object.__new__(CommittedOffsetsLog)  # no librdkafka: only the answer's state
    log._partitions, log._hidden, log._unread = [], frozenset(), frozenset()
    assert log.hides_commits_of("any-group") and not log.discovered
    log._partitions = list(range(50))
    assert not log.hides_commits_of("any-group") and log.discovered


def test_admin_first_leaves_the_first_cycle_to_the_admin_api_then_reads_as_usual() -> None:
    clock = Clock()
    ready = {"early": 250_000, "late": 2_400_000}
    log = LongLog(clock, total=2_400_000, rate=1_000_000, ready=ready)
    source = CommittedOffsetsFromLog(
        lambda: log, "auto", 10.0, interval_s=1.0, clock=clock, admin_first=True
    )
    assert source.fetch(list(ready)) == {}  # every group to OffsetFetch, nothing read
    assert log.records_parsed == 0 and log.timeouts == [] and source.cold
    clock.now += 1.0
    assert set(source.fetch(list(ready))) == {"early"}  # then slices, as without it
    assert log.timeouts == [0.25]


def test_the_first_progress_line_survives_a_first_slice_that_failed(caplog) -> None:
    """A broker still loading fails the first slice (its targets time out): the
    progress line the first cycle would have said comes with the next slice that
    returns, not only after another 2 s of reading."""
    caplog.set_level("INFO", logger="collectors.kafka.committed_offsets")
    log = FakeLog(OffsetsLogUnavailable("__consumer_offsets metadata: timed out"), slices=3)
    log.pending_unread = {"h"}
    clock = _slices_take_their_time(log)
    source = CommittedOffsetsFromLog(lambda: log, "auto", 10.0, interval_s=1.0, clock=clock)
    assert source.fetch(["g", "h"])["g"].error == "__consumer_offsets metadata: timed out"
    assert "groups read from it" not in caplog.text
    log.error = None
    assert set(source.fetch(["g", "h"])) == {"g"}
    assert "1 of 2 groups read from it, the others asked with the Admin API" in caplog.text
    lines = caplog.text.count("groups read from it")
    source.fetch(["g", "h"])  # well within 2 s of reading: no second line
    assert caplog.text.count("groups read from it") == lines
