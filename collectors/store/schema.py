"""DuckDB schema of the lagwatch store: an ordered list of migrations.

Conventions (see ``docs/storage.md``):

- Times are UNIX epoch seconds as ``DOUBLE`` (the model's unit; bucketing is plain arithmetic).
- ``status`` and ``staleness_method`` are ``ENUM`` types (one byte per row). Adding a member
  to ``model.Status`` or ``model.StalenessMethod`` needs a new migration that widens the type.
- ``group`` is a reserved word in SQL, so the column is ``group_name``.
- No secondary indexes: rows arrive in time order, so DuckDB's per-row-group min/max
  (zone maps) on ``observed_at`` already prune time-range scans, and indexes slow inserts.

Migrations are applied in order, each in its own transaction together with its row in
``schema_version``; a migration is never edited once released — add a new one instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from collectors.core.model import StalenessMethod, Status
from collectors.store.consistency_schema import CONSISTENCY_TABLES


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


def _enum_literal(values: Sequence[str]) -> str:
    # Identifiers/literals come from the model's fixed enums, never from input.
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


_AGGREGATE_COLUMNS = """
    offset_lag BIGINT NOT NULL,
    staleness_s DOUBLE,
    data_age_s DOUBLE,
    consume_rate DOUBLE,
    produce_rate DOUBLE,
    eta_s DOUBLE,
    status lag_status NOT NULL,
    partitions INTEGER NOT NULL,
    no_commit_partitions INTEGER NOT NULL,
    events_expired_partitions INTEGER NOT NULL,
    committed BIGINT,      -- sum over partitions with a committed offset
    log_end BIGINT         -- sum over partitions with a known log end
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "raw samples (partition, group, group-topic) and annotations",
        (
            f"CREATE TYPE lag_status AS ENUM ({_enum_literal([s.value for s in Status])})",
            "CREATE TYPE staleness_method AS ENUM "
            f"({_enum_literal([m.value for m in StalenessMethod])})",
            """CREATE TABLE partition_samples (
                observed_at DOUBLE NOT NULL,
                cluster VARCHAR NOT NULL,
                group_name VARCHAR NOT NULL,
                topic VARCHAR NOT NULL,
                partition INTEGER NOT NULL,
                log_start BIGINT,
                log_end BIGINT,
                committed BIGINT,
                offset_lag BIGINT,
                no_commit BOOLEAN NOT NULL,
                events_expired BOOLEAN NOT NULL,
                staleness_s DOUBLE,
                staleness_method staleness_method NOT NULL,
                data_age_s DOUBLE,
                clock_skew BOOLEAN NOT NULL,
                consume_rate DOUBLE,
                produce_rate DOUBLE,
                eta_s DOUBLE,
                status lag_status NOT NULL,
                error VARCHAR
            )""",
            f"""CREATE TABLE group_samples (
                observed_at DOUBLE NOT NULL,
                cluster VARCHAR NOT NULL,
                group_name VARCHAR NOT NULL,
                state VARCHAR NOT NULL,
                members INTEGER NOT NULL,
                topics VARCHAR[] NOT NULL,
                {_AGGREGATE_COLUMNS}
            )""",
            f"""CREATE TABLE group_topic_samples (
                observed_at DOUBLE NOT NULL,
                cluster VARCHAR NOT NULL,
                group_name VARCHAR NOT NULL,
                topic VARCHAR NOT NULL,
                {_AGGREGATE_COLUMNS}
            )""",
            """CREATE TABLE annotations (
                observed_at DOUBLE NOT NULL,
                kind VARCHAR NOT NULL,
                cluster VARCHAR,
                group_name VARCHAR,
                message VARCHAR NOT NULL
            )""",
        ),
    ),
    Migration(
        2,
        "per-group per-minute rollups and the rollup watermark",
        (
            """CREATE TABLE group_rollups_1m (
                minute DOUBLE NOT NULL,          -- epoch seconds of the minute's start
                cluster VARCHAR NOT NULL,
                group_name VARCHAR NOT NULL,
                samples INTEGER NOT NULL,
                offset_lag BIGINT,               -- max
                staleness_s DOUBLE,              -- max
                data_age_s DOUBLE,               -- max
                eta_s DOUBLE,                    -- max
                consume_rate DOUBLE,             -- avg of known values
                consume_rate_n INTEGER NOT NULL, -- how many values the avg is over
                produce_rate DOUBLE,
                produce_rate_n INTEGER NOT NULL,
                committed BIGINT,                -- last known
                log_end BIGINT,                  -- last known
                members INTEGER                  -- last known
            )""",
            # One row: every group sample with observed_at < rolled_up_until is rolled up.
            "CREATE TABLE rollup_state (rolled_up_until DOUBLE NOT NULL)",
        ),
    ),
    Migration(
        3,
        "issue 10: offset_gap (raw log_end - committed), offset_out_of_range, replay_progress; "
        "unknown group lag and members stored as NULL, never 0",
        (
            "ALTER TABLE partition_samples ADD COLUMN offset_gap BIGINT",
            "ALTER TABLE partition_samples ADD COLUMN offset_out_of_range BOOLEAN",
            "ALTER TABLE partition_samples ADD COLUMN replay_progress DOUBLE",
            "ALTER TABLE group_samples ALTER COLUMN members DROP NOT NULL",
            "ALTER TABLE group_samples ALTER COLUMN offset_lag DROP NOT NULL",
            "ALTER TABLE group_topic_samples ALTER COLUMN offset_lag DROP NOT NULL",
        ),
    ),
    Migration(4, "visibility samples, probe samples, per-minute SLO counts", CONSISTENCY_TABLES),
)

