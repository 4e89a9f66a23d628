"""The incremental cycle gives exactly what a full recomputation gives.

Two collectors see the same random sequence of cluster states: one as in production
(it keeps what did not change between cycles), one forced to recompute everything
every cycle. Every output (partition columns, roll-ups, visibility samples, errors,
cache counts) and every piece of kept history must be equal, cycle after cycle.
The sequences mix the cases the shortcuts must see through: time passing with no
change (the time-driven status rules), commits moving and going back, log ends and
log starts moving, members and assignments changing, partitions and groups appearing
and disappearing, unreadable groups, describe errors, ``None`` and negative offsets.
"""

from __future__ import annotations

import dataclasses
import random
from types import MappingProxyType

import numpy as np
import pytest

from collectors import cycle as cycle_module
from collectors.core.model import (
    CommittedOffsets,
    GroupDescription,
    GroupListing,
    RecordTimes,
    Watermarks,
)
from collectors.core.partition_table import PartitionKeys, PartitionTable
from collectors.core.status import StatusParams
from collectors.cycle import ClusterCollector

TOPICS = ("a", "b", "c")


class World:
    """One random cluster, mutated in place between cycles (as the offsets log's live
    maps are: the collector gets read-only views, never copies)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = 1_000.0
        self.parts = {t: list(range(rng.randint(1, 3))) for t in TOPICS}
        self.ends = {(t, p): rng.randint(0, 50) for t in TOPICS for p in range(8)}
        self.starts = dict.fromkeys(self.ends, 0)
        self.offsets: dict[str, dict[tuple[str, int], int | None]] = {}
        self.members: dict[str, int] = {}
        self.assigned: dict[str, frozenset] = {}
        self.errors: dict[str, str] = {}
        self.describe_errors: set[str] = set()
        for group in ("g1", "g2", "g3"):
            self._new_group(group)

    def _new_group(self, group: str) -> None:
        topics = self.rng.sample(TOPICS, self.rng.randint(1, 2))
        offsets = self.offsets.setdefault(group, {})  # the same live map, as in the log
        offsets.clear()
        offsets.update(
            {(t, p): self.rng.randint(0, self.ends[(t, p)]) for t in topics for p in self.parts[t]}
        )
        self.members[group] = self.rng.randint(0, 2)
        self.assigned[group] = frozenset()

    def _tps(self, group: str) -> list[tuple[str, int]]:
        return sorted(self.offsets[group])

    def step(self) -> None:
        """One cycle's worth of change: often nothing but time."""
        rng = self.rng
        self.now += rng.choice((0.5, 1.0, 1.0, 1.0, 5.0, 20.0, 45.0))
        self.errors.clear()
        self.describe_errors.clear()
        if rng.random() < 0.35:
            return  # time alone
        for _ in range(rng.randint(0, 4)):  # producers write
            tp = rng.choice(list(self.ends))
            self.ends[tp] += rng.randint(1, 5)
        for _ in range(rng.randint(0, 4)):  # consumers commit (forward, or back)
            group = rng.choice(list(self.offsets))
            tps = self._tps(group)
            if not tps:
                continue
            tp = rng.choice(tps)
            if rng.random() < 0.1:
                self.offsets[group][tp] = rng.randint(0, max(0, self.ends[tp] - 1))
            else:
                self.offsets[group][tp] = self.ends[tp] - rng.randint(0, 2)
        kind = rng.random()
        if kind < 0.08:  # retention deletes records
            tp = rng.choice(list(self.starts))
            self.starts[tp] = min(self.ends[tp], self.starts[tp] + rng.randint(1, 10))
        elif kind < 0.16:  # members come and go, with assignments
            group = rng.choice(list(self.offsets))
            self.members[group] = rng.randint(0, 3)
            pool = [(t, p) for t in TOPICS for p in self.parts[t]]
            self.assigned[group] = frozenset(rng.sample(pool, rng.randint(0, 2)))
        elif kind < 0.2:  # a topic gets a partition
            topic = rng.choice(TOPICS)
            if len(self.parts[topic]) < 8:
                self.parts[topic].append(len(self.parts[topic]))
        elif kind < 0.24:  # a group commits a partition it never had
            group = rng.choice(list(self.offsets))
            topic = rng.choice(TOPICS)
            p = rng.choice(self.parts[topic])
            self.offsets[group][(topic, p)] = rng.randint(0, self.ends[(topic, p)])
        elif kind < 0.27:  # a group's offsets are deleted, or a new group starts
            group = rng.choice(["g1", "g2", "g3", "g4"])
            if group in self.offsets and rng.random() < 0.5:
                self.offsets[group].clear()
                self.assigned[group] = frozenset()
            else:
                self._new_group(group)
        elif kind < 0.31:  # this cycle's fetch fails, with or without offsets
            group = rng.choice(list(self.offsets))
            self.errors[group] = "OffsetFetch: timed out" + (" (kept)" * (rng.random() < 0.5))
        elif kind < 0.33:
            self.describe_errors.add(rng.choice(list(self.offsets)))
        elif kind < 0.36:  # the same partitions, iterated in another order
            group = rng.choice(list(self.offsets))
            offsets = self.offsets[group]
            items = list(offsets.items())
            rng.shuffle(items)
            offsets.clear()
            offsets.update(items)
        elif kind < 0.4:  # an admin-style "no commit" (None) or a negative sentinel
            group = rng.choice(list(self.offsets))
            tps = self._tps(group)
            if tps:
                self.offsets[group][rng.choice(tps)] = rng.choice((None, -1))

    def first_ts(self, topic: str, partition: int, offset: int) -> float:
        return 500.0 + offset * 3.0 + partition * 0.25 + TOPICS.index(topic)


