"""Time-based statuses on a real broker (issue 10): what real consumers read as.

The rules are parametrised (status window, stall floor); these tests use short values
where the rule allows, so they wait seconds rather than minutes, except for the
30-second committer, which needs its real cadence.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, TopicPartition

from collectors.core.model import Status

from .conftest import BackgroundProducer, commit, group_row, partition, produce


@pytest.fixture(params=["auto"])
def committed_offsets(request: pytest.FixtureRequest) -> str:
    """One source of committed offsets here: these tests are about time, not sources."""
    return request.param


class PacedConsumer:
    """A real subscribed consumer that consumes at most ``rate`` records/s (None: as
    fast as it can) and commits its position every ``commit_every`` seconds."""

    def __init__(self, bootstrap: str, group: str, topic: str, commit_every: float) -> None:
        self.rate: float | None = None
        self._commit_every = commit_every
        self._topic = topic
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 500,
                "queued.max.messages.kbytes": 1024,
            }
        )
        self._consumer.subscribe([topic])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        position = None
        last_commit = time.monotonic()
        tokens, last = 0.0, time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            budget = 1000
            if self.rate is not None:
                tokens = min(tokens + self.rate * (now - last), self.rate)
                budget = int(tokens)
            last = now
            if budget <= 0:
                self._stop.wait(0.05)
                continue
            messages = self._consumer.consume(num_messages=budget, timeout=0.1)
            tokens -= len(messages)
            for m in messages:
                if m.error() is None:
                    position = m.offset() + 1
            if position is not None and time.monotonic() - last_commit >= self._commit_every:
                self._consumer.commit(
                    offsets=[TopicPartition(self._topic, 0, position)], asynchronous=False
                )
                last_commit = time.monotonic()
        self._consumer.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(30)


def _status(snap, group: str) -> Status | None:
    row = group_row(snap, group)
    return row.lag.status if row else None


def _run_for(collector, seconds: float, each: Callable[[object], None]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        each(collector.cycle())
        time.sleep(0.5)


def test_thirty_second_committer_reads_ok_while_a_slow_one_falls_behind_and_recovers(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    """Kafka Streams' default commit interval: OK on every cycle for 100 s. Meanwhile a
    consumer reading 80/s of 100/s, committing every 5 s (a sawtooth lag), reads WARN
    within two minutes, and OK again once it consumes at full speed and catches up."""
    steady_topic, behind_topic = create_topic(), create_topic()
    steady, behind = group_name(), group_name()
    # The default stall floor (30 s): the 30 s committer must not need a tuned one.
    collector = make_collector([steady, behind], status_window_s=60, stall_floor_s=30)
    with (
        BackgroundProducer(kafka_bootstrap, steady_topic, every_s=0.05),
        BackgroundProducer(kafka_bootstrap, behind_topic, every_s=0.01),
    ):
        committer = PacedConsumer(kafka_bootstrap, steady, steady_topic, commit_every=30)
        slow = PacedConsumer(kafka_bootstrap, behind, behind_topic, commit_every=5)
        try:
            collector.cycle_until(
                lambda s: _status(s, steady) is not None and _status(s, behind) is Status.OK,
                90,
                "both groups committed once",
            )
            slow.rate = 80.0
            seen_steady: list[Status] = []
            warned_after: list[float] = []
            started = time.monotonic()

            def watch(snap) -> None:
                seen_steady.append(_status(snap, steady))
                if not warned_after and _status(snap, behind) is Status.WARN:
                    warned_after.append(time.monotonic() - started)

            _run_for(collector, 100, watch)
            assert set(seen_steady) == {Status.OK}, seen_steady
            assert warned_after and warned_after[0] <= 120, "falling behind never read WARN"
            assert _status(collector.cycle(), behind) is Status.WARN

            slow.rate = None  # recovers: consumes everything it can
            collector.cycle_until(
                lambda s: (
                    _status(s, behind) is Status.OK and group_row(s, behind).lag.staleness_s < 6
                ),
                90,
                "OK after catching up",
            )
        finally:
            committer.close()
            slow.close()


def test_a_new_record_after_an_idle_spell_is_not_stuck_before_the_threshold(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    topic = create_topic()
    produce(kafka_bootstrap, topic, 5)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 5)
    collector = make_collector([group], stall_floor_s=3)  # threshold 2 x 3 s unlearned
    collector.cycle_until(lambda s: _status(s, group) is Status.IDLE, 30, "IDLE while idle")
    written = time.time()  # the record's timestamp is at least this
    produce(kafka_bootstrap, topic, 1)
    snap = collector.cycle_until(
        lambda s: _status(s, group) in (Status.STALL, Status.STOPPED), 30, "stuck eventually"
    )
    # Not before the threshold (6 s): the group had no chance to commit yet.
    assert snap.taken_at - written > 6.0
    assert _status(snap, group) is Status.STOPPED  # no members


def test_reset_to_earliest_reads_rewind_with_rising_progress_until_back(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    topic = create_topic()
    produce(kafka_bootstrap, topic, 200)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 200)
    collector = make_collector([group])
    with BackgroundProducer(kafka_bootstrap, topic, every_s=0.5):
        collector.cycle()
        commit(kafka_bootstrap, group, topic, 0)  # kafka-consumer-groups --reset-offsets
        progress = []
        for position in range(0, 200, 40):
            commit(kafka_bootstrap, group, topic, position)
            snap = collector.cycle_until(
                lambda s, p=position: partition(s, group, topic).committed == p, 20, "commit seen"
            )
            row = partition(snap, group, topic)
            assert row.status is Status.REWIND, row
            assert _status(snap, group) is Status.REWIND
            progress.append(row.replay_progress)
        assert progress == sorted(progress) and progress[0] == 0.0 and progress[-1] > 0.7
        end = partition(collector.cycle(), group, topic).log_end
        commit(kafka_bootstrap, group, topic, end)
        snap = collector.cycle_until(
            lambda s: partition(s, group, topic).status is Status.OK, 20, "OK once back"
        )
        assert partition(snap, group, topic).replay_progress is None


def test_never_committed_partition_of_an_empty_group_is_listed_with_no_commit(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    """Committed partitions 0 and 1 of a 3-partition topic, never 2, no members: 3 rows,
    and the group's lag counts partition 2."""
    topic = create_topic(partitions=3)
    for p in range(3):
        produce(kafka_bootstrap, topic, 10, partition=p)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 10, partition=0)
    commit(kafka_bootstrap, group, topic, 4, partition=1)
    snap = make_collector([group]).cycle()
    rows = sorted(
        (p for p in snap.partitions if p.key.group == group), key=lambda p: p.key.partition
    )
    assert [r.key.partition for r in rows] == [0, 1, 2]
    assert rows[2].no_commit and rows[2].committed is None and rows[2].offset_lag == 10
    assert not rows[0].no_commit and not rows[1].no_commit
    g = group_row(snap, group)
    assert g.members == 0 and g.lag.offset_lag == 0 + 6 + 10
    assert g.lag.no_commit_partitions == 1


