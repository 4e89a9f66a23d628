"""A partition table reads as the rows it stands for: objects, one group, Arrow."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from collectors.core.kernels import CODE, METHOD_CODE, NONE
from collectors.core.model import PartitionKey, PartitionLag, StalenessMethod, Status
from collectors.core.partition_table import (
    PartitionColumns,
    PartitionKeys,
    PartitionRows,
    PartitionTable,
)
from collectors.store.columns import _rows_table, partition_table

KEYS = [
    PartitionKey("c", "a", "t", 0),
    PartitionKey("c", "a", "t", 1),
    PartitionKey("c", "b", "t", 0),
]


def _table() -> PartitionTable:
    nan = np.nan
    columns = PartitionColumns(
        log_start=np.array([0, NONE, 2]),
        log_end=np.array([10, NONE, 12]),
        committed=np.array([4, 3, NONE]),
        offset_lag=np.array([6, NONE, 10]),
        no_commit=np.array([False, False, True]),
        events_expired=np.array([False, False, False]),
        staleness_s=np.array([1.5, nan, 0.0]),
        staleness_method=np.array(
            [METHOD_CODE[StalenessMethod.EXACT], METHOD_CODE[StalenessMethod.UNKNOWN], 1]
        ),
        data_age_s=np.array([9.0, nan, nan]),
        clock_skew=np.array([True, False, False]),
        consume_rate=np.array([2.0, nan, nan]),
        produce_rate=np.array([1.0, nan, 0.5]),
        eta_s=np.array([6.0, nan, nan]),
        status=np.array([CODE[Status.WARN], CODE[Status.ERROR], CODE[Status.STOPPED]]),
        errors={1: "UNKNOWN_TOPIC_OR_PART"},
        offset_gap=np.array([7, NONE, 10]),
        offset_out_of_range=np.array([False, False, True]),
        replay_progress=np.array([0.25, nan, nan]),
    )
    return PartitionTable(PartitionKeys(KEYS), 100.0, columns)


EXPECTED = [
    PartitionLag(KEYS[0], 100.0, 0, 10, 4, 6, False, False, 1.5, StalenessMethod.EXACT, 9.0,
                 True, 2.0, 1.0, 6.0, Status.WARN, None, 7, False, 0.25),
    PartitionLag(KEYS[1], 100.0, None, None, 3, None, False, False, None,
                 StalenessMethod.UNKNOWN, None, False, None, None, None, Status.ERROR,
                 "UNKNOWN_TOPIC_OR_PART", None, False, None),
    PartitionLag(KEYS[2], 100.0, 2, 12, None, 10, True, False, 0.0, StalenessMethod.ESTIMATED,
                 None, False, None, 0.5, None, Status.STOPPED, None, 10, True, None),
]  # fmt: skip


def test_rows_are_the_partition_lags_the_columns_stand_for() -> None:
    table = _table()
    assert len(table) == 3
    assert list(table) == EXPECTED
    assert table[2] == EXPECTED[2]


def test_one_groups_rows_without_building_the_others() -> None:
    table = _table()
    assert table.group_rows("c", "a") == EXPECTED[:2]
    assert table._rows is None  # only the slice was built
    assert table.group_rows("c", "b") == EXPECTED[2:]
    assert table.group_rows("c", "nope") == []
    assert table.group_rows("other", "a") == []


def test_rows_of_several_clusters_read_as_one_sequence() -> None:
    extra = PartitionLag(PartitionKey("d", "a", "t", 0), 100.0, None, None, None, None, False,
                         False, None, StalenessMethod.UNKNOWN, None, False, None, None, None,
                         Status.ERROR, "down")  # fmt: skip
    rows = PartitionRows([_table(), [], [extra]])
    assert len(rows) == 4
    assert list(rows) == [*EXPECTED, extra]
    assert rows[3] == extra
    assert rows.group_rows("d", "a") == [extra]
    assert rows.group_rows("c", "a") == EXPECTED[:2]


def test_arrow_columns_equal_the_row_objects_columns() -> None:
    fast = partition_table(PartitionRows([_table()]))
    slow = _rows_table(EXPECTED)
    assert fast.equals(slow), (fast.to_pylist(), slow.to_pylist())


def test_one_arrow_column_at_a_time_and_a_clear_error_for_a_name_it_lacks() -> None:
    table = _table()
    whole = partition_table(PartitionRows([table]))
    for name in whole.column_names:
        assert table.arrow_column(name).equals(whole[name].combine_chunks()), name
    with pytest.raises(KeyError, match="no column 'lag'; the columns are observed_at, "):
        table.arrow_column("lag")


def test_totals_sum_committed_and_log_end_per_group_topic_run() -> None:
    totals = _table().totals_arrow()
    assert list(totals) == ["cluster", "group_name", "topic", "committed", "log_end"]
    assert [totals[k].to_pylist() for k in ("group_name", "topic")] == [["a", "b"], ["t", "t"]]
    # a/t: committed 4 + 3, log end 10 (the other row's is unknown); b/t: no commit known
    assert totals["committed"].to_pylist() == [7, None]
    assert totals["log_end"].to_pylist() == [10, 12]


def _sums(keys: list[PartitionKey], values: list[int]) -> dict[tuple, int | None]:
    out: dict[tuple, int | None] = {}
    for k, v in zip(keys, values, strict=True):
        name = (k.cluster, k.group, k.topic)
        known = None if v == NONE else v
        out[name] = known if out.get(name) is None else out[name] + (known or 0)
    return out


def test_totals_summed_again_by_key_equal_the_sums_of_the_rows_on_random_tables() -> None:
    """What SQL's sum gives (nulls ignored, null when none is known), whether the keys
    are a list (here shuffled: one group-topic in several runs) or a layout's groups."""
    rng = np.random.default_rng(7)
    for _ in range(50):
        groups = [
            (f"g{g}", sorted({(f"t{rng.integers(3)}", int(rng.integers(4))) for _ in range(5)}))
            for g in range(int(rng.integers(0, 4)))
        ]
        listed = [PartitionKey("c", g, t, p) for g, tps in groups for t, p in tps]
        n = len(listed)
        order = rng.permutation(n)
        shuffled = [listed[i] for i in order]
        for keys, made in ((shuffled, PartitionKeys(shuffled)), (listed, None)):
            if made is None:
                made = PartitionKeys.of_groups("c", groups)
            committed = np.where(rng.random(n) < 0.3, NONE, rng.integers(0, 100, n))
            log_end = np.where(rng.random(n) < 0.3, NONE, rng.integers(0, 100, n))
            columns = PartitionColumns(*(np.zeros(n, dtype=np.int64),) * 14, errors={})
            columns = dataclasses.replace(columns, committed=committed, log_end=log_end)
            totals = PartitionTable(made, 1.0, columns).totals_arrow()
            keys_of = [totals[k].to_pylist() for k in ("cluster", "group_name", "topic")]
            names = list(zip(*keys_of, strict=True))
            for column, values in (("committed", committed), ("log_end", log_end)):
                again: dict[tuple, int | None] = {}
                for name, v in zip(names, totals[column].to_pylist(), strict=True):
                    again[name] = v if again.get(name) is None else again[name] + (v or 0)
                assert again == _sums(keys, values.tolist())


def test_keys_of_groups_read_as_the_same_keys_without_building_them() -> None:
    groups = [("a", [("t", 0), ("t", 1), ("u", 0)]), ("b", [("t", 0)]), ("c", [])]
    listed = PartitionKeys([PartitionKey("c1", g, t, p) for g, tps in groups for t, p in tps])
    lazy = PartitionKeys.of_groups("c1", groups)
    assert len(lazy) == len(listed) == 4
    for group in ("a", "b", "c", "missing"):
        assert lazy.group_range("c1", group) == listed.group_range("c1", group)
    assert lazy.group_range("other-cluster", "a") == (0, 0)
    for name, array in lazy.arrow().items():
        assert array.equals(listed.arrow()[name]), name
    assert lazy._keys is None  # none of the above built a key object
    assert lazy.keys == listed.keys
    assert all(type(k) is PartitionKey for k in lazy.keys)
