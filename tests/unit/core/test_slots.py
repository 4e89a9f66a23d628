"""Slot layout and the history behind the columns: order, segments, moves, windows."""

from __future__ import annotations

import numpy as np

from collectors.core.kernels import NONE
from collectors.core.slots import LogPartition, Slots, build_layout, surviving_rows


def _layout(wanted, read_committed=lambda g: g.startswith("rc")):
    return build_layout("c", wanted, read_committed)


def test_slots_are_sorted_by_group_topic_partition_with_contiguous_segments() -> None:
    layout = _layout(
        {
            "b": {("t2", 1): 5, ("t1", 0): None, ("t2", 0): 3},
            "a": {("t1", 0): 1},
            "empty": {},
        }
    )
    keys = [(k.group, k.topic, k.partition) for k in layout.keys.keys]
    assert keys == [("a", "t1", 0), ("b", "t1", 0), ("b", "t2", 0), ("b", "t2", 1)]
    assert layout.groups == ["a", "b"]  # a group with no partitions has no slots
    assert layout.group_starts.tolist() == [0, 1]
    assert layout.topic_segments == [("a", "t1"), ("b", "t1"), ("b", "t2")]
    assert layout.topic_starts.tolist() == [0, 1, 2]
    # Both groups read t1[0] with the same isolation: one log partition.
    assert layout.slot_lp.tolist() == [0, 0, 1, 2]
    assert layout.log_partitions[0] == LogPartition(False, "t1", 0)


def test_read_committed_groups_read_their_own_log_partitions() -> None:
    layout = _layout({"a": {("t", 0): 1}, "rc": {("t", 0): 1}})
    assert layout.log_partitions == [LogPartition(False, "t", 0), LogPartition(True, "t", 0)]


def test_matches_only_the_same_groups_and_partitions() -> None:
    layout = _layout({"a": {("t", 0): 1, ("t", 1): 2}, "none": {}})
    assert layout.matches({"a": {("t", 0): 7, ("t", 1): None}})  # values do not matter
    assert layout.matches({"a": {("t", 0): 7, ("t", 1): None}, "other": {}})
    assert not layout.matches({"a": {("t", 0): 7}})
    assert not layout.matches({"a": {("t", 0): 7, ("t", 1): 1}, "b": {("t", 0): 1}})


def test_surviving_rows_match_slots_by_key_on_random_layouts() -> None:
    rng = np.random.default_rng(7)

    def random_wanted() -> dict:
        return {
            f"g{g}": {(f"t{t}", p): None for t in range(3) for p in range(4) if rng.random() < 0.7}
            for g in range(5)
            if rng.random() < 0.8
        }

    for _ in range(200):
        old, new = _layout(random_wanted()), _layout(random_wanted())
        if rng.random() < 0.3:
            new = old  # unchanged groups take the contiguous-run path
        index = {(k.group, k.topic, k.partition): i for i, k in enumerate(new.keys.keys)}
        expected = sorted(
            (i, index[(k.group, k.topic, k.partition)])
            for i, k in enumerate(old.keys.keys)
            if (k.group, k.topic, k.partition) in index
        )
        src, dst = surviving_rows(old, new)
        assert sorted(zip(src.tolist(), dst.tolist(), strict=True)) == expected


def test_moved_history_follows_each_slot_and_new_slots_start_empty() -> None:
    old = _layout({"b": {("t", 0): 1}, "c": {("t", 0): 1}})
    slots = Slots.empty(warn_points=3, rate_points=4)
    slots = slots.moved(_layout({}), old)
    commits = np.array([10, 20])
    slots.advance(1.0, commits, np.array([30]))
    slots.status.committed[:] = commits
    slots.status.cadence[:] = [5.0, 60.0]
    slots.status.point_s[1, -1] = 7.0
    slots.t_have[:] = True
    slots.first_ts[:] = [100.0, 200.0]

    new = _layout({"a": {("t", 0): 1}, "c": {("t", 0): 1}})  # b gone, a new before c
    moved = slots.moved(old, new)
    assert moved.status.committed.tolist() == [NONE, 20]
    assert np.isnan(moved.status.cadence[0]) and moved.status.cadence[1] == 60.0
    assert moved.status.point_s[1, -1] == 7.0 and np.isnan(moved.status.point_s[0]).all()
    assert moved.t_have.tolist() == [False, True]
    assert moved.first_ts[1] == 200.0 and np.isnan(moved.first_ts[0])
    assert moved.r_commit.current.tolist() == [NONE, 20]
    assert [v.tolist() for _, v in moved.commit_points()] == [[NONE, 20]]
    assert moved.r_end[moved.cursor].tolist() == [30]  # the log partition t[0] survived


def test_status_history_is_a_fixed_size_per_slot() -> None:
    """Memory is bounded: the status history does not grow with the window or time."""
    slots = Slots.empty(warn_points=8, rate_points=3).moved(
        _layout({}), _layout({f"g{i}": {("t", 0): 0} for i in range(5)})
    )
    size = sum(getattr(slots.status, f).nbytes for f in slots.status.__dataclass_fields__)
    assert size == 5 * (7 * 8 + 5 * 8 + 2 * 8 * 8)


def test_rate_points_come_oldest_first_and_wrap_around() -> None:
    slots = Slots.empty(warn_points=2, rate_points=3).moved(
        _layout({}), _layout({"g": {("t", 0): 0}})
    )
    for t in range(1, 6):
        slots.advance(float(t), np.array([t * 10]), np.array([t]))
    points = slots.commit_points()
    assert [t for t, _ in points] == [3.0, 4.0, 5.0]
    assert [int(v[0]) for _, v in points] == [30, 40, 50]


def test_nbytes_counts_every_column_of_the_history() -> None:
    # 3 slots, 2 log partitions, 4 warn points, 5 rate points; int64/float64 = 8 bytes.
    slots = Slots._sized(4, 5, 3, 2)
    per_slot = 12 * 8 + 2 * 4 * 8  # StatusState: 12 scalar columns, 2 point columns
    per_slot += 1 + 5 * 8  # t_have (bool); t_commit, t_end, t_start, first_ts, last_ts
    per_slot += 8  # r_commit: the newest value (no point has changes yet)
    expected = 3 * per_slot + 5 * 8 + 2 * 5 * 8  # r_times; r_end per log partition
    assert slots.nbytes() == expected
    assert Slots.empty(4, 5).nbytes() == 5 * 8  # r_times alone
