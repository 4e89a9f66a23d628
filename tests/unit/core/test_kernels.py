"""The column math equals the scalar specification (``lag``, ``status``, ``rollup``).

Random inputs from fixed seeds, drawn from small ranges so that the edge cases
(unknowns, zeros, equal values, decreases, future timestamps) occur often; plus the
tables of hand-picked edge cases the scalar tests use.
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from collectors.core import kernels, lag, rollup, status
from collectors.core.kernels import NONE, STATUS_OF_CODE, StatusInputs, StatusState
from collectors.core.model import PartitionKey, PartitionLag, StalenessMethod, Status
from collectors.core.status import History, Reading, StatusParams

SEEDS = range(20)


def _opt_int(rng: random.Random, low: int = 0, high: int = 12, none: float = 0.2) -> int | None:
    return None if rng.random() < none else rng.randint(low, high)


def _opt_float(rng: random.Random, low: float, high: float, none: float = 0.2) -> float | None:
    if rng.random() < none:
        return None
    # Whole numbers half of the time, so equalities (ts == now) happen.
    return float(rng.randint(int(low), int(high))) if rng.random() < 0.5 else rng.uniform(low, high)


def _ints(values: list[int | None]) -> np.ndarray:
    return np.array([NONE if v is None else v for v in values], dtype=np.int64)


def _floats(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _back(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


@pytest.mark.parametrize("seed", SEEDS)
def test_offset_lags_equal_the_scalar(seed: int) -> None:
    rng = random.Random(seed)
    rows = [(_opt_int(rng), _opt_int(rng), _opt_int(rng)) for _ in range(500)]
    starts, ends, commits = (list(c) for c in zip(*rows, strict=True))
    lags, no_commit, expired = kernels.offset_lags(_ints(starts), _ints(ends), _ints(commits))
    for i, (start, end, commit) in enumerate(rows):
        want = lag.offset_lag(start, end, commit)
        got = lag.OffsetLag(
            None if lags[i] == NONE else int(lags[i]), bool(no_commit[i]), bool(expired[i])
        )
        assert got == want, (start, end, commit)


@pytest.mark.parametrize("seed", SEEDS)
def test_staleness_and_ages_equal_the_scalar(seed: int) -> None:
    rng = random.Random(seed)
    now = 100.0
    lags = [_opt_int(rng, 0, 3) for _ in range(500)]
    stamps = [_opt_float(rng, 90, 110) for _ in range(500)]
    seconds, skew = kernels.exact_staleness(now, _ints(lags), _floats(stamps))
    ages, age_skew = kernels.ages(now, _floats(stamps))
    for i, (offset_lag, ts) in enumerate(zip(lags, stamps, strict=True)):
        want = lag.exact_staleness(now, offset_lag, ts)
        assert (_back(seconds[i]), bool(skew[i])) == (want.seconds, want.clock_skew)
        want_age = lag.data_age(now, ts)
        assert (_back(ages[i]), bool(age_skew[i])) == (want_age.seconds, want_age.clock_skew)


@pytest.mark.parametrize("seed", SEEDS)
def test_eta_equals_the_scalar(seed: int) -> None:
    rng = random.Random(seed)
    lags = [_opt_int(rng, 0, 50) for _ in range(500)]
    consume = [_opt_float(rng, 0, 10) for _ in range(500)]
    produce = [_opt_float(rng, 0, 10) for _ in range(500)]
    horizon = [rng.choice([0.0, 1.0, 5.0]) for _ in range(500)]
    got = kernels.eta(_ints(lags), _floats(consume), _floats(produce), _floats(horizon))
    for i in range(500):
        want = lag.eta(lags[i], consume[i], produce[i], horizon[i])
        assert _back(got[i]) == pytest.approx(want)


@pytest.mark.parametrize("seed", SEEDS)
def test_event_lags_equal_the_scalar(seed: int) -> None:
    rng = random.Random(seed)
    gaps = [_opt_int(rng, 0, 3) for _ in range(200)]
    markers = [rng.random() < 0.5 for _ in range(200)]
    got = kernels.event_lags(_ints(gaps), np.array(markers))
    for i in range(200):
        want = lag.event_lag(gaps[i], markers[i])
        assert (None if got[i] == NONE else int(got[i])) == want


def _assert_rates_match_the_scalar(
    times: list[float], values: list[list[int | None]], now: float, window: float
) -> None:
    """The kernel over the columns (one per time) equals ``lag.rate`` row by row."""
    points = [(t, _ints([v[j] for v in values])) for j, t in enumerate(times)]
    got = kernels.rates(points, len(values), now, window)
    for i, row in enumerate(values):
        scalar_points = [(t, v) for t, v in zip(times, row, strict=True) if v is not None]
        want = lag.rate(scalar_points, now, window)
        assert _back(got[i]) == pytest.approx(want), (times, row)


@pytest.mark.parametrize("seed", SEEDS)
def test_rates_equal_the_scalar(seed: int) -> None:
    rng = random.Random(seed)
    rows, columns = 300, rng.randint(1, 12)
    times = sorted(rng.uniform(0, 60) for _ in range(columns))
    if rng.random() < 0.5:  # repeated times give zero spans
        times[-1] = times[-2] if columns > 1 else times[-1]
    values = [[_opt_int(rng, 0, 20, none=0.3) for _ in range(columns)] for _ in range(rows)]
    now, window = 60.0, rng.choice([5.0, 20.0, 30.0, 100.0])
    _assert_rates_match_the_scalar(times, values, now, window)


@pytest.mark.parametrize("seed", SEEDS)
def test_rates_of_steady_rows_equal_the_scalar(seed: int) -> None:
    """Mostly rows whose offset never changes (the kernel's shortcut), beside rows that
    change once, rows with holes, rows never known, with the newest point inside or
    outside the window and repeated times."""
    rng = random.Random(seed)
    rows, columns = 200, rng.randint(1, 10)
    times = sorted(rng.uniform(0, 60) for _ in range(columns))
    if rng.random() < 0.3 and columns > 1:
        times[-1] = times[-2]
    values = []
    for _ in range(rows):
        kind, offset = rng.random(), rng.randint(0, 20)
        row: list[int | None] = [offset] * columns
        if kind < 0.1:
            row = [None] * columns
        elif kind < 0.2:
            row[rng.randrange(columns)] = None
        elif kind < 0.3:
            row[rng.randrange(columns)] = rng.randint(0, 20)
        values.append(row)
    now, window = rng.choice([60.0, 75.0]), rng.choice([5.0, 20.0, 100.0])
    _assert_rates_match_the_scalar(times, values, now, window)


def _random_readings(rng: random.Random, steps: int) -> list[Reading | None]:
    """One partition's readings at times 0, dt, 2*dt, ... (None: no reading that
    cycle): small moves so that stalls, rewinds, out-of-range commits, markers, skew,
    unknowns and steady rising staleness all occur."""
    commit, end, stale = rng.randint(0, 5), rng.randint(5, 9), rng.uniform(0, 5)
    rise = rng.choice([0.0, 0.0, 0.3, 1.0])
    members = rng.choice([0, 1, 2])
    out: list[Reading | None] = []
    for _ in range(steps):
        if rng.random() < 0.1:
            out.append(None)
            continue
        commit = max(0, commit + rng.choice([0, 0, 0, 1, 2, 3, -2, -6]))
        end = max(end, end + rng.choice([0, 0, 1, 3]))
        if rng.random() < 0.03:
            commit = end + 2  # past the log end
        stale = max(0.0, stale + rise * rng.uniform(0, 12) - rng.uniform(0, 3))
        known_commit = None if rng.random() < 0.05 else commit
        known_end = None if rng.random() < 0.03 else end
        if known_end is None:
            out.append(Reading(0.0, known_commit, None, None, None))
            continue
        gap = max(0, known_end - (known_commit or 0))
        exact = rng.random() < 0.8
        markers = exact and gap > 0 and rng.random() < 0.1
        events = 0 if markers else gap
        staleness = None if rng.random() < 0.1 else (0.0 if events == 0 else stale)
        skew = (events > 0 and staleness == 0.0) or (staleness is not None and rng.random() < 0.05)
        if rng.random() < 0.05:
            members = rng.choice([0, 1])
        out.append(
            Reading(
                0.0,
                known_commit,
                known_end,
                events,
                staleness,
                exact,
                bool(skew) and events > 0,
                None if rng.random() < 0.05 else members,
            )
        )
    return out


def _inputs(readings: list[Reading | None]) -> StatusInputs:
    def pick(r: Reading | None, field: str, unknown: object) -> object:
        value = None if r is None else getattr(r, field)
        return unknown if value is None else value

    return StatusInputs(
        committed=np.array([pick(r, "committed", NONE) for r in readings], dtype=np.int64),
        log_end=np.array([pick(r, "log_end", NONE) for r in readings], dtype=np.int64),
        lag=np.array([pick(r, "lag", NONE) for r in readings], dtype=np.int64),
        staleness_s=_floats([None if r is None else r.staleness_s for r in readings]),
        exact=np.array([r is not None and r.exact for r in readings]),
        clock_skew=np.array([r is not None and r.clock_skew for r in readings]),
        members=np.array([pick(r, "members", NONE) for r in readings], dtype=np.int64),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_step_status_equals_the_scalar(seed: int) -> None:
    """Many partitions, stepped together through random histories: every cycle's
    verdicts and staleness points, and the final histories, equal the spec's, row by
    row."""
    rng = random.Random(seed)
    dt = rng.choice([1.0, 5.0])
    params = StatusParams(
        window_s=rng.choice([20.0, 60.0]),
        stall_floor_s=rng.choice([5.0, 10.0]),
        interval_s=dt,
        warn_margin_s=rng.choice([1.0, 5.0]),
        warn_points=rng.choice([4, 8]),
    )
    rows, steps = 60, 60
    series = [_random_readings(rng, steps) for _ in range(rows)]
    state = StatusState.empty(rows, params.warn_points)
    histories = [History() for _ in range(rows)]
    seen = set()
    for k in range(steps):
        now = 1_700_000_000.0 + k * dt
        readings = [None if s[k] is None else dataclasses.replace(s[k], at=now) for s in series]
        unread = Reading(now, None, None, None, None)
        got = kernels.step_status(now, state, _inputs(readings), params)
        rates = kernels.commit_rates(state, now)
        for i, reading in enumerate(readings):
            histories[i], want = status.step(histories[i], reading or unread, params)
            context = (seed, i, k, reading, histories[i])
            assert STATUS_OF_CODE[got.status[i]] is want.status, context
            assert bool(got.out_of_range[i]) == want.out_of_range, context
            assert _back(got.replay_progress[i]) == pytest.approx(want.replay_progress), context
            assert got.threshold_s[i] == pytest.approx(want.threshold_s), context
            assert _back(rates[i]) == pytest.approx(status.commit_rate(histories[i], now))
            assert _points(state, i) == list(histories[i].points), context
            seen.add(want.status)
    for i, h in enumerate(histories):
        assert _back(state.cadence[i]) == pytest.approx(h.cadence_s)
    assert len(seen) >= 6, seen  # the random histories reach (nearly) every rule


def _points(state: StatusState, row: int) -> list[tuple[float, float]]:
    """The staleness-at-commit points of ``row`` as the spec holds them (no padding)."""
    return [
        (float(t), float(v))
        for t, v in zip(state.point_t[row], state.point_s[row], strict=True)
        if t == t
    ]


def test_step_status_table_cases() -> None:
    """One partition per rule, stepped through two cycles."""
    p = StatusParams(stall_floor_s=1.0, interval_s=1.0)
    cases = {
        Status.ERROR: [Reading(0, 1, 9, 8, 1.0), Reading(0, 1, None, None, None)],
        Status.STOPPED: [Reading(0, 50, 9, 0, 0.0, members=0)] * 2,
        Status.IDLE: [Reading(0, 9, 9, 0, 0.0)] * 2,
        Status.REWIND: [Reading(0, 5, 9, 4, 1.0), Reading(0, 2, 9, 7, 1.0)],
        Status.OK: [Reading(0, 8, 9, 1, 0.1), Reading(0, 9, 10, 1, 0.1)],
    }
    state = StatusState.empty(len(cases), p.warn_points)
    got = None
    for k in range(2):
        readings = [dataclasses.replace(v[k], at=float(k)) for v in cases.values()]
        got = kernels.step_status(float(k), state, _inputs(readings), p)
    assert [STATUS_OF_CODE[c] for c in got.status] == list(cases)


def _row(rng: random.Random, i: int) -> PartitionLag:
    offset_lag = _opt_int(rng, 0, 4)
    return PartitionLag(
        key=PartitionKey("c", "g", "t", i),
        observed_at=0.0,
        log_start=0,
        log_end=None if offset_lag is None else offset_lag,
        committed=0,
        offset_lag=offset_lag,
        no_commit=rng.random() < 0.2,
        events_expired=rng.random() < 0.2,
        staleness_s=_opt_float(rng, 0, 3),
        staleness_method=StalenessMethod.EXACT,
        data_age_s=_opt_float(rng, 0, 30),
        clock_skew=False,
        consume_rate=_opt_float(rng, 0, 5),
        produce_rate=_opt_float(rng, 0, 5),
        eta_s=_opt_float(rng, 0, 9, none=0.3),
        status=rng.choice(list(Status)),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_aggregate_equals_the_scalar(seed: int) -> None:
    rng = random.Random(seed)
    sizes = [rng.randint(1, 6) for _ in range(60)]
    rows = [_row(rng, i) for i in range(sum(sizes))]
    starts = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
    got = kernels.aggregate(
        starts,
        _ints([r.offset_lag for r in rows]),
        _floats([r.staleness_s for r in rows]),
        _floats([r.data_age_s for r in rows]),
        _floats([r.consume_rate for r in rows]),
        _floats([r.produce_rate for r in rows]),
        _floats([r.eta_s for r in rows]),
        np.array([kernels.CODE[r.status] for r in rows], dtype=np.int64),
        np.array([r.no_commit for r in rows]),
        np.array([r.events_expired for r in rows]),
    )
    for k, start in enumerate(starts.tolist()):
        want = rollup.aggregate(rows[start : start + sizes[k]])
        assert (None if got.offset_lag[k] == NONE else int(got.offset_lag[k])) == want.offset_lag
        assert _back(got.staleness_s[k]) == want.staleness_s
        assert _back(got.data_age_s[k]) == want.data_age_s
        assert _back(got.consume_rate[k]) == pytest.approx(want.consume_rate)
        assert _back(got.produce_rate[k]) == pytest.approx(want.produce_rate)
        assert _back(got.eta_s[k]) == want.eta_s
        assert STATUS_OF_CODE[got.status[k]] is want.status
        assert int(got.partitions[k]) == want.partitions
        assert int(got.no_commit_partitions[k]) == want.no_commit_partitions
        assert int(got.events_expired_partitions[k]) == want.events_expired_partitions


def test_choose_staleness() -> None:
    """Exact where timestamps are known, the estimate elsewhere, unknown where neither."""
    has_times = np.array([True, True, False, False])
    exact = np.array([1.0, 0.0, 9.0, 9.0])
    estimated = np.array([5.0, np.nan, 2.5, np.nan])
    staleness, method = kernels.choose_staleness(has_times, exact, estimated)
    assert staleness[:3].tolist() == [1.0, 0.0, 2.5]
    assert np.isnan(staleness[3])
    assert [kernels.METHODS[m] for m in method.tolist()] == [
        StalenessMethod.EXACT,
        StalenessMethod.EXACT,
        StalenessMethod.ESTIMATED,
        StalenessMethod.UNKNOWN,
    ]
