"""When a cycle's partition samples go to the store (pure: takes ``now``, no I/O).

Group and group-topic samples are written every cycle; partition samples (one row per
group-partition, 100,000 a cycle on a big cluster) only every
``store.partition_sample_interval_s``. Its default (unset, "auto",
``auto_partition_interval_s``) stores every cycle while a cycle has at most
``PARTITION_ROWS_PER_S`` rows per second of interval, and otherwise as often as keeps
that average: at 100,000 group-partitions and a 1 s cycle every 50 s, 173 million rows a
day instead of 8.6 billion; a small cluster (the demo) keeps every cycle's partitions.
"""

from __future__ import annotations

import math

DEFAULT_PARTITION_SAMPLE_INTERVAL_S: float | None = None  # auto_partition_interval_s

# The automatic interval's budget: partition rows per second, on average.
PARTITION_ROWS_PER_S = 2_000.0


def auto_partition_interval_s(rows: int, cycle_s: float) -> float:
    """The default partition sample interval for a snapshot of ``rows`` partition rows:
    every cycle (``cycle_s``) up to ``PARTITION_ROWS_PER_S * cycle_s`` rows, beyond that
    ``rows / PARTITION_ROWS_PER_S`` seconds (50 s at 100,000). Follows the cluster as it
    grows or shrinks; an empty snapshot stores every cycle."""
    return max(cycle_s, rows / PARTITION_ROWS_PER_S)


def partition_sample_due(
    now: float, last_written_at: float | None, interval_s: float, cycle_s: float
) -> bool:
    """True when the cycle that started at ``now`` should store its partition samples;
    ``last_written_at`` is the start of the last cycle that did.

    Due when none was written yet (``last_written_at`` None), when the clock went back
    (``now < last_written_at``: a stale mark must not silence partition history), or
    when ``interval_s`` has passed since the last write, less half a cycle. The half
    cycle absorbs the jitter of cycle starts: without it a cycle starting 1 ms early
    would wait a whole extra cycle, so ``interval_s == cycle_s`` would store every
    second cycle instead of every cycle, and 60 s would drift towards 61 s. Pass cycle
    starts, not ends: starts keep the timer's rhythm, ends wander with cycle duration.

    ``interval_s <= cycle_s`` stores every snapshot. Non-finite ``now`` is never due.
    """
    if not math.isfinite(now):
        return False
    if last_written_at is None or now < last_written_at:
        return True
    return now - last_written_at >= interval_s - cycle_s / 2
