"""The lag metric families: group, group-topic and partition level.

Every function takes rows of ``(label string, value object)`` and returns exposition text
for whole families. Names, types and meanings are documented in ``docs/metrics.md``; a
unit test keeps the two in step. A value that is not known (None) produces no sample:
Prometheus then marks the series stale instead of storing a made-up number.
"""

from __future__ import annotations

from collections.abc import Sequence

from collectors.core.model import Aggregate, GroupLag, Status
from collectors.serving.metric_text import escape_label_value, gauge_family, header, one_hot_family

STATES = tuple(s.value for s in Status)


def _flag(value: bool) -> int:
    return 1 if value else 0


def aggregate_families(prefix: str, what: str, rows: Sequence[tuple[str, Aggregate]]) -> list[str]:
    """Roll-up families (``lagwatch_group_*`` or ``lagwatch_group_topic_*``) of ``Aggregate``s."""
    return [
        gauge_family(
            f"{prefix}_offset_lag",
            f"Offsets not yet consumed, summed over the partitions of the {what}.",
            rows,
            lambda a: a.offset_lag,
        ),
        gauge_family(
            f"{prefix}_staleness_seconds",
            f"Age of the oldest unconsumed record over the {what} (max over partitions); "
            "0 when caught up.",
            rows,
            lambda a: a.staleness_s,
        ),
        gauge_family(
            f"{prefix}_data_age_seconds",
            f"Age of the newest consumed record, max over the partitions of the {what}.",
            rows,
            lambda a: a.data_age_s,
        ),
        gauge_family(
            f"{prefix}_consume_rate_offsets_per_second",
            f"Committed-offset advance of the {what}, offsets per second over the rate window.",
            rows,
            lambda a: a.consume_rate,
        ),
        gauge_family(
            f"{prefix}_produce_rate_offsets_per_second",
            f"Log-end advance of the {what}'s partitions, offsets per second over the window.",
            rows,
            lambda a: a.produce_rate,
        ),
        gauge_family(
            f"{prefix}_eta_seconds",
            f"Estimated time for the {what} to catch up; absent when not catching up.",
            rows,
            lambda a: a.eta_s,
        ),
        gauge_family(
            f"{prefix}_partitions",
            f"Partitions of the {what}.",
            rows,
            lambda a: a.partitions,
        ),
        gauge_family(
            f"{prefix}_no_commit_partitions",
            f"Partitions of the {what} with no committed offset (lag counted from log start).",
            rows,
            lambda a: a.no_commit_partitions,
        ),
        gauge_family(
            f"{prefix}_events_expired_partitions",
            f"Partitions of the {what} whose committed offset is below the log start: events "
            "were deleted before being applied.",
            rows,
            lambda a: a.events_expired_partitions,
        ),
        one_hot_family(
            f"{prefix}_status",
            f"Status of the {what}: one series per state, 1 for the current one.",
            "status",
            STATES,
            [(lbl, a.status.value) for lbl, a in rows],
        ),
    ]


def group_only_families(rows: Sequence[tuple[str, GroupLag]]) -> list[str]:
    """Group facts that have no topic-level counterpart: members and consumer-group state."""
    state_lines = "".join(
        f'lagwatch_group_state{{{lbl},state="{escape_label_value(g.state)}"}} 1\n'
        for lbl, g in rows
    )
    return [
        gauge_family(
            "lagwatch_group_members",
            "Members of the consumer group.",
            rows,
            lambda g: g.members,
        ),
        header(
            "lagwatch_group_state",
            "gauge",
            "Consumer-group state reported by the broker (STABLE, EMPTY, DEAD, ...): "
            "one series with value 1 for the current state.",
        )
        + state_lines,
    ]
