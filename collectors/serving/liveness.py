"""Is the snapshot still the truth? ``/healthz`` and ``/metrics`` while cycles fail or block.

A cycle blocked on a broker that went away publishes nothing for as long as its requests
time out (10 s by default), so the last snapshot would keep saying "up, lag N". The
service reports how old its freshest complete reading is, measured from the *start* of
the last cycle that read every cluster (a blocked cycle does not refresh it), and:

- ``/healthz`` says degraded (503) once that age exceeds ``stale_after_s(interval_s)``
  — two intervals plus half a second, so within three intervals of an outage;
- ``/metrics`` then renders ``stale_view``: ``lagwatch_up`` 0 for every cluster and no
  lag, staleness, member or status series at all (unknown is absent, never 0).
"""

from __future__ import annotations

import dataclasses

from collectors.core.model import Snapshot

SLACK_S = 0.5


def stale_after_s(interval_s: float) -> float:
    """How old the freshest complete reading may be before it no longer counts."""
    return 2.0 * interval_s + SLACK_S


def is_stale(reading_age_s: float | None, interval_s: float) -> bool:
    """True when the age is known and past ``stale_after_s`` (None: not measured)."""
    return reading_age_s is not None and reading_age_s > stale_after_s(interval_s)


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
