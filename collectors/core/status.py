"""Status of one partition, decided in time: the *specification*.

The cycle runs ``kernels.step_status``, its column twin, which
``tests/unit/core/test_kernels.py`` checks against ``step`` here on random histories
(docs/architecture.md). One partition at a time: ``step(history, reading, params)``
takes what the previous cycles left (a compact ``History``, bounded in size whatever
the window) and this cycle's ``Reading``, and returns the new history and a
``Verdict``. Nothing depends on how often we sample or how often the group commits,
up to the timing resolution (``interval_s``).

Rules, first match wins (``lag`` is the offset lag in events: 0 when only transaction
markers are left, which only an exact read of the log can tell):

1. ``lag`` unknown: ERROR (offsets unreadable). The history is left as it was.
2. committed offset past the log end (``offset_out_of_range``: the topic was recreated
   or truncated): STOPPED with no members, else STALL. Never OK, whatever the lag.
3. caught up (``lag == 0``): IDLE when the log end has not moved within the window
   (and the partition was seen before), else OK. An estimated staleness is never
   evidence of being caught up; a rewind in progress ends here (nothing left).
4. ``read_records = false`` cannot tell a transaction marker from a record. A lag of
   exactly 1 (one commit marker, what a caught-up transactional consumer leaves) that
   the group committed *after* the log end last moved reads OK, not STALL/STOPPED: the
   group had everything it could read. Trade-off: a consumer that dies with exactly one
   real record left after its last commit is not paged until that changes (a new write
   moves the log end and the rule no longer applies).
5. STALL / STOPPED — evidence of waiting: records are pending, the oldest pending one
   has waited longer than the stall threshold, and the committed offset has not moved
   for that long (since the collector first saw the partition, if it never saw it
   move; the cycle may date that first sight back to the commit record that set the
   offset, ``core/commit_evidence.py``). The wait is the staleness (exact or
   estimated); when the staleness is unknown or clock-skewed (a future timestamp:
   staleness clamps to 0, but the records are still pending) the wait is the time
   since records were first seen pending at this committed offset. STOPPED with no
   members (0), STALL otherwise (unknown member count counts as present).
6. REWIND: the committed offset went below what it was; it lasts until the group is
   back at the offset it had before the rewind (the highest one, if it rewound again
   meanwhile) or caught up. ``replay_progress`` is ``(committed - origin) /
   (target - origin)`` in [0, 1]. A stuck replay is STALL/STOPPED (rule 5).
7. WARN — falling behind: over the window, the staleness at successive commits rises.
   Points ``(time, staleness)`` are kept when the committed offset moves forward
   (never between commits, so the sawtooth of a periodic committer is not growth),
   at most ``warn_points``, spaced at least ``window_s / warn_points`` apart. Judged
   robustly over the whole window (``max(window_s, 3 * cadence)``): at least 3 points
   spanning half of it, least-squares slope >= ``warn_slope`` (the position in event
   time advances more slowly than the clock by that fraction), the fitted rise
   ``slope * span`` and the current staleness both >= the noise margin
   ``max(warn_margin_s, 2 * interval_s)``. A rewind clears the points (a replay's
   staleness says nothing about live lag), and so does its end.
8. otherwise OK.

The stall threshold adapts to the group's own commit cadence:
``clamp(cadence_factor * cadence, stall_floor_s, stall_ceiling_s)``, with the cadence
taken as ``stall_floor_s`` until learned. A cadence sample is the time from records
being pending (or from the previous commit move, whichever is later; the previous
observation when nothing was pending) to the next forward move of the committed
offset, clipped to the threshold in force (a recovery from a real stall does not teach
a 10-minute cadence); the cadence is a decaying maximum of its samples
(``max(sample, cadence * cadence_decay)``), so a group committing every 60 s is not
stuck at 20 s, and a group that commits faster lowers it again. No sample is taken
before a move was seen (the first move after the collector starts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from collectors.core.model import SEVERITY, Status

# A ``Reading.lag`` of exactly this, with no exact read, may be one commit marker (rule 4).
MARKER_GAP = 1


@dataclass(frozen=True, slots=True)
class StatusParams:
    """The rules' settings (``collector.status_window_s``, ``collector.stall_floor_s``)."""

    window_s: float = 120.0
    stall_floor_s: float = 30.0
    interval_s: float = 1.0  # timing resolution of the readings
    cadence_factor: float = 2.0
    stall_ceiling_s: float = 900.0
    cadence_decay: float = 0.9
    warn_slope: float = 0.05
    warn_margin_s: float = 5.0
    warn_points: int = 8

    @property
    def noise_s(self) -> float:
        return max(self.warn_margin_s, 2.0 * self.interval_s)

    def threshold(self, cadence_s: float | None) -> float:
        """The stall threshold for a learned cadence (None: not learned yet)."""
        cadence = self.stall_floor_s if cadence_s is None else cadence_s
        return min(self.stall_ceiling_s, max(self.stall_floor_s, self.cadence_factor * cadence))


