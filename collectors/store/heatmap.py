"""The partition-by-time matrix of one group: what the dashboard's heatmap draws.

One query over raw partition samples: every partition of the group is a row, every
time bucket a column, each cell the maximum of the metric in that bucket (the worst
staleness a partition had then). A bucket without samples is None, so a gap stays a
gap; a bucket whose samples all had an unknown value is None as well.

Partition samples can be sparser than cycles (``store.partition_sample_interval_s``:
50 s by default at 100,000 group-partitions), so buckets are never narrower than the
usual spacing of the group's samples in the range: otherwise most columns would be
empty stripes between samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb

from collectors.store.series import InvalidQuery

HEATMAP_METRICS = frozenset({"staleness_s", "offset_lag", "data_age_s"})


@dataclass(frozen=True, slots=True)
class Heatmap:
    start: float
    step_s: float
    times: list[float]  # bucket starts, ascending
    rows: list[tuple[str, int, list[float | None]]]  # (topic, partition, one value per bucket)


def buckets(start: float, end: float, step: float | None, max_buckets: int) -> tuple[float, int]:
    """Bucket width and count: ``max(step, (end - start) / max_buckets)``, at least 1 s.

    Raises ``InvalidQuery`` naming the parameter for a non-finite or reversed range."""
    if not (math.isfinite(start) and math.isfinite(end)):
        raise InvalidQuery("start", f"start and end must be finite, got {start}, {end}")
    if end <= start:
        raise InvalidQuery("end", f"end ({end}) must be after start ({start})")
    if step is not None and not (math.isfinite(step) and step > 0):
        raise InvalidQuery("step", f"step must be a positive number of seconds, got {step}")
    width = max(step or 0.0, (end - start) / max_buckets, 1.0)
    return width, min(max_buckets, max(1, math.ceil((end - start) / width)))


# A gap longer than this many times the median gap is an outage (kept as a gap),
# not the sampling rhythm.
_OUTAGE_FACTOR = 1.5


def sample_spacing(
    cursor: duckdb.DuckDBPyConnection, where: str, params: dict[str, object]
) -> float | None:
    """The usual time between partition samples matching ``where`` (per cluster): the
    longest gap not over 1.5x the median gap, so cycle jitter is covered and outages
    are not. A bucket at least this wide holds a sample wherever sampling ran. None with
    fewer than two sample times. A range mixing two rhythms gets the commoner one."""
    sql = (
        "WITH t AS (SELECT DISTINCT cluster, observed_at FROM partition_samples "
        f"WHERE {where}), "
        "d AS (SELECT observed_at - lag(observed_at) OVER "
        "(PARTITION BY cluster ORDER BY observed_at) AS d FROM t), "
        "m AS (SELECT median(d) AS m FROM d WHERE d > 0) "
        f"SELECT max(d) FROM d, m WHERE d > 0 AND d <= {_OUTAGE_FACTOR} * m.m"
    )
    # fetchall, not fetchone: an unfinished result would block this cursor's next call.
    ((spacing,),) = cursor.execute(sql, params).fetchall()
    return None if spacing is None else float(spacing)


def query(
    cursor: duckdb.DuckDBPyConnection,
    metric: str,
    group: str,
    *,
    cluster: str | None,
    topic: str | None,
    start: float,
    end: float,
    step: float | None,
    max_buckets: int = 2000,
) -> Heatmap:
    """The matrix for ``start <= t < end``; partitions sorted by topic, partition.

    Bucket width: ``max(step, (end - start) / max_buckets, 1 s, sample_spacing)``.
    """
    if metric not in HEATMAP_METRICS:
        allowed = ", ".join(sorted(HEATMAP_METRICS))
        raise InvalidQuery("metric", f"unknown metric {metric!r}; one of {allowed}")
    width, count = buckets(start, end, step, max_buckets)
    params: dict[str, object] = {"group": group, "start": start, "end": end}
    where = ["group_name = $group", "observed_at >= $start", "observed_at < $end"]
    if cluster is not None:
        where.append("cluster = $cluster")
        params["cluster"] = cluster
    if topic is not None:
        where.append("topic = $topic")
        params["topic"] = topic
    spacing = sample_spacing(cursor, " AND ".join(where), params)
    if spacing is not None and spacing > width:
        width, count = buckets(start, end, spacing, max_buckets)
    params["width"] = width
    sql = (
        f"SELECT topic, partition, "
        f"CAST(floor((observed_at - $start) / $width) AS BIGINT) AS b, "
        f"max(CAST({metric} AS DOUBLE)) AS v "
        f"FROM partition_samples WHERE {' AND '.join(where)} "
        "GROUP BY ALL ORDER BY topic, partition, b"
    )
    rows: dict[tuple[str, int], list[float | None]] = {}
    for t, p, b, v in cursor.execute(sql, params).fetchall():
        cells = rows.setdefault((t, p), [None] * count)
        if 0 <= b < count:
            cells[b] = v
    times = [start + i * width for i in range(count)]
    return Heatmap(start, width, times, [(t, p, cells) for (t, p), cells in rows.items()])
