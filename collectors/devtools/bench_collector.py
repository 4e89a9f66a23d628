"""``lagwatch bench collector``: collection cycle time over many group-partitions.

Creates topics and groups on the broker (default 20 topics x 100 partitions and 50
groups that each commit all 2,000 partitions: 100,000 group-partitions), keeps a trickle
of records and commits going in a child process, and runs the collector service
in-process as in production (its own cycle thread at the configured interval, plus the
store writer thread when a store is enabled). Every cycle is timed around
``run_cycle``: wall time and the process CPU time (``time.process_time``, which counts
every thread of the process: librdkafka's, the store writer's, not the trickle's).
The first cycle is the cold timestamp cache and is reported on its own; a few warm-up
cycles follow; then median and p95 over the measured cycles go to ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from collectors import process_memory
from collectors.bootstrap import build_clusters
from collectors.core.kernels import METHODS
from collectors.core.model import Snapshot, StalenessMethod
from collectors.devtools.bench_cluster import BenchCluster, Trickle, setup, teardown
from collectors.devtools.bench_memory import (
    Breakdown,
    MemoryProbe,
    pymalloc_mb,
    python_types,
    reset_peak,
    status_kib,
)
from collectors.devtools.bench_outage import OutageResult, local_port, measure_outage
from collectors.devtools.bench_outage import report_lines as outage_lines
from collectors.devtools.bench_report import percentile, write_section
from collectors.process_memory import lean_process
from collectors.service import CollectorService
from collectors.settings import load_settings

TARGET_S = 1.0  # issue: a full cycle over 100,000 group-partitions in under 1 second


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--partitions", type=int, default=2000, help="partitions in total")
    parser.add_argument("--topics", type=int, default=20, help="partitions are spread over these")
    parser.add_argument("--groups", type=int, default=50, help="each commits every partition")
    parser.add_argument("--cycles", type=int, default=30, help="measured cycles per run")
    parser.add_argument(
        "--warmup", type=int, default=2, help="unmeasured cycles after the cold one"
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="repeat the measurement (fresh service)"
    )
    parser.add_argument("--interval", type=float, default=1.0, help="collector interval_s")
    parser.add_argument(
        "--trickle-per-cycle",
        type=int,
        default=300,
        help="group-partitions that get a new record and commit per interval (0: none)",
    )
    parser.add_argument(
        "--store",
        default="tmp",
        help="DuckDB file for the store writer; 'tmp' (default) a temporary file, 'none' off",
    )
    parser.add_argument(
        "--committed-offsets",
        choices=("auto", "offsets_topic", "admin"),
        default="auto",
        help="the collector's source of committed offsets (see docs/configuration.md)",
    )
    parser.add_argument(
        "--scrape-every",
        type=float,
        default=0.0,
        help="also render /metrics (gzip, partition granularity) in-process every this many "
        "seconds, as a Prometheus scrape would (0: no scrapes)",
    )
    parser.add_argument(
        "--gap",
        type=float,
        default=60.0,
        help="with scrapes: after the measured cycles, no scrape for this many seconds, "
        "then one, to measure the age of the data it returns (0: none)",
    )
    parser.add_argument(
        "--outage",
        type=float,
        default=0.0,
        help="at the end of the last run, stop the local broker (one `lagwatch kafka start` "
        "runs) for this many seconds and count the collector's log lines until it is whole "
        "again (0: no)",
    )
    parser.add_argument(
        "--visibility-samples",
        choices=("on", "off"),
        default="on",
        help="passive visibility samples in the cycle (off: for the cost comparison)",
    )
    parser.add_argument(
        "--read-records",
        choices=("on", "off"),
        default="on",
        help="exact staleness from record timestamps (off: to see what those reads cost)",
    )
    parser.add_argument("--prefix", default="lwbench", help="name prefix of topics and groups")
    parser.add_argument("--keep", action="store_true", help="keep topics and groups afterwards")
    parser.add_argument("--no-write", action="store_true", help="print only")


@dataclass(frozen=True, slots=True)
class CycleSample:
    wall_s: float
    cpu_s: float  # process CPU during the cycle (all threads)
    thread_cpu_s: float  # the cycle thread alone (Python side of the cycle)
    hits: int
    misses: int  # = record-timestamp fetches requested this cycle
    rows: int


@dataclass(frozen=True, slots=True)
class RunResult:
    cold: CycleSample
    measured: list[CycleSample]
    span_cpu_s: float  # process CPU from the first to the last measured cycle's end
    span_cycles: int
    writes_s: list[float]
    errors: dict[str, int]
    load: tuple[float, float]  # 1-minute load average before and after
    peak_rss_mb: float  # VmHWM from the service's start (the collector's own peak)
    peak_is_lifetime: bool  # the HWM could not be reset: the process's lifetime peak
    memory: MemoryProbe  # RSS per phase, with breakdowns
    duckdb_mb: float | None  # DuckDB's buffer manager at the end (duckdb_memory())
    slots_mb: float  # the column history (collectors/core/slots.py) at the end
    python_mb: float | None  # Python's small-object arenas after the service stopped
    python_top: list[tuple[str, int, float]]  # biggest object types then (type, n, MB)
    trims_s: list[float]  # each malloc_trim's wall time in the cycle loop
    first_snapshot_s: float  # from service.start() to the first published snapshot
    first_full_s: float | None  # ... to the first with every row exact (None: never)
    cold_read_s: float | None  # ... to the end of the cold __consumer_offsets read
    first_measured: int  # index of the first measured cycle (after warm-up and cold read)
    scrape_ages_s: list[float]  # per scrape: its data's age when it asked (taken_at on)
    gap_age_s: float | None  # the same for the one scrape after ``--gap`` (None: none)
    outage: OutageResult | None  # ``--outage``: log lines over a broker outage


class _MeasuredService(CollectorService):
    """The production service, with each ``run_cycle`` timed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.samples: list[CycleSample] = []
        self.cpu_marks: list[float] = []  # process_time at the end of each cycle
        self._seen = (0, 0)
        self.started_at = time.perf_counter()  # reset by start()
        self.first_snapshot_s: float | None = None
        self.first_full_s: float | None = None
        self.expected_rows = 0
        # (cycles so far, seconds from start) when no cluster had a cold read left
        self.cold_read_done: tuple[int, float] | None = None

    def start(self) -> None:
        self.started_at = time.perf_counter()
        super().start()

    def run_cycle(self) -> Snapshot:
        wall, cpu, thread_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        snapshot = super().run_cycle()
        wall = time.perf_counter() - wall
        thread_cpu = time.thread_time() - thread_cpu
        end_cpu = time.process_time()
        stats = snapshot.stats
        hits, misses = stats.timestamp_cache_hits, stats.timestamp_cache_misses
        self.samples.append(
            CycleSample(
                wall,
                end_cpu - cpu,
                thread_cpu,
                hits - self._seen[0],
                misses - self._seen[1],
                len(snapshot.partitions),
            )
        )
        self.cpu_marks.append(end_cpu)
        self._seen = (hits, misses)
        since_start = time.perf_counter() - self.started_at
        if self.first_snapshot_s is None:
            self.first_snapshot_s = since_start
        if self.first_full_s is None and _is_full(snapshot, self.expected_rows):
            self.first_full_s = since_start
        if self.cold_read_done is None and not any(
            getattr(getattr(c, "_from_log", None), "cold", False) for c in self._clusters
        ):
            self.cold_read_done = (len(self.samples), since_start)
        return snapshot


