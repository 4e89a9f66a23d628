"""``lagwatch bench status-demo``: the demo under steady load reads only OK or IDLE.

Starts the whole demo (fresh topic names, a temporary data dir) against
``--bootstrap-servers`` (or a broker it starts on a free port), an in-process collector
over the demo's groups (``read_committed`` for the command handler's and projections'
groups, as the demo consumes), and sends ``--rates`` commands/s (default 20, 200 and
500) for ``--duration`` seconds each (default 120). Every cycle, every partition's
status is counted; the target is OK or IDLE on every partition, every cycle. Results:
stdout and the ``status-demo`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from collectors.bootstrap import build_service
from collectors.core.model import Status
from collectors.devtools.bench_report import write_section
from collectors.settings import load_settings
from demo_system.load import run_load
from demo_system.supervisor import Supervisor, demo_children
from demo_system.topics import Names, ensure_topics

HEALTHY = {Status.OK, Status.IDLE}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rates", type=float, nargs="+", default=[20.0, 200.0, 500.0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds per rate")
    parser.add_argument("--interval", type=float, default=1.0, help="collector interval_s")
    parser.add_argument("--no-broker", action="store_true", help="use --bootstrap-servers")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")


def run(args: argparse.Namespace) -> int:
    broker = None
    bootstrap = args.bootstrap_servers
    if not args.no_broker:
        from collectors.devtools import kafka_local

        port = kafka_local.free_port()
        broker_dir = Path(tempfile.mkdtemp(prefix="lagwatch-bench-status-demo-kafka-"))
        state, _ = kafka_local.start(port, broker_dir, timeout_s=180, progress=lambda _m: None)
        broker, bootstrap = (port, broker_dir), state.bootstrap
    data_dir = Path(tempfile.mkdtemp(prefix="lagwatch-bench-status-demo-"))
    prefix = f"sd-{uuid.uuid4().hex[:6]}-"
    names = Names(prefix)
    ensure_topics(bootstrap, names)
    api_port, query_port = _free_port(), _free_port()
    supervisor = Supervisor(
        demo_children(bootstrap, prefix, data_dir, api_port=api_port, query_port=query_port),
        data_dir / "logs",
        say=lambda _m: None,
    )
    supervisor.start()
    service = build_service(
        load_settings(
            env={},
            overrides={
                "clusters.bootstrap_servers": bootstrap,
                "clusters.include": [f"{prefix}.*"],
                "clusters.read_committed_groups": [f"{prefix}.*"],
                "collector.interval_s": args.interval,
            },
        )
    )
    phases: list[tuple[float, Counter, list[str]]] = []
    try:
        _wait_healthy(f"http://127.0.0.1:{api_port}")
        for rate in args.rates:
            counts, bad = _phase(service, f"http://127.0.0.1:{api_port}", rate, args, prefix)
            phases.append((rate, counts, bad))
            print(_line(rate, counts, bad))
    finally:
        service.stop()
        supervisor.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        if broker is not None:
            from collectors.devtools import kafka_local

            kafka_local.stop(*broker)
    passed = all(not bad for _, _, bad in phases)
    if not args.no_write:
        write_section("status-demo", _report(phases, args, passed))
    return 0 if passed else 1


def _phase(service, api: str, rate: float, args, prefix: str) -> tuple[Counter, list[str]]:
    stop = threading.Event()
    load = threading.Thread(
        target=lambda: run_load(api, rate, args.duration, accounts=200, stop=stop), daemon=True
    )
    load.start()
    counts: Counter = Counter()
    bad: list[str] = []
    start = time.monotonic()
    next_at = start
    while load.is_alive() and time.monotonic() - start < args.duration + 120:
        snap = service.run_cycle()
        for p in snap.partitions:
            if not p.key.group.startswith(prefix):
                continue
            counts[p.status] += 1
            if p.status not in HEALTHY:
                where = f"{p.key.group} {p.key.topic}[{p.key.partition}]"
                bad.append(
                    f"{time.monotonic() - start:.0f}s {where} {p.status.value} "
                    f"lag={p.offset_lag} staleness={p.staleness_s}"
                )
        next_at += args.interval
        time.sleep(max(0.0, next_at - time.monotonic()))
    stop.set()
    load.join(30)
    return counts, bad


def _line(rate: float, counts: Counter, bad: list[str]) -> str:
    total = sum(counts.values())
    spread = ", ".join(f"{s.value} {counts[s]}" for s in Status if counts[s])
    head = f"{rate:g} commands/s: {total} partition observations ({spread})"
    return head + ("" if not bad else f"; not OK/IDLE: {len(bad)}, first: {bad[:3]}")


def _report(phases, args, passed: bool) -> str:
    lines = [
        "## Demo under steady load (`lagwatch bench status-demo`)",
        "",
        f"The demo (command handler and two projections) under {args.duration:g} s of load "
        f"per rate, an in-process collector at interval_s {args.interval:g}; every "
        "partition's status every cycle. Target: only OK or IDLE.",
        "",
        "| commands/s | partition observations | OK | IDLE | other |",
        "|---|---|---|---|---|",
    ]
    for rate, counts, bad in phases:
        lines.append(
            f"| {rate:g} | {sum(counts.values())} | {counts[Status.OK]} | "
            f"{counts[Status.IDLE]} | {len(bad)} |"
        )
    lines += ["", f"Verdict: {'PASS' if passed else 'FAIL'}."]
    for _, _, bad in phases:
        lines += [f"- {b}" for b in bad[:5]]
    return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, timeout_s: float = 90) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"demo command API at {url} not healthy within {timeout_s:g} s")
