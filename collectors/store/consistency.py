"""Store side of issue 12: writes and reads of visibility samples, probe samples and
per-minute SLO counts (tables: ``store/consistency_schema.py``, migration 4).

Functions take a DuckDB cursor; ``Store.transaction`` / ``Store.query`` run them, so
writes stay serialised with the store's other writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from collectors.core.probes import ProbeSample
from collectors.core.visibility import VisibilityBatch

VISIBILITY_SCHEMA = pa.schema(
    [
        ("observed_at", pa.float64()),
        ("cluster", pa.string()),
        ("group_name", pa.string()),
        ("topic", pa.string()),
        ("partition", pa.int32()),
        ("committed", pa.int64()),
        ("latency_s", pa.float64()),
        ("resolution_s", pa.float64()),
        ("replay", pa.bool_()),
    ]
)


def visibility_table(batches: Sequence[VisibilityBatch]) -> pa.Table:
    """The batches' samples as one Arrow table (keys taken from the cached key arrays)."""
    tables = []
    for batch in batches:
        s = batch.samples
        if not len(s):
            continue
        keys = batch.keys.arrow()
        rows = pa.array(s.rows)
        columns = {
            "observed_at": pa.array(np.full(len(s), s.observed_at)),
            **{name: pc.take(array, rows) for name, array in keys.items()},
            "committed": pa.array(s.committed, type=pa.int64()),
            "latency_s": pa.array(s.latency_s),
            "resolution_s": pa.array(s.resolution_s),
            "replay": pa.array(s.replay),
        }
        tables.append(pa.table(columns, schema=VISIBILITY_SCHEMA))
    return pa.concat_tables(tables) if tables else VISIBILITY_SCHEMA.empty_table()


def insert_visibility(cursor: duckdb.DuckDBPyConnection, table: pa.Table) -> int:
    if not table.num_rows:
        return 0
    cursor.register("_lw_visibility", table)
    try:
        cursor.execute("INSERT INTO visibility_samples BY NAME SELECT * FROM _lw_visibility")
    finally:
        cursor.unregister("_lw_visibility")
    return table.num_rows


def insert_probes(cursor: duckdb.DuckDBPyConnection, samples: Sequence[ProbeSample]) -> None:
    if not samples:
        return
    cursor.executemany(
        "INSERT INTO probe_samples VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                s.started_at, s.probe, s.target, s.probe_id, s.start_source, s.visible_at,
                s.latency_s, s.outcome, s.reason, s.checks, s.finished_at,
            ]
            for s in samples
        ],
    )  # fmt: skip


def add_slo_counts(
    cursor: duckdb.DuckDBPyConnection, bucket_end: float, rows: Sequence[tuple[str, str, int, int]]
) -> None:
    """Add (cluster, group, good, total) to the minute ending at ``bucket_end``."""
    if not rows:
        return
    cursor.executemany(
        "INSERT INTO slo_minutes VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (bucket_end, cluster, group_name) DO UPDATE SET "
        "good = slo_minutes.good + excluded.good, total = slo_minutes.total + excluded.total",
        [[bucket_end, c, g, good, total] for c, g, good, total in rows],
    )


# --- reads ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisibilityValues:
    observed_at: np.ndarray
    latency_s: np.ndarray
    clusters: list[str]  # clusters the group's samples come from
    replay_count: int


def visibility_values(
    cursor: duckdb.DuckDBPyConnection,
    group: str,
    start: float,
    end: float,
    cluster: str | None = None,
    topic: str | None = None,
) -> VisibilityValues:
    """Non-replay samples of ``group`` with ``start <= observed_at <= end`` (optionally
    one cluster, one topic), and how many replay samples were left out."""
    where = "group_name = $group AND observed_at >= $start AND observed_at <= $end"
    params: dict[str, object] = {"group": group, "start": start, "end": end}
    if cluster is not None:
        where += " AND cluster = $cluster"
        params["cluster"] = cluster
    if topic is not None:
        where += " AND topic = $topic"
        params["topic"] = topic
    arrays = cursor.execute(
        f"SELECT observed_at, latency_s FROM visibility_samples WHERE {where} AND NOT replay",
        params,
    ).fetchnumpy()
    replay, clusters = cursor.execute(
        f"SELECT count(*) FILTER (WHERE replay), list(DISTINCT cluster ORDER BY cluster) "
        f"FROM visibility_samples WHERE {where}",
        params,
    ).fetchone()
    return VisibilityValues(
        observed_at=np.asarray(arrays["observed_at"], dtype=np.float64),
        latency_s=np.asarray(arrays["latency_s"], dtype=np.float64),
        clusters=list(clusters or []),
        replay_count=int(replay or 0),
    )


def has_group(cursor: duckdb.DuckDBPyConnection, group: str) -> bool:
    """Whether any sample (of any time) of ``group`` is stored."""
    row = cursor.execute(
        "SELECT 1 FROM visibility_samples WHERE group_name = ? LIMIT 1", [group]
    ).fetchone()
    return row is not None


def probe_samples(cursor: duckdb.DuckDBPyConnection, start: float, end: float) -> list[ProbeSample]:
    """Finished probes with ``start <= started_at <= end``, oldest first."""
    rows = cursor.execute(
        "SELECT probe, target, probe_id, started_at, start_source, visible_at, outcome, "
        "reason, checks, finished_at FROM probe_samples "
        "WHERE started_at >= ? AND started_at <= ? ORDER BY started_at",
        [start, end],
    ).fetchall()
    return [ProbeSample(*row) for row in rows]


def slo_minutes(
    cursor: duckdb.DuckDBPyConnection, cluster: str, group: str, after: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bucket_end, good, total) columns of one SLO's minutes ending after ``after``."""
    arrays = cursor.execute(
        "SELECT bucket_end, good, total FROM slo_minutes "
        "WHERE cluster = ? AND group_name = ? AND bucket_end > ?",
        [cluster, group, after],
    ).fetchnumpy()
    return (
        np.asarray(arrays["bucket_end"], dtype=np.float64),
        np.asarray(arrays["good"], dtype=np.int64),
        np.asarray(arrays["total"], dtype=np.int64),
    )
