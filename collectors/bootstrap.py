"""Composition root: settings → Kafka clients, cluster collectors, store, HTTP app.

The only module that knows which adapter implements which port. ``lagwatch collect``
and the benchmarks call it; everything below it receives what it needs.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

from collectors.core.status import StatusParams
from collectors.cycle import ClusterCollector, GroupFilter
from collectors.kafka.admin import KafkaOffsetsSource
from collectors.kafka.committed_offsets import CommittedOffsetsFromLog
from collectors.kafka.offsets_log import CommittedOffsetsLog
from collectors.kafka.reachability import diagnose
from collectors.kafka.record_times import RecordTimesReader
from collectors.service import CollectorService
from collectors.settings import ClusterSettings, Settings


def build_cluster(
    settings: ClusterSettings,
    status_params: StatusParams,
    rate_window_s: float,
    interval_s: float = 1.0,
    visibility_samples: bool = True,
) -> ClusterCollector:
    """One cluster's collector with its Kafka clients (renewed through ``connect``)."""
    config = settings.kafka_config()

    def connect() -> tuple[KafkaOffsetsSource, dict[bool, RecordTimesReader] | None]:
        readers = None
        if settings.read_records:
            # A cold start with many reads per partition (groups far apart in a
            # partition) must not hold back the first snapshot for long; a usual one
            # fits, so the first snapshot is complete; later cycles read few.
            budget = max(5.0, interval_s)
            readers = {
                rc: RecordTimesReader(config, read_committed=rc, rounds_budget_s=budget)
                for rc in (False, True)
            }
        return KafkaOffsetsSource(config, request_timeout_s=settings.request_timeout_s), readers

    rc_patterns = [re.compile(p) for p in settings.read_committed_groups]
    group_filter = GroupFilter(settings.include, settings.exclude)
    from_log = None
    if settings.committed_offsets != "admin":
        from_log = CommittedOffsetsFromLog(
            lambda: CommittedOffsetsLog(config, group_filter),
            settings.committed_offsets,
            settings.request_timeout_s,
            interval_s=interval_s,
            admin_first=True,  # the source asks OffsetFetch while the log is read
        )
    return ClusterCollector(
        cluster=settings.name,
        connect=connect,
        group_filter=group_filter,
        read_committed=lambda g: any(p.fullmatch(g) for p in rc_patterns),
        status_params=status_params,
        rate_window_s=rate_window_s,
        # Enough cycles to span the rate window, plus one older point and spares for
        # cycles that start a little early or late.
        rate_points=math.ceil(rate_window_s / interval_s) + 4,
        committed_from_log=from_log,
        diagnose=lambda: diagnose(settings.bootstrap_servers),
        visibility_samples=visibility_samples,
    )


def build_clusters(settings: Settings) -> list[ClusterCollector]:
    section = settings.collector
    params = StatusParams(
        window_s=section.status_window_s,
        stall_floor_s=section.stall_floor_s,
        interval_s=section.interval_s,
    )
    return [
        build_cluster(
            c, params, section.rate_window_s, section.interval_s, section.visibility_samples
        )
        for c in settings.clusters
    ]


def build_service(
    settings: Settings,
    store=None,
    clock: Callable[[], float] = time.time,
    restart_reason: str | None = None,
) -> CollectorService:
    """The collector service for ``settings``, with real Kafka clients."""
    probes = None
    if any(p.enabled for p in settings.probes):
        from collectors.probing import ProbeRunner

        probes = ProbeRunner(list(settings.probes), clock=clock)
    return CollectorService(
        settings,
        build_clusters(settings),
        store=store,
        clock=clock,
        probes=probes,
        restart_reason=restart_reason,
    )