def _is_full(snapshot: Snapshot, expected_rows: int) -> bool:
    """Every expected group-partition present with exact values: an exact staleness
    implies a known committed offset and log end, and a readable group."""
    rows = snapshot.partitions
    if len(rows) != expected_rows:
        return False
    exact = METHODS.index(StalenessMethod.EXACT)
    for part in rows.parts:
        columns = getattr(part, "columns", None)  # a table: no row objects built
        if columns is not None:
            if not bool(np.all(columns.staleness_method == exact)):
                return False
        elif any(r.staleness_method != StalenessMethod.EXACT for r in part):
            return False
    return True


class _TimedStore:
    """Delegates to the real store and times its writes (full and group-only; called by
    the writer)."""

    def __init__(self, store) -> None:
        self._store = store
        self.writes_s: list[float] = []

    def write_snapshot(self, snapshot: Snapshot) -> None:
        started = time.perf_counter()
        self._store.write_snapshot(snapshot)
        self.writes_s.append(time.perf_counter() - started)

    def write_group_samples(self, snapshot: Snapshot) -> None:
        started = time.perf_counter()
        self._store.write_group_samples(snapshot)
        self.writes_s.append(time.perf_counter() - started)

    def __getattr__(self, name: str):
        return getattr(self._store, name)


def run(args: argparse.Namespace) -> int:
    cluster = BenchCluster(
        args.bootstrap_servers, args.prefix, args.topics, args.partitions, args.groups
    )
    if args.partitions % args.topics:
        print("--partitions must be a multiple of --topics", file=sys.stderr)
        return 2
    lean_process()  # two malloc arenas, Arrow on malloc, no pandas (process_memory)
    # Seeding runs in a child process, so its clients and buffers never count in the
    # collector's RSS (the trickle is a child process too).
    seeding = mp.get_context("spawn").Process(target=_setup_quietly, args=(cluster,))
    seeding.start()
    seeding.join()
    if seeding.exitcode != 0:
        print(f"setup failed (exit code {seeding.exitcode})", file=sys.stderr)
        return 1
    try:
        with Trickle(cluster, args.trickle_per_cycle, args.interval):
            results = [_measure(cluster, args, i) for i in range(args.runs)]
    finally:
        if not args.keep:
            teardown(cluster)
    body = _report(cluster, args, results)
    print(body)
    if not args.no_write:
        # The Admin API comparison keeps its own section beside the default's.
        section = "collector-admin" if args.committed_offsets == "admin" else "collector"
        if args.scrape_every > 0:
            section += "-scraped"
        if args.visibility_samples == "off":
            section += "-no-visibility"
        if args.read_records == "off":
            section += "-no-record-reads"
        print(f"written to {write_section(section, body)}")
    return 0


