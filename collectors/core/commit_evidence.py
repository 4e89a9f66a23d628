"""What the commit log tells the status rules before the collector has seen a move.

Rule 5 (STALL / STOPPED) needs the committed offset to have stood still longer than
the stall threshold. A collector that just started has never seen it move, and without
other evidence it counts the stillness from its own first look: a projection that died
an hour ago would read OK for the first minute after every collector restart. The
``__consumer_offsets`` log has that evidence: the record that first committed the
current offset carries the time of the commit. Starting the stillness clock there
instead is exact when the record is still in the log, and never too early otherwise
(compaction leaves a later re-commit of the same offset, so the clock starts later
than the truth: a STALL can come late, never falsely).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from collectors.core.kernels import Floats, StatusState
from collectors.core.model import TopicPart
from collectors.core.slots import Layout


def since_column(
    layout: Layout, since_by_group: Mapping[str, Mapping[TopicPart, float] | None]
) -> Floats:
    """Per slot of ``layout``: when its committed offset was first committed, NaN
    where unknown (a group answered by the Admin API, a record without a time, a
    partition the group never committed)."""
    column = np.full(len(layout.slot_group), np.nan)
    for gi, group in enumerate(layout.groups):
        since = since_by_group.get(group)
        if not since:
            continue
        start = int(layout.group_starts[gi])
        tps = layout.group_tps[group]
        column[start : start + len(tps)] = [since.get(tp, np.nan) for tp in tps]
    return column


def seed_stillness(state: StatusState, since: Floats, now: float) -> int:
    """Start the stillness clock of rows whose committed offset the collector never saw
    move (``moved_at`` unknown) at the commit time ``since`` when that is earlier than
    what the row has (its first sighting, or nothing yet). A time in the future (clock
    skew between broker and collector) counts as ``now``. Updates ``state`` in place;
    returns how many rows changed."""
    rows = np.isnan(state.moved_at) & ~np.isnan(since)
    if not rows.any():
        return 0
    current = state.first_seen[rows]
    seeded = np.fmin(current, np.minimum(since[rows], now))
    changed = int(np.count_nonzero(np.isnan(current) | (seeded < current)))
    state.first_seen[rows] = seeded
    return changed
