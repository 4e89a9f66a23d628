"""Prometheus exposition of the latest in-memory snapshot (the ``/metrics`` body).

A scrape never calls Kafka and never waits for a cycle: the collector builds a
``Snapshot`` on its own timer, and ``MetricsRenderer.pieces`` turns the snapshot a scrape
asked for into text, piece by piece, so the scrape streams it (gzip-compressed on the
way by ``gzip_pieces``) and no whole text is ever held: at 100,000 group-partitions the
text is ~120 MB, its pieces ~2 MB. prometheus_client's generic ``generate_latest`` is
too slow for over a million samples, so the text is built directly: group and topic
families from escaped label strings cached across snapshots (their keys are stable from
cycle to cycle; a few thousand short strings), the partition families by Arrow compute
kernels over the snapshot's columns (``metric_partitions``).

Metric names, types, labels and granularity behaviour: ``docs/metrics.md``.
"""

from __future__ import annotations

import zlib
from collections.abc import Hashable, Iterable, Iterator
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from collectors.core.model import (
    Aggregate,
    GroupLag,
    GroupTopicLag,
    Snapshot,
)
from collectors.core.partition_table import PartitionTable
from collectors.serving.metric_consistency import consistency_families
from collectors.serving.metric_families import aggregate_families, group_only_families
from collectors.serving.metric_partitions import (
    families_of_columns,
    partition_families,
    partition_labels,
)
from collectors.serving.metric_self import (
    cluster_families,
    collector_families,
    last_success_family,
    slo_families,
)
from collectors.serving.metric_text import CONTENT_TYPE, labels
from collectors.store.columns import partition_table

__all__ = ["CONTENT_TYPE", "GRANULARITIES", "MetricsRenderer", "gzip_pieces"]

GRANULARITIES: Final = ("partition", "topic", "group")
DROPPABLE_STATES: Final = frozenset({"DEAD", "EMPTY"})
GZIP_LEVEL: Final = 1  # 120 MB in ~0.35 s; higher levels cost more than the bytes they save


def gzip_pieces(pieces: Iterable[bytes], level: int = GZIP_LEVEL) -> Iterator[bytes]:
    """``pieces`` as one gzip stream (header, deflate, trailer), compressed piece by piece.

    Joined, the output is a single gzip member that ``gzip.decompress`` turns back into
    the joined input. Pieces that deflate buffers internally give no output of their own
    (never an empty ``bytes``); the last piece is the trailer, also for no input at all.
    """
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for piece in pieces:
        if out := compressor.compress(piece):
            yield out
    yield compressor.flush()


