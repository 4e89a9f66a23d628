"""The writer's policy over a real DuckDB file: group rows every cycle, partition rows
every ``partition_sample_interval_s``; and what the heatmap and series make of that."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from collectors.core.model import Snapshot
from collectors.store import heatmap
from collectors.store.db import Store
from collectors.store.writer import SnapshotWriter
from tests.unit.store import snapshots as ss

PARTITIONS = 4


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "lagwatch.duckdb") as s:
        yield s


def count(store: Store, table: str) -> int:
    return store.query(lambda c: c.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def cycle(start: float, duration: float, staleness: float = 1.0) -> Snapshot:
    """A cycle that started at ``start`` and took ``duration``: group "g", topic "t"."""
    at = start + duration
    parts = [ss.partition(at, partition=p, staleness_s=staleness) for p in range(PARTITIONS)]
    return replace(ss.snapshot(at, parts), cycle_duration_s=duration)


def run(writer: SnapshotWriter, starts: list[float], seed: int = 3) -> list[bool]:
    """Write one cycle per start; durations wander between 0.05 and 0.95 s, as at scale."""
    rng = random.Random(seed)
    return [writer.write(cycle(s, rng.uniform(0.05, 0.95))) for s in starts]


def test_n_cycles_write_partition_rows_once_per_interval(store: Store) -> None:
    writer = SnapshotWriter(store, partition_sample_interval_s=10.0, cycle_s=1.0)
    stored = run(writer, [1_000.0 + i for i in range(35)])
    assert [i for i, s in enumerate(stored) if s] == [0, 10, 20, 30]
    assert count(store, "partition_samples") == 4 * PARTITIONS
    assert count(store, "group_samples") == 35
    assert count(store, "group_topic_samples") == 35
    # Cycles without partition rows still sum committed/log_end over the partitions.
    unknown = store.query(
        lambda c: c.execute(
            "SELECT count(*) FROM group_samples WHERE committed IS NULL OR log_end IS NULL"
        ).fetchall()[0][0]
    )
    assert unknown == 0
    assert store.series("committed", "g", start=1_000, end=1_200, step=200) == [
        (1_000.0, 10.0 * PARTITIONS)
    ]


def test_interval_equal_to_the_cycle_writes_every_cycle(store: Store) -> None:
    writer = SnapshotWriter(store, partition_sample_interval_s=1.0, cycle_s=1.0)
    assert all(run(writer, [1_000.0 + i for i in range(20)]))
    assert count(store, "partition_samples") == 20 * PARTITIONS


def test_auto_interval_writes_every_cycle_of_a_small_cluster(store: Store) -> None:
    writer = SnapshotWriter(store, partition_sample_interval_s=None, cycle_s=1.0)
    assert all(run(writer, [1_000.0 + i for i in range(20)]))
    assert count(store, "partition_samples") == 20 * PARTITIONS


class _FailingOnce:
    """A store whose first full write fails (a full disk, say), then recovers."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.failed = False

    def write_snapshot(self, snapshot: Snapshot) -> None:
        if not self.failed:
            self.failed = True
            raise OSError("disk full")
        self.store.write_snapshot(snapshot)

    def write_group_samples(self, snapshot: Snapshot) -> None:
        self.store.write_group_samples(snapshot)


def test_a_failed_partition_write_is_retried_next_cycle(store: Store) -> None:
    writer = SnapshotWriter(_FailingOnce(store), partition_sample_interval_s=60.0, cycle_s=1.0)
    with pytest.raises(OSError):
        writer.write(cycle(1_000.0, 0.1))
    assert writer.partitions_at is None
    assert writer.write(cycle(1_001.0, 0.1))
    assert count(store, "partition_samples") == PARTITIONS


def test_heatmap_over_sparse_samples_has_no_empty_stripes_but_keeps_outages(
    store: Store,
) -> None:
    # What the writer leaves at 60 s: a sample every 60 s (+- the cycle's wander), for
    # 20 minutes, then a 10-minute outage, then 10 minutes more.
    rng = random.Random(11)
    for start in [*range(0, 1_200, 60), *range(1_800, 2_400, 60)]:
        store.write_snapshot(cycle(start, rng.uniform(0.05, 0.95)))
    matrix = store.query(
        lambda c: heatmap.query(
            c, "staleness_s", "g", cluster=None, topic=None, start=0, end=2_400, step=None
        )
    )
    # 2,400 s / 2,000 buckets would be 1.2 s wide: 59 of every 60 columns empty.
    assert 60.0 <= matrix.step_s <= 61.0
    assert len(matrix.rows) == PARTITIONS
    width, times = matrix.step_s, matrix.times

    def within(lo: float, hi: float) -> list[int]:
        return [i for i, t in enumerate(times) if t >= lo and t + width <= hi]

    sampled = within(0, 1_200) + within(1_800 + 60, 2_400)  # sampling ran throughout
    outage = within(1_200 + 60, 1_800)
    assert len(sampled) >= 25 and len(outage) >= 8
    for _topic, _partition, cells in matrix.rows:
        assert all(cells[i] == 1.0 for i in sampled)
        assert all(cells[i] is None for i in outage)  # a gap, never 0


def test_partition_series_returns_only_buckets_with_samples(store: Store) -> None:
    writer = SnapshotWriter(store, partition_sample_interval_s=10.0, cycle_s=1.0)
    for s in range(50):  # staleness = the cycle's start: each sample is recognisable
        writer.write(cycle(float(s), 0.5, staleness=float(s)))
    points = store.series("staleness_s", "g", topic="t", partition=0, start=0, end=50, step=1)
    assert points == [(t, t) for t in (0.0, 10.0, 20.0, 30.0, 40.0)]  # no zeros between
    group = store.series("staleness_s", "g", start=0, end=50, step=1)
    assert len(group) == 50  # group history keeps every cycle
