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

from collectors.core.change_ring import ChangeRing
from collectors.core.kernels import NONE, Bools, Floats, Ints, StatusState
from collectors.core.model import TopicPart
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
    group_sizes: list[int] = []
    topic_segments: list[tuple[str, str]] = []
    topic_starts: list[int] = []
    # Log partition index by isolation, then (topic, partition): groups share their
    # topics' partitions, so a LogPartition is built once per partition, not per slot.
    lp_of: dict[bool, dict[TopicPart, int]] = {False: {}, True: {}}
    log_partitions: list[LogPartition] = []
    slot_lp: list[int] = []
    for group in groups:
        index = lp_of[read_committed(group)]
        tps = group_tps[group]
        topic = None
        for tp in tps:
            if tp[0] != topic:
                topic = tp[0]
                topic_segments.append((group, topic))
                topic_starts.append(len(slot_lp))
            lp = index.get(tp)
            if lp is None:
                lp = index[tp] = len(log_partitions)
                log_partitions.append(LogPartition(index is lp_of[True], *tp))
            slot_lp.append(lp)
        group_sizes.append(len(tps))
    sizes = np.array(group_sizes, dtype=np.int64)
    return Layout(
        groups=groups,
        group_tps=group_tps,
        group_sets={g: frozenset(tps) for g, tps in group_tps.items()},
        group_index={g: i for i, g in enumerate(groups)},
        slot_group=np.repeat(np.arange(len(groups), dtype=np.int64), sizes),
        group_starts=np.cumsum(sizes) - sizes,
        topic_segments=topic_segments,
        topic_starts=np.array(topic_starts, dtype=np.int64),
        log_partitions=log_partitions,
        lp_index={lp: i for i, lp in enumerate(log_partitions)},
        slot_lp=np.array(slot_lp, dtype=np.int64),
        keys=PartitionKeys.of_groups(cluster, [(g, group_tps[g]) for g in groups]),
        topics=frozenset(topic for _, topic in topic_segments),
    )


def surviving_rows(old: Layout, new: Layout) -> tuple[Ints, Ints]:
    """(rows in ``old``, their rows in ``new``) of the slots both layouts have.

    Works group by group on the layouts' sorted partition lists: a group whose
    partitions did not change (the usual case when one group or topic comes or goes)
    maps as one contiguous run after a list comparison in C, so no key is hashed; only
    groups whose partitions changed are matched partition by partition. Empty arrays
    when either layout is empty (a cold start maps nothing).
    """
    src: list[Ints] = []
    dst: list[Ints] = []
    for group, old_tps in old.group_tps.items():
        new_tps = new.group_tps.get(group)
        if not new_tps:
            continue
        old_start = int(old.group_starts[old.group_index[group]])
        new_start = int(new.group_starts[new.group_index[group]])
        if old_tps == new_tps:
            src.append(np.arange(old_start, old_start + len(old_tps), dtype=np.int64))
            dst.append(np.arange(new_start, new_start + len(new_tps), dtype=np.int64))
            continue
        where = {tp: new_start + i for i, tp in enumerate(new_tps)}
        pairs = [(old_start + i, where[tp]) for i, tp in enumerate(old_tps) if tp in where]
        src.append(np.array([i for i, _ in pairs], dtype=np.int64))
        dst.append(np.array([j for _, j in pairs], dtype=np.int64))
    if not src:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(src), np.concatenate(dst)


@dataclass(slots=True, eq=False)
class Slots:
    """The mutable history behind the columns (collector-internal).

    - status history: ``status.History`` per slot as ``kernels.StatusState`` columns,
      a fixed number of values per slot (``warn_points`` staleness-at-commit points);
    - record timestamps per slot, read at (``t_commit``, ``t_end``, ``t_start``);
    - rate points: ``rate_points`` cycles in a ring shared by all slots and log
      partitions (``NONE`` where a slot or partition had no point that cycle); the
      slots' committed offsets as changes (``ChangeRing``: most slots do not commit in
      a given cycle), the log partitions' ends as columns (few of them).
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
    r_commit: ChangeRing
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
            r_commit=ChangeRing.empty(rate_points, slots),
            r_end=ints(rate_points, lps),
        )

    def moved(self, old: Layout, new: Layout) -> Slots:
        """A copy sized for ``new`` with each slot's (and log partition's) history
        from its row in ``old``; slots new in ``new`` start empty."""
        rows = len(new.keys)
        out = Slots._sized(self.warn_points, self.rate_points, rows, len(new.lp_index))
        out.r_times[:] = self.r_times
        out.cursor = self.cursor
        s, d = surviving_rows(old, new)
        out.r_commit = self.r_commit.moved(s, d, rows)
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
        return sum(a.nbytes for a in arrays) + self.r_commit.nbytes()

    # --- rate points ------------------------------------------------------------------

    def advance(self, now: float, commits: Ints, log_ends: Ints) -> None:
        """Add this cycle's rate points (the oldest cycle's fall out)."""
        self.cursor = (self.cursor + 1) % self.rate_points
        self.r_times[self.cursor] = now
        self.r_commit.advance(self.cursor, commits)
        self.r_end[self.cursor] = log_ends

    def _order(self) -> list[int]:
        """Ring positions of the points, oldest first (positions never written have
        no time and are no point)."""
        order = [(self.cursor + 1 + j) % self.rate_points for j in range(self.rate_points)]
        return [k for k in order if self.r_times[k] == self.r_times[k]]

    def _points(self, ring: Ints) -> list[tuple[float, Ints]]:
        return [(float(self.r_times[k]), ring[k]) for k in self._order()]

    def commit_history(self) -> tuple[list[float], Ints, Ints, list[Ints]]:
        """The committed-offset points as ``kernels.rates_of_moving`` takes them:
        ``(times, newest column, moving rows, their values at each time)``."""
        order = self._order()
        moving, values = self.r_commit.history(order)
        return [float(self.r_times[k]) for k in order], self.r_commit.current, moving, values

    def commit_points(self) -> list[tuple[float, Ints]]:
        """Every slot's committed offset at each point, oldest first (dense columns:
        for checks; ``commit_history`` is what a cycle uses)."""
        order = self._order()
        columns = self.r_commit.dense(order)
        return [(float(self.r_times[k]), c) for k, c in zip(order, columns, strict=True)]

    def previous_commits(self) -> tuple[float, Ints]:
        """The point before the newest: its time (NaN when there was none) and every
        slot's committed offset then (``NONE`` where it had none)."""
        prev = (self.cursor - 1) % self.rate_points
        return float(self.r_times[prev]), self.r_commit.previous(self.cursor)

    def log_end_points(self) -> list[tuple[float, Ints]]:
        return self._points(self.r_end)
