"""Unknown is never 0: a broker outage under a running collector (issue 10).

A broker of this test's own is stopped for 30 s under a collector that runs on its
own timer with a store: ``/healthz`` turns 503 within three intervals, ``/metrics``
drops ``lagwatch_up`` to 0 at once and withdraws the lag series, and the stored history
shows a gap (nulls) for lag and members — never zeros.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from fastapi.testclient import TestClient

from collectors.bootstrap import build_service
from collectors.devtools import kafka_local
from collectors.serving.app import create_app
from collectors.settings import load_settings
from collectors.store.db import Store

from .conftest import commit, group_row, produce, wait_until

INTERVAL_S = 1.0


def test_broker_outage_leaves_a_gap_not_zeros(tmp_path: Path, group_name) -> None:
    port = kafka_local.free_port()
    data_dir = tmp_path / "own-broker"
    state, _ = kafka_local.start(port, data_dir, timeout_s=120)
    store = Store(tmp_path / "lw.duckdb")
    service = None
    try:
        produce(state.bootstrap, "outage-topic", 8)
        group = group_name()
        commit(state.bootstrap, group, "outage-topic", 3)
        settings = load_settings(
            env={},
            overrides={
                "clusters.bootstrap_servers": state.bootstrap,
                "clusters.include": [group],
                "clusters.request_timeout_s": 3.0,
                "collector.interval_s": INTERVAL_S,
            },
        )
        service = build_service(settings, store=store)
        app = create_app(service, store=store)
        app.state.interval_s = INTERVAL_S
        client = TestClient(app)
        service.start()

        def healthy() -> bool:
            snap = service.snapshot()
            g = snap and group_row(snap, group)
            return bool(g and snap.clusters[0].up and g.lag.offset_lag == 5)

        wait_until(healthy, 60, "collector sees the group before the outage")
        wait_until(
            lambda: client.get("/healthz").status_code == 200,
            30,
            f"/healthz 200 while healthy: {client.get('/healthz').json()}, "
            f"age {service.reading_age()}, cycles {service.snapshot().stats.cycle_durations_s}",
        )
        time.sleep(3 * INTERVAL_S)  # some history before the outage
        before = time.time()

        kafka_local.stop(port, data_dir)
        stopped = time.monotonic()
        while client.get("/healthz").status_code != 503:
            assert time.monotonic() - stopped <= 3 * INTERVAL_S, "/healthz still 200"
            time.sleep(0.05)
        metrics = client.get("/metrics").text
        assert 'lagwatch_up{cluster="default"} 0' in metrics
        assert "lagwatch_group_offset_lag{" not in metrics
        assert "lagwatch_partition_offset_lag{" not in metrics

        time.sleep(30 - (time.monotonic() - stopped))
        kafka_local.start(port, data_dir, timeout_s=120)
        wait_until(healthy, 90, "collector recovers by itself when the broker returns")
        time.sleep(3 * INTERVAL_S)
        after = time.time()
        assert service.drain(30)

        for metric in ("offset_lag", "members"):
            response = client.get(
                "/api/v1/series",
                params={"metric": metric, "group": group, "start": before - 5, "end": after},
            )
            assert response.status_code == 200, response.text
            points = response.json()["points"]
            values = [v for _, v in points]
            known = [v for v in values if v is not None]
            assert known, f"{metric}: no values at all"
            expected = 5 if metric == "offset_lag" else 0
            assert set(known) == {expected}, f"{metric}: {points}"
            # A gap: buckets of the outage hold no value (null or no point at all).
            times = [t for t, v in points if v is not None]
            gaps = [b - a for a, b in itertools.pairwise(times)]
            nulls = sum(v is None for v in values)
            assert nulls > 0 or max(gaps) >= 20, f"{metric}: no gap in {points}"
        # While the broker is gone no lag is known: NULL, never 0. Members are NULL while
        # the group cannot be described (a broker shutting down may still describe it).
        counts = store.query(
            lambda c: c.execute(
                "SELECT count(*) FILTER (WHERE offset_lag IS NOT NULL), "
                "count(*) FILTER (WHERE members IS NULL), count(*) "
                "FROM group_samples WHERE group_name = ? AND status = 'ERROR'",
                [group],
            ).fetchone()
        )
        assert counts[0] == 0, "an unreadable cycle stored a lag"
        assert counts[1] > 0 and counts[2] > 0, f"no unknown members stored: {counts}"
    finally:
        if service is not None:
            service.stop()
        store.close()
        kafka_local.stop(port, data_dir)
