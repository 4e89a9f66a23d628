"""The collector survives its broker going away and recovers on its own."""

from __future__ import annotations

from pathlib import Path

from collectors.core.model import Status
from collectors.devtools import kafka_local

from .conftest import commit, group_row, produce, wait_until


def test_broker_restart_mid_run_is_survived(
    tmp_path: Path, group_name, committed_offsets: str
) -> None:
    # A broker of this test's own: the session broker must stay up for other tests.
    port = kafka_local.free_port()
    data_dir = tmp_path / "own-broker"
    state, _ = kafka_local.start(port, data_dir, timeout_s=120)
    try:
        produce(state.bootstrap, "outage-topic", 8)
        group = group_name()
        commit(state.bootstrap, group, "outage-topic", 3)

        from collectors.bootstrap import build_service
        from collectors.settings import load_settings

        settings = load_settings(
            env={},
            overrides={
                "clusters.bootstrap_servers": state.bootstrap,
                "clusters.include": [group],
                "clusters.request_timeout_s": 2.0,
                "clusters.committed_offsets": committed_offsets,
                "collector.interval_s": 0.3,
            },
        )
        service = build_service(settings)
        service.start()
        try:

            def healthy():
                snap = service.snapshot()
                g = snap and group_row(snap, group)
                return g and snap.clusters[0].up and g.lag.offset_lag == 5

            wait_until(healthy, 60, "collector sees the group before the outage")

            kafka_local.stop(port, data_dir)

            def down():
                snap = service.snapshot()
                g = snap and group_row(snap, group)
                return g and not snap.clusters[0].up and g.lag.status is Status.ERROR

            wait_until(down, 60, "ERROR and up=0 while the broker is down")
            errors_during = service.snapshot().stats.errors_total
            assert errors_during.get("cluster_unreachable", 0) >= 1

            kafka_local.start(port, data_dir, timeout_s=120)
            wait_until(healthy, 90, "collector recovers by itself when the broker returns")
            assert service.snapshot().stats.last_success_at is not None
        finally:
            service.stop()
    finally:
        kafka_local.stop(port, data_dir)