def _setup_quietly(cluster: BenchCluster) -> None:
    setup(cluster, progress=lambda m: print(m, file=sys.stderr))


def _measure(cluster: BenchCluster, args: argparse.Namespace, run_index: int) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="lagwatch-bench-") as tmp:
        store = _open_store(args.store, Path(tmp))
        settings = load_settings(
            env={},
            overrides={
                "clusters.bootstrap_servers": cluster.bootstrap,
                "clusters.include": [cluster.group_pattern],
                "collector.interval_s": args.interval,
                "clusters.committed_offsets": args.committed_offsets,
                "collector.visibility_samples": args.visibility_samples == "on",
                "clusters.read_records": args.read_records == "on",
            },
        )
        service = _MeasuredService(settings, build_clusters(settings), store=store)
        service.expected_rows = cluster.groups * cluster.partitions
        load_before = os.getloadavg()[0]
        wanted = 1 + args.warmup + args.cycles  # at least: see _wait_for
        memory = MemoryProbe()
        trims_s = _time_trims()
        memory.mark("before start (imports, store open)")
        peak_reset = reset_peak()
        memory.start()
        memory.phase = "cold cycle"
        service.start()
        scraper = _Scraper(service, args.scrape_every, memory) if args.scrape_every > 0 else None
        duckdb_mb = None
        gap_age_s = None
        outage = None
        try:
            first_measured = _wait_for(
                service, args.cycles, args.interval, run_index, memory, store, args.warmup
            )
            wanted = first_measured + args.cycles
            duckdb_mb = _duckdb_mb(store)
            if scraper is not None and args.gap > 0:
                scraper.stop()  # no scrape for the gap; cycles go on
                print(f"run {run_index + 1}: no scrape for {args.gap:g} s", file=sys.stderr)
                time.sleep(args.gap)
                gap_age_s = scraper.scrape()
            # The last run only: the trickle's clients need not outlive a broker restart.
            if args.outage > 0 and run_index == args.runs - 1:
                outage = _outage(service, cluster, args.outage, run_index)
        finally:
            if scraper is not None:
                scraper.stop()
            service.stop(timeout_s=120)
            memory.stop()
            peak_kib = status_kib().get("VmHWM", 0)
            slots_mb = sum(_slots_bytes(c) for c in service._clusters) / 2**20
            python_mb = pymalloc_mb()  # the service's objects are still referenced
            python_top = python_types()
            if store is not None:
                store.close()
    samples = service.samples[:wanted]
    marks = service.cpu_marks
    return RunResult(
        cold=samples[0],
        measured=samples[first_measured:],
        span_cpu_s=marks[wanted - 1] - marks[first_measured - 1],
        span_cycles=wanted - first_measured,
        writes_s=store.writes_s[first_measured:wanted] if store is not None else [],
        errors=dict(service.snapshot().stats.errors_total),
        load=(load_before, os.getloadavg()[0]),
        peak_rss_mb=(
            peak_kib / 1024
            if peak_reset and peak_kib
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ),
        peak_is_lifetime=not (peak_reset and peak_kib),
        memory=memory,
        duckdb_mb=duckdb_mb,
        slots_mb=slots_mb,
        python_mb=python_mb,
        python_top=python_top,
        trims_s=trims_s,
        first_snapshot_s=service.first_snapshot_s or 0.0,
        first_full_s=service.first_full_s,
        cold_read_s=service.cold_read_done[1] if service.cold_read_done else None,
        first_measured=first_measured,
        scrape_ages_s=list(scraper.ages_s) if scraper is not None else [],
        gap_age_s=gap_age_s,
        outage=outage,
    )


