"""The pure math of ``lag``, ``status`` and ``rollup``, over columns of many partitions.

A cycle over 100,000 group-partitions cannot afford a Python function call per value,
so the collector computes in NumPy columns. The scalar functions in ``lag``, ``status``
and ``rollup`` stay the specification: ``tests/unit/test_lag_columns.py`` checks these
against them on random data, edge cases included (``tests/unit/core/test_kernels.py``).

Unknown values: integer columns (offsets, lags) use ``NONE`` (-1; Kafka offsets are
never negative), float columns use NaN. No I/O, no clock: ``now`` is an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from collectors.core.model import SEVERITY, StalenessMethod, Status

NONE = -1

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

# Status codes are severities, so the worst status of a set is its maximum code.
CODE: dict[Status, int] = dict(SEVERITY)
STATUS_OF_CODE: tuple[Status, ...] = tuple(sorted(SEVERITY, key=SEVERITY.__getitem__))

# Staleness methods as column codes.
METHODS: tuple[StalenessMethod, ...] = (
    StalenessMethod.EXACT,
    StalenessMethod.ESTIMATED,
    StalenessMethod.UNKNOWN,
)
METHOD_CODE = {m: i for i, m in enumerate(METHODS)}
_ERROR, _STOPPED, _STALL, _WARN = (CODE[s] for s in ("ERROR", "STOPPED", "STALL", "WARN"))
_REWIND, _OK, _IDLE = CODE[Status.REWIND], CODE[Status.OK], CODE[Status.IDLE]


def offset_lags(log_start: Ints, log_end: Ints, committed: Ints) -> tuple[Ints, Bools, Bools]:
    """``lag.offset_lag`` per element: (offset_lag, no_commit, events_expired)."""
    no_commit = committed == NONE
    start = np.where(log_start == NONE, 0, log_start)
    base = np.where(no_commit, start, committed)
    lags = np.where(log_end == NONE, NONE, np.maximum(0, log_end - base))
    expired = ~no_commit & (log_start != NONE) & (committed < log_start)
    return lags, no_commit, expired


def caught_up(offset_lag: Ints, staleness_s: Floats) -> Bools:
    """``lag.is_caught_up`` per element (NaN staleness is not 0)."""
    return (offset_lag == 0) | (staleness_s == 0.0)


def ages(now: float, timestamps: Floats) -> tuple[Floats, Bools]:
    """``lag.data_age`` per element: (seconds, clock_skew); NaN stays NaN."""
    seconds = now - timestamps
    skew = seconds < 0  # False for NaN
    return np.where(skew, 0.0, seconds), skew


def exact_staleness(
    now: float, offset_lag: Ints, first_unconsumed_ts: Floats
) -> tuple[Floats, Bools]:
    """``lag.exact_staleness`` per element: (seconds, clock_skew)."""
    seconds, skew = ages(now, first_unconsumed_ts)
    nothing_left = (offset_lag <= 0) | np.isnan(first_unconsumed_ts)
    seconds = np.where(nothing_left, 0.0, seconds)
    skew &= ~nothing_left
    unknown = offset_lag == NONE
    return np.where(unknown, np.nan, seconds), skew & ~unknown


def choose_staleness(has_times: Bools, exact: Floats, estimated: Floats) -> tuple[Floats, Ints]:
    """The brief's rule for which staleness a row reports, and its method code.

    Exact (the first unconsumed record's timestamp was read for this committed offset)
    wins; otherwise the estimate interpolated from log-end history; UNKNOWN (NaN) where
    neither exists. Spec: ``lag.exact_staleness`` / ``lag.estimated_staleness``.
    """
    staleness = np.where(has_times, exact, estimated)
    method = np.where(
        has_times,
        METHOD_CODE[StalenessMethod.EXACT],
        np.where(
            np.isnan(estimated),
            METHOD_CODE[StalenessMethod.UNKNOWN],
            METHOD_CODE[StalenessMethod.ESTIMATED],
        ),
    ).astype(np.int64)
    return staleness, method


def eta(offset_lag: Ints, consume_rate: Floats, produce_rate: Floats) -> Floats:
    """``lag.eta`` per element (NaN where the scalar gives None)."""
    net = consume_rate - produce_rate
    catching_up = (offset_lag > 0) & (net > 0)  # False where a rate is NaN
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(catching_up, offset_lag / np.where(catching_up, net, 1.0), np.nan)
    return np.where(offset_lag == 0, 0.0, out)


def rates(points: Sequence[tuple[float, Ints]], rows: int, now: float, window_s: float) -> Floats:
    """``lag.rate`` per row of a point history.

    ``points`` are ``(observed_at, offsets)`` oldest first, one offset column per
    observation time, ``NONE`` where a row had no point then. Returns ``rows`` rates,
    NaN where the scalar gives None.
    """
    cutoff = now - window_s
    have_last = np.zeros(rows, dtype=bool)
    active = np.ones(rows, dtype=bool)
    last_v = np.zeros(rows, dtype=np.int64)
    first_v = np.zeros(rows, dtype=np.int64)
    last_t = np.full(rows, np.nan)
    first_t = np.full(rows, np.nan)
    for t, v in reversed(points):  # newest first, as the scalar walks back
        known = (v != NONE) & active
        newest = known & ~have_last
        last_v = np.where(newest, v, last_v)
        last_t = np.where(newest, t, last_t)
        first_v = np.where(newest, v, first_v)
        first_t = np.where(newest, t, first_t)
        have_last |= newest
        if t < cutoff:
            # The newest point itself is outside the window: no rate. Older points
            # end every walk that is still going.
            active &= ~known
            break
        older = known & ~newest
        stop = older & (v > first_v)
        active &= ~stop
        step = older & ~stop
        first_v = np.where(step, v, first_v)
        first_t = np.where(step, t, first_t)
    span = last_t - first_t
    usable = have_last & (last_t >= cutoff) & (span > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(usable, (last_v - first_v) / np.where(usable, span, 1.0), np.nan)


@dataclass(frozen=True, slots=True)
class Window:
    """Sliding windows of observations, one row per partition, oldest column first.

    ``count[i]`` observations are real: columns ``W - count[i]`` to ``W - 1`` of row
    ``i`` (older columns are padding). Offsets use ``NONE`` for unknown. Only the
    latest observation's staleness and members matter to the rules.
    """

    committed: Ints
    log_end: Ints
    offset_lag: Ints
    count: Ints
    latest_staleness_s: Floats
    latest_members: Ints


def evaluate(window: Window, min_observations: int = 3) -> Ints:
    """``status.evaluate`` per row, as status codes (see ``STATUS_OF_CODE``)."""
    width = window.committed.shape[1]
    count = window.count
    valid = np.arange(width)[None, :] >= (width - count)[:, None]
    committed, log_end, lags = window.committed, window.log_end, window.offset_lag
    latest_commit, latest_end, latest_lag = committed[:, -1], log_end[:, -1], lags[:, -1]

    # Rule 2: a known commit below the previous known one, skipping unknown ones.
    went_back = np.zeros(len(count), dtype=bool)
    previous = np.full(len(count), NONE, dtype=np.int64)
    for j in range(width):
        current = committed[:, j]
        known = valid[:, j] & (current != NONE)
        went_back |= known & (previous != NONE) & (current < previous)
        previous = np.where(known, current, previous)

    # Rule 3: caught up; IDLE when log_end never moved over at least 2 observations.
    up = caught_up(latest_lag, window.latest_staleness_s)
    same_end = np.all(~valid | (log_end == latest_end[:, None]), axis=1)
    idle = (count >= 2) & same_end

    # Rule 5: the commit never moved (unknown == unknown counts as unchanged).
    same_commit = np.all(~valid | (committed == latest_commit[:, None]), axis=1)
    nobody = window.latest_members == 0

    # Rule 6: the lag never went down, and it grew; an unknown lag anywhere is no evidence.
    first_col = width - count  # column of the oldest real observation
    rows = np.arange(len(count))
    first_lag = lags[rows, np.minimum(first_col, width - 1)]
    steps_ok = np.all(~valid[:, 1:] | ~valid[:, :-1] | (lags[:, 1:] >= lags[:, :-1]), axis=1)
    lag_known = np.all(~valid | (lags != NONE), axis=1)
    growing = steps_ok & lag_known & (latest_lag > first_lag)

    few = count < min_observations
    return np.select(
        [
            (count == 0) | (latest_lag == NONE),
            went_back,
            up & idle,
            up,
            few & nobody & (latest_commit == NONE),
            few,
            same_commit & nobody,
            same_commit,
            growing,
        ],
        [_ERROR, _REWIND, _IDLE, _OK, _STOPPED, _OK, _STOPPED, _STALL, _WARN],
        default=_OK,
    ).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Aggregates:
    """``rollup.aggregate`` per segment; NaN where the scalar gives None."""

    offset_lag: Ints
    staleness_s: Floats
    data_age_s: Floats
    consume_rate: Floats
    produce_rate: Floats
    eta_s: Floats
    status: Ints
    partitions: Ints
    no_commit_partitions: Ints
    events_expired_partitions: Ints


def aggregate(
    starts: Ints,
    offset_lag: Ints,
    staleness_s: Floats,
    data_age_s: Floats,
    consume_rate: Floats,
    produce_rate: Floats,
    eta_s: Floats,
    status: Ints,
    no_commit: Bools,
    events_expired: Bools,
) -> Aggregates:
    """Roll rows up per segment. Segment ``k`` is rows ``starts[k]`` up to the next
    start (or the end); ``starts`` is increasing and every segment has at least one row.
    """
    rows = len(offset_lag)
    lengths = np.diff(np.append(starts, rows))
    known_lag = offset_lag != NONE
    lagging = known_lag & ~caught_up(offset_lag, staleness_s)
    eta_unknown = lagging & np.isnan(eta_s)
    eta_max = np.maximum.reduceat(np.where(lagging & ~eta_unknown, eta_s, 0.0), starts)
    return Aggregates(
        offset_lag=np.add.reduceat(np.where(known_lag, offset_lag, 0), starts),
        staleness_s=_max_known(staleness_s, starts),
        data_age_s=_max_known(data_age_s, starts),
        consume_rate=_sum_known(consume_rate, starts),
        produce_rate=_sum_known(produce_rate, starts),
        eta_s=np.where(np.add.reduceat(eta_unknown, starts) > 0, np.nan, eta_max),
        status=np.maximum.reduceat(status, starts),
        partitions=lengths.astype(np.int64),
        no_commit_partitions=np.add.reduceat(no_commit.astype(np.int64), starts),
        events_expired_partitions=np.add.reduceat(events_expired.astype(np.int64), starts),
    )


def _max_known(values: Floats, starts: Ints) -> Floats:
    top = np.maximum.reduceat(np.where(np.isnan(values), -np.inf, values), starts)
    return np.where(np.isneginf(top), np.nan, top)


def _sum_known(values: Floats, starts: Ints) -> Floats:
    known = ~np.isnan(values)
    total = np.add.reduceat(np.where(known, values, 0.0), starts)
    return np.where(np.add.reduceat(known, starts) > 0, total, np.nan)
