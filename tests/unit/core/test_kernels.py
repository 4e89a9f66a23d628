"""The column math equals the scalar specification (``lag``, ``status``, ``rollup``).

Random inputs from fixed seeds, drawn from small ranges so that the edge cases
(unknowns, zeros, equal values, decreases, future timestamps) occur often; plus the
tables of hand-picked edge cases the scalar tests use.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from collectors.core import kernels, lag, rollup, status
from collectors.core.kernels import NONE, STATUS_OF_CODE, Window
from collectors.core.model import Observation, PartitionKey, PartitionLag, StalenessMethod, Status

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
    got = kernels.eta(_ints(lags), _floats(consume), _floats(produce))
    for i in range(500):
        assert _back(got[i]) == pytest.approx(lag.eta(lags[i], consume[i], produce[i]))


@pytest.mark.parametrize("seed", SEEDS)
def test_rates_equal_the_scalar(seed: int) -> None:
    rng = random.Random(seed)
    rows, columns = 300, rng.randint(1, 12)
    times = sorted(rng.uniform(0, 60) for _ in range(columns))
    if rng.random() < 0.5:  # repeated times give zero spans
        times[-1] = times[-2] if columns > 1 else times[-1]
    values = [[_opt_int(rng, 0, 20, none=0.3) for _ in range(columns)] for _ in range(rows)]
    now, window = 60.0, rng.choice([5.0, 20.0, 30.0, 100.0])
    points = [(t, _ints([v[j] for v in values])) for j, t in enumerate(times)]
    got = kernels.rates(points, rows, now, window)
    for i, row in enumerate(values):
        scalar_points = [(t, v) for t, v in zip(times, row, strict=True) if v is not None]
        want = lag.rate(scalar_points, now, window)
        assert _back(got[i]) == pytest.approx(want), (times, row)


def _random_window(rng: random.Random, width: int) -> list[Observation]:
    count = rng.randint(1, width)
    commit = rng.randint(0, 5)
    end = commit + rng.randint(0, 3)
    out = []
    for i in range(count):
        # Mostly small moves so that equal, growing and shrinking runs all occur.
        commit = max(0, commit + rng.choice([0, 0, 1, 2, -1]))
        end = max(commit, end + rng.choice([0, 0, 1, 3]))
        known_commit = None if rng.random() < 0.1 else commit
        known_end = None if rng.random() < 0.05 else end
        offset_lag = None if known_end is None else max(0, known_end - (known_commit or 0))
        staleness = rng.choice([0.0, 1.5, None]) if offset_lag else 0.0
        out.append(
            Observation(
                float(i), known_commit, known_end, offset_lag, staleness, rng.choice([0, 2])
            )
        )
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_evaluate_equals_the_scalar(seed: int) -> None:
    rng = random.Random(seed)
    width = rng.choice([2, 3, 5, 10])
    windows = [_random_window(rng, width) for _ in range(400)]
    got = kernels.evaluate(_columns(windows, width))
    for i, window in enumerate(windows):
        assert STATUS_OF_CODE[got[i]] is status.evaluate(window), window


def _columns(windows: list[list[Observation]], width: int) -> Window:
    def column(field: str) -> np.ndarray:
        padded = [[None] * (width - len(w)) + [getattr(o, field) for o in w] for w in windows]
        return np.array([[NONE if v is None else v for v in row] for row in padded])

    return Window(
        committed=column("committed"),
        log_end=column("log_end"),
        offset_lag=column("offset_lag"),
        count=np.array([len(w) for w in windows], dtype=np.int64),
        latest_staleness_s=_floats([w[-1].staleness_s for w in windows]),
        latest_members=np.array([w[-1].members for w in windows], dtype=np.int64),
    )


def test_evaluate_table_cases() -> None:
    """The named rules, one window each."""

    def obs(commit, end, members=1, staleness=None):
        offset_lag = None if end is None else max(0, end - (commit or 0))
        return Observation(0.0, commit, end, offset_lag, staleness, members)

    cases = {
        Status.ERROR: [obs(1, None)],
        Status.REWIND: [obs(5, 9), obs(2, 9), obs(3, 9)],
        Status.IDLE: [obs(9, 9), obs(9, 9)],
        Status.OK: [obs(8, 9), obs(9, 10)],
        Status.STOPPED: [obs(None, 5, members=0)],
        Status.STALL: [obs(3, 9), obs(3, 10), obs(3, 11)],
        Status.WARN: [obs(3, 9), obs(4, 11), obs(5, 14)],
    }
    windows = list(cases.values())
    got = kernels.evaluate(_columns(windows, 4))
    assert [STATUS_OF_CODE[c] for c in got] == list(cases)


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
        assert int(got.offset_lag[k]) == want.offset_lag
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