def _outage(
    service: _MeasuredService, cluster: BenchCluster, seconds: float, run_index: int
) -> OutageResult | None:
    port = local_port(cluster.bootstrap)
    if port is None:
        print(
            f"--outage: {cluster.bootstrap} is not a broker `lagwatch kafka start` runs here; "
            "no outage measured",
            file=sys.stderr,
        )
        return None
    print(f"run {run_index + 1}: broker on port {port} down for {seconds:g} s", file=sys.stderr)

    def whole(since: float) -> bool:
        snapshot = service.snapshot()
        return (
            snapshot is not None
            and snapshot.taken_at > since
            and _is_full(snapshot, service.expected_rows)
        )

    return measure_outage(port, seconds, whole)


class _Scraper:
    """Renders the latest snapshot every ``every_s`` on its own thread, as the
    collector's HTTP server does for a Prometheus scrape (``ScrapeCache``)."""

    def __init__(self, service: CollectorService, every_s: float, memory: MemoryProbe) -> None:
        from collectors.serving.exposition import MetricsRenderer  # only when scrapes are wanted
        from collectors.serving.scrape import ScrapeCache

        self._service = service
        self._every = every_s
        self._memory = memory
        self._scrapes = ScrapeCache(MetricsRenderer())
        self._stop = threading.Event()
        self.renders_s: list[float] = []
        self.ages_s: list[float] = []  # per periodic scrape: what ``scrape`` returned
        self._thread = threading.Thread(target=self._run, name="bench-scrape", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            age = self.scrape()
            if age is not None:
                self.ages_s.append(age)

    def scrape(self) -> float | None:
        """One scrape as /metrics serves it; returns the age of the data it returns:
        the wall clock when it asked minus the snapshot's ``taken_at`` (None: no
        snapshot yet)."""
        snapshot = self._service.snapshot()
        if snapshot is None:
            return None
        age = time.time() - snapshot.taken_at
        started = time.perf_counter()
        self._memory.rendering = True
        try:
            for _ in self._scrapes.stream(snapshot, gzipped=True):  # as /metrics
                pass
        finally:
            self._memory.rendering = False
        self.renders_s.append(time.perf_counter() - started)
        self._memory.mark("after the first /metrics render")
        return age

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)


def _open_store(option: str, tmp: Path) -> _TimedStore | None:
    if option == "none":
        return None
    from collectors.store.db import Store  # DuckDB only when the store is wanted

    return _TimedStore(Store(tmp / "bench.duckdb" if option == "tmp" else option))


COLD_READ_DEADLINE_S = 1800.0  # the longest wait for the cold __consumer_offsets read


