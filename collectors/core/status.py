"""Pure Burrow-style status rules over a sliding window of observations.

The *specification*, one partition at a time; the cycle runs ``kernels.evaluate``,
checked against ``evaluate`` here on random windows (docs/architecture.md).

One partition's window, oldest first, latest last. The rules tell idle from stuck
and a replay from live lag; the severity order for roll-ups is ``model.SEVERITY``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from collectors.core.lag import is_caught_up
from collectors.core.model import SEVERITY, Observation, Status


def evaluate(window: Sequence[Observation], min_observations: int = 3) -> Status:
    """Status of one partition from its window of observations (oldest first).

    Rules, first match wins:

    1. latest ``offset_lag`` None: ERROR (offsets could not be read). An empty window
       is ERROR too: nothing was read.
    2. ``committed`` went down at any step (both known): REWIND, a replay, never WARN.
    3. caught up at latest (``offset_lag == 0``, or ``staleness_s == 0`` because only
       transaction markers remain): IDLE if ``log_end`` did not change across a window
       of at least 2 observations, else OK.
    4. lagging with fewer than ``min_observations`` observations: OK (not enough
       evidence), except STOPPED when the latest has no members and no commit (nobody
       has ever consumed).
    5. lagging and ``committed`` unchanged across the whole window (None == None counts
       as unchanged): STOPPED with no members at latest, else STALL.
    6. ``offset_lag`` non-decreasing at every step and latest > first: WARN (the group
       consumes, but the lag grows). An unknown lag anywhere in the window is not
       evidence of growth.
    7. otherwise OK.
    """
    if not window:
        return Status.ERROR
    latest = window[-1]
    if latest.offset_lag is None:
        return Status.ERROR
    # One list per field, then C-speed scans: this runs for every partition that moved.
    committed = [obs.committed for obs in window]
    if _went_back(committed):
        return Status.REWIND
    if is_caught_up(latest.offset_lag, latest.staleness_s):
        if len(window) >= 2 and _all_equal([obs.log_end for obs in window], latest.log_end):
            return Status.IDLE
        return Status.OK
    if len(window) < min_observations:
        if latest.members == 0 and latest.committed is None:
            return Status.STOPPED
        return Status.OK
    if _all_equal(committed, latest.committed):
        return Status.STOPPED if latest.members == 0 else Status.STALL
    if _lag_growing(window):
        return Status.WARN
    return Status.OK


def _all_equal(values: list[int | None], value: int | None) -> bool:
    """Every item ``== value`` (None == None counts as equal)."""
    return values.count(value) == len(values)


def _went_back(committed: list[int | None]) -> bool:
    previous = committed[0]
    for current in committed:
        # An unknown commit between two known ones must not hide a rewind across it.
        if current is not None:
            if previous is not None and current < previous:
                return True
            previous = current
    return False


def _lag_growing(window: Sequence[Observation]) -> bool:
    first = window[0].offset_lag
    if first is None:
        return False
    previous = first
    for obs in window:
        current = obs.offset_lag
        if current is None or current < previous:
            return False
        previous = current
    return previous > first


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe status by ``model.SEVERITY``; IDLE for empty input."""
    return max(statuses, key=SEVERITY.__getitem__, default=Status.IDLE)
