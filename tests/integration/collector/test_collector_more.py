"""Several clusters, the estimation fallback, and kill -9 of a real collector process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from collectors.bootstrap import build_service
from collectors.core.model import StalenessMethod
from collectors.devtools.kafka_local import free_port
from collectors.settings import load_settings
from collectors.store.db import Store

from .conftest import BackgroundProducer, commit, partition, produce, wait_until


def test_several_clusters_are_collected_side_by_side(
    kafka_bootstrap: str, tmp_path: Path, create_topic, group_name
) -> None:
    topic = create_topic()
    produce(kafka_bootstrap, topic, 9)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 4)
    config = tmp_path / "two.toml"
    config.write_text(
        f'[[clusters]]\nname = "east"\nbootstrap_servers = "{kafka_bootstrap}"\n'
        f'include = ["{group}"]\n'
        f'[[clusters]]\nname = "west"\nbootstrap_servers = "{kafka_bootstrap}"\n'
        f'include = ["{group}"]\nread_records = false\n'
    )
    service = build_service(load_settings(config, env={}))
    snap = service.run_cycle()
    by_cluster = {row.key.cluster: row for row in snap.partitions if row.key.group == group}
    assert set(by_cluster) == {"east", "west"}
    assert by_cluster["east"].offset_lag == by_cluster["west"].offset_lag == 5
    assert by_cluster["east"].staleness_method is StalenessMethod.EXACT
    assert {c.cluster for c in snap.clusters} == {"east", "west"}


def test_estimated_staleness_when_records_are_not_read(
    kafka_bootstrap: str, create_topic, group_name, make_collector
) -> None:
    topic = create_topic()
    group = group_name()
    commit(kafka_bootstrap, group, topic, 0)
    collector = make_collector([group])
    collector.service._clusters[0]._readers = None  # as with read_records = false
    with BackgroundProducer(kafka_bootstrap, topic, every_s=0.05):
        started = time.time()
        snap = collector.cycle_until(
            lambda s: (
                (p := partition(s, group, topic))
                and p.offset_lag
                and p.staleness_method is StalenessMethod.ESTIMATED
                and p.staleness_s > 0.5
            ),
            30,
            "estimated staleness from log-end history",
        )
    row = partition(snap, group, topic)
    # The first unconsumed record (offset 0) was written after the test started.
    assert 0 < row.staleness_s <= time.time() - started + 0.5
    assert row.data_age_s is None


def test_kill_9_loses_at_most_the_cycle_in_flight(
    kafka_bootstrap: str, tmp_path: Path, create_topic, group_name
) -> None:
    topic = create_topic()
    produce(kafka_bootstrap, topic, 7)
    group = group_name()
    commit(kafka_bootstrap, group, topic, 3)
    port, store = free_port(), tmp_path / "lw.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAGWATCH_")}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "collectors.cli", "collect", "--bootstrap-servers",
            kafka_bootstrap, "--listen", f"127.0.0.1:{port}", "--store", str(store),
            "--interval", "0.2", "--no-supervise",  # the collector process itself dies
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api/v1/series"
    # One fixed range for both reads, so both bucket the samples the same way.
    window = {"start": time.time() - 1, "end": time.time() + 299}

    def served_points() -> list:
        try:
            body = httpx.get(url, params={"metric": "offset_lag", "group": group, **window})
        except httpx.HTTPError:
            return []
        return [p for p in body.json().get("points", []) if p[1] is not None]

    try:
        seen = wait_until(lambda: len(served_points()) >= 5 and served_points(), 60, "stored")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    with Store(store) as reopened:
        after = reopened.series("offset_lag", group, **window)
    assert {v for _, v in after} == {4}
    # Everything the API had served before the kill is still there.
    assert {t for t, _ in seen} <= {t for t, _ in after}
