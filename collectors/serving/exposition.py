"""Prometheus exposition of the latest in-memory snapshot (the ``/metrics`` body).

A scrape never calls Kafka and never waits for a cycle: the collector builds a
``Snapshot`` on its own timer, and ``MetricsRenderer.render`` turns it into text once,
caching the bytes per snapshot object. prometheus_client's generic ``generate_latest`` is
too slow for 100,000 group-partitions (over a million samples), so the text is built
directly: group and topic families from escaped label strings cached across snapshots
(their keys are stable from cycle to cycle), the partition families by Arrow compute
kernels over the snapshot's columns (``metrics_partitions``).

Metric names, types, labels and granularity behaviour: ``docs/metrics.md``.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from collectors.core.model import (
    Aggregate,
    GroupLag,
    GroupTopicLag,
    Snapshot,
)
from collectors.serving.metric_consistency import consistency_families
from collectors.serving.metric_families import aggregate_families, group_only_families
from collectors.serving.metric_partitions import partition_families
from collectors.serving.metric_self import (
    cluster_families,
    collector_families,
    last_success_family,
    slo_families,
)
from collectors.serving.metric_text import CONTENT_TYPE, labels
from collectors.store.columns import partition_table

__all__ = ["CONTENT_TYPE", "GRANULARITIES", "MetricsRenderer"]

GRANULARITIES: Final = ("partition", "topic", "group")
DROPPABLE_STATES: Final = frozenset({"DEAD", "EMPTY"})
CACHED_SNAPSHOTS: Final = 2  # the published one and the one being pre-rendered


@dataclass(eq=False, slots=True)
class _Rendered:
    snapshot: Snapshot
    text: bytes
    gzipped: bytes | None = None


class MetricsRenderer:
    """Renders snapshots as Prometheus text, one rendering per snapshot object.

    ``granularity`` picks the finest level exposed besides the group level (always
    exposed): ``partition`` adds ``lagwatch_partition_*``, ``topic`` adds
    ``lagwatch_group_topic_*``, ``group`` adds nothing. ``drop_empty_groups`` omits
    groups whose consumer-group state is DEAD or EMPTY, with their topics and
    partitions, unless a freshness SLO is defined for the group (an EMPTY group with an
    SLO is a stopped read model: exactly what must stay visible). Thread-safe: concurrent
    scrapes of a new snapshot render it once; scrapes of an already rendered snapshot
    take no lock.
    """

    def __init__(self, granularity: str = "partition", drop_empty_groups: bool = False) -> None:
        if granularity not in GRANULARITIES:
            raise ValueError(
                f"metrics granularity must be one of {', '.join(GRANULARITIES)}; "
                f"got {granularity!r}"
            )
        self.granularity = granularity
        self.drop_empty_groups = drop_empty_groups
        self._build_lock = threading.Lock()
        self._entries: tuple[_Rendered, ...] = ()  # newest first, at most CACHED_SNAPSHOTS
        self._labels: dict[Hashable, str] = {}

    def render(self, snapshot: Snapshot | None) -> bytes:
        """The exposition text (UTF-8) for ``snapshot``.

        ``None`` (no cycle finished yet) renders only
        ``lagwatch_collector_last_success_timestamp_seconds 0``: no ``lagwatch_up``, no
        lag. The same snapshot object renders once; later calls return the cached bytes.
        """
        if snapshot is None:
            return last_success_family(None).encode()
        return self._entry(snapshot).text

    def render_gzip(self, snapshot: Snapshot | None) -> bytes:
        """``render(snapshot)`` gzip-compressed (level 1), also cached per snapshot.

        For ``Accept-Encoding: gzip`` scrapes (Prometheus always asks): compressing
        ~100 MB per scrape would dominate scrape latency, compressing once does not.
        Calling this from the collection cycle *before* publishing a snapshot means no
        scrape ever waits for rendering: scrapes keep reading the previous snapshot's
        cached bytes, without taking a lock, while the new one renders.
        """
        if snapshot is None:
            return gzip.compress(self.render(None), compresslevel=1, mtime=0)
        entry = self._entry(snapshot)
        if entry.gzipped is None:
            with self._build_lock:
                if entry.gzipped is None:
                    entry.gzipped = gzip.compress(entry.text, compresslevel=1, mtime=0)
        return entry.gzipped

    def _entry(self, snapshot: Snapshot) -> _Rendered:
        """The cached rendering of ``snapshot``, building it (once) when missing."""
        for entry in self._entries:
            if entry.snapshot is snapshot:
                return entry
        with self._build_lock:
            for entry in self._entries:
                if entry.snapshot is snapshot:
                    return entry
            entry = _Rendered(snapshot, self._build(snapshot))
            self._entries = (entry, *self._entries[: CACHED_SNAPSHOTS - 1])
            return entry

    def _build(self, snapshot: Snapshot) -> bytes:
        groups = self._kept_groups(snapshot)
        kept = {(g.cluster, g.group) for g in groups}
        parts: list[str | bytes] = []
        parts += cluster_families(snapshot.clusters)
        group_rows = [(self._group_labels(g.cluster, g.group), g) for g in groups]
        parts += aggregate_families(
            "lagwatch_group", "group", [(lbl, g.lag) for lbl, g in group_rows]
        )
        parts += group_only_families(group_rows)
        topic_rows = self._topic_rows(snapshot, kept) if self.granularity == "topic" else []
        if self.granularity == "topic":
            parts += aggregate_families("lagwatch_group_topic", "group on this topic", topic_rows)
        elif self.granularity == "partition":
            parts += partition_families(_partition_table(snapshot, kept, len(groups)))
        slos = [(self._group_labels(s.cluster, s.group), s) for s in snapshot.slos]
        parts += slo_families(slos)
        parts += consistency_families(snapshot.consistency)
        parts += collector_families(snapshot.stats, snapshot.taken_at)
        self._prune_label_cache(len(group_rows) + len(slos) + len(topic_rows))
        return b"".join(p if isinstance(p, bytes) else p.encode() for p in parts)

    def _kept_groups(self, snapshot: Snapshot) -> list[GroupLag]:
        if not self.drop_empty_groups:
            return list(snapshot.groups)
        with_slo = {(s.cluster, s.group) for s in snapshot.slos}
        return [
            g
            for g in snapshot.groups
            if g.state.upper() not in DROPPABLE_STATES or (g.cluster, g.group) in with_slo
        ]

    def _group_labels(self, cluster: str, group: str) -> str:
        key = (cluster, group)
        lbl = self._labels.get(key)
        if lbl is None:
            lbl = self._labels[key] = labels(cluster=cluster, group=group)
        return lbl

    def _topic_rows(
        self, snapshot: Snapshot, kept: set[tuple[str, str]]
    ) -> list[tuple[str, Aggregate]]:
        return [
            (self._topic_labels(t), t.lag) for t in snapshot.topics if (t.cluster, t.group) in kept
        ]

    def _topic_labels(self, t: GroupTopicLag) -> str:
        key = (t.cluster, t.group, t.topic)
        lbl = self._labels.get(key)
        if lbl is None:
            lbl = self._labels[key] = labels(cluster=t.cluster, group=t.group, topic=t.topic)
        return lbl

    def _prune_label_cache(self, in_use: int) -> None:
        if len(self._labels) > 4 * in_use + 4096:
            self._labels.clear()


def _partition_table(snapshot: Snapshot, kept: set[tuple[str, str]], n_groups: int) -> pa.Table:
    """The snapshot's partitions of the kept groups, as columns (the collector's tables
    give theirs without building row objects)."""
    table = partition_table(snapshot.partitions)
    if n_groups < len(snapshot.groups) and table.num_rows:
        keys = pa.array([f"{c}\x00{g}" for c, g in kept], type=pa.string())
        row_keys = pc.binary_join_element_wise(table["cluster"], table["group_name"], "\x00")
        table = table.filter(pc.is_in(row_keys, value_set=keys))
    return table
