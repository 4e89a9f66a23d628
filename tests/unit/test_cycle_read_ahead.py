"""Cold cycles read record timestamps while the layout is built (``read_ahead``):
the answers are exactly those of reading after it, and nothing is read twice."""

from __future__ import annotations

import random
import threading

import pytest

from collectors.core.status import StatusParams
from collectors.cycle import ClusterCollector
from tests.unit.test_cycle_incremental import FakeReader, FakeSource, World, _assert_same


class RecordingReader(FakeReader):
    """A reader that notes which thread asked for what."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.calls: list[tuple[str, list]] = []

    def read(self, requests):
        self.calls.append((threading.current_thread().name, list(requests)))
        return super().read(requests)


def _collector(world: World, reader: FakeReader, read_committed) -> ClusterCollector:
    source = FakeSource(world)
    return ClusterCollector(
        "c",
        connect=lambda: (source, {False: reader, True: reader}),
        group_filter=lambda g: True,
        read_committed=read_committed,
        status_params=StatusParams(interval_s=1.0, stall_floor_s=10.0, window_s=30.0),
        rate_window_s=10.0,
        rate_points=8,
    )


def _restart(world: World) -> None:
    """Every group anew, with the cases a cold read must see through: a group whose
    offsets cannot be read this cycle, a "no commit" and a negative offset."""
    rng = world.rng
    for group in ("g1", "g2", "g3", "g4"):
        world._new_group(group)
    unreadable = rng.choice(["g1", "g2", "g3", "g4"])
    world.errors[unreadable] = "OffsetFetch: timed out"
    world.members[unreadable] = 1  # its assigned partitions are its (ERROR) rows
    world.assigned[unreadable] = frozenset(sorted(world.offsets[unreadable])[:2])
    for value in (None, -1):
        offsets = world.offsets[rng.choice(["g1", "g2", "g3", "g4"])]
        offsets[rng.choice(sorted(offsets))] = value


@pytest.mark.parametrize("seed", range(12))
def test_cycles_with_read_ahead_equal_cycles_without(seed: int) -> None:
    rng = random.Random(seed)
    world = World(rng)
    _restart(world)
    read_committed = (lambda g: g == "g2") if seed % 2 else (lambda g: False)
    ahead_reader, after_reader = RecordingReader(world), RecordingReader(world)
    ahead = _collector(world, ahead_reader, read_committed)
    after = _collector(world, after_reader, read_committed)
    after.read_ahead = False
    colds = 0
    for cycle in range(40):
        if cycle % 10 == 8:  # every group's offsets deleted: the layout empties
            for offsets in world.offsets.values():
                offsets.clear()
            world.assigned = dict.fromkeys(world.assigned, frozenset())
        elif cycle % 10 == 9:
            _restart(world)
        cold = not ahead._layout.groups
        ahead_reader.calls.clear()
        after_reader.calls.clear()
        got = ahead.collect(lambda: world.now)
        want = after.collect(lambda: world.now)
        where = f"seed {seed} cycle {cycle}"
        _assert_same(got, want, where)
        _assert_same(ahead._slots, after._slots, f"{where} slots")
        # The same reads, and in a cold cycle every one of them made ahead.
        asked = sorted(map(repr, (r for _, batch in ahead_reader.calls for r in batch)))
        assert asked == sorted(map(repr, (r for _, b in after_reader.calls for r in b))), where
        if cold and asked:
            colds += 1
            assert {name for name, _ in ahead_reader.calls} == {"lagwatch-read-ahead"}, where
        world.errors.clear()
        world.step()
    assert colds >= 3  # the first cycle and each restart


def test_a_cold_cycle_reads_every_position_once_and_only_ahead() -> None:
    world = World(random.Random(3))
    reader = RecordingReader(world)
    collector = _collector(world, reader, lambda g: g == "g1")
    cycle = collector.collect(lambda: world.now)
    assert cycle.cache_misses > 0
    assert {name for name, _ in reader.calls} == {"lagwatch-read-ahead"}
    asked = [r for _, batch in reader.calls for r in batch]
    assert len(asked) == len(set(asked)) == cycle.cache_misses
    # A warm cycle reads only what moved, on the cycle's own thread.
    reader.calls.clear()
    world.now += 1.0
    group = "g3"
    tp = sorted(world.offsets[group])[0]
    world.ends[tp] += 1
    world.offsets[group][tp] = world.ends[tp]
    collector.collect(lambda: world.now)
    assert reader.calls and {n for n, _ in reader.calls} == {threading.current_thread().name}
