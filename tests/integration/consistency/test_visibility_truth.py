"""The consistency window against the demo's ground truth (issue 12, "Must show").

A real broker, the demo's five processes (fresh names), and an in-process collector with
its store and a read-your-writes probe against the demo. Under steady load (200
commands/s for 60 s) the passive p50 and p99 of ``bank-balances`` must be within one
collection interval of the true values in the projection's database (``applied``:
``visible_at_ms - event_time_ms`` per event), and every probe's latency must be at or
above the truth for that probe's command (``commands``: ``visible_at_ms -
accepted_at_ms``) and at most two check intervals above it. Measured and true values
are printed side by side (``pytest -s``).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from collectors.bootstrap import build_service
from collectors.core.visibility import latency_stats
from collectors.probe_settings import ProbeSettings
from collectors.serving.app import create_app
from collectors.settings import SloSettings, load_settings
from collectors.store.db import Store
from demo_system.load import run_load
from demo_system.read_model import db_path
from tests.integration.demo_system.demo_stack_helpers import DemoStack, wait_until

INTERVAL_S = 1.0
CHECK_INTERVAL_S = 0.25
RATE, DURATION_S = 200, 60


def probe_settings(stack: DemoStack, name: str = "deposit-balances") -> dict:
    api = f"http://127.0.0.1:{stack.api_port}"
    query = f"http://127.0.0.1:{stack.query_port}"
    return {
        "name": name,
        "target": stack.names.projection_group("balances"),
        "setup": [{"url": f"{api}/commands",
                   "body": {"type": "open_account", "account_id": "lagwatch-probe"}}],
        "command": {"url": f"{api}/commands", "id_field": "command_id",
                    "body": {"type": "deposit", "account_id": "lagwatch-probe", "amount": 1}},
        "check": {"url": f"{query}/commands/{{id}}", "field": "status", "value": "applied"},
        "interval_s": 1.0,
        "check_interval_s": CHECK_INTERVAL_S,
        "timeout_s": 20.0,
        "concurrency": 2,
    }  # fmt: skip


def collector(stack: DemoStack, bootstrap: str, store: Store, probes=(), slos=(), **extra: object):
    settings = load_settings(
        env={},
        overrides={
            "clusters.bootstrap_servers": bootstrap,
            "clusters.include": [f"{stack.prefix}.*"],
            "clusters.read_committed_groups": [f"{stack.prefix}bank-(balances|activity)"],
            "collector.interval_s": INTERVAL_S,
            **extra,
        },
    )
    settings = settings.model_copy(
        update={
            "probes": [ProbeSettings(**p) for p in probes],
            "slo": [SloSettings(**s) for s in slos],
        }
    )
    return build_service(settings, store=store)


def read_db(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def test_passive_and_probe_latency_match_the_demo_ground_truth(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    (tmp_path / "demo").mkdir()
    stack = DemoStack(kafka_bootstrap, tmp_path / "demo", f"t-vis-{time.time_ns() % 10**8}-")
    store = Store(tmp_path / "lagwatch.duckdb")
    service = None
    try:
        stack.start_all()
        stack.wait_processing()  # steady state: a fresh stack's first command can take long
        service = collector(stack, kafka_bootstrap, store, probes=[probe_settings(stack)])
        service.start()
        app = TestClient(create_app(service, store=store))
        group = stack.names.projection_group("balances")
        wait_until(lambda: service.snapshot() is not None, 60, "first cycle")

        started = time.time()
        result = run_load(f"http://127.0.0.1:{stack.api_port}", RATE, DURATION_S, seed=7)
        ended = time.time()
        assert result.sent >= 0.9 * RATE * DURATION_S, result
        stack.wait_caught_up(120)
        time.sleep(3 * INTERVAL_S)  # the last moves seen by the collector
        assert service.drain(30)
        service.stop()
        service.consistency.write(store, None)  # probes finished after the last drain

        # --- passive, against visible_at - event_time of every event in the run ------
        balances_db = db_path(stack.data_dir, "balances")
        truth = np.array(
            [
                (v - e) / 1000
                for v, e in read_db(
                    balances_db,
                    "SELECT visible_at_ms, event_time_ms FROM applied "
                    "WHERE visible_at_ms >= ? AND visible_at_ms <= ?",
                    (started * 1000, ended * 1000),
                )
            ]
        )
        answer = app.get(
            "/api/v1/visibility", params={"group": group, "start": started, "end": ended + 1}
        ).json()
        true_stats = latency_stats(truth)
        print(f"\npassive ({answer['count']} samples vs {true_stats.count} events):")
        print(f"  {'':6}{'measured':>10}{'true':>10}")
        for q in ("p50", "p90", "p99", "max"):
            print(f"  {q:6}{answer[q]:>10.3f}{getattr(true_stats, q):>10.3f}")
        assert answer["count"] >= 0.5 * DURATION_S / INTERVAL_S  # moves seen most cycles
        assert answer["replay_count"] == 0
        for q in ("p50", "p99"):
            assert abs(answer[q] - getattr(true_stats, q)) <= INTERVAL_S, q
        assert sum(answer["histogram"]["counts"]) == answer["count"]
        assert answer["curve"][-1]["p"] == 1.0

        # --- probes, each against its own command's truth ---------------------------
        probes = app.get("/api/v1/probes", params={"start": started - 60}).json()["probes"]
        assert [p["name"] for p in probes] == ["deposit-balances"]
        recent = [r for r in probes[0]["recent"] if r["outcome"] == "visible"]
        assert len(recent) >= 0.8 * DURATION_S, probes[0]
        truths = dict(
            (c, (v - a) / 1000)
            for c, v, a in read_db(
                balances_db, "SELECT command_id, visible_at_ms, accepted_at_ms FROM commands"
            )
        )
        print(f"probes ({len(recent)} visible, failures {probes[0]['failures']}):")
        print(f"  {'command':38}{'measured':>10}{'true':>10}{'excess':>10}")
        excess = []
        for r in recent:
            true = truths[r["probe_id"]]
            excess.append(r["latency_s"] - true)
            if len(excess) <= 10 or r is recent[-1]:
                print(f"  {r['probe_id']:38}{r['latency_s']:>10.3f}{true:>10.3f}"
                      f"{excess[-1]:>10.3f}")  # fmt: skip
        print(f"  excess over truth: min {min(excess):.3f} s, max {max(excess):.3f} s")
        # Never below the truth (1 ms: both ends are whole milliseconds in the demo).
        assert min(excess) >= -0.001
        assert max(excess) <= 2 * CHECK_INTERVAL_S
        failed = [
            (round(r["started_at"] - started, 1), r["outcome"])
            for r in probes[0]["recent"]
            if r["outcome"] != "visible"
        ]
        assert probes[0]["failures"] == {"timeout": 0, "error": 0}, f"s after load start: {failed}"
    finally:
        if service is not None:
            service.stop()
        stack.stop_all()
        store.close()
