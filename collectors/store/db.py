"""DuckDB adapter: the collector's history of samples, rollups and annotations.

One process writes (the collector owns the file). Inside it, one writer thread calls
``write_snapshot``/``rollup``/``enforce_retention`` while HTTP threads call ``series`` and
``annotations``: every thread gets its own cursor on the one connection (DuckDB's MVCC
gives readers a consistent view), and writes are serialised by a lock.

Durability: every write is one transaction; DuckDB's write-ahead log makes a committed
transaction survive ``kill -9``, and an interrupted one is discarded on the next open.
Schema, retention and offline use: ``docs/storage.md``.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import duckdb

from collectors.core.model import Annotation, Snapshot
from collectors.store import series
from collectors.store.columns import (
    INSERT_GROUP_TOPICS,
    INSERT_GROUPS,
    INSERT_PARTITIONS,
    group_table,
    group_topic_table,
    partition_table,
    partition_totals_table,
)
from collectors.store.schema import ROLLUP_SQL, apply_migrations, current_version, scalar
from collectors.store.series import SERIES_METRICS

if TYPE_CHECKING:
    from collectors.settings import Settings

__all__ = ["SERIES_METRICS", "RetentionResult", "Store", "StoreError", "open_store"]

_ROLLUP_MINUTE_S = 60.0
_RAW_TABLES = ("partition_samples", "group_topic_samples")  # group_samples: see retention
# (table, time column, which retention) of migration 4 (store/consistency_schema.py).
_CONSISTENCY_RETENTION = (
    ("visibility_samples", "observed_at", "raw"),
    ("probe_samples", "started_at", "raw"),
    ("slo_minutes", "bucket_end", "rollup"),
)
# Enough for a snapshot insert (measured: 100,000 rows need more than 16 MiB and pass at
# 24; at 32, 1,000,000 rows with group and topic names of 137 characters pass too: DuckDB
# writes finished row groups of a big insert to the file) and the API's queries; bigger
# queries spill to disk instead of growing the process. DuckDB keeps the blocks of
# written rows cached up to this cap, so it is also what a long-running collector's store
# settles at: after 40 inserts of 100,000 rows the process held 44 MB less at 32 MiB
# than at 64.
DEFAULT_MEMORY_LIMIT_MIB = 32
# One: the writes are small and frequent, and a second DuckDB thread only added CPU to
# each (13 ms/s at 100,000 group-partitions); big reads are slower (2,000,000 rows
# grouped: 190 ms instead of 127) but rare. ``[store] threads`` raises it.
DEFAULT_THREADS = 1
T = TypeVar("T")


class StoreError(Exception):
    """The store file cannot be opened or used (message names the path)."""


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """Rows removed by one ``enforce_retention`` call (and rollup rows it wrote first)."""

    partition_rows: int
    group_rows: int
    group_topic_rows: int
    rollup_rows: int
    annotation_rows: int
    rolled_up_rows: int

    @property
    def raw_rows(self) -> int:
        return self.partition_rows + self.group_rows + self.group_topic_rows


class Store:
    """The collector's DuckDB file. Create one per process; ``close()`` when done."""

    def __init__(
        self,
        path: str | Path,
        *,
        raw_retention_s: float = 86_400,
        rollup_retention_s: float = 30 * 86_400,
        memory_limit_mib: int = DEFAULT_MEMORY_LIMIT_MIB,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        """Open or create the file at ``path`` (creating missing parent directories) and
        apply pending migrations.

        ``memory_limit_mib`` caps DuckDB's buffer manager (its default is 80% of the
        machine's RAM); a query that needs more spills to ``<path>.tmp``. ``threads``:
        DuckDB's worker threads.

        Raises ``ValueError`` for a non-positive retention, memory limit or thread count,
        and ``StoreError`` (naming the path) when the file is not a DuckDB database, is
        locked by another process, or has a schema newer than this code.
        """
        for name, value in (
            ("raw_retention_s", raw_retention_s),
            ("rollup_retention_s", rollup_retention_s),
        ):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value}")
        for name, count in (("memory_limit_mib", memory_limit_mib), ("threads", threads)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"{name} must be a positive whole number, got {count!r}")
        self.path = Path(path)
        self.raw_retention_s = float(raw_retention_s)
        self.rollup_retention_s = float(rollup_retention_s)
        config = {"memory_limit": f"{memory_limit_mib}MiB", "threads": threads}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = duckdb.connect(str(self.path), config=config)
        except (OSError, duckdb.Error) as exc:
            raise StoreError(f"cannot open lagwatch store {self.path}: {exc}") from exc
        try:
            apply_migrations(self._conn)
        except (RuntimeError, duckdb.Error) as exc:
            self._conn.close()
            raise StoreError(f"cannot migrate lagwatch store {self.path}: {exc}") from exc
        self._lock = threading.Lock()  # guards the cursor registry and ``_closed``
        self._write_lock = threading.Lock()  # one write transaction at a time
        self._local = threading.local()
        self._cursors: dict[int, tuple[weakref.ref[threading.Thread], duckdb.DuckDBPyConnection]]
        self._cursors = {}
        self._closed = False

    # -- connection plumbing -------------------------------------------------------------

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor. Cursors of finished threads are closed as new ones open."""
        if self._closed:
            raise StoreError(f"store {self.path} is closed")
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is not None:
            return cursor
        with self._lock:
            if self._closed:
                raise StoreError(f"store {self.path} is closed")
            for key, (thread_ref, old) in list(self._cursors.items()):
                thread = thread_ref()
                if thread is None or not thread.is_alive():
                    old.close()
                    del self._cursors[key]
            cursor = self._conn.cursor()
            self._cursors[id(cursor)] = (weakref.ref(threading.current_thread()), cursor)
        self._local.cursor = cursor
        return cursor

    def close(self) -> None:
        """Close every cursor and the connection (checkpointing the WAL). Idempotent;
        any later call on this store raises ``StoreError``."""
        with self._write_lock, self._lock:
            if self._closed:
                return
            self._closed = True
            for _, cursor in self._cursors.values():
                cursor.close()
            self._cursors.clear()
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self.close()

    def schema_version(self) -> int:
        """Highest migration applied to the file."""
        return current_version(self._cursor())

    # -- writes ---------------------------------------------------------------------------

    def write_snapshot(self, snapshot: Snapshot) -> None:
        """Store one cycle: a row per partition, per group and per group-topic, in ONE
        transaction (all or nothing). Group and group-topic rows also get ``committed`` and
        ``log_end`` summed over the snapshot's partitions (NULL when none is known).
        An empty snapshot writes nothing and succeeds."""
        self._write(snapshot, partitions=True)

    def write_group_samples(self, snapshot: Snapshot) -> None:
        """Store one cycle's group and group-topic rows only, in one transaction: the
        cycles between two partition samples (``store.sampling``). Their ``committed``
        and ``log_end`` sums still come from every partition of the snapshot."""
        self._write(snapshot, partitions=False)

    def _write(self, snapshot: Snapshot, *, partitions: bool) -> None:
        # Between partition samples only the columns the group sums read are built.
        rows = partition_table if partitions else partition_totals_table
        tables = {
            "_lw_partitions": rows(snapshot.partitions),
            "_lw_groups": group_table(snapshot.groups),
            "_lw_topics": group_topic_table(snapshot.topics),
        }
        with self._write_lock:
            cursor = self._cursor()
            for name, table in tables.items():
                cursor.register(name, table)
            try:
                cursor.begin()
                try:
                    if partitions:
                        cursor.execute(INSERT_PARTITIONS)
                    cursor.execute(INSERT_GROUPS)
                    cursor.execute(INSERT_GROUP_TOPICS)
                    cursor.commit()
                except BaseException:
                    cursor.rollback()
                    raise
            finally:
                for name in tables:
                    cursor.unregister(name)

    def add_annotation(self, annotation: Annotation) -> None:
        """Store one annotation (its own transaction)."""
        with self._write_lock:
            self._cursor().execute(
                "INSERT INTO annotations VALUES (?, ?, ?, ?, ?)",
                [
                    annotation.at,
                    annotation.kind,
                    annotation.cluster,
                    annotation.group,
                    annotation.message,
                ],
            )

    def rollup(self, now: float) -> int:
        """Roll group samples up per (cluster, group, minute) for every complete minute
        (ending at or before ``now``) not rolled up yet; returns rows written.

        A watermark remembers how far rollups got, so each minute is rolled up once;
        group samples written later for an already rolled-up minute are not rolled up.
        """
        hi = math.floor(now / _ROLLUP_MINUTE_S) * _ROLLUP_MINUTE_S
        with self._write_lock:
            cursor = self._cursor()
            cursor.begin()
            try:
                lo = scalar(cursor, "SELECT max(rolled_up_until) FROM rollup_state")
                if lo is None:
                    first = scalar(cursor, "SELECT min(observed_at) FROM group_samples")
                    if first is None:
                        cursor.rollback()
                        return 0
                    lo = math.floor(first / _ROLLUP_MINUTE_S) * _ROLLUP_MINUTE_S
                if lo >= hi:
                    cursor.rollback()
                    return 0
                written = scalar(cursor, ROLLUP_SQL, {"lo": lo, "hi": hi})
                cursor.execute("DELETE FROM rollup_state")
                cursor.execute("INSERT INTO rollup_state VALUES (?)", [hi])
                cursor.commit()
            except BaseException:
                cursor.rollback()
                raise
        return int(written or 0)

    def enforce_retention(self, now: float) -> RetentionResult:
        """Delete raw samples older than ``now - raw_retention_s`` and rollups and
        annotations older than ``now - rollup_retention_s``.

        Runs ``rollup(now)`` first, and never deletes a group sample that is not rolled up
        yet, so history survives in the rollups whatever the retention settings.
        """
        rolled_up = self.rollup(now)
        raw_cut = now - self.raw_retention_s
        rollup_cut = now - self.rollup_retention_s
        with self._write_lock:
            cursor = self._cursor()
            cursor.begin()
            try:
                watermark = scalar(cursor, "SELECT max(rolled_up_until) FROM rollup_state")
                if watermark is None:
                    watermark = -math.inf
                counts = {
                    table: _delete(cursor, table, "observed_at", raw_cut) for table in _RAW_TABLES
                }
                group_rows = _delete(
                    cursor, "group_samples", "observed_at", min(raw_cut, watermark)
                )
                rollup_rows = _delete(cursor, "group_rollups_1m", "minute", rollup_cut)
                for table, column, cut in _CONSISTENCY_RETENTION:
                    _delete(cursor, table, column, raw_cut if cut == "raw" else rollup_cut)
                annotation_rows = _delete(cursor, "annotations", "observed_at", rollup_cut)
                cursor.commit()
            except BaseException:
                cursor.rollback()
                raise
        return RetentionResult(
            partition_rows=counts["partition_samples"],
            group_rows=group_rows,
            group_topic_rows=counts["group_topic_samples"],
            rollup_rows=rollup_rows,
            annotation_rows=annotation_rows,
            rolled_up_rows=rolled_up,
        )

    def transaction(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work(cursor)`` as one write transaction (all or nothing), serialised with
        every other write: the hook for writers in other store modules."""
        with self._write_lock:
            cursor = self._cursor()
            cursor.begin()
            try:
                result = work(cursor)
                cursor.commit()
            except BaseException:
                cursor.rollback()
                raise
        return result

    def query(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work(cursor)`` on this thread's cursor (reads; no lock taken)."""
        return work(self._cursor())

    # -- reads ----------------------------------------------------------------------------

    def annotations(
        self, start: float, end: float, group: str | None = None, cluster: str | None = None
    ) -> list[Annotation]:
        """Annotations with ``start <= at <= end``, oldest first.

        ``group``/``cluster`` given: that group's (cluster's) annotations plus those tied
        to no group (no cluster), e.g. collector restarts, which belong on every chart.
        """
        sql = "SELECT observed_at, kind, cluster, group_name, message FROM annotations "
        sql += "WHERE observed_at >= $start AND observed_at <= $end"
        params: dict[str, object] = {"start": start, "end": end}
        if group is not None:
            sql += " AND (group_name = $group OR group_name IS NULL)"
            params["group"] = group
        if cluster is not None:
            sql += " AND (cluster = $cluster OR cluster IS NULL)"
            params["cluster"] = cluster
        rows = self._cursor().execute(sql + " ORDER BY observed_at", params).fetchall()
        return [
            Annotation(at=at, kind=kind, cluster=cl, group=gr, message=msg)
            for at, kind, cl, gr, msg in rows
        ]

    def series(
        self,
        metric: str,
        group: str,
        *,
        cluster: str | None = None,
        topic: str | None = None,
        partition: int | None = None,
        start: float,
        end: float,
        step: float | None = None,
        max_points: int = 2000,
    ) -> list[tuple[float, float | None]]:
        """``(bucket_start, value)`` pairs, oldest first, for ``start <= t <= end``.

        Level: group (no topic), topic (topic), partition (topic and partition).
        Buckets are ``step = max(step or 0, (end - start) / max_points)`` wide, at most
        ``max_points`` of them; only buckets holding samples are returned, with None when
        none of them knew the value. Reduction: max for offset_lag, staleness_s,
        data_age_s, eta_s; mean for rates; last known value for committed, log_end,
        members. Group-level series continue into per-minute rollups before the first raw
        sample; topic and partition series reach back only as far as raw retention.

        Raises ``ValueError`` for an unknown metric (listing the allowed ones), ``members``
        below group level, a partition without topic, or a bad range/step/max_points.
        """
        query = series.validate(
            metric,
            group,
            cluster=cluster,
            topic=topic,
            partition=partition,
            start=start,
            end=end,
            step=step,
            max_points=max_points,
        )
        cursor = self._cursor()
        cutoff: float | None = None
        if topic is None:
            sql, params = series.cutoff_sql(query)
            first = scalar(cursor, sql, params)
            first_raw = math.inf if first is None else first
            cutoff = first_raw if start < first_raw else None
        sql, params = series.series_sql(query, cutoff)
        return [(float(t), v) for t, v in cursor.execute(sql, params).fetchall()]


def open_store(settings: Settings) -> Store:
    """The store as configured: the file ``collector.store`` with the collector's
    retention and ``[store]``'s DuckDB memory limit and threads. The caller handles
    ``collector.store = "none"`` (no store at all). Raises like ``Store``."""
    return Store(
        settings.collector.store,
        raw_retention_s=settings.collector.raw_retention_h * 3600,
        rollup_retention_s=settings.collector.rollup_retention_d * 86400,
        memory_limit_mib=settings.store.memory_limit_mib,
        threads=settings.store.threads,
    )


def _delete(cursor: duckdb.DuckDBPyConnection, table: str, column: str, before: float) -> int:
    """Delete rows with ``column < before``; table/column come from this module only."""
    return int(scalar(cursor, f"DELETE FROM {table} WHERE {column} < ?", [before]) or 0)
