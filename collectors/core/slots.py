"""Where each group-partition lives in the collector's columns, and its history there.

A *slot* is one (group, topic, partition): row ``i`` of every column. Slots are sorted
by group, topic, partition, so each group's and each (group, topic)'s rows are
contiguous and roll up with ``reduceat``. A *log partition* is one (isolation, topic,
partition) whose offsets are read once per cycle and shared by every group reading it.
The layout only changes when a group or partition comes or goes; ``Slots.moved``
carries each surviving slot's history to its new row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from collectors.core.kernels import NONE, Bools, Floats, Ints, StatusState
from collectors.core.model import PartitionKey, TopicPart
from collectors.core.partition_table import PartitionKeys


class LogPartition(NamedTuple):
    read_committed: bool
    topic: str
    partition: int


@dataclass(frozen=True, slots=True, eq=False)
class Layout:
    groups: list[str]  # groups with at least one slot, sorted
    group_tps: dict[str, list[TopicPart]]  # each group's partitions, sorted
    group_sets: dict[str, frozenset[TopicPart]]
    group_index: dict[str, int]
    slot_group: Ints  # group index per slot
    group_starts: Ints  # first slot of each group
    topic_segments: list[tuple[str, str]]  # (group, topic) per segment, in slot order
    topic_starts: Ints  # first slot of each segment
    log_partitions: list[LogPartition]
    lp_index: dict[LogPartition, int]
    slot_lp: Ints  # log partition index per slot
    keys: PartitionKeys
    topics: frozenset[str]  # every topic some group has a slot of

    def matches(self, wanted: Mapping[str, Mapping[TopicPart, object]]) -> bool:
        """True when ``wanted`` has exactly this layout's groups (those with at least
        one partition) and partitions. Key-set comparisons run in C: cheap per cycle."""
        sets = self.group_sets
        present = 0
        for group, offsets in wanted.items():
            if not offsets:
                continue
            present += 1
            known = sets.get(group)
            if known is None or offsets.keys() != known:
                return False
        return present == len(sets)


def build_layout(
    cluster: str,
    wanted: Mapping[str, Mapping[TopicPart, object]],
    read_committed: Callable[[str], bool],
) -> Layout:
    groups = sorted(g for g, offsets in wanted.items() if offsets)
    group_tps = {g: sorted(wanted[g]) for g in groups}
    keys: list[PartitionKey] = []
    slot_group: list[int] = []
    group_starts: list[int] = []
    topic_segments: list[tuple[str, str]] = []
    topic_starts: list[int] = []
    lp_index: dict[LogPartition, int] = {}
    slot_lp: list[int] = []
    for gi, group in enumerate(groups):
        rc = read_committed(group)
        group_starts.append(len(keys))
        topic = None
        for tp in group_tps[group]:
            if tp[0] != topic:
                topic = tp[0]
                topic_segments.append((group, topic))
                topic_starts.append(len(keys))
            lp = LogPartition(rc, tp[0], tp[1])
            slot_lp.append(lp_index.setdefault(lp, len(lp_index)))
            keys.append(PartitionKey(cluster, group, tp[0], tp[1]))
            slot_group.append(gi)
    return Layout(
        groups=groups,
        group_tps=group_tps,
        group_sets={g: frozenset(tps) for g, tps in group_tps.items()},
        group_index={g: i for i, g in enumerate(groups)},
        slot_group=np.array(slot_group, dtype=np.int64),
        group_starts=np.array(group_starts, dtype=np.int64),
        topic_segments=topic_segments,
        topic_starts=np.array(topic_starts, dtype=np.int64),
        log_partitions=list(lp_index),
        lp_index=lp_index,
        slot_lp=np.array(slot_lp, dtype=np.int64),
        keys=PartitionKeys(keys),
        topics=frozenset(topic for _, topic in topic_segments),
    )


@dataclass(slots=True, eq=False)
class Slots:
    """The mutable history behind the columns (collector-internal).

    - status history: ``status.History`` per slot as ``kernels.StatusState`` columns,
      a fixed number of values per slot (``warn_points`` staleness-at-commit points);
    - record timestamps per slot, read at (``t_commit``, ``t_end``, ``t_start``);
    - rate points: ``rate_points`` cycles in a ring shared by all slots and log
      partitions (``NONE`` where a slot or partition had no point that cycle).
    """

    warn_points: int
    rate_points: int
    status: StatusState
    t_have: Bools
    t_commit: Ints
    t_end: Ints
    t_start: Ints
    first_ts: Floats
    last_ts: Floats
    r_times: Floats
    r_commit: Ints
    r_end: Ints
    cursor: int = 0

    @classmethod
    def empty(cls, warn_points: int, rate_points: int) -> Slots:
        return cls._sized(warn_points, rate_points, 0, 0)

    @classmethod
    def _sized(cls, warn_points: int, rate_points: int, slots: int, lps: int) -> Slots:
        def ints(*shape: int, fill: int = NONE) -> Ints:
            return np.full(shape, fill, dtype=np.int64)

        return cls(
            warn_points=warn_points,
            rate_points=rate_points,
            status=StatusState.empty(slots, warn_points),
            t_have=np.zeros(slots, dtype=bool),
            t_commit=ints(slots),
            t_end=ints(slots),
            t_start=ints(slots),
            first_ts=np.full(slots, np.nan),
            last_ts=np.full(slots, np.nan),
            r_times=np.full(rate_points, np.nan),
            r_commit=ints(rate_points, slots),
            r_end=ints(rate_points, lps),
        )

    def moved(self, old: Layout, new: Layout) -> Slots:
        """A copy sized for ``new`` with each slot's (and log partition's) history
        from its row in ``old``; slots new in ``new`` start empty."""
        rows = len(new.keys.keys)
        out = Slots._sized(self.warn_points, self.rate_points, rows, len(new.lp_index))
        out.r_times[:] = self.r_times
        out.cursor = self.cursor
        index = {(k.group, k.topic, k.partition): i for i, k in enumerate(new.keys.keys)}
        src, dst = [], []
        for i, k in enumerate(old.keys.keys):
            j = index.get((k.group, k.topic, k.partition))
            if j is not None:
                src.append(i)
                dst.append(j)
        s, d = np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64)
        out.r_commit[:, d] = self.r_commit[:, s]
        out.status = self.status.moved(s, d, rows)
        for name in (
            "t_have",
            "t_commit",
            "t_end",
            "t_start",
            "first_ts",
            "last_ts",
        ):
            getattr(out, name)[d] = getattr(self, name)[s]
        lp_src, lp_dst = [], []
        for i, lp in enumerate(old.log_partitions):
            j = new.lp_index.get(lp)
            if j is not None:
                lp_src.append(i)
                lp_dst.append(j)
        out.r_end[:, np.array(lp_dst, dtype=np.int64)] = self.r_end[
            :, np.array(lp_src, dtype=np.int64)
        ]
        return out

    def nbytes(self) -> int:
        """Bytes held by the columns (what the history costs in memory)."""
        arrays = [getattr(self.status, name) for name in self.status.__dataclass_fields__]
        arrays += [
            getattr(self, name)
            for name in self.__dataclass_fields__
            if isinstance(getattr(self, name), np.ndarray)
        ]
        return sum(a.nbytes for a in arrays)

    # --- rate points ------------------------------------------------------------------

    def advance(self, now: float, commits: Ints, log_ends: Ints) -> None:
        """Add this cycle's rate points (the oldest cycle's fall out)."""
        self.cursor = (self.cursor + 1) % self.rate_points
        self.r_times[self.cursor] = now
        self.r_commit[self.cursor] = commits
        self.r_end[self.cursor] = log_ends

    def _points(self, ring: Ints) -> list[tuple[float, Ints]]:
        order = [(self.cursor + 1 + j) % self.rate_points for j in range(self.rate_points)]
        return [
            (float(self.r_times[k]), ring[k]) for k in order if self.r_times[k] == self.r_times[k]
        ]

    def commit_points(self) -> list[tuple[float, Ints]]:
        return self._points(self.r_commit)

    def log_end_points(self) -> list[tuple[float, Ints]]:
        return self._points(self.r_end)
