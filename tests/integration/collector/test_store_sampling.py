"""The running collector honours ``store.partition_sample_interval_s``: group rows every
cycle, partition rows only as often as configured (real broker, real DuckDB file)."""

from __future__ import annotations

import itertools
from pathlib import Path

from collectors.bootstrap import build_service
from collectors.settings import load_settings
from collectors.store.db import open_store

from .conftest import commit, produce, wait_until

CYCLE_S = 0.2
PARTITION_EVERY_S = 1.0


def test_partition_rows_are_sparser_than_group_rows(
    kafka_bootstrap: str, tmp_path: Path, create_topic, group_name
) -> None:
    topic = create_topic(partitions=2)
    for p in range(2):
        produce(kafka_bootstrap, topic, 5, partition=p)
    group = group_name()
    for p in range(2):
        commit(kafka_bootstrap, group, topic, 2, partition=p)
    settings = load_settings(
        env={"LAGWATCH_STORE__PARTITION_SAMPLE_INTERVAL_S": str(PARTITION_EVERY_S)},
        overrides={
            "clusters.bootstrap_servers": kafka_bootstrap,
            "clusters.include": [group],
            "collector.interval_s": CYCLE_S,
            "collector.store": str(tmp_path / "lw.duckdb"),
        },
    )
    store = open_store(settings)
    service = build_service(settings, store=store)

    def times(table: str) -> list[float]:
        sql = f"SELECT DISTINCT observed_at FROM {table} WHERE group_name = ? ORDER BY 1"
        return [t for (t,) in store.query(lambda c: c.execute(sql, [group]).fetchall())]

    service.start()
    try:
        wait_until(lambda: len(times("group_samples")) >= 20, 60, "20 cycles stored")
    finally:
        service.stop()
    snapshot = service.snapshot()
    assert snapshot is not None
    longest_cycle = max(snapshot.stats.cycle_durations_s)
    try:
        cycles, sampled = times("group_samples"), times("partition_samples")
        rows = store.query(
            lambda c: c.execute(
                "SELECT count(*) FROM partition_samples WHERE group_name = ?", [group]
            ).fetchall()[0][0]
        )
    finally:
        store.close()
    assert sampled and sampled[0] == cycles[0]  # the first cycle keeps its partitions
    assert rows == 2 * len(sampled)  # both partitions, each time
    # The rule spaces cycle starts by at least PARTITION_EVERY_S - CYCLE_S / 2; rows
    # carry cycle ends, which can be closer by at most the longest cycle.
    least = PARTITION_EVERY_S - CYCLE_S / 2 - longest_cycle - 0.01
    gaps = [b - a for a, b in itertools.pairwise(sampled)]
    assert all(gap >= least for gap in gaps), (gaps, longest_cycle)
    span = cycles[-1] - cycles[0] + longest_cycle
    assert len(sampled) <= span / (PARTITION_EVERY_S - CYCLE_S / 2) + 1 < len(cycles)
