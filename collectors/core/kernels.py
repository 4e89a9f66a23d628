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
from collectors.core.status import MARKER_GAP, StatusParams

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


def caught_up(offset_lag: Ints) -> Bools:
    """``lag.is_caught_up`` per element (``offset_lag`` in events)."""
    return offset_lag == 0


def event_lags(offset_gap: Ints, markers_only: Bools) -> Ints:
    """``lag.event_lag`` per element."""
    return np.where(markers_only & (offset_gap > 0), 0, offset_gap)


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


def eta(offset_lag: Ints, consume_rate: Floats, produce_rate: Floats, horizon_s: Floats) -> Floats:
    """``lag.eta`` per element (NaN where the scalar gives None)."""
    net = consume_rate - produce_rate
    # False where a rate is NaN; a lag consumed within the horizon is not reported.
    catching_up = (offset_lag > 0) & (net > 0) & (offset_lag > consume_rate * horizon_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(catching_up, offset_lag / np.where(catching_up, net, 1.0), np.nan)
    return np.where(offset_lag == 0, 0.0, out)


def rates(points: Sequence[tuple[float, Ints]], rows: int, now: float, window_s: float) -> Floats:
    """``lag.rate`` per row of a point history.

    ``points`` are ``(observed_at, offsets)`` oldest first, one offset column per
    observation time, ``NONE`` where a row had no point then. Returns ``rows`` rates,
    NaN where the scalar gives None.

    A *steady* row has the same offset at every point (a group that did not commit,
    a partition nobody wrote to, over the whole history: most rows of a big cluster
    in any cycle). Its rate does not depend on that offset: 0 or NaN by the times
    alone (NaN for a row with no point at all). So the walk runs over the other rows
    only (``rates_of_moving``), and the steady rows take the answer of a stand-in row
    with the same times.
    """
    if not points:
        return _rates(points, rows, now, window_s)
    base = points[-1][1]
    varied = np.zeros(rows, dtype=bool)
    for _, v in points[:-1]:
        varied |= v != base
    moving = np.flatnonzero(varied)
    return rates_of_moving(
        [t for t, _ in points], base, moving, [v[moving] for _, v in points], now, window_s
    )


def rates_of_moving(
    times: Sequence[float],
    base: Ints,
    moving: Ints,
    moving_points: Sequence[Ints],
    now: float,
    window_s: float,
) -> Floats:
    """``rates`` of a history given as its newest column ``base``, the rows ``moving``
    whose value is not the same at every point, and their values at each of ``times``
    (oldest first). Every other row has its ``base`` value at every point. What a
    history stored as changes (``change_ring``) hands over without building the
    other rows' columns."""
    if not len(times):
        return _rates([], len(base), now, window_s)
    stand_in = _rates([(t, _STAND_IN) for t in times], len(_STAND_IN), now, window_s)
    out = np.where(base != NONE, stand_in[0], stand_in[1])
    if len(moving):
        out[moving] = _rates(
            list(zip(times, moving_points, strict=True)), len(moving), now, window_s
        )
    return out


_STAND_IN = np.array([0, NONE], dtype=np.int64)  # a steady known row, a row never known


def _rates(points: Sequence[tuple[float, Ints]], rows: int, now: float, window_s: float) -> Floats:
    """``rates`` by walking every row back through the points."""
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


@dataclass(slots=True, eq=False)
class StatusState:
    """``status.History`` of every slot as columns (NaN / ``NONE`` for None); the
    staleness-at-commit points are ``(rows, warn_points)`` with the newest last and
    NaN padding on the left. Fixed size per slot, whatever the window."""

    first_seen: Floats
    last_seen: Floats
    committed: Ints
    moved_at: Floats
    previous: Ints
    previous_moved_at: Floats
    pending_since: Floats
    cadence: Floats
    log_end: Ints
    end_moved_at: Floats
    rewind_target: Ints
    rewind_origin: Ints
    point_t: Floats
    point_s: Floats

    FLOATS = (
        "first_seen",
        "last_seen",
        "moved_at",
        "previous_moved_at",
        "pending_since",
        "cadence",
        "end_moved_at",
    )
    INTS = ("committed", "previous", "log_end", "rewind_target", "rewind_origin")

    @classmethod
    def empty(cls, rows: int, points: int) -> StatusState:
        values: dict[str, np.ndarray] = {
            **{name: np.full(rows, np.nan) for name in cls.FLOATS},
            **{name: np.full(rows, NONE, dtype=np.int64) for name in cls.INTS},
        }
        return cls(
            **values,
            point_t=np.full((rows, points), np.nan),
            point_s=np.full((rows, points), np.nan),
        )

    def moved(self, src: Ints, dst: Ints, rows: int) -> StatusState:
        """A copy with ``rows`` rows: row ``dst[i]`` from row ``src[i]``, others empty."""
        out = StatusState.empty(rows, self.point_t.shape[1])
        for name in (*self.FLOATS, *self.INTS, "point_t", "point_s"):
            getattr(out, name)[dst] = getattr(self, name)[src]
        return out


@dataclass(frozen=True, slots=True)
class StatusInputs:
    """One cycle's ``status.Reading`` per slot (``lag`` in events; ``members`` NONE
    when unknown)."""

    committed: Ints
    log_end: Ints
    lag: Ints
    staleness_s: Floats
    exact: Bools
    clock_skew: Bools
    members: Ints


@dataclass(frozen=True, slots=True)
class StatusOutputs:
    status: Ints
    out_of_range: Bools
    replay_progress: Floats
    threshold_s: Floats


def _threshold(cadence: Floats, p: StatusParams) -> Floats:
    cad = np.where(np.isnan(cadence), p.stall_floor_s, cadence)
    return np.minimum(p.stall_ceiling_s, np.maximum(p.stall_floor_s, p.cadence_factor * cad))


def step_status(now: float, s: StatusState, x: StatusInputs, p: StatusParams) -> StatusOutputs:
    """``status.step`` per slot, at one time ``now``: updates ``s`` in place (rows
    with an unknown lag or log end keep their history) and returns the verdicts."""
    at = now
    err = (x.lag == NONE) | (x.log_end == NONE)
    ok = ~err
    c, lag = x.committed, x.lag
    seen = ~np.isnan(s.last_seen)
    first_seen = np.where(np.isnan(s.first_seen), at, s.first_seen)
    end_moved_at = np.where(
        seen & (s.log_end != NONE) & (x.log_end != s.log_end), at, s.end_moved_at
    )

    prior = s.committed
    moved = seen & (c != prior)
    forward = moved & (c != NONE) & ((prior == NONE) | (c > prior))
    went_back = moved & (c != NONE) & (prior != NONE) & (c < prior)
    # A cadence sample at each forward move (computed on those rows only: few per cycle).
    sampled = np.flatnonzero(forward & ~np.isnan(s.moved_at))
    cadence = s.cadence.copy()
    if len(sampled):
        old = s.cadence[sampled]
        pending_from = s.pending_since[sampled]
        start = np.maximum(
            s.moved_at[sampled],
            np.where(np.isnan(pending_from), s.last_seen[sampled], pending_from),
        )
        sample = np.minimum(at - start, _threshold(old, p))
        cadence[sampled] = np.where(
            np.isnan(old), sample, np.maximum(sample, old * p.cadence_decay)
        )
    threshold = _threshold(cadence, p)
    moved_at = np.where(moved, at, s.moved_at)
    previous = np.where(moved, prior, s.previous)
    previous_moved_at = np.where(moved, s.moved_at, s.previous_moved_at)

    # Rewinds start and end on few rows: changed where they do, not by whole-column passes.
    target, origin = s.rewind_target.copy(), s.rewind_origin.copy()
    back = np.flatnonzero(went_back)
    was = target[back]
    target[back] = np.where(was == NONE, prior[back], np.maximum(was, prior[back]))
    origin[back] = c[back]
    clear = went_back.copy()
    open_ = np.flatnonzero(target != NONE)
    c_open = c[open_]
    ended = open_[(c_open != NONE) & ((c_open >= target[open_]) | (lag[open_] == 0))]
    target[ended] = NONE
    origin[ended] = NONE
    clear[ended] = True

    pending = lag > 0
    pending_since = np.where(
        pending, np.where(moved | np.isnan(s.pending_since), at, s.pending_since), np.nan
    )
    known = ~np.isnan(x.staleness_s) & ~x.clock_skew

    # Points: cleared by a rewind's start or end, appended on forward moves. Only
    # usable rows keep the change, so it is made in place on just the rows it touches
    # (a rewind's, a forward move's): the (rows, warn_points) arrays are the costly
    # part of this kernel, and a cycle changes few rows. An unusable row that would
    # have been cleared keeps its old points here; ``behind`` differs only on such
    # rows, and their verdict is ERROR whatever ``behind`` says.
    point_t, point_s = s.point_t, s.point_s
    wipe = np.flatnonzero(clear & ok)
    point_t[wipe] = np.nan
    point_s[wipe] = np.nan
    last_t = point_t[:, -1]
    spaced = np.isnan(last_t) | (at - last_t >= p.window_s / p.warn_points)
    append = np.flatnonzero(ok & forward & known & (target == NONE) & spaced)
    if len(append):
        point_t[append, :-1] = point_t[append, 1:]
        point_s[append, :-1] = point_s[append, 1:]
        point_t[append, -1] = at
        point_s[append, -1] = x.staleness_s[append]

    # Verdicts.
    nobody = x.members == 0
    stuck = np.where(nobody, _STOPPED, _STALL)
    oor = ok & (c != NONE) & (c > x.log_end)
    quiet = np.isnan(end_moved_at) | (end_moved_at < at - p.window_s)
    marker = (
        ~x.exact
        & (lag == MARKER_GAP)
        & ~np.isnan(moved_at)
        & (np.isnan(end_moved_at) | (end_moved_at <= moved_at))
    )
    waited = np.where(known, x.staleness_s, at - pending_since)
    still_for = at - np.where(np.isnan(moved_at), first_seen, moved_at)
    stalled = (waited > threshold) & (still_for > threshold)
    rewinding = (target != NONE) & (origin != NONE) & (c != NONE)
    behind = known & _falling_behind(point_t, point_s, at, x.staleness_s, cadence, p)
    status = np.select(
        [err, oor, ~pending & seen & quiet, ~pending, marker, stalled, rewinding, behind],
        [_ERROR, stuck, _IDLE, _OK, _OK, stuck, _REWIND, _WARN],
        default=_OK,
    ).astype(np.int64)
    replay = np.full(len(lag), np.nan)
    # Progress only where it is shown: a replay is rare, the division costs a pass.
    replaying = np.flatnonzero(ok & ~oor & pending & ~marker & ~stalled & rewinding)
    replay[replaying] = _progress(c[replaying], origin[replaying], target[replaying])

    # Write the new history back where the reading was usable (the points already are).
    every = bool(ok.all())
    for name, value in (
        ("first_seen", first_seen),
        ("last_seen", np.full(len(lag), at)),
        ("committed", c),
        ("moved_at", moved_at),
        ("previous", previous),
        ("previous_moved_at", previous_moved_at),
        ("pending_since", pending_since),
        ("cadence", cadence),
        ("log_end", x.log_end),
        ("end_moved_at", end_moved_at),
        ("rewind_target", target),
        ("rewind_origin", origin),
    ):
        column = getattr(s, name)
        if every:
            np.copyto(column, value)
        else:
            column[ok] = value[ok]
    return StatusOutputs(
        status=status,
        out_of_range=oor,
        replay_progress=replay,
        # With every row usable, s.cadence is now ``cadence``: its threshold is known.
        threshold_s=threshold if every else _threshold(s.cadence, p),
    )


def _progress(c: Ints, origin: Ints, target: Ints) -> Floats:
    """How far a replay got from ``origin`` back to ``target``, in [0, 1]; 1 when the
    target is not above the origin."""
    with np.errstate(divide="ignore", invalid="ignore"):
        progress = np.where(
            target <= origin, 1.0, (c - origin) / np.where(target > origin, target - origin, 1)
        )
    return np.clip(progress, 0.0, 1.0)


def _falling_behind(
    point_t: Floats, point_s: Floats, at: float, current: Floats, cadence: Floats, p: StatusParams
) -> Bools:
    """``status.falling_behind`` per row."""
    window = np.where(np.isnan(cadence), p.window_s, np.maximum(p.window_s, 3.0 * cadence))
    inside = point_t >= (at - window)[:, None]  # False where NaN (no point)
    # Summed a point column at a time: 4x faster than count_nonzero(axis=1) at 100,000
    # rows (a reduction along the short axis is slow); the smallest type that holds
    # warn_points keeps each pass short.
    n = np.zeros(len(point_t), dtype=np.min_scalar_type(point_t.shape[1]))
    for column in inside.T:
        n += column
    candidates = np.flatnonzero(n >= 3)
    out = np.zeros(len(n), dtype=bool)
    if not len(candidates):
        return out
    mask = inside[candidates]
    t = np.where(mask, point_t[candidates], 0.0)
    v = np.where(mask, point_s[candidates], 0.0)
    k = n[candidates]
    span = np.where(mask, t, -np.inf).max(axis=1) - np.where(mask, t, np.inf).min(axis=1)
    mean_t = t.sum(axis=1) / k
    mean_s = v.sum(axis=1) / k
    dt = np.where(mask, t - mean_t[:, None], 0.0)
    ds = np.where(mask, v - mean_s[:, None], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (dt * ds).sum(axis=1) / (dt * dt).sum(axis=1)
    noise = p.noise_s
    out[candidates] = (
        (span >= window[candidates] / 2)
        & (slope >= p.warn_slope)
        & (slope * span >= noise)
        & (current[candidates] >= noise)
    )
    return out


def commit_rates(s: StatusState, now: float) -> Floats:
    """``status.commit_rate`` per slot (after ``step_status``)."""
    valid = (
        (s.committed != NONE)
        & (s.previous != NONE)
        & ~np.isnan(s.moved_at)
        & ~np.isnan(s.previous_moved_at)
        & (s.committed >= s.previous)
    )
    span = np.maximum(s.moved_at - s.previous_moved_at, now - s.moved_at)
    usable = valid & (span > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(usable, (s.committed - s.previous) / np.where(usable, span, 1.0), np.nan)


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
    lagging = known_lag & ~caught_up(offset_lag)
    eta_unknown = lagging & np.isnan(eta_s)
    eta_max = np.maximum.reduceat(np.where(lagging & ~eta_unknown, eta_s, 0.0), starts)
    return Aggregates(
        offset_lag=np.where(
            np.add.reduceat(known_lag, starts) > 0,
            np.add.reduceat(np.where(known_lag, offset_lag, 0), starts),
            NONE,
        ),
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
