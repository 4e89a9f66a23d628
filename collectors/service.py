"""The collector service: cycles on its own timer, publishes snapshots, feeds the store.

Threads:
- the cycle thread runs ``run_cycle`` every ``interval_s`` and publishes the snapshot
  (an atomic reference swap: readers never wait for a cycle);
- the writer thread is the single DuckDB writer: snapshots (partition rows only every
  ``store.partition_sample_interval_s``), annotations, rollups and retention, fed
  through a ``WriteBacklog`` (at most one snapshot waits; one replaced by a newer one
  before it was written counts as a ``store_backlog`` error), so a slow disk cannot
  stall collection.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from collectors.consistency import ConsistencyRecorder
from collectors.core.annotations import cluster_health_change, status_changes
from collectors.core.log_summary import summarise
from collectors.core.model import (
    Annotation,
    ClusterHealth,
    CollectorStats,
    GroupLag,
    GroupTopicLag,
    PartitionLag,
    Snapshot,
    Status,
)
from collectors.core.partition_table import PartitionRows
from collectors.core.rollup_columns import build_rollups
from collectors.core.slo import SloCounter, SloRule
from collectors.cycle import ClusterCollector
from collectors.heap_freeze import HeapFreezer
from collectors.kafka.errors import error_text
from collectors.logs import ALWAYS, repeat_key, throttled
from collectors.process_memory import PeriodicTrim
from collectors.settings import Settings
from collectors.store.backlog import WriteBacklog
from collectors.store.writer import SnapshotWriter

log = throttled("lagwatch.collector")  # a warning repeated every cycle: once a minute

DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RECENT_CYCLES = 300
# Error kinds start at 0 so that Prometheus' increase() sees their first occurrence.
ERROR_KINDS = (
    "cluster_unreachable",
    "offset_fetch",
    "describe_group",
    "list_offsets",
    "cycle",
    "store_write",
    "store_backlog",
)
MAINTENANCE_EVERY_S = 60.0


@dataclass(slots=True)
class _Counters:
    started_at: float
    cycles: int = 0
    duration_sum: float = 0.0
    bucket_counts: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_CYCLES))
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ERROR_KINDS, 0))
    cache_hits: int = 0
    cache_misses: int = 0
    last_success_at: float | None = None

    def observe(self, duration: float) -> None:
        self.cycles += 1
        self.duration_sum += duration
        self.recent.append(duration)
        for i, bound in enumerate(DURATION_BUCKETS):
            if duration <= bound:
                self.bucket_counts[i] += 1
                break
        else:
            self.bucket_counts[-1] += 1

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def freeze(self) -> CollectorStats:
        cumulative, running = [], 0
        for bound, count in zip((*DURATION_BUCKETS, float("inf")), self.bucket_counts, strict=True):
            running += count
            cumulative.append((bound, running))
        return CollectorStats(
            started_at=self.started_at,
            cycles_total=self.cycles,
            cycle_durations_s=tuple(self.recent),
            cycle_duration_sum_s=self.duration_sum,
            cycle_duration_buckets=tuple(cumulative),
            errors_total=dict(self.errors),
            timestamp_cache_hits=self.cache_hits,
            timestamp_cache_misses=self.cache_misses,
            last_success_at=self.last_success_at,
        )


class CollectorService:
    """Owns the cycle loop and the latest snapshot. ``store`` may be None (no history)."""

    def __init__(
        self,
        settings: Settings,
        clusters: list[ClusterCollector],
        store=None,
        clock: Callable[[], float] = time.time,
        probes=None,
        restart_reason: str | None = None,
    ) -> None:
        """``clusters``: one collector per configured cluster (``bootstrap.build_clusters``);
        ``restart_reason``: why this process replaces one that died (``cli/supervise.py``),
        said by the ``collector_start`` annotation."""
        self.settings = settings
        self._start_message = (
            f"collector started again: {restart_reason}" if restart_reason else "collector started"
        )
        self._store = store
        self._clock = clock
        self._clusters = clusters
        self._counters = _Counters(started_at=clock())
        self._slo = SloCounter(
            [
                SloRule(s.group, s.target_s, s.objective, s.period_d * 86400, s.count_replays)
                for s in settings.slo
            ]
        )
        self.consistency = ConsistencyRecorder()  # visibility and probe samples, SLO windows
        self.probes = probes  # a ProbeRunner, started and stopped with the service
        self._health: dict[str, ClusterHealth] = {}
        self._group_status: dict[tuple[str, str], Status] = {}
        self._snapshot: Snapshot | None = None
        self._ok_started_at: float | None = None
        self._stop = threading.Event()
        self._writes = WriteBacklog()
        self._threads: list[threading.Thread] = []

    # --- reading (any thread) --------------------------------------------------------

    def snapshot(self) -> Snapshot | None:
        """The latest complete cycle; None before the first one finished."""
        return self._snapshot

    def reading_age(self) -> float | None:
        """Seconds since the start of the last cycle that read every cluster (None
        before one did): grows while a cycle is blocked (``serving.liveness``)."""
        return None if self._ok_started_at is None else self._clock() - self._ok_started_at

    # --- one cycle ---------------------------------------------------------------------

    def run_cycle(self) -> Snapshot:
        started = time.perf_counter()
        cycle_start = self._clock()  # what a blocked cycle's age is measured from
        partitions: list[Sequence[PartitionLag]] = []
        topics: list[GroupTopicLag] = []
        groups: list[GroupLag] = []
        annotations: list[Annotation] = []
        samples = []
        for cluster in self._clusters:
            try:
                result = cluster.collect(self._clock)
            except Exception as error:  # the cluster as a whole is unreachable
                message = error_text(error)
                self._counters.error("cluster_unreachable")
                annotations += self._set_health(cluster.cluster, False, message)
                rows = cluster.error_rows(self._clock(), message)
                partitions.append(rows)
                t, g = build_rollups(cluster.cluster, rows, self._clock(), {})
                groups += g
                topics += t
                continue
            partitions.append(result.partitions)
            samples += [result.visibility] if result.visibility is not None else []
            topics += result.topics
            groups += result.groups
            self._counters.cache_hits += result.cache_hits
            self._counters.cache_misses += result.cache_misses
            for problem in result.errors:
                self._counters.error(problem.kind)
            # One line per kind and error, not per partition: a broker restart fails
            # every partition at once (100,000 lines a cycle at 100,000 partitions).
            for summary in summarise(result.errors):
                key = repeat_key(cluster.cluster, *summary.key)
                log.warning("%s: %s", cluster.cluster, summary.line, extra=key)
            annotations += self._set_health(cluster.cluster, True, None)
        annotations += status_changes(self._group_status, groups)
        duration = time.perf_counter() - started
        self._counters.observe(duration)
        now = self._clock()
        if all(h.up for h in self._health.values()):
            self._counters.last_success_at = now
            self._ok_started_at = cycle_start
        snapshot = Snapshot(
            taken_at=now,
            cycle_duration_s=duration,
            partitions=PartitionRows(partitions),
            topics=tuple(topics),
            groups=tuple(groups),
            clusters=tuple(self._health.values()),
            stats=self._counters.freeze(),
            slos=self._slo.observe(groups),
            consistency=self.consistency.observe_cycle(samples, self._store is not None),
        )
        self._snapshot = snapshot
        if self._store is not None:
            for annotation in annotations:
                self._writes.put_annotation(annotation)
            if self._writes.put_snapshot(snapshot):
                self._counters.error("store_backlog")
        return snapshot

    def _set_health(self, cluster: str, up: bool, error: str | None) -> list[Annotation]:
        before = self._health.get(cluster)
        now = self._clock()
        last = now if up else (before.last_success_at if before else None)
        self._health[cluster] = ClusterHealth(cluster, up, last, error)
        change = cluster_health_change(now, cluster, before.up if before else None, up, error)
        if change is None:
            return []
        log.warning("%s: %s", cluster, change.message, extra=ALWAYS)  # never held back
        return [change]

    # --- threads -----------------------------------------------------------------------

    def start(self) -> None:
        self._writes.put_annotation(
            Annotation(self._clock(), "collector_start", None, None, self._start_message)
        )
        loops = [(self._cycle_loop, "cycle")]
        if self._store is not None:
            loops.append((self._writer_loop, "store-writer"))
        for target, name in loops:
            thread = threading.Thread(target=target, name=f"lagwatch-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.probes is not None:
            self.probes.start(self.consistency, keep_for_store=self._store is not None)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self.probes is not None:
            self.probes.stop()
        for thread in self._threads:
            thread.join(timeout_s)
        if not any(thread.is_alive() for thread in self._threads):
            for cluster in self._clusters:
                cluster.close()

    def _cycle_loop(self) -> None:
        interval = self.settings.collector.interval_s
        next_at = time.monotonic()
        # Hand the pages cycles freed back (the cold read's, replaced snapshots'). A trim
        # took 19 ms median, 66 ms max at 100,000 group-partitions: every 10 s at most.
        trim = PeriodicTrim(every_s=10.0)
        heap = HeapFreezer()  # full GCs skip the long-lived state (see heap_freeze)
        while not self._stop.is_set():
            try:
                self.run_cycle()
            except Exception:  # never let one bad cycle end the collector
                self._counters.error("cycle")
                log.exception("collection cycle failed")
            heap.maybe(time.monotonic())
            trim.maybe(time.monotonic())
            next_at += interval
            delay = next_at - time.monotonic()
            if delay < 0:  # overran: start the next cycle now, do not try to catch up
                next_at, delay = time.monotonic(), 0
            self._stop.wait(delay)
        heap.release()

    def _writer_loop(self) -> None:
        next_maintenance = time.monotonic() + MAINTENANCE_EVERY_S
        writer = SnapshotWriter(
            self._store,
            self.settings.store.partition_sample_interval_s,
            self.settings.collector.interval_s,
        )
        while not (self._stop.is_set() and self._writes.empty()):
            annotations, snapshot = self._writes.take(timeout_s=0.5)
            try:
                for annotation in annotations:
                    self._store.add_annotation(annotation)
                if snapshot is not None:
                    writer.write(snapshot)  # partition rows only every so often
                self.consistency.write(self._store, snapshot)
            except Exception:
                self._counters.error("store_write")
                log.exception("store write failed")
            finally:
                self._writes.done()
            if time.monotonic() >= next_maintenance:
                next_maintenance = time.monotonic() + MAINTENANCE_EVERY_S
                try:
                    now = self._clock()
                    self._store.rollup(now)
                    self._store.enforce_retention(now)
                except Exception:
                    self._counters.error("store_write")
                    log.exception("store maintenance failed")

    def drain(self, timeout_s: float = 10.0) -> bool:
        """Wait until the writer has written everything handed over so far."""
        return self._writes.drain(timeout_s)
