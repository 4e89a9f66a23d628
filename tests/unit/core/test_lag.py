"""Table-driven tests of the pure lag math; every expected value is computed by hand."""

from __future__ import annotations

import pytest

from collectors.core import lag
from collectors.core.lag import Age, OffsetLag
from collectors.core.model import LogEndPoint

NOW = 1000.0


@pytest.mark.parametrize(
    ("log_start", "log_end", "committed", "expected"),
    [
        pytest.param(0, 100, 40, OffsetLag(60, False, False), id="normal"),
        pytest.param(0, 100, 100, OffsetLag(0, False, False), id="caught-up"),
        pytest.param(None, 100, 40, OffsetLag(60, False, False), id="log-start-unknown"),
        pytest.param(10, 100, None, OffsetLag(90, True, False), id="no-commit"),
        pytest.param(None, 100, None, OffsetLag(100, True, False), id="no-commit-no-start"),
        pytest.param(50, 50, None, OffsetLag(0, True, False), id="empty-partition-no-commit"),
        pytest.param(50, 50, 50, OffsetLag(0, False, False), id="empty-partition-committed"),
        pytest.param(0, 100, 120, OffsetLag(0, False, False), id="committed-past-end"),
        pytest.param(50, 100, 20, OffsetLag(80, False, True), id="committed-below-start"),
        pytest.param(50, 100, 50, OffsetLag(50, False, False), id="committed-at-start"),
        pytest.param(None, None, 20, OffsetLag(None, False, False), id="log-end-unknown"),
        pytest.param(50, None, 20, OffsetLag(None, False, True), id="log-end-unknown-expired"),
        pytest.param(None, None, None, OffsetLag(None, True, False), id="nothing-known"),
        pytest.param(100, 90, None, OffsetLag(0, True, False), id="start-after-end-clamped"),
    ],
)
def test_offset_lag(
    log_start: int | None, log_end: int | None, committed: int | None, expected: OffsetLag
) -> None:
    assert lag.offset_lag(log_start, log_end, committed) == expected


@pytest.mark.parametrize(
    ("offset_lag", "expected"),
    [
        pytest.param(0, True, id="lag-zero"),
        pytest.param(3, False, id="lagging"),
        pytest.param(None, False, id="unknown"),
    ],
)
def test_is_caught_up(offset_lag: int | None, expected: bool) -> None:
    """Only a lag of 0 in events is caught up: a staleness of 0 from an estimate or
    from clock skew is no evidence."""
    assert lag.is_caught_up(offset_lag) is expected


@pytest.mark.parametrize(
    ("gap", "markers_only", "expected"),
    [
        pytest.param(4, True, 0, id="markers-only-are-not-lag"),
        pytest.param(4, False, 4, id="records-pending"),
        pytest.param(0, True, 0, id="nothing-left"),
        pytest.param(None, True, None, id="unknown"),
    ],
)
def test_event_lag(gap: int | None, markers_only: bool, expected: int | None) -> None:
    assert lag.event_lag(gap, markers_only) == expected


@pytest.mark.parametrize(
    ("offset_lag", "first_unconsumed_ts", "expected"),
    [
        pytest.param(None, 990.0, Age(None, False), id="lag-unknown"),
        pytest.param(0, 900.0, Age(0.0, False), id="caught-up-ignores-ts"),
        pytest.param(0, None, Age(0.0, False), id="caught-up-no-ts"),
        pytest.param(5, 990.0, Age(10.0, False), id="lagging"),
        pytest.param(5, 1000.0, Age(0.0, False), id="ts-equals-now"),
        pytest.param(3, None, Age(0.0, False), id="transaction-markers-at-tail"),
        pytest.param(5, 1002.5, Age(0.0, True), id="future-ts-clamped-skew"),
    ],
)
def test_exact_staleness(
    offset_lag: int | None, first_unconsumed_ts: float | None, expected: Age
) -> None:
    assert lag.exact_staleness(NOW, offset_lag, first_unconsumed_ts) == expected


def _history(*points: tuple[float, int]) -> list[LogEndPoint]:
    return [LogEndPoint(t, end) for t, end in points]


# log_end 100 at t=10, 110 at t=20, 130 at t=30 and t=40 (no traffic in between).
HISTORY = _history((10.0, 100), (20.0, 110), (30.0, 130), (40.0, 130))


