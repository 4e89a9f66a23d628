"""The store-writer's snapshot policy: group rows every cycle, partition rows sparser.

Used by the collector's single writer thread (``service.CollectorService``); not
thread-safe on its own.
"""

from __future__ import annotations

from typing import Protocol

from collectors.core.model import Snapshot
from collectors.store.sampling import auto_partition_interval_s, partition_sample_due


class SnapshotStore(Protocol):
    def write_snapshot(self, snapshot: Snapshot) -> None: ...

    def write_group_samples(self, snapshot: Snapshot) -> None: ...


class SnapshotWriter:
    """Writes each snapshot's group and group-topic rows, and its partition rows when
    ``partition_sample_interval_s`` has passed since the last ones
    (``sampling.partition_sample_due``; ``cycle_s`` is the collector's interval)."""

    def __init__(
        self, store: SnapshotStore, partition_sample_interval_s: float | None, cycle_s: float
    ):
        """``partition_sample_interval_s`` None: ``sampling.auto_partition_interval_s``
        of each snapshot's size."""
        self._store = store
        self._every = partition_sample_interval_s
        self._cycle = cycle_s
        # Cycle start (taken_at - cycle_duration_s) of the last stored partition rows.
        self.partitions_at: float | None = None

    def write(self, snapshot: Snapshot) -> bool:
        """Store ``snapshot``; True when its partition rows were stored too. A write that
        raises leaves ``partitions_at`` unchanged, so the next snapshot tries again.

        Time is the cycle's start: starts follow the cycle timer, while ends (``taken_at``)
        wander by the cycle's duration, which would make every other cycle look early.
        """
        started = snapshot.taken_at - snapshot.cycle_duration_s
        every = self._every
        if every is None:
            every = auto_partition_interval_s(len(snapshot.partitions), self._cycle)
        if partition_sample_due(started, self.partitions_at, every, self._cycle):
            self._store.write_snapshot(snapshot)
            self.partitions_at = started
            return True
        self._store.write_group_samples(snapshot)
        return False