@dataclass(frozen=True, slots=True)
class Reading:
    """One cycle's values for one partition.

    ``lag``: offset lag in events (0 when only markers remain, known from an exact
    read), None when the offsets could not be read. ``staleness_s``: exact when
    ``exact``, else estimated, None when unknown. ``members``: None when unknown.
    """

    at: float
    committed: int | None
    log_end: int | None
    lag: int | None
    staleness_s: float | None
    exact: bool = True
    clock_skew: bool = False
    members: int | None = 1


@dataclass(frozen=True, slots=True)
class History:
    """What the rules remember about one partition (a fixed number of values)."""

    first_seen: float | None = None
    last_seen: float | None = None
    committed: int | None = None
    moved_at: float | None = None  # when the committed offset was last seen changing
    previous: int | None = None  # the committed offset before that move
    previous_moved_at: float | None = None
    pending_since: float | None = None  # records first seen pending at this commit
    cadence_s: float | None = None
    log_end: int | None = None
    end_moved_at: float | None = None
    rewind_target: int | None = None
    rewind_origin: int | None = None
    points: tuple[tuple[float, float], ...] = ()  # (at, staleness at a commit), oldest first


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    out_of_range: bool = False
    replay_progress: float | None = None
    threshold_s: float = 0.0


def step(history: History, reading: Reading, params: StatusParams) -> tuple[History, Verdict]:
    """Apply one reading: the new history and this cycle's verdict (rules above)."""
    h, r, p = history, reading, params
    if r.lag is None or r.log_end is None:
        return h, Verdict(Status.ERROR, threshold_s=p.threshold(h.cadence_s))
    at, c, lag = r.at, r.committed, r.lag
    seen_before = h.last_seen is not None
    first_seen = h.first_seen if h.first_seen is not None else at

    end_moved_at = h.end_moved_at
    if seen_before and h.log_end is not None and r.log_end != h.log_end:
        end_moved_at = at

    # Commit movement, cadence sample, rewind.
    prior = h.committed
    moved = seen_before and c != prior
    forward = moved and c is not None and (prior is None or c > prior)
    went_back = moved and c is not None and prior is not None and c < prior
    threshold = p.threshold(h.cadence_s)
    cadence = h.cadence_s
    if forward and h.moved_at is not None:
        start = max(h.moved_at, h.pending_since if h.pending_since is not None else h.last_seen)
        sample = min(at - start, threshold)
        cadence = sample if cadence is None else max(sample, cadence * p.cadence_decay)
        threshold = p.threshold(cadence)
    moved_at, previous, previous_moved_at = h.moved_at, h.previous, h.previous_moved_at
    if moved:
        moved_at, previous, previous_moved_at = at, prior, h.moved_at

    target, origin, points = h.rewind_target, h.rewind_origin, h.points
    if went_back:
        assert c is not None and prior is not None
        target = prior if target is None else max(target, prior)
        origin, points = c, ()
    if target is not None and c is not None and (c >= target or lag == 0):
        target, origin, points = None, None, ()

    pending = lag > 0
    pending_since = None
    if pending:
        pending_since = at if (moved or h.pending_since is None) else h.pending_since

    staleness_known = r.staleness_s is not None and not r.clock_skew
    if forward and staleness_known and target is None:
        assert r.staleness_s is not None
        if not points or at - points[-1][0] >= p.window_s / p.warn_points:
            points = (*points, (at, r.staleness_s))[-p.warn_points :]

    new = History(
        first_seen=first_seen,
        last_seen=at,
        committed=c,
        moved_at=moved_at,
        previous=previous,
        previous_moved_at=previous_moved_at,
        pending_since=pending_since,
        cadence_s=cadence,
        log_end=r.log_end,
        end_moved_at=end_moved_at,
        rewind_target=target,
        rewind_origin=origin,
        points=points,
    )
    nobody = r.members == 0
    # Rule 2
    if c is not None and c > r.log_end:
        stuck = Status.STOPPED if nobody else Status.STALL
        return new, Verdict(stuck, out_of_range=True, threshold_s=threshold)
    # Rule 3
    if not pending:
        quiet = end_moved_at is None or end_moved_at < at - p.window_s
        status = Status.IDLE if seen_before and quiet else Status.OK
        return new, Verdict(status, threshold_s=threshold)
    # Rule 4
    if (
        not r.exact
        and lag == MARKER_GAP
        and moved_at is not None
        and (end_moved_at is None or end_moved_at <= moved_at)
    ):
        return new, Verdict(Status.OK, threshold_s=threshold)
    # Rule 5
    assert pending_since is not None
    waited = r.staleness_s if staleness_known else at - pending_since
    still_for = at - (moved_at if moved_at is not None else first_seen)
    if waited is not None and waited > threshold and still_for > threshold:
        stuck = Status.STOPPED if nobody else Status.STALL
        return new, Verdict(stuck, threshold_s=threshold)
    # Rule 6
    if target is not None and origin is not None and c is not None:
        progress = 1.0 if target <= origin else (c - origin) / (target - origin)
        return new, Verdict(
            Status.REWIND, replay_progress=min(1.0, max(0.0, progress)), threshold_s=threshold
        )
    # Rule 7
    current = r.staleness_s if staleness_known else None
    if current is not None and falling_behind(points, at, current, cadence, p):
        return new, Verdict(Status.WARN, threshold_s=threshold)
    return new, Verdict(Status.OK, threshold_s=threshold)


