"""Probe targets that time out, answer 500 or refuse connections are recorded as failures
with their reasons, and the collector's cycle keeps its pace (real broker, tiny local
HTTP servers as targets)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from collectors.bootstrap import build_service
from collectors.probe_settings import ProbeSettings
from collectors.serving.app import create_app
from collectors.settings import load_settings
from collectors.store.db import Store
from tests.kafka_helpers import commit, produce, wait_until

INTERVAL_S = 0.5


class _Handler(BaseHTTPRequestHandler):
    mode = "ok"  # set per server class

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.mode == "hang":
            time.sleep(3)
            return
        if self.mode == "500":
            self._answer(500, {"error": "boom"})
            return
        self._answer(202, {"command_id": "c1"})

    def do_GET(self) -> None:
        if self.mode == "check500":
            self._answer(500, {"error": "read model down"})
        else:
            self._answer(200, {"status": "pending"})  # never applied: a timeout


def _server(mode: str) -> ThreadingHTTPServer:
    handler = type(f"Handler_{mode}", (_Handler,), {"mode": mode})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def servers() -> Iterator[dict[str, str]]:
    started = {mode: _server(mode) for mode in ("hang", "500", "check500", "pending")}
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        refused = s.getsockname()[1]
    urls = {m: f"http://127.0.0.1:{srv.server_address[1]}" for m, srv in started.items()}
    urls["refused"] = f"http://127.0.0.1:{refused}"
    yield urls
    for srv in started.values():
        srv.shutdown()
        srv.server_close()


def _probe(name: str, base: str) -> ProbeSettings:
    return ProbeSettings(
        name=name,
        command={"url": f"{base}/commands", "body": {"id": "{id}"}},
        check={"url": f"{base}/commands/{{id}}", "field": "status", "value": "applied"},
        interval_s=0.5,
        check_interval_s=0.1,
        timeout_s=1.0,
        request_timeout_s=0.5,
        concurrency=2,
    )


def test_failing_targets_are_failures_with_reasons_and_the_cycle_keeps_its_pace(
    kafka_bootstrap: str, tmp_path: Path, servers: dict[str, str], unique_name
) -> None:
    topic, group = unique_name("topic"), unique_name("group")
    produce(kafka_bootstrap, topic, 10)
    commit(kafka_bootstrap, group, topic, 5)
    settings = load_settings(
        env={},
        overrides={
            "clusters.bootstrap_servers": kafka_bootstrap,
            "clusters.include": [group],
            "collector.interval_s": INTERVAL_S,
        },
    )
    probes = [_probe(mode, url) for mode, url in servers.items() if mode != "check500"]
    probes.append(_probe("check500", servers["check500"]))
    settings = settings.model_copy(update={"probes": probes})
    store = Store(tmp_path / "lagwatch.duckdb")
    service = build_service(settings, store=store)
    try:
        service.start()
        wait_until(lambda: service.snapshot() is not None, 60, "first cycle")
        app = TestClient(create_app(service, store=store))

        def all_failed() -> dict | None:
            body = app.get("/api/v1/probes").json()
            by_name = {p["name"]: p for p in body["probes"]}
            done = all(sum(p["failures"].values()) >= 3 for p in by_name.values())
            return by_name if done else None

        by_name = wait_until(all_failed, 60, "every probe failed three times")
        # Then watch the cycle for 10 s more while the probes keep failing.
        first, t0 = service.snapshot().stats.cycles_total, time.monotonic()
        wait_until(lambda: time.monotonic() - t0 >= 10, 20, "10 s of failing probes")
        elapsed = time.monotonic() - t0
        snapshot = service.snapshot()
        cycles = snapshot.stats.cycles_total - first
        slowest = max(snapshot.stats.cycle_durations_s[-cycles:])
        reasons = {n: sorted(p["failure_reasons"]) for n, p in by_name.items()}
        print(f"\nreasons: {json.dumps(reasons, indent=1)}")
        print(f"cycles: {cycles} in {elapsed:.1f} s at interval {INTERVAL_S} s, "
              f"slowest {slowest:.3f} s")  # fmt: skip

        assert by_name["hang"]["failures"]["error"] >= 3
        assert all(r.startswith("command_timeout") for r in by_name["hang"]["failure_reasons"])
        assert set(by_name["500"]["failure_reasons"]) == {"command_status: 500"}
        assert all(r.startswith("command_connect") for r in by_name["refused"]["failure_reasons"])
        assert set(by_name["check500"]["failure_reasons"]) == {"check_status: 500"}
        assert by_name["pending"]["failures"]["timeout"] >= 3
        assert all(
            r.startswith("not_visible: after 1 s") for r in by_name["pending"]["failure_reasons"]
        )
        for p in by_name.values():
            assert p["visible"] == 0 and p["p50"] is None
            assert all(r["outcome"] in ("timeout", "error") and r["reason"] for r in p["recent"])
        # The cycle kept its pace (a cycle every interval; slack for a busy machine):
        # probe threads that hang or fail never hold a cycle up.
        assert cycles >= 0.8 * elapsed / INTERVAL_S - 1
        assert sum(by_name["refused"]["failures"].values()) < sum(
            p["failures"]["error"]
            for p in app.get("/api/v1/probes").json()["probes"]
            if p["name"] == "refused"
        )  # still probing, still failing
        metrics = app.get("/metrics").text
        assert 'lagwatch_probe_failures_total{probe="500",reason="command_status"}' in metrics
        assert 'lagwatch_probe_results_total{probe="pending",outcome="timeout"}' in metrics
    finally:
        service.stop()
        store.close()
