"""Is the snapshot still the truth? ``/healthz`` and ``/metrics`` while cycles fail or block.

A cycle blocked on a broker that went away publishes nothing for as long as its requests
time out (10 s by default), so the last snapshot would keep saying "up, lag N". The
service reports how old its freshest complete reading is, measured from the *start* of
the last cycle that read every cluster (a blocked cycle does not refresh it), and:

- ``/healthz`` says degraded (503) once that age exceeds ``stale_after_s`` — two
  cycles plus half a second (a cycle: the interval, or the typical duration of recent
  cycles when they run longer), so within three cycles of an outage;
- ``/metrics`` then renders ``stale_view``: ``lagwatch_up`` 0 for every cluster and no
  lag, staleness, member or status series at all (unknown is absent, never 0).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from collectors.core.model import Snapshot

SLACK_S = 0.5
TYPICAL_OF_LAST = 5  # completed cycles whose median duration is a cycle's typical length


def typical_cycle_s(durations_s: Sequence[float]) -> float:
    """The median duration of the last ``TYPICAL_OF_LAST`` completed cycles (0 without
    any). A median, so one slow cycle does not move it, and completed cycles only: a
    cycle blocked right now on a broker that went away is not in it."""
    recent = sorted(durations_s[-TYPICAL_OF_LAST:])
    if not recent:
        return 0.0
    mid = len(recent) // 2
    return recent[mid] if len(recent) % 2 else (recent[mid - 1] + recent[mid]) / 2


def stale_after_s(interval_s: float, typical_cycle_s: float = 0.0) -> float:
    """How old the freshest complete reading may be before it no longer counts: two
    cycles plus half a second, a cycle being the interval or, when cycles typically
    take longer than it (a big cluster's start-up, the cold ``__consumer_offsets``
    read spread over cycles), their typical duration. A collector that reads every
    cluster every 1.4 s is slow, not down."""
    return 2.0 * max(interval_s, typical_cycle_s) + SLACK_S


def is_stale(reading_age_s: float | None, interval_s: float, typical_cycle_s: float = 0.0) -> bool:
    """True when the age is known and past ``stale_after_s`` (None: not measured)."""
    return reading_age_s is not None and reading_age_s > stale_after_s(interval_s, typical_cycle_s)


def stale_view(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with every cluster down and every lag value withdrawn: what
    ``/metrics`` shows while the readings are too old to stand for now."""
    return dataclasses.replace(
        snapshot,
        partitions=(),
        topics=(),
        groups=(),
        slos=(),
        clusters=tuple(dataclasses.replace(c, up=False) for c in snapshot.clusters),
    )
