"""Pure lag math for one (group, topic, partition): offset lag, staleness, data age,
rates and ETA.

No I/O: ``now`` and every reading are arguments. This module is the *specification*
(one partition at a time, easy to read and to test by table); the cycle runs its column
twin in ``collectors.core.kernels``, which ``tests/unit/core/test_kernels.py`` checks
against these functions on random inputs. See the table in docs/architecture.md.

Offsets follow Kafka: ``log_end`` is the offset of the last record + 1, ``committed``
is the offset of the next record the group will read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from collectors.core.model import LogEndPoint


@dataclass(frozen=True, slots=True)
class OffsetLag:
    """How many offsets a group is behind on one partition.

    ``offset_lag`` is None only when ``log_end`` is unknown. ``no_commit``: the group
    never committed, the lag counts the whole retained log. ``events_expired``: the
    committed offset is below the log start, records were deleted before the group
    applied them.
    """

    offset_lag: int | None
    no_commit: bool
    events_expired: bool


@dataclass(frozen=True, slots=True)
class Age:
    """A duration up to ``now``. ``clock_skew``: the timestamp was in the future, so
    ``seconds`` was clamped to 0 (a producer's or broker's clock runs ahead of ours)."""

    seconds: float | None
    clock_skew: bool


# Shared results: most partitions are caught up on most cycles, and these are immutable.
_AGE_UNKNOWN = Age(None, False)
_AGE_ZERO = Age(0.0, False)
_AGE_SKEWED = Age(0.0, True)


def offset_lag(log_start: int | None, log_end: int | None, committed: int | None) -> OffsetLag:
    """``log_end - committed``, never negative.

    Edge cases:
    - no commit (``committed`` None): ``log_end - log_start`` with ``no_commit=True``,
      the upper bound of what the group will read; if ``log_start`` is unknown too, the
      log is assumed to start at 0 and the lag is ``log_end``. An empty partition
      (start == end) with no commit has lag 0, still ``no_commit=True``.
    - committed past the end (e.g. read from a log that was truncated): 0.
    - ``committed < log_start``: ``events_expired=True``; the lag stays
      ``log_end - committed`` (the deleted records are still unapplied).
    - ``log_end`` None: ``offset_lag`` None; the flags are still computed.
    """
    if committed is None:
        if log_end is None:
            return OffsetLag(None, True, False)
        start = 0 if log_start is None else log_start
        return OffsetLag(max(0, log_end - start), True, False)
    expired = log_start is not None and committed < log_start
    if log_end is None:
        return OffsetLag(None, False, expired)
    return OffsetLag(max(0, log_end - committed), False, expired)


def event_lag(offset_gap: int | None, markers_only: bool) -> int | None:
    """``offset_lag`` in events from the raw ``offset_gap`` (``log_end - committed``).

    ``markers_only``: an exact read of the log found no data record at or after the
    committed offset, so the gap is transaction control markers alone, which are not
    lag: 0. Otherwise the gap itself (an estimate can never tell markers apart, so
    without a read the gap stands). None stays None.
    """
    if offset_gap is None:
        return None
    return 0 if markers_only and offset_gap > 0 else offset_gap


def is_caught_up(offset_lag: int | None) -> bool:
    """Known to be caught up: the offset lag in events (``event_lag``) is 0. An
    estimated staleness, or a staleness clamped to 0 by clock skew, is never evidence."""
    return offset_lag == 0


def _age(now: float, ts: float) -> Age:
    seconds = now - ts
    if seconds < 0:
        return _AGE_SKEWED
    return Age(seconds, False)


def exact_staleness(now: float, offset_lag: int | None, first_unconsumed_ts: float | None) -> Age:
    """Time lag from the timestamp of the first unconsumed record: ``now - ts``.

    Edge cases:
    - ``offset_lag`` None (offsets unreadable): seconds None.
    - ``offset_lag`` 0: 0 (nothing to consume, whatever the timestamp).
    - lag > 0 but ``first_unconsumed_ts`` None: the reader found no data record at or
      after ``committed``, only transaction control markers remain: 0.
    - ``ts`` in the future: 0 with ``clock_skew=True``.
    """
    if offset_lag is None:
        return _AGE_UNKNOWN
    if offset_lag <= 0 or first_unconsumed_ts is None:
        return _AGE_ZERO
    return _age(now, first_unconsumed_ts)


def estimated_staleness(
    now: float,
    offset_lag: int | None,
    committed: int | None,
    history: Sequence[LogEndPoint],
) -> float | None:
    """Time lag interpolated from the history of ``log_end`` observations, oldest first.

    The record at offset ``committed`` was appended when ``log_end`` went from
    ``committed`` to ``committed + 1``. Between the last observation ``p`` with
    ``log_end <= committed`` and the next one ``q`` (``log_end > committed``), the log
    end is taken to grow linearly, so the record appeared at
    ``t = p.t + (committed + 1 - p.log_end) / (q.log_end - p.log_end) * (q.t - p.t)``
    and the result is ``now - t`` (never negative). When every point in the history is
    at or below ``committed``, the current reading ``(now, committed + offset_lag)`` is
    the ``q``. When the log end went down (topic recreated), the most recent crossing
    counts.

    Edge cases:
    - ``offset_lag`` None: None. ``offset_lag`` 0: 0.0 (even without history).
    - ``committed`` None (no commit): None, the group's start position is unknown
      (``auto.offset.reset``); pass ``log_start`` as ``committed`` to estimate from there.
    - empty history: None.
    - the record was already there at the first point (its ``log_end > committed``):
      ``now - first.observed_at``, a LOWER BOUND. This is what a replay far below the
      history gets, never an extrapolation to an absurd age before the history began.
    """
    if offset_lag is None:
        return None
    if offset_lag <= 0:
        return 0.0
    if committed is None or not history:
        return None
    # Scan from the newest point: the crossing is near the end when the lag is small.
    q_t, q_end = now, committed + offset_lag
    for i in range(len(history) - 1, -1, -1):
        p = history[i]
        if p.log_end <= committed:
            if q_t <= p.observed_at:  # no time passed between the two: the later one
                t_est = q_t
            else:
                fraction = (committed + 1 - p.log_end) / (q_end - p.log_end)
                t_est = p.observed_at + fraction * (q_t - p.observed_at)
            return max(0.0, now - t_est)
        q_t, q_end = p.observed_at, p.log_end
    return max(0.0, now - history[0].observed_at)


def data_age(now: float, last_consumed_ts: float | None) -> Age:
    """Age of the newest data in the read model: ``now - last_consumed_ts``.

    None when the timestamp is unknown (nothing consumed yet, or it was deleted); a
    future timestamp gives 0 with ``clock_skew=True``. On an idle topic this keeps
    growing while staleness stays 0.
    """
    if last_consumed_ts is None:
        return _AGE_UNKNOWN
    return _age(now, last_consumed_ts)


def rate(points: Sequence[tuple[float, int]], now: float, window_s: float) -> float | None:
    """Offsets per second over the last ``window_s`` seconds.

    ``points`` are ``(observed_at, offset)``, oldest first; only those with
    ``observed_at >= now - window_s`` count. If the offset went down at some step (a
    reset or replay), only the points from the last decrease on count, so a rewind
    never reads as a negative or huge rate.

    Returns None with fewer than 2 usable points or a zero time span; never negative.
    """
    if len(points) < 2:
        return None
    cutoff = now - window_s
    last_t, last_offset = points[-1]
    if last_t < cutoff:
        return None
    # Walk back while inside the window and the offset does not increase going back.
    first_t, first_offset = last_t, last_offset
    for i in range(len(points) - 2, -1, -1):
        t, offset = points[i]
        if t < cutoff or offset > first_offset:
            break
        first_t, first_offset = t, offset
    span = last_t - first_t
    if span <= 0:
        return None
    return (last_offset - first_offset) / span


def eta(
    offset_lag: int | None,
    consume_rate: float | None,
    produce_rate: float | None,
    horizon_s: float = 0.0,
) -> float | None:
    """Seconds until caught up: ``offset_lag / (consume_rate - produce_rate)``.

    ``offset_lag`` is in events (0 when only transaction markers are left). The rates
    should be *current* ones (the collector passes ``status.commit_rate`` and the log
    end's rate over a few seconds), so the ETA follows a change of pace at once and
    never carries an old value.

    Edge cases:
    - lag 0: 0.0 (caught up), whatever the rates.
    - lag or either rate unknown: None.
    - not catching up (``consume_rate <= produce_rate``): None.
    - a lag the group consumes within ``horizon_s`` (the collector passes
      ``max(interval_s, commit cadence)``: what is in flight between two cycles or two
      commits) is not reported: None. ``horizon_s`` 0 disables this.
    """
    if offset_lag == 0:
        return 0.0
    if offset_lag is None or consume_rate is None or produce_rate is None:
        return None
    net = consume_rate - produce_rate
    if net <= 0 or offset_lag <= consume_rate * horizon_s:
        return None
    return offset_lag / net
