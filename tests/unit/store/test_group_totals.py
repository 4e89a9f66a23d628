"""Cycles that store no partition rows sum committed and log end from a narrow table
(``partition_totals_table``): the group rows come out as with the whole table."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from collectors.core.partition_table import PartitionRows
from collectors.store.columns import partition_table, partition_totals_table
from collectors.store.db import Store
from tests.unit.core.test_partition_table import EXPECTED, _table
from tests.unit.store import snapshots as ss

_COLUMNS = ["cluster", "group_name", "topic", "committed", "log_end"]


def test_the_narrow_table_holds_the_key_and_offset_columns() -> None:
    rows = PartitionRows([_table()])
    narrow = partition_totals_table(rows)
    assert narrow.column_names == ["cluster", "group_name", "topic", "committed", "log_end"]
    assert narrow.num_rows == 2  # summed per group-topic
    # Row objects (no table behind them) give one row per partition, unsummed.
    assert partition_totals_table(EXPECTED).equals(partition_table(rows).select(_COLUMNS))


def test_group_rows_sum_the_same_with_and_without_partition_rows(tmp_path: Path) -> None:
    snapshot = replace(ss.snapshot(100.0, EXPECTED), partitions=PartitionRows([_table()]))
    sql = "SELECT group_name, {cols}, committed, log_end FROM {table} ORDER BY ALL"
    results = []
    for name, write in (("narrow", Store.write_group_samples), ("whole", Store.write_snapshot)):
        with Store(tmp_path / f"{name}.duckdb") as store:
            write(store, snapshot)
            results.append(
                [
                    store.query(lambda c, q=q: c.execute(q).fetchall())
                    for q in (
                        sql.format(cols="members", table="group_samples"),
                        sql.format(cols="topic", table="group_topic_samples"),
                    )
                ]
            )
    assert results[0] == results[1]
    groups, topics = results[0]
    # a: committed 4 + 3, log end 10 (the other partition's is unknown); b: none known
    assert [(g[0], g[2], g[3]) for g in groups] == [("a", 7, 10), ("b", None, 12)]
    assert len(topics) == 2
