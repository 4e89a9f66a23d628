"""Roll a cycle's partitions up per (group, topic) and per group.

From the collector's columns (``rollups_from_columns``, segments by ``reduceat``) or
from plain rows (``build_rollups``, the error path when a cluster is unreachable). Both
list groups in the same order: described groups first, then the others in row order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from collectors.core import kernels, rollup
from collectors.core.kernels import Floats
from collectors.core.model import Aggregate, GroupLag, GroupTopicLag, PartitionLag, Status
from collectors.core.partition_table import PartitionColumns
from collectors.core.slots import Layout


def rollups_from_columns(
    cluster: str,
    layout: Layout,
    columns: PartitionColumns,
    now: float,
    states: dict[str, tuple[str, int | None]],
    unreadable: Iterable[str] = (),
) -> tuple[list[GroupTopicLag], list[GroupLag]]:
    """Per (group, topic) and per group aggregates, in ``build_rollups``'s order:
    described groups first (a group with no partitions gets an empty aggregate, ERROR
    when its offsets were ``unreadable``), then the others in row order."""
    topic_aggs: list[Aggregate] = []
    group_aggs: list[Aggregate] = []
    if len(columns.committed):
        c = columns
        args = (
            c.offset_lag,
            c.staleness_s,
            c.data_age_s,
            c.consume_rate,
            c.produce_rate,
            c.eta_s,
            c.status,
            c.no_commit,
            c.events_expired,
        )
        topic_aggs = _aggregates(kernels.aggregate(layout.topic_starts, *args))
        group_aggs = _aggregates(kernels.aggregate(layout.group_starts, *args))
    topics_of: dict[str, list[tuple[str, Aggregate]]] = {}
    for (group, topic), agg in zip(layout.topic_segments, topic_aggs, strict=True):
        topics_of.setdefault(group, []).append((topic, agg))
    agg_of = dict(zip(layout.groups, group_aggs, strict=True))
    unreadable = set(unreadable)
    order = list(states) + [g for g in layout.groups if g not in states]
    order += sorted(unreadable - set(order))
    topic_rows: list[GroupTopicLag] = []
    group_rows: list[GroupLag] = []
    empty = rollup.aggregate(())
    error = dataclasses.replace(empty, status=Status.ERROR)
    for group in order:
        state, members = states.get(group, ("UNKNOWN", None))
        by_topic = topics_of.get(group, [])
        topic_rows += [GroupTopicLag(cluster, group, t, now, a) for t, a in by_topic]
        group_rows.append(
            GroupLag(
                cluster,
                group,
                now,
                state,
                members,
                tuple(t for t, _ in by_topic),
                agg_of.get(group, error if group in unreadable else empty),
            )
        )
    return topic_rows, group_rows


def _aggregates(a: kernels.Aggregates) -> list[Aggregate]:
    def opt(values: Floats) -> list[float | None]:
        return [None if v != v else v for v in values.tolist()]

    statuses = [kernels.STATUS_OF_CODE[s] for s in a.status.tolist()]
    return [
        Aggregate(*values)
        for values in zip(
            [None if v == kernels.NONE else v for v in a.offset_lag.tolist()],
            opt(a.staleness_s),
            opt(a.data_age_s),
            opt(a.consume_rate),
            opt(a.produce_rate),
            opt(a.eta_s),
            statuses,
            a.partitions.tolist(),
            a.no_commit_partitions.tolist(),
            a.events_expired_partitions.tolist(),
            strict=True,
        )
    ]


def build_rollups(
    cluster: str,
    rows: list[PartitionLag],
    now: float,
    states: dict[str, tuple[str, int | None]],
) -> tuple[list[GroupTopicLag], list[GroupLag]]:
    """Per (group, topic) and per group aggregates of plain rows (the error path);
    ``states`` gives (state, members) per group, missing groups are UNKNOWN with
    unknown (None) members, never 0. Groups with no partitions (described but never
    committed or assigned) are still listed.
    """
    rows_by_group: dict[str, dict[str, list[PartitionLag]]] = {g: {} for g in states}
    for row in rows:
        rows_by_group.setdefault(row.key.group, {}).setdefault(row.key.topic, []).append(row)
    topics: list[GroupTopicLag] = []
    groups: list[GroupLag] = []
    for group, by_topic in rows_by_group.items():
        state, members = states.get(group, ("UNKNOWN", None))
        everything: list[PartitionLag] = []
        for topic, parts in by_topic.items():
            topics.append(GroupTopicLag(cluster, group, topic, now, rollup.aggregate(parts)))
            everything += parts
        groups.append(
            GroupLag(
                cluster, group, now, state, members, tuple(by_topic), rollup.aggregate(everything)
            )
        )
    return topics, groups