class FakeSource:
    def __init__(self, world: World) -> None:
        self.world = world
        self.views = {g: MappingProxyType(o) for g, o in world.offsets.items()}

    def list_groups(self):
        return [GroupListing(g, "STABLE", False) for g in self.world.offsets]

    def describe_and_fetch_offsets(self, groups, from_log=None):
        w = self.world
        descriptions: dict = {}
        committed = {}
        for g in groups:
            if g in w.describe_errors:
                descriptions[g] = "DescribeGroups: broker down"
            elif g in w.members:
                descriptions[g] = GroupDescription(g, "STABLE", w.members[g], w.assigned[g])
            view = self.views.setdefault(g, MappingProxyType(w.offsets.setdefault(g, {})))
            error = w.errors.get(g)
            if error is None:
                committed[g] = CommittedOffsets(g, view)
            else:
                committed[g] = CommittedOffsets(g, view if "kept" in error else {}, error)
        return descriptions, committed

    def watermarks(self, partitions, read_committed=False):
        w = self.world
        return {tp: Watermarks(w.starts[tp], w.ends[tp]) for tp in partitions}

    def topic_partitions(self, topics):
        return {t: list(self.world.parts[t]) for t in topics}


class FakeReader:
    def __init__(self, world: World) -> None:
        self.world = world

    def read(self, requests):
        w = self.world
        out = {}
        for r in requests:
            end = w.ends[(r.topic, r.partition)]
            start = r.log_start or 0
            at = start if r.committed is None else max(r.committed, start)
            first = w.first_ts(r.topic, r.partition, at) if at < end else None
            last = w.first_ts(r.topic, r.partition, at - 1) if 0 < at <= end else None
            out[r] = RecordTimes(first, last)
        return out

    def close(self) -> None:
        pass


def _collector(world: World, interval_s: float) -> ClusterCollector:
    source, reader = FakeSource(world), FakeReader(world)
    return ClusterCollector(
        "c",
        connect=lambda: (source, {False: reader, True: reader}),
        group_filter=lambda g: True,
        read_committed=lambda g: False,
        status_params=StatusParams(interval_s=interval_s, stall_floor_s=10.0, window_s=30.0),
        rate_window_s=10.0,
        rate_points=8,
    )


def _full(collector: ClusterCollector) -> ClusterCollector:
    """A collector that takes no shortcut: everything recomputed every cycle."""
    collector._unchanged_layout_commits = lambda *args: None  # type: ignore[method-assign]
    return collector


def _assert_same(a: object, b: object, where: str) -> None:
    if isinstance(a, PartitionTable):
        assert isinstance(b, PartitionTable), where
        _assert_same(a.keys.keys, b.keys.keys, f"{where}.keys")
        _assert_same(a.observed_at, b.observed_at, f"{where}.observed_at")
        _assert_same(a.columns, b.columns, f"{where}.columns")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(a, PartitionKeys):
        _assert_same(a.keys, b.keys, where)
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for field in dataclasses.fields(a):
            if field.name.startswith("_"):
                continue
            _assert_same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, float) and isinstance(b, float) and a != a:
        assert b != b, where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize("seed", range(16))
def test_incremental_cycles_equal_full_recomputation(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if seed % 2:  # partition lists re-read every cycle: new partitions show at once
        monkeypatch.setattr(cycle_module, "TOPICS_REFRESH_S", 0.0)
    rng = random.Random(seed)
    world = World(rng)
    interval = rng.choice((1.0, 5.0))
    fast, full = _collector(world, interval), _full(_collector(world, interval))
    for cycle in range(50):
        got = fast.collect(lambda: world.now)
        want = full.collect(lambda: world.now)
        where = f"seed {seed} cycle {cycle}"
        _assert_same(got, want, where)
        _assert_same(fast._slots, full._slots, f"{where} slots")
        world.step()


def test_the_shortcut_is_taken_when_only_offsets_move() -> None:
    """Not a vacuous comparison: a steady cluster goes through the incremental path."""
    world = World(random.Random(7))
    collector = _collector(world, 1.0)
    collector.collect(lambda: world.now)
    taken = []
    shortcut = collector._unchanged_layout_commits

    def spy(*args):
        taken.append(shortcut(*args) is not None)
        return None if not taken[-1] else shortcut(*args)

    collector._unchanged_layout_commits = spy  # type: ignore[method-assign]
    for _ in range(5):
        world.now += 1.0
        group = next(iter(world.offsets))
        tp = sorted(world.offsets[group])[0]
        world.ends[tp] += 1
        world.offsets[group][tp] = world.ends[tp]
        collector.collect(lambda: world.now)
    assert taken == [True] * 5
