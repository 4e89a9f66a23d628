"""Migration 4 (issue 12): the tables behind /api/v1/visibility, /probes and SLO windows.

- ``visibility_samples``: one passive sample per committed-offset move (raw retention);
- ``probe_samples``: one row per finished probe (raw retention);
- ``slo_minutes``: good/total freshness observations per (minute, cluster, group), the
  minute identified by its end (``core.slo.bucket_end``); kept for the rollup retention,
  which bounds how far back the SLO period reaches.
"""

from __future__ import annotations

CONSISTENCY_TABLES: tuple[str, ...] = (
    """CREATE TABLE visibility_samples (
        observed_at DOUBLE NOT NULL,     -- t1: when the moved offset was seen
        cluster VARCHAR NOT NULL,
        group_name VARCHAR NOT NULL,
        topic VARCHAR NOT NULL,
        partition INTEGER NOT NULL,
        committed BIGINT NOT NULL,       -- c1
        latency_s DOUBLE NOT NULL,       -- t1 - ts(c1 - 1)
        resolution_s DOUBLE NOT NULL,    -- t1 - t0
        replay BOOLEAN NOT NULL          -- taken during a REWIND: not user-facing latency
    )""",
    """CREATE TABLE probe_samples (
        started_at DOUBLE NOT NULL,      -- acceptance time, or send time (start_source)
        probe VARCHAR NOT NULL,
        target VARCHAR NOT NULL,
        probe_id VARCHAR NOT NULL,
        start_source VARCHAR NOT NULL,   -- 'accepted' (from the answer) or 'sent'
        visible_at DOUBLE,               -- answer time of the first read that saw it
        latency_s DOUBLE,                -- visible_at - started_at
        outcome VARCHAR NOT NULL,        -- visible | timeout | error
        reason VARCHAR,
        checks INTEGER NOT NULL,         -- reads issued
        finished_at DOUBLE NOT NULL
    )""",
    """CREATE TABLE slo_minutes (
        bucket_end DOUBLE NOT NULL,      -- observations in (bucket_end - 60, bucket_end]
        cluster VARCHAR NOT NULL,
        group_name VARCHAR NOT NULL,
        good BIGINT NOT NULL,
        total BIGINT NOT NULL,
        PRIMARY KEY (bucket_end, cluster, group_name)
    )""",
)
