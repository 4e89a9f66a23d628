"""``lagwatch bench metrics``: ``/metrics`` scrape latency over real HTTP, and what a
render costs in time and memory.

A synthetic snapshot (no broker needed, shaped as the collector publishes it) is served
by the collector's HTTP app under uvicorn in a separate process, so the client and the
server do not share a GIL, and an httpx client with keep-alive scrapes it repeatedly
after a warm-up: once with a new snapshot published before every scrape (what
Prometheus meets whenever the cycle is shorter than its scrape interval: every scrape
renders), once scraping the same snapshot again (gzip: the kept body). Cases from
issue 4: partition granularity with 100,000 group-partitions (target < 250 ms) and group
granularity with about 5,000 series (target < 20 ms). In the server process, before
anything else, the peak memory of one streamed gzip render of a new snapshot is read
from the kernel (RSS high-water mark, reset just before). Results go to
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import multiprocessing as mp
import os
import random
import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from collectors.core.kernels import CODE, METHOD_CODE, NONE
from collectors.core.model import (
    Aggregate,
    ClusterHealth,
    CollectorStats,
    GroupLag,
    GroupTopicLag,
    PartitionKey,
    PartitionLag,
    SloState,
    Snapshot,
    StalenessMethod,
    Status,
)
from collectors.core.partition_table import (
    PartitionColumns,
    PartitionKeys,
    PartitionRows,
    PartitionTable,
)
from collectors.devtools.bench_report import percentile, write_section
from collectors.serving.scrape import ScrapeCache

SERIES_PER_GROUP = 18  # group-level series of one group: see docs/metrics.md


@dataclass(frozen=True)
class Case:
    name: str
    granularity: str
    groups: int
    topics_per_group: int
    partitions_per_topic: int
    target_ms: float | None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scrapes", type=int, default=50, help="measured scrapes per case")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured scrapes first")
    parser.add_argument(
        "--partitions", type=int, default=100_000, help="group-partitions, partition case"
    )
    parser.add_argument(
        "--group-series", type=int, default=5_000, help="series in the group-granularity case"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")


def run(args: argparse.Namespace) -> int:
    cases = _cases(args.partitions, args.group_series)
    load_before = os.getloadavg()[0]
    results = [_measure(case, args.scrapes, args.warmup) for case in cases]
    body = _report(results, args.scrapes, (load_before, os.getloadavg()[0]))
    print(body)
    if not args.no_write:
        print(f"written to {write_section('metrics', body)}")
    return 0


def _cases(partitions: int, group_series: int) -> list[Case]:
    per_group = 2 * 50  # 2 topics x 50 partitions per group
    groups = max(1, group_series // SERIES_PER_GROUP)
    return [
        Case(
            f"partition granularity, {partitions:,} group-partitions",
            "partition",
            max(1, partitions // per_group),
            2,
            50,
            250.0,
        ),
        Case(
            f"group granularity, {groups:,} groups",
            "group",
            groups,
            2,
            50,
            20.0,
        ),
        Case("group granularity, 5,000 groups (for reference)", "group", 5_000, 2, 10, None),
    ]


# ---- synthetic data ---------------------------------------------------------------


def synthetic_snapshot(
    groups: int, topics_per_group: int, partitions_per_topic: int, now: float, seed: int = 4
) -> Snapshot:
    """A deterministic snapshot: ~85% of partitions caught up, the rest lagging or stuck."""
    rng = random.Random(seed)
    partitions: list[PartitionLag] = []
    topics: list[GroupTopicLag] = []
    group_values: list[GroupLag] = []
    for g in range(groups):
        group = f"read-model-{g:05d}"
        names = tuple(f"events.stream-{(g + t) % 997:03d}" for t in range(topics_per_group))
        group_parts: list[PartitionLag] = []
        for topic in names:
            parts = [
                _partition(rng, PartitionKey("prod", group, topic, i), now)
                for i in range(partitions_per_topic)
            ]
            topics.append(GroupTopicLag("prod", group, topic, now, _aggregate(parts)))
            group_parts += parts
        partitions += group_parts
        group_values.append(
            GroupLag("prod", group, now, "STABLE", 3, names, _aggregate(group_parts))
        )
    slos = tuple(
        SloState("prod", g.group, 2.0, 0.99, 1000, 995) for g in group_values[: min(50, groups)]
    )
    return Snapshot(
        taken_at=now,
        cycle_duration_s=1.5,
        partitions=PartitionRows([columnar(partitions, now)]),
        topics=tuple(topics),
        groups=tuple(group_values),
        clusters=(ClusterHealth("prod", True, now, None),),
        stats=CollectorStats(
            started_at=now - 3600,
            cycles_total=240,
            cycle_durations_s=(1.5,),
            cycle_duration_sum_s=360.0,
            cycle_duration_buckets=((0.5, 10), (1.0, 100), (2.5, 230), (float("inf"), 240)),
            errors_total={"timestamp_read": 3},
            timestamp_cache_hits=90_000,
            timestamp_cache_misses=10_000,
            last_success_at=now,
        ),
        slos=slos,
    )


def columnar(rows: list[PartitionLag], now: float) -> PartitionTable:
    """``rows`` as the collector publishes them: one ``PartitionTable`` of NumPy columns
    (rows are built from it only when read), so renders cost what they cost in production."""

    def ints(name: str) -> np.ndarray:
        return np.array([NONE if (v := getattr(r, name)) is None else v for r in rows], np.int64)

    def floats(name: str) -> np.ndarray:
        values = [getattr(r, name) for r in rows]
        return np.array([np.nan if v is None else v for v in values], np.float64)

    def bools(name: str) -> np.ndarray:
        return np.array([getattr(r, name) for r in rows], dtype=bool)

    columns = PartitionColumns(
        log_start=ints("log_start"),
        log_end=ints("log_end"),
        committed=ints("committed"),
        offset_lag=ints("offset_lag"),
        no_commit=bools("no_commit"),
        events_expired=bools("events_expired"),
        staleness_s=floats("staleness_s"),
        staleness_method=np.array([METHOD_CODE[r.staleness_method] for r in rows], np.int64),
        data_age_s=floats("data_age_s"),
        clock_skew=bools("clock_skew"),
        consume_rate=floats("consume_rate"),
        produce_rate=floats("produce_rate"),
        eta_s=floats("eta_s"),
        status=np.array([CODE[r.status] for r in rows], np.int64),
        errors={i: r.error for i, r in enumerate(rows) if r.error},
    )
    return PartitionTable(PartitionKeys([r.key for r in rows]), now, columns)


def _partition(rng: random.Random, key: PartitionKey, now: float) -> PartitionLag:
    log_end = rng.randrange(10_000, 50_000_000)
    lagging = rng.random() < 0.15
    lag = rng.randrange(1, 5_000) if lagging else 0
    consume = round(rng.uniform(0, 500), 3)
    produce = round(rng.uniform(0, 500), 3)
    return PartitionLag(
        key=key,
        observed_at=now,
        log_start=0,
        log_end=log_end,
        committed=log_end - lag,
        offset_lag=lag,
        no_commit=False,
        events_expired=False,
        staleness_s=round(rng.uniform(0.1, 90), 3) if lagging else 0.0,
        staleness_method=StalenessMethod.EXACT,
        data_age_s=round(rng.uniform(0, 600), 3),
        clock_skew=False,
        consume_rate=consume,
        produce_rate=produce,
        eta_s=round(lag / (consume - produce), 3) if lagging and consume > produce else None,
        status=rng.choice((Status.WARN, Status.STALL)) if lagging else Status.OK,
    )


def _aggregate(parts: list[PartitionLag]) -> Aggregate:
    return Aggregate(
        offset_lag=sum(p.offset_lag or 0 for p in parts),
        staleness_s=max(p.staleness_s or 0.0 for p in parts),
        data_age_s=max(p.data_age_s or 0.0 for p in parts),
        consume_rate=sum(p.consume_rate or 0.0 for p in parts),
        produce_rate=sum(p.produce_rate or 0.0 for p in parts),
        eta_s=None,
        status=max((p.status for p in parts), key=lambda s: s != Status.OK),
        partitions=len(parts),
        no_commit_partitions=0,
        events_expired_partitions=0,
    )


# ---- serving and measuring --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Provider:
    """Publishes a new snapshot object (same values, taken now) for every scrape while
    ``fresh`` is set, as a collector whose cycle is shorter than the scrape interval;
    otherwise the last one published stays the latest."""

    def __init__(self, snapshot: Snapshot, fresh: Any) -> None:
        self._snapshot = snapshot
        self._fresh = fresh
        self._latest: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        if self._fresh.is_set() or self._latest is None:
            self._latest = dataclasses.replace(self._snapshot, taken_at=time.time())
        return self._latest


def _kib_status(key: str) -> int:
    """A ``/proc/self/status`` value in KiB (``VmRSS``, ``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {key}")


def _render_memory(scrapes: ScrapeCache, snapshot: Snapshot) -> tuple[int, int]:
    """(peak, held) bytes of RSS above the level before one gzip scrape of a new
    snapshot, streamed and thrown away as a client would. The kernel's high-water mark is
    reset first (``clear_refs`` 5), so the peak is this render's, allocator included."""
    gc.collect()
    before = _kib_status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    for _ in scrapes.stream(dataclasses.replace(snapshot, taken_at=time.time()), True):
        pass
    gc.collect()
    return (_kib_status("VmHWM") - before) * 1024, (_kib_status("VmRSS") - before) * 1024


def _best(repeats: int, work: Callable[[], object]) -> float:
    """Shortest wall time of ``repeats`` runs of ``work``."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def _serve(case: Case, port: int, ready: mp.Queue, fresh: Any) -> None:
    """Child process: build the snapshot, measure renders, then serve it until killed."""
    import uvicorn

    from collectors.serving.app import create_app
    from collectors.serving.exposition import MetricsRenderer

    snapshot = synthetic_snapshot(
        case.groups, case.topics_per_group, case.partitions_per_topic, time.time()
    )
    renderer = MetricsRenderer(case.granularity)
    scrapes = ScrapeCache(renderer)
    peak, held = _render_memory(scrapes, snapshot)  # first: no earlier render's leftovers

    def new() -> Snapshot:
        return dataclasses.replace(snapshot, taken_at=time.time())

    render_s = _best(3, lambda: sum(len(p) for p in renderer.pieces(new())))
    gzip_s = _best(3, lambda: sum(len(p) for p in scrapes.stream(new(), True)))
    body = renderer.render(snapshot)
    app = create_app(_Provider(snapshot, fresh), renderer=renderer)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    samples = body.count(b"\n") - 2 * body.count(b"# TYPE ")  # lines minus HELP/TYPE
    ready.put(
        {
            "render_s": render_s,
            "gzip_s": gzip_s,
            "peak_bytes": peak,
            "held_bytes": held,
            "bytes": len(body),
            "gzip_bytes": len(renderer.render_gzip(snapshot)),
            "samples": samples,
        }
    )
    del body
    server.run()


def _measure(case: Case, scrapes: int, warmup: int) -> dict[str, object]:
    port = _free_port()
    ctx = mp.get_context("spawn")
    ready: mp.Queue = ctx.Queue()
    fresh = ctx.Event()
    proc = ctx.Process(target=_serve, args=(case, port, ready, fresh), daemon=True)
    proc.start()
    try:
        info = ready.get(timeout=600)
        url = f"http://127.0.0.1:{port}/metrics"
        out: dict[str, object] = {"case": case, **info}
        with httpx.Client(timeout=60) as client:
            _wait_until_serving(client, url)
            fresh.set()
            for encoding in ("identity", "gzip"):
                out[f"new {encoding}"] = _scrape(client, url, encoding, scrapes, warmup)
            fresh.clear()
            out["again gzip"] = _scrape(client, url, "gzip", scrapes, warmup)
        print(
            f"{case.name}: render {info['render_s'] * 1000:.0f} ms, scrape of a new snapshot "
            f"median {statistics.median(out['new gzip']) * 1000:.1f} ms (gzip) / "
            f"{statistics.median(out['new identity']) * 1000:.1f} ms (identity), again "
            f"{statistics.median(out['again gzip']) * 1000:.1f} ms (gzip); render peak "
            f"{_mb(info['peak_bytes'])}"
        )
        return out
    finally:
        proc.terminate()
        proc.join(10)


def _wait_until_serving(client: httpx.Client, url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as r:
                r.read()
                if r.status_code == 200:
                    return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not serving after {timeout_s}s")
        time.sleep(0.1)


def _scrape(
    client: httpx.Client, url: str, encoding: str, scrapes: int, warmup: int
) -> list[float]:
    """Seconds per scrape: request sent to last body byte received (raw, not decompressed)."""
    times = []
    for i in range(warmup + scrapes):
        started = time.perf_counter()
        with client.stream("GET", url, headers={"Accept-Encoding": encoding}) as r:
            for _ in r.iter_raw(1 << 20):
                pass
            r.raise_for_status()
        if i >= warmup:
            times.append(time.perf_counter() - started)
    return times


def _report(results: list[dict[str, object]], scrapes: int, load: tuple[float, float]) -> str:
    lines = [
        "## /metrics scrape latency and render memory",
        "",
        "`lagwatch bench metrics`: a synthetic snapshot, shaped as the collector publishes "
        "it, served by the collector's HTTP app (uvicorn, separate process); an httpx "
        f"client with keep-alive scrapes it {scrapes} times after a warm-up. Latency is "
        "request to last body byte. *New snapshot*: a new snapshot is published before "
        "every scrape, as whenever the cycle is shorter than the scrape interval, so every "
        "scrape renders the latest snapshot as it streams it (gzip: what Prometheus asks "
        "for; identity: plain text). *Again*: the same snapshot scraped again; its gzip "
        "body is kept from the last complete scrape, so this is a copy.",
        "",
        "In the server process (best of 3): *render* is the text of a new snapshot, "
        "streamed and thrown away; *+ gzip* is what a gzip scrape does, render and "
        "compression piece by piece. *Render peak* is the RSS high-water mark of one gzip "
        "scrape of a new snapshot above the RSS before it (kernel counter, reset just "
        "before; measured first in the process); *held* is what stays after it (the gzip "
        "body kept for the next scrape, allocator caches). "
        f"Machine shared with other work: 1-minute load average {load[0]:.1f} before, "
        f"{load[1]:.1f} after the run.",
        "",
        "| case | samples | body | gzip body | render / + gzip "
        "| render peak / held | scrape of a new snapshot, median / p95: gzip "
        "| identity | again (gzip) | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        case: Case = r["case"]  # type: ignore[assignment]
        new_gz: list[float] = r["new gzip"]  # type: ignore[assignment]
        new_plain: list[float] = r["new identity"]  # type: ignore[assignment]
        again: list[float] = r["again gzip"]  # type: ignore[assignment]
        target = f"< {case.target_ms:g} ms" if case.target_ms else "-"
        lines.append(
            f"| {case.name} | {r['samples']:,} | {_mb(r['bytes'])} | {_mb(r['gzip_bytes'])} "
            f"| {_ms(r['render_s'])} / {_ms(r['gzip_s'])} "
            f"| {_mb(r['peak_bytes'])} / {_mb(r['held_bytes'])} "
            f"| {_ms(statistics.median(new_gz))} / {_ms(percentile(new_gz, 95))} "
            f"| {_ms(statistics.median(new_plain))} / {_ms(percentile(new_plain, 95))} "
            f"| {_ms(statistics.median(again))} / {_ms(percentile(again, 95))} | {target} |"
        )
    return "\n".join(lines)


def _ms(seconds: object) -> str:
    return f"{float(seconds) * 1000:.1f} ms"  # type: ignore[arg-type]


def _mb(n: object) -> str:
    return f"{int(n) / 1e6:.1f} MB" if int(n) >= 100_000 else f"{int(n) / 1e3:.1f} kB"  # type: ignore[call-overload]
