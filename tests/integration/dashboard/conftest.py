"""Fixtures: a real collector process watching the real broker, with real groups."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from confluent_kafka.admin import NewTopic

from tests.kafka_helpers import commit, produce, wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
APP = REPO / "dashboard" / "streamlit_app.py"
LAGWATCH = Path(sys.executable).with_name("lagwatch")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Collector:
    """``lagwatch collect`` as a process that a test may stop and start on the same port."""

    bootstrap: str
    config: Path
    store: Path
    port: int
    log: Path
    process: subprocess.Popen | None = None
    groups: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Collector:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(LAGWATCH), "collect", "--config", str(self.config),
                 "--bootstrap-servers", self.bootstrap, "--listen", f"127.0.0.1:{self.port}",
                 "--store", str(self.store)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_until(self.healthy, 60, f"collector on {self.url} healthy")
        return self

    def healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        # the port must be free again before a restart on it
        wait_until(lambda: not self.healthy(), 20, "collector stopped")


@pytest.fixture(scope="module")
def collector(
    kafka_bootstrap: str, admin, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Collector]:
    """A collector watching three fresh groups in a fresh pipeline (commands -> handler ->
    events -> two projections), with lag left on purpose, and history in its store."""
    tmp = tmp_path_factory.mktemp("dash")
    suffix = uuid.uuid4().hex[:8]
    commands, events = f"t-dash-commands-{suffix}", f"t-dash-events-{suffix}"
    handler, balances, activity = (f"t-dash-{name}-{suffix}"
                                   for name in ("handler", "balances", "activity"))  # fmt: skip
    for topic, partitions in ((commands, 2), (events, 3)):
        admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[
            topic
        ].result(30)
    now = time.time()
    for p in range(2):
        produce(kafka_bootstrap, commands, 10, partition=p)
        commit(kafka_bootstrap, handler, commands, 10, partition=p)
    for p in range(3):
        produce(
            kafka_bootstrap, events, 20, partition=p, timestamps=[now - 30 + i for i in range(20)]
        )
        commit(kafka_bootstrap, balances, events, 5 + p, partition=p)  # behind: lag and staleness
        commit(kafka_bootstrap, activity, events, 20, partition=p)  # caught up
    config = tmp / "lagwatch.toml"
    config.write_text(
        f"""
[collector]
interval_s = 0.5

[[clusters]]
name = "local"
include = ["t-dash-.*-{suffix}"]

[[slo]]
group = "t-dash-.*-{suffix}"
target_s = 2.0
objective = 0.99

[[pipelines]]
name = "bank"
cluster = "local"
commands_topic = "{commands}"
handler_group = "{handler}"
events_topic = "{events}"
projection_groups = ["{balances}", "{activity}"]
"""
    )
    c = Collector(kafka_bootstrap, config, tmp / "lagwatch.duckdb", free_port(), tmp / "c.log")
    c.groups = {"handler": handler, "balances": balances, "activity": activity,
                "events": events, "commands": commands}  # fmt: skip
    c.start()

    def history() -> bool:
        answer = httpx.get(c.url + "/api/v1/series",
                           params={"metric": "staleness_s", "group": balances}).json()  # fmt: skip
        return len([p for p in answer.get("points", []) if p[1] is not None]) >= 2

    wait_until(history, 60, "two stored samples of the lagging group")
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, collector: Collector):
    """Point the app at the collector; clear Streamlit's caches between tests (config
    and clients are cached per process)."""
    import streamlit as st

    monkeypatch.setenv("LAGWATCH_COLLECTORS", collector.url)
    monkeypatch.setenv("LAGWATCH_DEMO_CONTROL", f"http://127.0.0.1:{free_port()}")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield collector
    st.cache_data.clear()
    st.cache_resource.clear()


def environ_for(collector: Collector, demo_control: str) -> dict[str, str]:
    return {**os.environ, "LAGWATCH_COLLECTORS": collector.url,
            "LAGWATCH_DEMO_CONTROL": demo_control}  # fmt: skip
