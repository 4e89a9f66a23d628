"""SQL for time-bucketed series over the store's sample tables.

Every identifier placed into SQL comes from the fixed tables below; every value is a
bound parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Aggregation = Literal["max", "avg", "last"]

# metric -> how a bucket of samples is reduced to one value
METRIC_AGGREGATION: dict[str, Aggregation] = {
    "offset_lag": "max",
    "staleness_s": "max",
    "data_age_s": "max",
    "eta_s": "max",
    "consume_rate": "avg",
    "produce_rate": "avg",
    "committed": "last",
    "log_end": "last",
    "members": "last",
}
SERIES_METRICS: frozenset[str] = frozenset(METRIC_AGGREGATION)
GROUP_ONLY_METRICS: frozenset[str] = frozenset({"members"})

# rollup column holding the metric's per-minute value, and the weight of that value
_ROLLUP_WEIGHT: dict[str, str] = {
    "consume_rate": "consume_rate_n",
    "produce_rate": "produce_rate_n",
}

_REDUCE: dict[Aggregation, str] = {
    "max": "max(v)",
    "avg": "sum(v * w) / nullif(sum(CASE WHEN v IS NOT NULL THEN w END), 0)",
    "last": "arg_max(v, t)",
}


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    """A validated series request. ``step`` > 0 and ``buckets`` >= 1 always."""

    metric: str
    group: str
    cluster: str | None
    topic: str | None
    partition: int | None
    start: float
    end: float
    step: float
    buckets: int

    @property
    def table(self) -> str:
        if self.partition is not None:
            return "partition_samples"
        if self.topic is not None:
            return "group_topic_samples"
        return "group_samples"


class InvalidQuery(ValueError):
    """A series request that cannot be answered; ``parameter`` names the culprit."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(problem)
        self.parameter = parameter
        self.problem = problem


def validate(
    metric: str,
    group: str,
    *,
    cluster: str | None,
    topic: str | None,
    partition: int | None,
    start: float,
    end: float,
    step: float | None,
    max_points: int,
) -> SeriesQuery:
    """Check a request and compute its bucket width; raises ``InvalidQuery`` naming the
    parameter and the problem.

    ``step = max(step or 0, (end - start) / max_points)``; a zero-width range gets one
    bucket. The bucket count never exceeds ``max_points``.
    """
    if metric not in SERIES_METRICS:
        raise InvalidQuery(
            "metric",
            f"unknown metric {metric!r}; allowed metrics: {', '.join(sorted(SERIES_METRICS))}",
        )
    if metric in GROUP_ONLY_METRICS and (topic is not None or partition is not None):
        raise InvalidQuery(
            "topic", f"metric {metric!r} exists at group level only (omit topic/partition)"
        )
    if partition is not None and topic is None:
        raise InvalidQuery("partition", "partition given without topic")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise InvalidQuery("start", f"start and end must be finite, got start={start}, end={end}")
    if end < start:
        raise InvalidQuery("end", f"end ({end}) is before start ({start})")
    if max_points < 1:
        raise InvalidQuery("max_points", f"max_points must be >= 1, got {max_points}")
    if step is not None and not (math.isfinite(step) and step >= 0):
        raise InvalidQuery("step", f"step must be a finite number >= 0, got {step}")
    width = end - start
    bucket = max(step or 0.0, width / max_points)
    if bucket <= 0:
        bucket, buckets = 1.0, 1
    else:
        buckets = min(max_points, max(1, math.ceil(width / bucket)))
    return SeriesQuery(metric, group, cluster, topic, partition, start, end, bucket, buckets)


def _raw_source(q: SeriesQuery) -> tuple[str, dict[str, object]]:
    params: dict[str, object] = {"group": q.group, "start": q.start, "end": q.end}
    where = ["group_name = $group", "observed_at >= $start", "observed_at <= $end"]
    if q.cluster is not None:
        where.append("cluster = $cluster")
        params["cluster"] = q.cluster
    if q.topic is not None:
        where.append("topic = $topic")
        params["topic"] = q.topic
    if q.partition is not None:
        where.append("partition = $partition")
        params["partition"] = q.partition
    sql = (
        f"SELECT observed_at AS t, CAST({q.metric} AS DOUBLE) AS v, 1 AS w "
        f"FROM {q.table} WHERE {' AND '.join(where)}"
    )
    return sql, params


def _rollup_source(q: SeriesQuery) -> str:
    """Per-minute rollups older than the first raw sample (``$cutoff``), group level only.

    The minute that contains ``$cutoff`` comes from both sources: an overlap (a slightly
    double-weighted minute) is better than a gap.
    """
    weight = _ROLLUP_WEIGHT.get(q.metric, "1")
    cluster = " AND cluster = $cluster" if q.cluster is not None else ""
    return (
        f"SELECT minute AS t, CAST({q.metric} AS DOUBLE) AS v, {weight} AS w "
        "FROM group_rollups_1m WHERE group_name = $group "
        f"AND minute + 60 > $start AND minute <= $end AND minute < $cutoff{cluster}"
    )


def cutoff_sql(q: SeriesQuery) -> tuple[str, dict[str, object]]:
    """SQL returning the first raw group sample's time (NULL when none)."""
    params: dict[str, object] = {"group": q.group}
    sql = "SELECT min(observed_at) FROM group_samples WHERE group_name = $group"
    if q.cluster is not None:
        sql += " AND cluster = $cluster"
        params["cluster"] = q.cluster
    return sql, params


def series_sql(q: SeriesQuery, cutoff: float | None) -> tuple[str, dict[str, object]]:
    """Bucketed series SQL. ``cutoff`` (group level only): use rollups before it;
    ``math.inf`` when no raw samples exist; None to skip rollups."""
    source, params = _raw_source(q)
    if cutoff is not None:
        source = f"{source} UNION ALL {_rollup_source(q)}"
        params["cutoff"] = cutoff
    params.update(step=q.step, last_bucket=q.buckets - 1)
    sql = (
        "SELECT $start + idx * $step AS bucket, "
        f"CAST({_REDUCE[METRIC_AGGREGATION[q.metric]]} AS DOUBLE) AS value FROM ("
        "SELECT least(greatest(CAST(floor((t - $start) / $step) AS BIGINT), 0), $last_bucket)"
        f" AS idx, t, v, w FROM ({source})) GROUP BY idx ORDER BY idx"
    )
    return sql, params