def _wait_for(
    service: _MeasuredService,
    measured: int,
    interval: float,
    run_index: int,
    memory: MemoryProbe,
    store: _TimedStore | None,
    warmup: int,
) -> int:
    """Run the cold cycle, the warm-up cycles, and ``measured`` cycles more, measured
    only once the cold ``__consumer_offsets`` read is over (its cycles read the log and
    ask OffsetFetch for the groups not read yet: the steady state starts after it; on a
    broker whose uncompacted log holds millions of commits that takes minutes). Returns
    the index of the first measured cycle."""
    last = 0
    first = 1 + warmup
    measuring = False
    deadline = time.monotonic() + COLD_READ_DEADLINE_S + (first + measured) * (interval + 60)
    while True:
        if service.cold_read_done is not None:
            first = max(1 + warmup, service.cold_read_done[0])
            if len(service.samples) >= first + measured:
                return first
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"only {len(service.samples)} cycles finished in time (cold read "
                f"{'done' if service.cold_read_done else 'not done'})"
            )
        if store is not None and store.writes_s:
            memory.mark("after the first store write")
        if len(service.samples) != last:
            last = len(service.samples)
            if last == 1:
                memory.mark("after the cold cycle")
                memory.enter("warm-up cycles")
            if (
                not measuring
                and service.cold_read_done is not None
                and last >= max(1 + warmup, service.cold_read_done[0])
            ):
                measuring = True
                memory.enter("measured cycles")
            s = service.samples[-1]
            print(
                f"run {run_index + 1} cycle {last}/{first + measured}"
                f"{'' if service.cold_read_done else ' (cold read)'}: "
                f"{s.wall_s * 1000:.0f} ms wall, {s.cpu_s * 1000:.0f} ms CPU, {s.rows} rows, "
                f"{s.misses} fetches",
                file=sys.stderr,
            )
        time.sleep(0.05)


# ---- report ---------------------------------------------------------------------------


def _time_trims() -> list[float]:
    """Time every ``malloc_trim`` of the service's cycle loop from now on (it calls
    ``process_memory.trim_malloc`` through the module; the scrapes' are not timed); the
    list fills as they run."""
    times: list[float] = []
    trim = getattr(process_memory.trim_malloc, "__wrapped__", process_memory.trim_malloc)

    def timed() -> None:
        started = time.perf_counter()
        trim()
        times.append(time.perf_counter() - started)

    timed.__wrapped__ = trim  # type: ignore[attr-defined]
    process_memory.trim_malloc = timed
    return times


def _duckdb_mb(store: _TimedStore | None) -> float | None:
    """DuckDB's buffer manager in use (its own accounting), MB; None without a store."""
    if store is None:
        return None
    sql = "SELECT sum(memory_usage_bytes) FROM duckdb_memory()"
    used = store.query(lambda cursor: cursor.execute(sql).fetchone()[0])
    return (used or 0) / 2**20


def _slots_bytes(cluster) -> int:
    slots = getattr(cluster, "_slots", None)  # the cycle's column history
    return slots.nbytes() if slots is not None else 0