def falling_behind(
    points: tuple[tuple[float, float], ...],
    at: float,
    current_s: float,
    cadence_s: float | None,
    params: StatusParams,
) -> bool:
    """Rule 7 over the staleness-at-commit points (oldest first)."""
    window = max(params.window_s, 3.0 * cadence_s) if cadence_s is not None else params.window_s
    inside = [(t, s) for t, s in points if t >= at - window]
    n = len(inside)
    if n < 3:
        return False
    span = inside[-1][0] - inside[0][0]
    if span < window / 2:
        return False
    mean_t = sum(t for t, _ in inside) / n
    mean_s = sum(s for _, s in inside) / n
    num = sum((t - mean_t) * (s - mean_s) for t, s in inside)
    den = sum((t - mean_t) ** 2 for t, _ in inside)
    slope = num / den
    noise = params.noise_s
    return slope >= params.warn_slope and slope * span >= noise and current_s >= noise


def commit_rate(history: History, at: float) -> float | None:
    """The current consume rate, offsets per second: the last forward step of the
    committed offset over its duration, or over the time since the move when that is
    longer (a rate never outlives the pace that produced it). None before two moves,
    after a backward move, or with no time between them."""
    h = history
    if (
        h.committed is None
        or h.previous is None
        or h.moved_at is None
        or h.previous_moved_at is None
        or h.committed < h.previous
    ):
        return None
    span = max(h.moved_at - h.previous_moved_at, at - h.moved_at)
    if span <= 0:
        return None
    return (h.committed - h.previous) / span


def evaluate(readings: Iterable[Reading], params: StatusParams | None = None) -> Status:
    """The verdict after feeding ``readings`` (oldest first) to a fresh history: what
    the table-driven tests read. ERROR for no readings."""
    params = params or StatusParams()
    h, verdict = History(), Verdict(Status.ERROR)
    for reading in readings:
        h, verdict = step(h, reading, params)
    return verdict.status


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe status by ``model.SEVERITY``; IDLE for empty input."""
    return max(statuses, key=SEVERITY.__getitem__, default=Status.IDLE)


__all__ = [
    "MARKER_GAP",
    "History",
    "Reading",
    "StatusParams",
    "Verdict",
    "commit_rate",
    "evaluate",
    "falling_behind",
    "step",
    "worst",
]
