"""``lagwatch bench demo``: end-to-end throughput and command-to-visible latency.

Starts the whole demo (five processes, fresh topic names, a temporary data dir) against
``--bootstrap-servers`` and runs two phases through the command API:

1. latency — ``--latency-rate`` commands/s (default 500) for ``--duration`` seconds;
   command-to-visible latency is ``visible_at - accepted_at`` per command, read from
   the balances read model's ground truth (no polling error);
2. throughput — ``--throughput-rate`` commands/s offered (default 4000) by
   ``--senders`` parallel clients; sustained end-to-end throughput is the number of
   commands that became visible per second over the phase, from the first accept to
   the last visible (account openings before the timed part excluded).

Results go to stdout and to the ``demo`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from collectors.devtools.bench_report import percentile, write_section
from demo_system.load import LoadResult, run_load
from demo_system.read_model import db_path, open_readonly
from demo_system.supervisor import Supervisor, demo_children
from demo_system.topics import Names, ensure_topics


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--latency-rate", type=float, default=500.0)
    parser.add_argument("--throughput-rate", type=float, default=4000.0)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--senders", type=int, default=4, help="parallel load clients")
    parser.add_argument("--api-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--query-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")
    parser.add_argument("--keep", action="store_true", help="keep the read models and logs")


def run(args: argparse.Namespace) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="lagwatch-bench-demo-"))
    prefix = f"bench-{uuid.uuid4().hex[:8]}-"
    ensure_topics(args.bootstrap_servers, Names(prefix))
    api_port, query_port = args.api_port or _free_port(), args.query_port or _free_port()
    children = demo_children(
        args.bootstrap_servers, prefix, data_dir, api_port=api_port, query_port=query_port
    )
    supervisor = Supervisor(children, data_dir / "logs", say=lambda _m: None)
    supervisor.start()
    api = f"http://127.0.0.1:{api_port}"
    load_before = os.getloadavg()[0]
    try:
        _wait_healthy([api, f"http://127.0.0.1:{query_port}"])
        print(f"phase 1: {args.latency_rate:.0f} commands/s for {args.duration:.0f} s")
        low = _phase(api, data_dir, args.latency_rate, args.duration, 1)
        print(_describe(low))
        print(f"phase 2: {args.throughput_rate:.0f} commands/s offered, {args.senders} senders")
        high = _phase(api, data_dir, args.throughput_rate, args.duration, args.senders)
        print(_describe(high))
    finally:
        supervisor.stop()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    load_after = os.getloadavg()[0]
    print(f"load average {load_before:.1f} before, {load_after:.1f} after")
    if not args.no_write:
        path = write_section("demo", _report(args, low, high, (load_before, load_after)))
        print(f"written to {path}")
    return 0


def _phase(api: str, data_dir: Path, rate: float, duration: float, senders: int) -> dict:
    results: list[LoadResult] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(run_load(api, rate / senders, duration, accounts=200))
        )
        for _ in range(senders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [c for r in results for c in r.command_ids]
    deadline = time.monotonic() + max(120.0, duration * 4)
    rows = _visibility(data_dir, ids)
    while len(rows) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.5)
        rows = _visibility(data_dir, ids)
    latencies = [(visible - accepted) / 1000 for accepted, visible in rows]
    timed = _visibility(data_dir, [c for r in results for c in r.command_ids[r.openings :]])
    first_accept = min(a for a, _ in timed) / 1000
    last_visible = max(v for _, v in timed) / 1000
    return {
        "offered": rate,
        "accepted": sum(r.sent for r in results),
        "accepted_rate": sum(r.rate for r in results),
        "failed_requests": sum(r.failed_requests for r in results),
        "visible": len(rows),
        "visible_rate": len(timed) / (last_visible - first_accept),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
    }


def _visibility(data_dir: Path, ids: list[str]) -> list[tuple[int, int]]:
    """(accepted_at_ms, visible_at_ms) of the given commands that are visible."""
    db = open_readonly(db_path(data_dir, "balances"))
    if db is None:
        return []
    try:
        wanted = set(ids)
        rows = db.execute("SELECT command_id, accepted_at_ms, visible_at_ms FROM commands")
        return [(a, v) for c, a, v in rows if c in wanted]
    finally:
        db.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(urls: list[str], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    for url in urls:
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not healthy within {timeout_s} s")
            time.sleep(0.2)


def _describe(r: dict) -> str:
    return (
        f"  accepted {r['accepted']} ({r['accepted_rate']:.0f}/s), visible {r['visible']} "
        f"({r['visible_rate']:.0f}/s end to end), failed requests {r['failed_requests']}; "
        f"command-to-visible p50 {r['p50']:.3f} s, p95 {r['p95']:.3f} s, "
        f"p99 {r['p99']:.3f} s, max {r['max']:.3f} s"
    )


def _report(args: argparse.Namespace, low: dict, high: dict, load: tuple) -> str:
    def row(name: str, r: dict) -> str:
        return (
            f"| {name} | {r['offered']:.0f} | {r['accepted_rate']:.0f} | {r['visible_rate']:.0f} "
            f"| {r['p50'] * 1000:.0f} | {r['p95'] * 1000:.0f} | {r['p99'] * 1000:.0f} "
            f"| {r['max'] * 1000:.0f} |"
        )

    return "\n".join(
        [
            "## Demo: end-to-end throughput and command-to-visible latency",
            "",
            f"`lagwatch bench demo`: the five demo processes, {args.duration:.0f} s per phase, "
            "commands sent in batches through `POST /commands/batch`. Latency is "
            "`visible_at - accepted_at` per command from the balances read model (accepted "
            "= stamped by the command API; visible = the projection's SQLite commit). "
            "Throughput = commands visible per second, first accept to last visible.",
            "",
            "| phase | offered /s | accepted /s | visible /s (end to end) "
            "| p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---|---|---|---|---|---|---|",
            row("latency", low),
            row(f"throughput ({args.senders} senders)", high),
            "",
            "Targets: ≥ 2,000 commands/s sustained; p99 command-to-visible < 1 s at 500/s.",
            "",
            "Everything (single-node local broker, five demo processes, the load clients) ran "
            "on the same machine, whose 2 cores were shared with other work: load average "
            f"{load[0]:.1f} at the start, {load[1]:.1f} at the end. Expect noise.",
        ]
    )