def _ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def _median_p95(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{_ms(statistics.median(values))} / {_ms(percentile(values, 95))}"


def _memory_lines(index: int, r: RunResult) -> list[str]:
    """Where the megabytes go in run ``index`` (``bench_memory``): RSS at marks, the
    highest RSS of each phase, each split by allocator."""
    m = r.memory
    peak = "lifetime peak (HWM not resettable)" if r.peak_is_lifetime else "peak from start"
    duck = "-" if r.duckdb_mb is None else f"{r.duckdb_mb:.0f} MB"
    py = "-" if r.python_mb is None else f"{r.python_mb:.0f} MB"
    lines = [
        f"Memory, run {index}: {peak} **{r.peak_rss_mb:.0f} MB** RSS; DuckDB buffer "
        f"manager at the end {duck}; column history (slots) {r.slots_mb:.0f} MB; "
        f"Python objects (pymalloc arenas, service stopped) {py}; pandas "
        f"{'imported' if 'pandas' in sys.modules else 'not imported'}.",
        "",
        "| moment | RSS = file + malloc used + arrow + other | malloc free (held) |",
        "|---|---|---:|",
    ]
    rows: list[tuple[str, Breakdown | None]] = list(m.marks.items())
    for name, phase in m.phases.items():
        if name not in ("start", "stopped"):
            rows.append((f"highest in: {name}", phase.peak))
    for name, phase in m.phases.items():
        if name in ("cold cycle", "warm-up cycles", "measured cycles"):
            rows.append((f"end of: {name}", phase.at_end))
    lines += [f"| {name} | {b.cells()} |" for name, b in rows if b is not None]
    if r.trims_s:
        lines += [
            "",
            f"`malloc_trim` in the cycle loop: {len(r.trims_s)} calls, median / max "
            f"{statistics.median(r.trims_s) * 1000:.1f} / {max(r.trims_s) * 1000:.1f} ms.",
        ]
    if r.python_top:
        biggest = ", ".join(f"{t} {n:,} ({mb:.0f} MB)" for t, n, mb in r.python_top)
        lines += [
            "",
            "Biggest Python object types after the run (getsizeof, each object once however "
            f"many containers hold it): {biggest}.",
        ]
    return lines


def _age_lines(args: argparse.Namespace, results: list[RunResult]) -> list[str]:
    """The age of the data each scrape returned, against the issue's target."""
    gap = args.gap > 0
    out = [
        f"Data age of a scrape (target: at most one cycle, {args.interval:g} s): the wall "
        "clock when the scrape asked minus the `taken_at` of the snapshot it got (the end "
        "of its cycle), the snapshot `/metrics` streams (`serving/scrape.py`).",
        "",
        f"| run | scrapes every {args.scrape_every:g} s: n / median / max |"
        + (f" one scrape after {args.gap:g} s without any |" if gap else ""),
        "|---|---:|" + ("---:|" if gap else ""),
    ]
    for i, r in enumerate(results, 1):
        ages = r.scrape_ages_s
        regular = (
            f"{len(ages)} / {statistics.median(ages):.2f} s / {max(ages):.2f} s" if ages else "-"
        )
        after = "-" if r.gap_age_s is None else f"{r.gap_age_s:.2f} s"
        out.append(f"| {i} | {regular} |" + (f" {after} |" if gap else ""))
    return out


def _verdict(result: RunResult) -> str:
    p95 = percentile([s.wall_s for s in result.measured], 95)
    return "PASS" if p95 < TARGET_S else "MISS"


def _report(cluster: BenchCluster, args: argparse.Namespace, results: list[RunResult]) -> str:
    group_partitions = cluster.groups * cluster.partitions
    lines = [
        f"## Collection cycle over {group_partitions:,} group-partitions"
        + (" (committed offsets from the Admin API)" if args.committed_offsets == "admin" else "")
        + (f" (scraped every {args.scrape_every:g} s)" if args.scrape_every > 0 else "")
        + (", visibility samples off" if args.visibility_samples == "off" else "")
        + (", record timestamps not read" if args.read_records == "off" else ""),
        "",
        f"`lagwatch bench collector`: {cluster.topics} topics x {cluster.per_topic} partitions "
        f"({cluster.partitions:,} partitions) on one local broker, {cluster.groups} groups that "
        f"each committed every partition: **{group_partitions:,} group-partitions**. A trickle "
        f"(child process) produces one record to {args.trickle_per_cycle} random partitions "
        f"every {args.interval:g} s and commits one group there, so the record-timestamp cache "
        "sees realistic misses. The collector service runs in-process as in production: its "
        f"cycle thread every {args.interval:g} s, store writer "
        f"{'off' if args.store == 'none' else 'on (DuckDB)'}, committed offsets from "
        f"`{args.committed_offsets}`, passive visibility samples {args.visibility_samples}, "
        + (
            f"a /metrics render (gzip, partition granularity) every {args.scrape_every:g} s "
            "on its own thread as for a Prometheus scrape"
            if args.scrape_every > 0
            else "no /metrics scrapes"
        )
        + ". Each run: the first cycle "
        f"(cold timestamp cache) on its own, {args.warmup} warm-up cycles (more while the "
        "cold `__consumer_offsets` read goes on: measured cycles start after it), then "
        f"{args.cycles} measured cycles. CPU is `time.process_time()` over the cycle: every "
        "thread of the process (librdkafka's, the store writer's), not the trickle's.",
        "",
        f"**Target: a full cycle in under {TARGET_S:g} s (p95 wall).**",
        "",
        "| run | cycle wall median / p95 | cycle CPU median / p95 | cycle-thread CPU median "
        "| process CPU per interval | cold first cycle wall / CPU / fetches "
        "| cache hit ratio | fetches per cycle median / max | store write median / p95 "
        "| load avg (1 min) | peak RSS | first snapshot / first full snapshot / cold read done "
        "| verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for i, r in enumerate(results, 1):
        hits = sum(s.hits for s in r.measured)
        misses = sum(s.misses for s in r.measured)
        fetches = [s.misses for s in r.measured]
        lines.append(
            f"| {i} | {_median_p95([s.wall_s for s in r.measured])} "
            f"| {_median_p95([s.cpu_s for s in r.measured])} "
            f"| {_ms(statistics.median(s.thread_cpu_s for s in r.measured))} "
            f"| {_ms(r.span_cpu_s / max(1, r.span_cycles))} "
            f"| {_ms(r.cold.wall_s)} / {_ms(r.cold.cpu_s)} / {r.cold.misses:,} "
            f"| {hits / max(1, hits + misses):.4f} "
            f"| {statistics.median(fetches):.0f} / {max(fetches)} "
            f"| {_median_p95(r.writes_s)} "
            f"| {r.load[0]:.2f} → {r.load[1]:.2f} | {r.peak_rss_mb:.0f} MB "
            f"| {r.first_snapshot_s:.1f} s / "
            f"{'-' if r.first_full_s is None else f'{r.first_full_s:.1f} s'} / "
            f"{'-' if r.cold_read_s is None else f'{r.cold_read_s:.0f} s'} | {_verdict(r)} |"
        )
    for i, r in enumerate(results, 1):
        lines += ["", *_memory_lines(i, r)]
    if args.scrape_every > 0:
        lines += ["", *_age_lines(args, results)]
    outages = [(i, r.outage) for i, r in enumerate(results, 1) if r.outage is not None]
    if outages:
        lines += ["", *outage_lines(args.outage, cluster.groups * cluster.partitions, outages)]
    rows = {s.rows for r in results for s in r.measured}
    errors = {k: v for r in results for k, v in r.errors.items()}
    lines += [
        "",
        f"Rows per snapshot: {', '.join(f'{n:,}' for n in sorted(rows))}. "
        f"Errors counted by the collector: {errors or 'none'}. "
        "Process CPU per interval: all process CPU between the ends of the first and last "
        "measured cycles, per cycle (includes the store writer between cycles). "
        "Load average: the machine's 1-minute load before and after each run (anything "
        "else running on it competes for the same 2 cores).",
        "",
        "How the cycle stays small: committed offsets come from `__consumer_offsets` "
        "(after the cold read, each cycle reads only the commits since the previous one; "
        "with `--committed-offsets admin` librdkafka's OffsetFetch handling, quadratic in "
        "the partitions per group, dominates: see the Admin API section when present), "
        "and the per-partition math runs in NumPy columns (`collectors/core/kernels.py`), "
        "with row objects built only when a reader asks for them. Peak RSS is the "
        "collector's: the process's high-water mark (`VmHWM`) reset when the service "
        "starts, so it counts the collector's threads, librdkafka's buffers, the DuckDB "
        "store and the /metrics renders, while seeding and the trickle run in child "
        "processes; the imports and the open store are in it from the start. In the "
        "memory table, *file* is file-backed pages (the libraries' code), *malloc used* "
        "glibc's bytes in use (NumPy columns, librdkafka, DuckDB), *arrow* Arrow's pool, "
        "*other* the rest of the anonymous RSS (Python objects, free pages the allocators "
        "keep, stacks); *malloc free* is what glibc's arenas count as free, returned to "
        "the system or not (so not part of the sum). First snapshot / "
        "first full snapshot: seconds from the service's start (imports and setup excluded) "
        "to the first snapshot, and to the first with every group-partition present and "
        "exact (exact staleness, hence known committed offset and log end); cold read "
        "done: to the first cycle with the whole `__consumer_offsets` read (until then "
        "the groups of partitions not read yet are asked with OffsetFetch every cycle; "
        "its length grows with the uncompacted commits in the log, so it says as much "
        "about the broker as about lagwatch).",
        "",
        "For scale (issue text): KMinion (Go) reports about 100,000 offset records per "
        "second on 2 cores; kafka_exporter scrapes of about 100,000 series time out at 60 s.",
    ]
    return "\n".join(lines)