LATEST_VERSION = MIGRATIONS[-1].version

# Rolls group samples in [$lo, $hi) up per minute; mirrors group_rollups_1m (migration 2).
ROLLUP_SQL = """
INSERT INTO group_rollups_1m BY NAME
SELECT floor(observed_at / 60) * 60 AS minute, cluster, group_name,
       count(*) AS samples,
       max(offset_lag) AS offset_lag, max(staleness_s) AS staleness_s,
       max(data_age_s) AS data_age_s, max(eta_s) AS eta_s,
       avg(consume_rate) AS consume_rate, count(consume_rate) AS consume_rate_n,
       avg(produce_rate) AS produce_rate, count(produce_rate) AS produce_rate_n,
       arg_max(committed, observed_at) AS committed, arg_max(log_end, observed_at) AS log_end,
       arg_max(members, observed_at) AS members
FROM group_samples
WHERE observed_at >= $lo AND observed_at < $hi
GROUP BY ALL
"""


def scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> Any:
    """First column of the first row (None when no rows). Fetches the whole result:
    DuckDB refuses new work on a cursor with an unfinished result."""
    rows = conn.execute(sql, params).fetchall()
    return rows[0][0] if rows else None


def current_version(conn: duckdb.DuckDBPyConnection) -> int:
    """Highest applied migration; 0 for a fresh (empty) database."""
    exists = scalar(
        conn,
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = 'schema_version'",
    )
    if not exists:
        return 0
    return int(scalar(conn, "SELECT max(version) FROM schema_version") or 0)


def apply_migrations(
    conn: duckdb.DuckDBPyConnection,
    migrations: Sequence[Migration] = MIGRATIONS,
    *,
    now: float = 0.0,
) -> list[int]:
    """Apply every migration newer than the database's version, in order.

    Each migration and its ``schema_version`` row commit in one transaction, so a crash
    leaves the database at a whole version. Idempotent: returns the versions applied
    (empty when already up to date). Raises ``RuntimeError`` when the database is newer
    than the code (opened by a later lagwatch).
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, applied_at DOUBLE NOT NULL)"
    )
    have = current_version(conn)
    if have > LATEST_VERSION:
        raise RuntimeError(
            f"database schema version {have} is newer than this lagwatch ({LATEST_VERSION})"
        )
    applied: list[int] = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= have:
            continue
        conn.begin()
        try:
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [migration.version, migration.description, now],
            )
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        applied.append(migration.version)
    return applied
