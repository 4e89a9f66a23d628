"""Composition root: settings → Kafka clients, cluster collectors, store, HTTP app.

The only module that knows which adapter implements which port. ``lagwatch collect``
and the benchmarks call it; everything below it receives what it needs.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

from collectors.cycle import ClusterCollector, GroupFilter
from collectors.kafka.admin import KafkaOffsetsSource
from collectors.kafka.committed_offsets import CommittedOffsetsFromLog
from collectors.kafka.offsets_log import CommittedOffsetsLog
from collectors.kafka.record_times import RecordTimesReader
from collectors.service import CollectorService
from collectors.settings import ClusterSettings, Settings


def build_cluster(
    settings: ClusterSettings, window: int, rate_window_s: float, interval_s: float = 1.0
) -> ClusterCollector:
    """One cluster's collector with its Kafka clients (renewed through ``connect``)."""
    config = settings.kafka_config()

    def connect() -> tuple[KafkaOffsetsSource, dict[bool, RecordTimesReader] | None]:
        readers = None
        if settings.read_records:
            readers = {rc: RecordTimesReader(config, read_committed=rc) for rc in (False, True)}
        return KafkaOffsetsSource(config, request_timeout_s=settings.request_timeout_s), readers

    rc_patterns = [re.compile(p) for p in settings.read_committed_groups]
    group_filter = GroupFilter(settings.include, settings.exclude)
    from_log = None
    if settings.committed_offsets != "admin":
        from_log = CommittedOffsetsFromLog(
            lambda: CommittedOffsetsLog(config, group_filter),
            settings.committed_offsets,
            settings.request_timeout_s,
        )
    return ClusterCollector(
        cluster=settings.name,
        connect=connect,
        group_filter=group_filter,
        read_committed=lambda g: any(p.fullmatch(g) for p in rc_patterns),
        window=window,
        rate_window_s=rate_window_s,
        # Enough cycles to span the rate window, plus one older point and spares for
        # cycles that start a little early or late.
        rate_points=math.ceil(rate_window_s / interval_s) + 4,
        committed_from_log=from_log,
    )


def build_clusters(settings: Settings) -> list[ClusterCollector]:
    section = settings.collector
    return [
        build_cluster(c, section.window, section.rate_window_s, section.interval_s)
        for c in settings.clusters
    ]


def build_service(
    settings: Settings, store=None, clock: Callable[[], float] = time.time
) -> CollectorService:
    """The collector service for ``settings``, with real Kafka clients."""
    return CollectorService(settings, build_clusters(settings), store=store, clock=clock)