@pytest.mark.parametrize(
    ("now", "offset_lag", "committed", "history", "expected"),
    [
        # p=(20,110) q=(30,130): t = 20 + (111-110)/20 * 10 = 20.5
        pytest.param(100.0, 20, 110, HISTORY, 79.5, id="interpolate-at-interval-start"),
        # p=(10,100) q=(20,110): t = 10 + (106-100)/10 * 10 = 16
        pytest.param(100.0, 25, 105, HISTORY, 84.0, id="interpolate-mid-interval"),
        # p=(20,110) q=(30,130): t = 20 + 20/20 * 10 = 30
        pytest.param(100.0, 1, 129, HISTORY, 70.0, id="interpolate-interval-end"),
        # p=(10,100) q=(20,110): t = 10 + 1/10 * 10 = 11
        pytest.param(100.0, 30, 100, HISTORY, 89.0, id="committed-equals-first-end"),
        # every point is past offset 50: lower bound now - first.observed_at
        pytest.param(100.0, 80, 50, HISTORY, 90.0, id="replay-far-below-lower-bound"),
        pytest.param(100.0, 30, 99, HISTORY, 90.0, id="just-before-history-lower-bound"),
        # all points <= 130, current reading (100, 135) is q: t = 40 + (131-130)/5 * 60 = 52
        pytest.param(100.0, 5, 130, HISTORY, 48.0, id="appended-after-last-point"),
        # log_end went 500 -> 5 (recreated): p=(20,5) q=(30,15): t = 20 + (11-5)/10 * 10 = 26
        pytest.param(
            100.0,
            10,
            10,
            _history((10.0, 500), (20.0, 5), (30.0, 15)),
            74.0,
            id="log-end-went-down-latest-crossing",
        ),
        # the only point is at now and below committed: the record is brand new
        pytest.param(100.0, 2, 50, _history((100.0, 50)), 0.0, id="point-at-now"),
        pytest.param(100.0, 0, 130, HISTORY, 0.0, id="lag-zero"),
        pytest.param(100.0, 0, 130, [], 0.0, id="lag-zero-no-history"),
        pytest.param(100.0, None, 110, HISTORY, None, id="lag-unknown"),
        pytest.param(100.0, 10, None, HISTORY, None, id="no-commit"),
        pytest.param(100.0, 5, 110, [], None, id="no-history"),
    ],
)
def test_estimated_staleness(
    now: float,
    offset_lag: int | None,
    committed: int | None,
    history: list[LogEndPoint],
    expected: float | None,
) -> None:
    result = lag.estimated_staleness(now, offset_lag, committed, history)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


@pytest.mark.parametrize(
    ("last_consumed_ts", "expected"),
    [
        pytest.param(None, Age(None, False), id="unknown"),
        pytest.param(400.0, Age(600.0, False), id="idle-topic-age-grows"),
        pytest.param(1000.0, Age(0.0, False), id="just-consumed"),
        pytest.param(1001.0, Age(0.0, True), id="future-ts-clamped-skew"),
    ],
)
def test_data_age(last_consumed_ts: float | None, expected: Age) -> None:
    assert lag.data_age(NOW, last_consumed_ts) == expected


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        pytest.param([(90.0, 0), (95.0, 50), (100.0, 100)], 10.0, id="steady"),
        pytest.param([(80.0, 0), (90.0, 100), (100.0, 150)], 5.0, id="old-points-dropped"),
        pytest.param([(90.0, 7), (100.0, 7)], 0.0, id="flat"),
        pytest.param([(91.0, 100), (94.0, 130), (97.0, 10), (100.0, 40)], 10.0, id="reset"),
        pytest.param(
            [(91.0, 100), (92.0, 0), (94.0, 130), (97.0, 10), (100.0, 40)],
            10.0,
            id="two-resets-last-wins",
        ),
        pytest.param([(91.0, 100), (94.0, 130), (100.0, 10)], None, id="reset-on-last-step"),
        pytest.param([(100.0, 5)], None, id="one-point"),
        pytest.param([], None, id="no-points"),
        pytest.param([(50.0, 0), (60.0, 10)], None, id="all-outside-window"),
        pytest.param([(80.0, 0), (95.0, 10)], None, id="one-point-in-window"),
        pytest.param([(100.0, 5), (100.0, 9)], None, id="zero-time-span"),
    ],
)
def test_rate(points: list[tuple[float, int]], expected: float | None) -> None:
    result = lag.rate(points, now=100.0, window_s=10.0)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


@pytest.mark.parametrize(
    ("offset_lag", "consume_rate", "produce_rate", "expected"),
    [
        pytest.param(5, 10.0, 1.0, None, id="consumed-within-the-horizon-not-reported"),
        pytest.param(50, 10.0, 1.0, 50 / 9, id="beyond-the-horizon"),
        pytest.param(0, None, None, 0.0, id="caught-up-rates-unknown"),
        pytest.param(0, 1.0, 5.0, 0.0, id="caught-up-falling-behind"),
        pytest.param(100, 30.0, 10.0, 5.0, id="catching-up"),
        pytest.param(1, 0.1, 0.0, 10.0, id="no-producers"),
        pytest.param(100, 10.0, 10.0, None, id="keeping-pace-not-catching-up"),
        pytest.param(100, 5.0, 10.0, None, id="falling-behind"),
        pytest.param(None, 30.0, 10.0, None, id="lag-unknown"),
        pytest.param(100, None, 10.0, None, id="consume-rate-unknown"),
        pytest.param(100, 30.0, None, None, id="produce-rate-unknown"),
    ],
)
def test_eta(
    offset_lag: int | None,
    consume_rate: float | None,
    produce_rate: float | None,
    expected: float | None,
) -> None:
    result = lag.eta(offset_lag, consume_rate, produce_rate, horizon_s=1.0)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)
