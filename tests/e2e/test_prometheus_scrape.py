"""A real Prometheus scrapes a real collector watching the real broker.

The collector (``lagwatch collect``) and Prometheus run as subprocesses on free ports;
the test produces N records, commits offset k for a fresh group, and asks Prometheus's
HTTP API for ``lagwatch_group_offset_lag`` of that group: it must be exactly N - k.
Prometheus also loads the shipped rule files, which must evaluate without errors.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.kafka_helpers import commit, produce

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus"
PROMETHEUS = shutil.which("prometheus")

pytestmark = pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus not installed (make system-deps installs it)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """A subprocess in its own session, its output in a log file; stopped reliably."""

    def __init__(self, args: list[str], log: Path, cwd: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            args, cwd=cwd, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._out.close()


def wait_for(what: str, check: Callable[[], Any], timeout_s: float, *procs: Process) -> Any:
    """Poll ``check`` until it returns something truthy; fail with the processes' logs."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        for p in procs:
            if p.proc.poll() is not None:
                code = p.proc.returncode
                pytest.fail(f"{p.log.name} exited ({code}) waiting for {what}:\n{p.output()}")
        try:
            last = check()
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as error:
            last = error
        else:
            if last:
                return last
        time.sleep(0.25)
    logs = "\n".join(f"--- {p.log.name}\n{p.output()}" for p in procs)
    pytest.fail(f"timed out after {timeout_s}s waiting for {what}; last: {last!r}\n{logs}")


@pytest.fixture
def collector(kafka_bootstrap: str, tmp_path: Path) -> Iterator[str]:
    """``lagwatch collect`` against the session broker; yields its host:port."""
    address = f"127.0.0.1:{free_port()}"
    proc = Process(
        [
            sys.executable,
            "-m",
            "collectors.cli",
            "collect",
            "--bootstrap-servers",
            kafka_bootstrap,
            "--listen",
            address,
            "--store",
            str(tmp_path / "lagwatch.duckdb"),
            "--interval",
            "1",
            "--metrics-granularity",
            "partition",
        ],
        tmp_path / "collector.log",
        ROOT,
    )
    try:
        wait_for(
            "the collector's /healthz",
            lambda: httpx.get(f"http://{address}/healthz", timeout=2).status_code < 500,
            90,
            proc,
        )
        yield address
    finally:
        proc.stop()


@pytest.fixture
def prometheus(collector: str, tmp_path: Path) -> Iterator[str]:
    """A real Prometheus scraping the collector every second, with the shipped rules."""
    address = f"127.0.0.1:{free_port()}"
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n  - {RULES / 'recording_rules.yml'}\n  - {RULES / 'alert_rules.yml'}\n"
        "scrape_configs:\n  - job_name: lagwatch\n    scrape_timeout: 1s\n"
        f"    static_configs:\n      - targets: ['{collector}']\n"
    )
    proc = Process(
        [
            PROMETHEUS or "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address={address}",
        ],
        tmp_path / "prometheus.log",
        tmp_path,
    )
    try:
        wait_for(
            "Prometheus /-/ready",
            lambda: httpx.get(f"http://{address}/-/ready", timeout=2).status_code == 200,
            60,
            proc,
        )
        yield address
    finally:
        proc.stop()


def query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    reply = httpx.get(f"http://{prometheus}/api/v1/query", params={"query": promql}, timeout=5)
    reply.raise_for_status()
    body = reply.json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_prometheus_reads_the_exact_group_lag(
    kafka_bootstrap: str,
    create_topic: Callable[..., str],
    group_name: Callable[[], str],
    prometheus: str,
) -> None:
    produced, committed = 25, 7
    topic = create_topic(partitions=2)
    produce(kafka_bootstrap, topic, produced, partition=0)
    group = group_name()
    commit(kafka_bootstrap, group, topic, committed, partition=0)
    selector = f'{{job="lagwatch",group="{group}"}}'

    # A few scrapes of the group must have reached Prometheus's storage.
    wait_for(
        "three scrapes with the group's lag",
        lambda: query(prometheus, f"count_over_time(lagwatch_group_offset_lag{selector}[1m]) >= 3"),
        90,
    )
    result = wait_for(
        f"lagwatch_group_offset_lag == {produced - committed}",
        lambda: [
            r
            for r in query(prometheus, f"lagwatch_group_offset_lag{selector}")
            if r["value"][1] == str(produced - committed)
        ],
        60,
    )
    assert result[0]["metric"]["cluster"]

    partition = f'{{job="lagwatch",group="{group}",topic="{topic}",partition="0"}}'
    expected = {
        "lagwatch_partition_offset_lag": produced - committed,
        "lagwatch_partition_committed_offset": committed,
        "lagwatch_partition_log_end_offset": produced,
    }
    for name, value in expected.items():
        assert query(prometheus, name + partition)[0]["value"][1] == str(value), name
    assert query(prometheus, 'up{job="lagwatch"}')[0]["value"][1] == "1"

    rules = httpx.get(f"http://{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
    unhealthy = [
        (r["name"], r.get("lastError"))
        for g in rules
        for r in g["rules"]
        if r.get("health") not in ("ok", "unknown")
    ]
    assert {g["name"] for g in rules} >= {
        "lagwatch-slo",
        "lagwatch-read-models",
        "lagwatch-collector",
    }
    assert unhealthy == []
