"""The DuckDB store against real DuckDB files in a temporary directory."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from collectors.core.model import Annotation, Status
from collectors.settings import load_settings
from collectors.store.db import (
    DEFAULT_MEMORY_LIMIT_MIB,
    DEFAULT_THREADS,
    SERIES_METRICS,
    RetentionResult,
    Store,
    StoreError,
    open_store,
)
from collectors.store.sampling import DEFAULT_PARTITION_SAMPLE_INTERVAL_S
from collectors.store.schema import LATEST_VERSION, MIGRATIONS, apply_migrations
from tests.unit.store import snapshots as ss


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "lagwatch.duckdb"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = Store(db_path)
    yield s
    s.close()


def count(path_or_store: Store, sql: str) -> int:
    return int(path_or_store._cursor().execute(sql).fetchall()[0][0])


# -- opening, migrations, bad files -------------------------------------------------------


def test_creates_missing_directories_and_applies_all_migrations(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "store.duckdb"
    with Store(path) as store:
        assert store.schema_version() == LATEST_VERSION == MIGRATIONS[-1].version
    assert path.is_file()


def test_reopening_is_idempotent_and_keeps_data(db_path: Path) -> None:
    with Store(db_path) as store:
        store.write_snapshot(ss.simple(100.0))
    with Store(db_path) as store:
        assert store.schema_version() == LATEST_VERSION
        assert count(store, "SELECT count(*) FROM schema_version") == len(MIGRATIONS)
        assert store.series("committed", "g", start=0, end=200, step=200) == [(0.0, 21.0)]


def test_v1_file_is_migrated_on_open(db_path: Path) -> None:
    conn = duckdb.connect(str(db_path))
    assert apply_migrations(conn, MIGRATIONS[:1]) == [1]
    conn.execute(
        "INSERT INTO group_samples VALUES (90.0, 'c', 'g', 'STABLE', 3, ['t'], "
        "7, 1.0, 2.0, NULL, NULL, NULL, 'OK', 1, 0, 0, 5, 12)"
    )
    conn.close()

    with Store(db_path) as store:
        assert store.schema_version() == LATEST_VERSION
        assert store.series("offset_lag", "g", start=0, end=100) == [(90.0, 7.0)]
        assert store.rollup(now=200.0) == 1  # migration 2's tables exist and work
    with Store(db_path) as store:  # and opening again applies nothing
        assert count(store, "SELECT count(*) FROM schema_version") == len(MIGRATIONS)


def test_not_a_database_raises_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("this is not a database\n" * 100)
    with pytest.raises(StoreError, match=r"notes\.duckdb"):
        Store(path)
    assert path.read_text().startswith("this is not a database")  # untouched


def test_schema_newer_than_code_is_refused(db_path: Path) -> None:
    Store(db_path).close()
    conn = duckdb.connect(str(db_path))
    conn.execute("INSERT INTO schema_version VALUES (999, 'from the future', 0)")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(db_path)


@pytest.mark.parametrize("kwargs", [{"raw_retention_s": 0}, {"rollup_retention_s": -1}])
def test_bad_retention_is_rejected(db_path: Path, kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="retention"):
        Store(db_path, **kwargs)


def duckdb_setting(store: Store, name: str) -> str:
    return store.query(lambda c: c.execute("SELECT current_setting(?)", [name]).fetchall()[0][0])


def test_duckdb_memory_is_capped_by_default(store: Store) -> None:
    # DuckDB's own default is 80% of the machine's RAM.
    assert duckdb_setting(store, "memory_limit") == f"{DEFAULT_MEMORY_LIMIT_MIB}.0 MiB"
    assert duckdb_setting(store, "threads") == DEFAULT_THREADS
    assert duckdb_setting(store, "temp_directory") == f"{store.path}.tmp"  # where it spills


def test_store_settings_reach_duckdb(tmp_path: Path) -> None:
    settings = load_settings(
        env={
            "LAGWATCH_STORE": str(tmp_path / "configured.duckdb"),
            "LAGWATCH_STORE__MEMORY_LIMIT_MIB": "96",
            "LAGWATCH_STORE__THREADS": "2",
            "LAGWATCH_COLLECTOR__RAW_RETENTION_H": "2",
        }
    )
    with open_store(settings) as store:
        assert store.path == tmp_path / "configured.duckdb"
        assert duckdb_setting(store, "memory_limit") == "96.0 MiB"
        assert duckdb_setting(store, "threads") == 2
        assert store.raw_retention_s == 7_200


def test_defaults_of_store_and_settings_agree() -> None:
    store = load_settings(env={}).store
    assert (store.memory_limit_mib, store.threads) == (DEFAULT_MEMORY_LIMIT_MIB, DEFAULT_THREADS)
    assert store.partition_sample_interval_s == DEFAULT_PARTITION_SAMPLE_INTERVAL_S


@pytest.mark.parametrize(
    "kwargs", [{"memory_limit_mib": 0}, {"threads": -1}, {"memory_limit_mib": 1.5}]
)
def test_bad_duckdb_limits_are_rejected(db_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=f"{next(iter(kwargs))} must be a positive whole"):
        Store(db_path, **kwargs)  # type: ignore[arg-type]


def test_closed_store_refuses_work_and_close_is_idempotent(db_path: Path) -> None:
    store = Store(db_path)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.series("offset_lag", "g", start=0, end=1)


# -- writes -------------------------------------------------------------------------------


def test_write_snapshot_stores_partition_group_and_topic_rows(store: Store) -> None:
    store.write_snapshot(ss.simple(100.0, committed=10))
    assert count(store, "SELECT count(*) FROM partition_samples") == 2
    row = store._cursor().execute(
        "SELECT members, topics, offset_lag, committed, log_end, status FROM group_samples"
    )
    # committed/log_end of a group are sums over its partitions: 10 + 11, 15 + 15
    assert row.fetchall() == [(2, ["t"], 9, 21, 30, "OK")]
    topic = store._cursor().execute("SELECT topic, committed FROM group_topic_samples")
    assert topic.fetchall() == [("t", 21)]


def test_every_status_value_can_be_stored(store: Store) -> None:
    parts = [ss.partition(1.0, partition=i, status=s) for i, s in enumerate(Status)]
    store.write_snapshot(ss.snapshot(1.0, parts))
    stored = store._cursor().execute("SELECT DISTINCT status FROM partition_samples")
    assert {r[0] for r in stored.fetchall()} == {s.value for s in Status}


def test_write_snapshot_is_one_transaction(store: Store) -> None:
    good = ss.simple(100.0)
    bad = ss.simple(200.0)
    bad = replace(bad, groups=(replace(bad.groups[0], state=None),))  # a NOT NULL column
    store.write_snapshot(good)
    with pytest.raises(duckdb.Error):
        store.write_snapshot(bad)
    # the partitions of the failed snapshot were inserted first, and rolled back
    assert count(store, "SELECT count(*) FROM partition_samples") == 2
    store.write_snapshot(ss.simple(300.0))  # and the store is still usable
    assert count(store, "SELECT count(*) FROM group_samples") == 2


def test_empty_snapshot_is_fine(store: Store) -> None:
    store.write_snapshot(ss.snapshot(1.0, []))
    assert store.series("offset_lag", "g", start=0, end=10) == []


def test_values_are_parameters_not_sql(store: Store) -> None:
    evil = "g'); DROP TABLE group_samples; --"
    store.write_snapshot(ss.snapshot(5.0, [ss.partition(5.0, group=evil, topic=evil)]))
    assert store.series("offset_lag", evil, topic=evil, partition=0, start=0, end=10) == [
        (5.0, 5.0)
    ]
    assert store.series("offset_lag", evil, cluster="c", start=0, end=10) == [(5.0, 5.0)]


# -- series -------------------------------------------------------------------------------


def test_series_levels_and_aggregations(store: Store) -> None:
    for i, at in enumerate((100.0, 110.0, 120.0, 130.0)):
        parts = [
            ss.partition(at, partition=0, committed=10 + i, log_end=20, consume_rate=float(i)),
            ss.partition(at, partition=1, committed=5, log_end=30, consume_rate=None),
            ss.partition(at, topic="u", partition=0, committed=1, log_end=2),
        ]
        store.write_snapshot(ss.snapshot(at, parts, members=i))

    # two buckets of 20 s: [100, 120) and [120, 140]
    kw = {"start": 100.0, "end": 140.0, "step": 20.0}
    # partition level: max of lag, last committed, mean of known rates
    assert store.series("offset_lag", "g", topic="t", partition=0, **kw) == [
        (100.0, 10.0),
        (120.0, 8.0),
    ]
    assert store.series("committed", "g", topic="t", partition=0, **kw) == [
        (100.0, 11.0),
        (120.0, 13.0),
    ]
    assert store.series("consume_rate", "g", topic="t", partition=0, **kw) == [
        (100.0, 0.5),
        (120.0, 2.5),
    ]
    # a partition whose rate was never known: buckets exist, values are None
    assert store.series("consume_rate", "g", topic="t", partition=1, **kw) == [
        (100.0, None),
        (120.0, None),
    ]
    # topic level (group-topic rows): lag = sum over t's partitions, max per bucket
    assert store.series("offset_lag", "g", topic="t", **kw) == [(100.0, 35.0), (120.0, 33.0)]
    # group level: members (last), committed = sum over all partitions (last)
    assert store.series("members", "g", **kw) == [(100.0, 1.0), (120.0, 3.0)]
    assert store.series("committed", "g", **kw) == [(100.0, 17.0), (120.0, 19.0)]
    # filters that match nothing
    assert store.series("offset_lag", "g", cluster="other", **kw) == []
    assert store.series("offset_lag", "nope", **kw) == []


def test_series_never_returns_more_than_max_points(store: Store) -> None:
    for i in range(50):
        store.write_snapshot(ss.simple(float(i), committed=i))
    points = store.series("committed", "g", start=0, end=49, max_points=7)
    assert len(points) == 7
    assert [t for t, _ in points] == sorted(t for t, _ in points)
    assert points[-1][1] == 49 + 50  # the sample at exactly `end` is in the last bucket
    assert store.series("committed", "g", start=10, end=10) == [(10.0, 21.0)]
    # a larger step wins over (end - start) / max_points
    assert len(store.series("committed", "g", start=0, end=49, step=25)) == 2


def test_series_rejects_bad_requests(store: Store) -> None:
    with pytest.raises(ValueError) as info:
        store.series("lag", "g", start=0, end=1)
    assert "'lag'" in str(info.value)
    assert all(metric in str(info.value) for metric in SERIES_METRICS)
    with pytest.raises(ValueError, match="group level"):
        store.series("members", "g", topic="t", start=0, end=1)
    with pytest.raises(ValueError, match="without topic"):
        store.series("offset_lag", "g", partition=0, start=0, end=1)
    with pytest.raises(ValueError, match="before start"):
        store.series("offset_lag", "g", start=2, end=1)
    with pytest.raises(ValueError, match="max_points"):
        store.series("offset_lag", "g", start=0, end=1, max_points=0)


def test_series_metric_names_are_the_documented_ones() -> None:
    assert (
        frozenset(
            {
                "offset_lag",
                "staleness_s",
                "data_age_s",
                "consume_rate",
                "produce_rate",
                "eta_s",
                "committed",
                "log_end",
                "members",
            }
        )
        == SERIES_METRICS
    )


# -- annotations --------------------------------------------------------------------------


def test_annotations_round_trip_and_filters(store: Store) -> None:
    start = Annotation(at=10.0, kind="collector_start", cluster=None, group=None, message="up")
    change = Annotation(at=20.0, kind="status_change", cluster="c", group="g", message="OK→STALL")
    other = Annotation(at=30.0, kind="error", cluster="d", group="h", message="boom")
    for a in (other, change, start):
        store.add_annotation(a)
    assert store.annotations(0, 100) == [start, change, other]
    assert store.annotations(15, 25) == [change]
    # a group's chart also shows events that belong to no group (collector restarts)
    assert store.annotations(0, 100, group="g") == [start, change]
    assert store.annotations(0, 100, cluster="d") == [start, other]
    assert store.annotations(0, 100, group="g", cluster="d") == [start]


# -- rollups and retention ----------------------------------------------------------------


def test_rollup_covers_complete_minutes_once(store: Store) -> None:
    for at in (60.0, 90.0, 125.0, 130.0, 185.0):
        store.write_snapshot(ss.simple(at, committed=int(at)))
    assert store.rollup(now=150.0) == 1  # minute [60, 120); [120, 180) is not complete
    assert store.rollup(now=179.0) == 0
    assert store.rollup(now=180.0) == 1
    assert store.rollup(now=180.0) == 0
    assert store.rollup(now=250.0) == 1
    rows = store._cursor().execute(
        "SELECT minute, samples, consume_rate, consume_rate_n FROM group_rollups_1m ORDER BY 1"
    )
    assert rows.fetchall() == [(60.0, 2, 4.0, 2), (120.0, 2, 4.0, 2), (180.0, 1, 4.0, 1)]
    last = store._cursor().execute("SELECT committed FROM group_rollups_1m WHERE minute = 120")
    assert last.fetchall() == [(130 + 131,)]  # last known in the minute


def test_retention_keeps_history_in_rollups(db_path: Path) -> None:
    with Store(db_path, raw_retention_s=300, rollup_retention_s=3600) as store:
        for at in range(0, 600, 30):  # 20 snapshots over 10 minutes
            store.write_snapshot(ss.simple(float(at), committed=at))
        store.add_annotation(Annotation(0.0, "collector_start", None, None, "old"))
        result = store.enforce_retention(now=600.0)
        assert isinstance(result, RetentionResult)
        assert result.rolled_up_rows == 10
        assert (result.partition_rows, result.group_rows, result.group_topic_rows) == (20, 10, 10)
        assert result.raw_rows == 40
        assert result.rollup_rows == result.annotation_rows == 0
        # partition history now starts at the raw cutoff...
        assert store.series("committed", "g", topic="t", partition=0, start=0, end=600, step=60)[
            0
        ] == (300.0, 330.0)
        # ...while the group series reaches back through the rollups
        group = store.series("committed", "g", start=0, end=600, step=60)
        assert [t for t, _ in group] == [float(m) for m in range(0, 600, 60)]
        assert group[0] == (0.0, 30 + 31)  # last known in minute 0: the sample at 30 s
        lag = store.series("offset_lag", "g", start=0, end=600, step=600)
        assert lag == [(0.0, 29.0)]  # max over rollups and raw rows: (15 - 0) + (15 - 1)

        later = store.enforce_retention(now=3601.0)  # minute 0 expires, minute 60 stays
        assert later.rollup_rows == 1
        assert later.annotation_rows == 1


def test_retention_never_drops_group_samples_that_are_not_rolled_up(db_path: Path) -> None:
    with Store(db_path, raw_retention_s=1) as store:
        store.write_snapshot(ss.simple(100.0))
        store.write_snapshot(ss.simple(130.0))
        result = store.enforce_retention(now=150.0)  # minute [120, 180) is not complete
        assert result.rolled_up_rows == 1
        assert result.group_rows == 1
        assert store.series("committed", "g", start=0, end=200, step=200) == [(0.0, 21.0)]


# -- concurrency --------------------------------------------------------------------------


def test_readers_see_whole_snapshots_while_the_writer_writes(store: Store) -> None:
    writes = 30
    stop = threading.Event()
    errors: list[BaseException] = []
    seen: list[list[int]] = []

    def reader() -> None:
        mine: list[int] = []
        seen.append(mine)
        try:
            while not stop.is_set():
                points = store.series("committed", "g", start=0, end=1000, step=1)
                # each snapshot i is one bucket whose group committed is 2 * i + 1
                assert all(v == 2 * t + 1 for t, v in points), points
                assert [t for t, _ in points] == [float(i) for i in range(len(points))]
                part = store.series("committed", "g", topic="t", partition=1, start=0, end=1000)
                assert len(part) >= len(points)  # written in the same transaction, read later
                mine.append(len(points))
                store.annotations(0, 1000, group="g")
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for i in range(writes):
            bulk = [ss.partition(float(i), "bulk", "b", k) for k in range(300)]
            store.write_snapshot(
                ss.snapshot(float(i), [*ss.simple(float(i), committed=i).partitions, *bulk])
            )
            store.add_annotation(Annotation(float(i), "status_change", "c", "g", str(i)))
            if i % 10 == 9:
                store.rollup(now=float(i))
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=30)
    assert not errors, errors[0]
    assert all(lengths == sorted(lengths) for lengths in seen)  # never goes back in time
    assert sum(len(lengths) for lengths in seen) > 3
    assert len(store.series("committed", "g", start=0, end=1000, step=1)) == writes


def test_cursors_of_finished_threads_are_released(store: Store) -> None:
    for _ in range(20):
        t = threading.Thread(target=store.annotations, args=(0, 1))
        t.start()
        t.join()
    assert len(store._cursors) <= 2


def test_a_100000_partition_snapshot_fits_the_default_memory_cap(store: Store) -> None:
    # DuckDB refuses a write that needs more than memory_limit ("could not allocate
    # block"): 100,000 rows need more than 16 MiB (docs/configuration.md). Names longer
    # than DuckDB's 12-byte inline strings, so they take buffer memory as real ones do.
    from collectors.devtools.bench_metrics import synthetic_snapshot

    snapshot = synthetic_snapshot(groups=50, topics_per_group=20, partitions_per_topic=100, now=1e9)
    for taken_at in (1e9, 1e9 + 60):
        store.write_snapshot(replace(snapshot, taken_at=taken_at))
    rows = store.query(lambda c: c.execute("SELECT count(*) FROM partition_samples").fetchone())
    assert rows == (200_000,)
