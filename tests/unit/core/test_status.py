"""Table-driven tests of the time-based status spec (``core.status``).

Scenarios are simulated consumers: records are produced at a steady rate (record ``i``
at ``i / rate`` seconds), the consumer's position follows a function of time, it
commits on its own schedule, and the collector observes every ``interval`` seconds.
Each scenario states what every observation must (or must never) read, and runs at
``interval_s`` 1 and 5: statuses must not depend on the sampling interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from collectors.core import status
from collectors.core.model import Status
from collectors.core.status import History, Reading, StatusParams, Verdict

INTERVALS = [1.0, 5.0]


def params(interval: float, **kw: float) -> StatusParams:
    return StatusParams(interval_s=interval, **kw)


def simulate(
    interval: float,
    duration: float,
    *,
    rate: float | Callable[[float], float] = 10.0,
    position: Callable[[float], float] = lambda t: math.inf,
    commit_every: float = 1.0,
    members: Callable[[float], int] = lambda t: 1,
    skew_s: float = 0.0,
    p: StatusParams | None = None,
) -> list[tuple[float, Verdict, Reading]]:
    """Observations every ``interval`` s. ``rate``: records/s (or a function giving the
    log end at t). ``position``: how far the consumer has consumed at t (capped at the
    log end); it commits its position every ``commit_every`` s. ``skew_s``: record
    timestamps run this far ahead of the clock."""
    p = p or params(interval)

    def log_end(t: float) -> int:
        return int(rate(t)) if callable(rate) else int(rate * t)

    def ts(offset: int) -> float:
        # the time record `offset` was written: the first t with log_end(t) > offset
        if not callable(rate):
            return offset / rate
        lo, hi = 0.0, duration + 1
        for _ in range(60):
            mid = (lo + hi) / 2
            if log_end(mid) > offset:
                hi = mid
            else:
                lo = mid
        return hi

    out = []
    h = History()
    t = interval
    while t <= duration + 1e-9:
        last_commit = math.floor(t / commit_every) * commit_every
        committed = int(min(log_end(last_commit), position(last_commit)))
        end = log_end(t)
        lag = end - committed
        skewed = False
        staleness = 0.0
        if lag > 0:
            staleness = t - (ts(committed) + skew_s)
            if staleness < 0:
                staleness, skewed = 0.0, True
        r = Reading(t, committed, end, lag, staleness, True, skewed, members(t))
        h, verdict = status.step(h, r, p)
        out.append((t, verdict, r))
        t += interval
    return out


def statuses(run: list[tuple[float, Verdict, Reading]], after: float = 0.0) -> set[Status]:
    return {v.status for t, v, _ in run if t >= after}


def first_time(run: list[tuple[float, Verdict, Reading]], wanted: set[Status]) -> float | None:
    return next((t for t, v, _ in run if v.status in wanted), None)


# --- healthy consumers never page ------------------------------------------------------


@pytest.mark.parametrize("interval", INTERVALS)
@pytest.mark.parametrize("every", [1.0, 5.0, 30.0, 60.0])
def test_healthy_periodic_committer_reads_ok_throughout(interval: float, every: float) -> None:
    """Kafka Streams commits every 30 s, Connect sinks every 60 s: never STALL or WARN."""
    run = simulate(interval, 600, rate=20, commit_every=every)
    assert statuses(run) == {Status.OK}


@pytest.mark.parametrize("interval", INTERVALS)
def test_demo_projection_lag_wobble_is_not_growth(interval: float) -> None:
    """Lag 1 -> 3 between samples, staleness a few hundredths of a second: OK."""
    p = params(interval)
    h = History()
    seen = set()
    for i in range(200):
        t = i * interval
        lag = [1, 3, 2, 0, 3, 1][i % 6]
        r = Reading(t, 1000 + 50 * i, 1000 + 50 * i + lag, lag, 0.06 if lag else 0.0)
        h, v = status.step(h, r, p)
        seen.add(v.status)
    assert seen <= {Status.OK}


@pytest.mark.parametrize("interval", INTERVALS)
def test_idle_topic_is_idle_and_a_new_record_is_not_stall_before_the_threshold(
    interval: float,
) -> None:
    """Caught up and quiet: IDLE. A record arrives at t=300 and is not consumed: not
    STALL before the threshold (the group has had no chance to commit yet)."""

    def end(t: float) -> float:
        return 100 if t < 300 else 101

    run = simulate(interval, 420, rate=end, position=lambda t: 100 if t >= 0 else 0)
    assert statuses([x for x in run if x[0] < 300], after=2 * interval) == {Status.IDLE}
    threshold = params(interval).threshold(None)
    stalled_at = first_time(run, {Status.STALL})
    assert stalled_at is not None
    assert 300 + threshold < stalled_at <= 300 + threshold + 2 * interval


@pytest.mark.parametrize("interval", INTERVALS)
def test_idle_without_members_is_idle_not_stopped(interval: float) -> None:
    run = simulate(interval, 200, rate=lambda t: 50, members=lambda t: 0)
    assert statuses(run, after=2 * interval) == {Status.IDLE}


# --- falling behind --------------------------------------------------------------------


@pytest.mark.parametrize("interval", INTERVALS)
def test_falling_behind_reads_warn_within_two_minutes_and_ok_after_recovery(
    interval: float,
) -> None:
    """Producers 100/s, consumer 80/s from t=120 to t=400, auto-commit every 5 s: the
    lag is a sawtooth between commits, still WARN within 2 minutes; the consumer then
    catches up at 300/s and reads OK again (never STALL)."""

    def position(t: float) -> float:
        if t < 120:
            return 100 * t
        if t < 400:
            return 100 * 120 + 80 * (t - 120)
        return min(100 * t, 100 * 120 + 80 * 280 + 300 * (t - 400))

    run = simulate(interval, 900, rate=100, position=position, commit_every=5)
    assert statuses([x for x in run if x[0] < 120]) == {Status.OK}
    warned = first_time(run, {Status.WARN})
    assert warned is not None and 120 < warned <= 240
    assert Status.STALL not in statuses(run) and Status.STOPPED not in statuses(run)
    caught_up = next(t for t, _, r in run if t > 400 and r.lag is not None and r.lag < 600)
    assert statuses(run, after=caught_up + 10) == {Status.OK}


@pytest.mark.parametrize("interval", INTERVALS)
def test_slow_but_keeping_pace_is_ok(interval: float) -> None:
    """A steady 10 s behind (staleness flat, not rising): OK."""
    run = simulate(interval, 600, rate=50, position=lambda t: 50 * (t - 10), commit_every=5)
    assert statuses(run) == {Status.OK}


# --- stuck ------------------------------------------------------------------------------


@pytest.mark.parametrize("interval", INTERVALS)
@pytest.mark.parametrize(("members", "expected"), [(1, Status.STALL), (0, Status.STOPPED)])
def test_stuck_consumer_is_detected_within_threshold_plus_two_intervals(
    interval: float, members: int, expected: Status
) -> None:
    """Commits every 5 s, stops consuming at t=200 (members stay, or leave)."""
    run = simulate(
        interval,
        400,
        rate=20,
        position=lambda t: 20 * min(t, 200),
        commit_every=5,
        members=lambda t: 1 if t < 200 else members,
    )
    assert statuses([x for x in run if x[0] < 200]) == {Status.OK}
    threshold = run[-1][1].threshold_s
    detected = first_time(run, {expected})
    assert detected is not None and detected <= 200 + threshold + 2 * interval
    assert statuses(run, after=detected) == {expected}


@pytest.mark.parametrize("interval", INTERVALS)
def test_sixty_second_committer_is_not_stuck_at_twenty_seconds(interval: float) -> None:
    """The threshold adapts to the cadence: a 60 s committer that stops is STALL only
    past 2 x 60 s, and a 5 s committer that stops is STALL after the floor."""
    slow = simulate(interval, 900, rate=20, position=lambda t: 20 * min(t, 600), commit_every=60)
    threshold = slow[-1][1].threshold_s
    # The cadence is measured from records pending to the commit: 60 s less one cycle.
    assert 2 * (60 - interval) <= threshold <= 120
    assert statuses([x for x in slow if x[0] < 600 + threshold]) == {Status.OK}
    assert first_time(slow, {Status.STALL}) <= 600 + threshold + 2 * interval
    assert slow[-1][1].status is Status.STALL


@pytest.mark.parametrize("interval", INTERVALS)
def test_future_timestamp_is_still_pending(interval: float) -> None:
    """Producer clock 1 h ahead: staleness clamps to 0 with clock_skew, but 3 records
    are pending and nobody consumes: STOPPED after the threshold, never IDLE."""
    run = simulate(
        interval,
        200,
        rate=lambda t: 3,
        position=lambda t: 0,
        members=lambda t: 0,
        skew_s=3600,
    )
    assert all(r.clock_skew for _, _, r in run)
    assert Status.IDLE not in statuses(run)
    assert run[-1][1].status is Status.STOPPED


def test_estimated_staleness_of_zero_is_not_caught_up() -> None:
    """An estimate bottoming out at 0 (or a first cycle with no read) with records
    pending is not IDLE."""
    p = params(1.0)
    h = History()
    for t in range(5):
        h, v = status.step(h, Reading(float(t), 10, 13, 3, 0.0, exact=False), p)
        assert v.status is Status.OK


def test_committed_past_the_log_end_is_flagged_never_ok() -> None:
    p = params(1.0)
    h, v = status.step(History(), Reading(0.0, 500, 10, 0, 0.0, members=0), p)
    assert v.status is Status.STOPPED and v.out_of_range
    h, v = status.step(h, Reading(1.0, 500, 10, 0, 0.0, members=2), p)
    assert v.status is Status.STALL and v.out_of_range


# --- rewind -----------------------------------------------------------------------------


@pytest.mark.parametrize("interval", INTERVALS)
def test_reset_to_earliest_is_rewind_until_back_then_ok(interval: float) -> None:
    """Caught up at 10,000; reset to 0 at t=100; replays 200 records/s for 50 s, long
    past the old 10-sample window: REWIND with replay_progress rising until it is back
    at 10,000, then OK while it catches up with the rest, never WARN/STALL."""

    def position(t: float) -> float:
        if t < 100:
            return 100 * t
        return min(100 * t, 100 * (t - 100) * 2)

    run = simulate(interval, 400, rate=100, position=position, commit_every=1)
    during = [(t, v) for t, v, _ in run if 100 + interval <= t < 150]
    assert {v.status for _, v in during} == {Status.REWIND}
    progress = [v.replay_progress for _, v in during]
    assert all(0 <= x <= 1 for x in progress)
    assert progress == sorted(progress) and progress[-1] > progress[0]
    assert statuses(run, after=150) == {Status.OK}
    assert all(v.replay_progress is None for t, v, _ in run if t >= 150)


def test_rewind_again_during_a_replay_keeps_the_highest_target() -> None:
    p = params(1.0)
    h = History()
    seq = [(0, 1000), (1, 1000), (2, 200), (3, 500), (4, 100), (5, 600)]
    got = []
    for t, c in seq:
        h, v = status.step(h, Reading(float(t), c, 1000, 1000 - c, 1.0), p)
        got.append((v.status, v.replay_progress))
    assert got[2] == (Status.REWIND, 0.0)
    assert got[3] == (Status.REWIND, pytest.approx(300 / 800))
    assert got[4] == (Status.REWIND, 0.0)
    assert got[5] == (Status.REWIND, pytest.approx(500 / 900))
    h, v = status.step(h, Reading(6.0, 1000, 1000, 0, 0.0), p)
    assert v.status is Status.IDLE and h.rewind_target is None


def test_a_stuck_replay_is_stall_not_rewind() -> None:
    p = params(1.0)
    h = History()
    h, _ = status.step(h, Reading(0.0, 1000, 1000, 0, 0.0), p)
    h, v = status.step(h, Reading(1.0, 0, 1000, 1000, 500.0), p)
    assert v.status is Status.REWIND
    for t in range(2, 200):
        h, v = status.step(h, Reading(float(t), 0, 1000, 1000, 500.0 + t), p)
    assert v.status is Status.STALL


def test_a_rewind_ends_when_caught_up_below_its_target() -> None:
    """Topic truncated under a replay: back at the (new) end is the end of the rewind."""
    p = params(1.0)
    h, _ = status.step(History(), Reading(0.0, 1000, 1000, 0, 0.0), p)
    h, v = status.step(h, Reading(1.0, 10, 50, 40, 5.0), p)
    assert v.status is Status.REWIND
    h, v = status.step(h, Reading(2.0, 50, 50, 0, 0.0), p)
    assert v.status is Status.OK and v.replay_progress is None


# --- transaction markers ----------------------------------------------------------------


def test_only_markers_left_is_idle() -> None:
    """The exact read found no data record after the commit: lag in events is 0."""
    p = params(1.0)
    h = History()
    for t in range(5):
        h, v = status.step(h, Reading(float(t), 99, 100, 0, 0.0), p)
    assert v.status is Status.IDLE


def test_idle_transactional_topic_without_record_reads_does_not_page() -> None:
    """read_records = false: a gap of 1 (one commit marker) the group committed after
    the last write reads OK, not STALL/STOPPED, however long it lasts."""
    p = params(1.0)
    h = History()
    for t in range(10):  # traffic: the group commits behind a moving log end
        h, _ = status.step(h, Reading(float(t), 10 * t, 10 * t + 1, 1, 0.5, exact=False), p)
    for t in range(11, 400):  # the last commit came after the last write
        h, v = status.step(h, Reading(float(t), 100, 101, 1, t - 100.0, exact=False, members=0), p)
        assert v.status is Status.OK


def test_one_pending_record_written_after_the_commit_still_pages_without_reads() -> None:
    p = params(1.0)
    h = History()
    h, _ = status.step(h, Reading(0.0, 100, 100, 0, 0.0, exact=False), p)
    h, _ = status.step(h, Reading(1.0, 100, 100, 0, 0.0, exact=False), p)
    for t in range(2, 200):  # a record arrives; nobody consumes it
        h, v = status.step(h, Reading(float(t), 100, 101, 1, t - 2.0, exact=False, members=0), p)
    assert v.status is Status.STOPPED


# --- edges ------------------------------------------------------------------------------


def test_unreadable_offsets_are_error_and_keep_the_history() -> None:
    p = params(1.0)
    h, _ = status.step(History(), Reading(0.0, 5, 10, 5, 1.0), p)
    h2, v = status.step(h, Reading(1.0, None, None, None, None), p)
    assert v.status is Status.ERROR and h2 == h


def test_single_observation_of_a_caught_up_partition_is_ok_then_idle() -> None:
    p = params(1.0)
    h, v = status.step(History(), Reading(0.0, 5, 5, 0, 0.0), p)
    assert v.status is Status.OK
    _, v = status.step(h, Reading(1.0, 5, 5, 0, 0.0), p)
    assert v.status is Status.IDLE


def test_caught_up_with_traffic_is_ok_until_quiet_for_the_window() -> None:
    p = params(1.0, window_s=60)
    h = History()
    for t in range(10):
        h, v = status.step(h, Reading(float(t), t, t, 0, 0.0), p)
    assert v.status is Status.OK
    for t in range(10, 80):
        h, v = status.step(h, Reading(float(t), 9, 9, 0, 0.0), p)
    assert v.status is Status.IDLE


def test_never_committed_partition_without_members_is_stopped_after_the_threshold() -> None:
    p = params(1.0)
    h = History()
    for t in range(0, 100):
        h, v = status.step(h, Reading(float(t), None, 10, 10, 5000.0 + t, members=0), p)
        if t <= p.threshold(None):
            assert v.status is Status.OK
    assert v.status is Status.STOPPED


def test_first_move_after_start_teaches_no_cadence() -> None:
    p = params(1.0)
    h = History()
    h, _ = status.step(h, Reading(0.0, 0, 10, 10, 1.0), p)
    h, _ = status.step(h, Reading(50.0, 10, 20, 10, 1.0), p)
    assert h.cadence_s is None
    h, _ = status.step(h, Reading(60.0, 20, 30, 10, 1.0), p)
    assert h.cadence_s == pytest.approx(10.0)


def test_a_recovery_from_a_real_stall_does_not_teach_a_long_cadence() -> None:
    p = params(1.0)
    h = History(cadence_s=5.0)
    h, _ = status.step(h, Reading(0.0, 0, 10, 10, 1.0), p)
    h, _ = status.step(h, Reading(1.0, 5, 10, 5, 1.0), p)
    h, _ = status.step(h, Reading(1000.0, 10, 20, 10, 1.0), p)  # stuck for 999 s
    assert h.cadence_s == pytest.approx(p.threshold(5.0 * p.cadence_decay))


def test_eta_and_rate_helpers() -> None:
    h = History(committed=300, previous=100, moved_at=12.0, previous_moved_at=10.0)
    assert status.commit_rate(h, 13.0) == pytest.approx(100.0)  # 200 offsets in 2 s
    assert status.commit_rate(h, 22.0) == pytest.approx(20.0)  # no move for 10 s since
    assert status.commit_rate(History(committed=5), 1.0) is None


@pytest.mark.parametrize(
    ("statuses_in", "expected"),
    [
        pytest.param([], Status.IDLE, id="empty"),
        pytest.param([Status.IDLE, Status.OK], Status.OK, id="ok-over-idle"),
        pytest.param([Status.REWIND, Status.WARN, Status.OK], Status.WARN, id="warn-over-rewind"),
        pytest.param([Status.STOPPED, Status.ERROR], Status.ERROR, id="error-over-all"),
        pytest.param(list(Status), Status.ERROR, id="every-status"),
    ],
)
def test_worst(statuses_in: list[Status], expected: Status) -> None:
    assert status.worst(statuses_in) is expected
    assert status.worst(iter(statuses_in)) is expected