class MetricsRenderer:
    """Renders snapshots as Prometheus text, in pieces, keeping no rendered text.

    ``granularity`` picks the finest level exposed besides the group level (always
    exposed): ``partition`` adds ``lagwatch_partition_*``, ``topic`` adds
    ``lagwatch_group_topic_*``, ``group`` adds nothing. ``drop_empty_groups`` omits
    groups whose consumer-group state is DEAD or EMPTY, with their topics and
    partitions, unless a freshness SLO is defined for the group (an EMPTY group with an
    SLO is a stopped read model: exactly what must stay visible). Thread-safe: scrapes
    render concurrently, each its own snapshot (snapshots are immutable); the only state
    shared between them is the cache of group and topic label strings.
    """

    def __init__(self, granularity: str = "partition", drop_empty_groups: bool = False) -> None:
        if granularity not in GRANULARITIES:
            raise ValueError(
                f"metrics granularity must be one of {', '.join(GRANULARITIES)}; "
                f"got {granularity!r}"
            )
        self.granularity = granularity
        self.drop_empty_groups = drop_empty_groups
        self._labels: dict[Hashable, str] = {}

    def pieces(self, snapshot: Snapshot | None) -> Iterator[bytes]:
        """The exposition text (UTF-8) for ``snapshot``, in pieces of at most ~2 MB.

        ``None`` (no cycle finished yet) renders only
        ``lagwatch_collector_last_success_timestamp_seconds 0``: no ``lagwatch_up``, no
        lag. Nothing is rendered before the first piece is asked for, and every call
        renders anew (no text is cached: a scrape streams the latest snapshot).
        """
        if snapshot is None:
            yield last_success_family(None).encode()
            return
        groups = self._kept_groups(snapshot)
        kept = {(g.cluster, g.group) for g in groups}
        group_rows = [(self._group_labels(g.cluster, g.group), g) for g in groups]
        slos = [(self._group_labels(s.cluster, s.group), s) for s in snapshot.slos]
        topic_rows = self._topic_rows(snapshot, kept) if self.granularity == "topic" else []
        self._prune_label_cache(len(group_rows) + len(slos) + len(topic_rows))
        yield from _encoded(cluster_families(snapshot.clusters))
        yield from _encoded(
            aggregate_families("lagwatch_group", "group", [(lbl, g.lag) for lbl, g in group_rows])
        )
        yield from _encoded(group_only_families(group_rows))
        if self.granularity == "topic":
            yield from _encoded(
                aggregate_families("lagwatch_group_topic", "group on this topic", topic_rows)
            )
        elif self.granularity == "partition":
            yield from self._partition_pieces(snapshot, kept, len(groups))
        yield from _encoded(slo_families(slos))
        yield from _encoded(consistency_families(snapshot.consistency))
        yield from _encoded(collector_families(snapshot.stats, snapshot.taken_at))

    def render(self, snapshot: Snapshot | None) -> bytes:
        """The whole exposition text of ``snapshot`` (``pieces`` joined), for tests and
        tools; the ``/metrics`` route streams ``pieces`` instead."""
        return b"".join(self.pieces(snapshot))

    def render_gzip(self, snapshot: Snapshot | None) -> bytes:
        """``render(snapshot)`` gzip-compressed (level 1), as one ``bytes``."""
        return b"".join(gzip_pieces(self.pieces(snapshot)))

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

    def _partition_pieces(
        self, snapshot: Snapshot, kept: set[tuple[str, str]], n_groups: int
    ) -> Iterator[bytes]:
        """The partition families. From the collector's tables (every group kept) one
        value column at a time, built when its family is rendered, instead of a table
        of all 23 columns (the store's): a render at 100,000 group-partitions holds
        ~5 MB less at its peak. Anything else (row objects, groups left out) goes
        through the whole table.

        Keeping the label column between renders while the layout stands was measured
        too: 8 MB more at rest for 2-3 MB less at the peak, and no CPU saved (joining
        and compressing the lines is the render's cost, not building the labels)."""
        tables = _collector_tables(snapshot) if n_groups == len(snapshot.groups) else None
        if not tables:
            yield from partition_families(_partition_table(snapshot, kept, n_groups))
            return
        parts = [partition_labels(t.keys.arrow()) for t in tables]
        labels = parts[0] if len(parts) == 1 else pa.concat_arrays(parts)

        def column(name: str) -> pa.Array | pa.ChunkedArray:
            arrays = [t.arrow_column(name) for t in tables]
            return arrays[0] if len(arrays) == 1 else pa.chunked_array(arrays)

        yield from families_of_columns(column, labels)

    def _prune_label_cache(self, in_use: int) -> None:
        if len(self._labels) > 4 * in_use + 4096:
            self._labels.clear()


def _encoded(parts: Iterable[str]) -> Iterator[bytes]:
    for part in parts:
        yield part.encode()


def _collector_tables(snapshot: Snapshot) -> list[PartitionTable] | None:
    """The snapshot's partitions as the collector's tables (one per cluster), or None
    when some are row objects (a snapshot built from rows: tests, tools)."""
    parts = getattr(snapshot.partitions, "parts", None)
    if parts is None or not all(isinstance(p, PartitionTable) for p in parts):
        return None
    return list(parts)


def _partition_table(snapshot: Snapshot, kept: set[tuple[str, str]], n_groups: int) -> pa.Table:
    """The snapshot's partitions of the kept groups, as columns (the collector's tables
    give theirs without building row objects)."""
    table = partition_table(snapshot.partitions)
    if n_groups < len(snapshot.groups) and table.num_rows:
        keys = pa.array([f"{c}\x00{g}" for c, g in kept], type=pa.string())
        row_keys = pc.binary_join_element_wise(table["cluster"], table["group_name"], "\x00")
        table = table.filter(pc.is_in(row_keys, value_set=keys))
    return table