def test_a_stuck_group_whose_next_record_is_from_the_future_is_not_idle(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    """Producer clock an hour ahead, 3 records pending, nobody consuming: staleness
    clamps to 0 with clock_skew, but the status comes from the offsets: STOPPED."""
    topic = create_topic()
    produce(kafka_bootstrap, topic, 3, timestamps=[time.time() + 3600] * 3)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 0)
    collector = make_collector([group], stall_floor_s=2)
    first = partition(collector.cycle(), group, topic)
    assert first.clock_skew and first.staleness_s == 0 and first.offset_lag == 3
    assert first.status is not Status.IDLE
    snap = collector.cycle_until(
        lambda s: _status(s, group) in (Status.STOPPED, Status.STALL), 30, "stuck"
    )
    assert _status(snap, group) is Status.STOPPED


def test_a_consumer_dead_before_the_collector_started_is_stopped_without_waiting(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    """The commit log dates the committed offset: a group whose offset stood still for
    longer than the stall threshold before the collector started reads STOPPED as soon
    as the collector has read its commit from ``__consumer_offsets``, not a threshold
    after the collector's first look (which read OK: a restarted collector hid a dead
    projection for a minute)."""
    topic = create_topic()
    produce(kafka_bootstrap, topic, 5)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 2)  # 3 records pending, nobody consuming
    committed_at = time.time()
    threshold = 6.0  # 2 x stall_floor_s, no cadence learned
    time.sleep(max(0.0, committed_at + threshold + 1.0 - time.time()))  # the past we test
    collector = make_collector([group], stall_floor_s=3)
    first = collector.cycle()
    snap = collector.cycle_until(
        lambda s: _status(s, group) is Status.STOPPED, 30, "STOPPED from the commit's time"
    )
    # Counting from the collector's first look it could not be STOPPED before 6 s.
    assert snap.taken_at - first.taken_at < threshold, (
        f"STOPPED only {snap.taken_at - first.taken_at:.1f} s after the first cycle"
    )
