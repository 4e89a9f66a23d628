"""JSON shaping of the collector's values: the field names are the API contract
(docs/api.md). Unknown numbers (None, NaN) become JSON null, never 0.
"""

from __future__ import annotations

import math
from typing import Any

from collectors.core.model import GroupLag, GroupTopicLag, PartitionLag


def num(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)


def partition_json(row: PartitionLag) -> dict[str, Any]:
    return {
        "cluster": row.key.cluster,
        "group": row.key.group,
        "topic": row.key.topic,
        "partition": row.key.partition,
        "observed_at": row.observed_at,
        "log_start": row.log_start,
        "log_end": row.log_end,
        "committed": row.committed,
        "offset_lag": row.offset_lag,  # events: 0 when only transaction markers remain
        "offset_gap": row.offset_lag if row.offset_gap is None else row.offset_gap,  # raw
        "offset_out_of_range": row.offset_out_of_range,
        "replay_progress": num(row.replay_progress),
        "no_commit": row.no_commit,
        "events_expired": row.events_expired,
        "staleness_s": num(row.staleness_s),
        "staleness_method": str(row.staleness_method),
        "data_age_s": num(row.data_age_s),
        "clock_skew": row.clock_skew,
        "consume_rate": num(row.consume_rate),
        "produce_rate": num(row.produce_rate),
        "eta_s": num(row.eta_s),
        "status": str(row.status),
        "error": row.error,
    }


def aggregate_json(row: GroupLag | GroupTopicLag) -> dict[str, Any]:
    agg = row.lag
    return {
        "offset_lag": agg.offset_lag,
        "staleness_s": num(agg.staleness_s),
        "data_age_s": num(agg.data_age_s),
        "consume_rate": num(agg.consume_rate),
        "produce_rate": num(agg.produce_rate),
        "eta_s": num(agg.eta_s),
        "status": str(agg.status),
        "partitions": agg.partitions,
        "no_commit_partitions": agg.no_commit_partitions,
        "events_expired_partitions": agg.events_expired_partitions,
    }


def group_json(row: GroupLag) -> dict[str, Any]:
    return {
        "cluster": row.cluster,
        "group": row.group,
        "observed_at": row.observed_at,
        "state": row.state,
        "members": row.members,
        "topics": list(row.topics),
        **aggregate_json(row),
    }
