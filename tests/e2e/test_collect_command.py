"""``lagwatch collect`` as a real process: HTTP API, config, secrets, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka.admin import NewTopic

from collectors.devtools.kafka_local import free_port
from tests.kafka_helpers import commit, produce, wait_until

SECRET = "hunter2-do-not-print"


@pytest.fixture(scope="module")
def collector_process(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, admin
) -> Iterator[dict]:
    """One collector process for the module (starting one per test costs seconds)."""
    tmp_path = tmp_path_factory.mktemp("collect")
    suffix = uuid.uuid4().hex[:8]
    topic, group = f"t-api-topic-{suffix}", f"t-api-group-{suffix}"
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])[topic].result(30)
    produce(kafka_bootstrap, topic, 12, partition=0)
    produce(kafka_bootstrap, topic, 5, partition=1)
    commit(kafka_bootstrap, group, topic, 2, partition=0)
    commit(kafka_bootstrap, group, topic, 5, partition=1)
    port = free_port()
    config = tmp_path / "lagwatch.toml"
    config.write_text(
        f"""
[collector]
interval_s = 0.3
store = "{tmp_path / "lw.duckdb"}"

[[clusters]]
name = "local"
include = ["{group}"]
[clusters.kafka]
"ssl.key.password" = "{SECRET}"

[[slo]]
group = "{group}"
target_s = 2.0
objective = 0.99

[[pipelines]]
name = "bank"
cluster = "local"
commands_topic = "{topic}"
handler_group = "{group}"
events_topic = "{topic}"
projection_groups = ["{group}"]
"""
    )
    log = tmp_path / "collector.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "collectors.cli",
                "collect",
                "--config",
                str(config),
                "--bootstrap-servers",
                kafka_bootstrap,
                "--listen",
                f"127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            body = httpx.get(f"{base}/api/v1/groups", timeout=2).json()
        except httpx.HTTPError:
            assert proc.poll() is None, log.read_text()
            return False
        return any(g["group"] == group for g in body["groups"])

    try:
        wait_until(ready, 60, "collector serving the test group")
        yield {"base": base, "group": group, "topic": topic, "log": log, "proc": proc}
    finally:
        proc.terminate()
        proc.wait(30)


def test_groups_detail_series_and_topology(collector_process: dict) -> None:
    base, group, topic = (collector_process[k] for k in ("base", "group", "topic"))
    groups = httpx.get(f"{base}/api/v1/groups").json()["groups"]
    row = next(g for g in groups if g["group"] == group)
    assert row["offset_lag"] == 10 and row["cluster"] == "local"
    assert {"staleness_s", "data_age_s", "eta_s", "status", "members", "state"} <= row.keys()

    detail = httpx.get(f"{base}/api/v1/groups/{group}").json()
    parts = {p["partition"]: p for p in detail["partitions"]}
    assert parts[0]["committed"] == 2 and parts[0]["log_end"] == 12 and parts[0]["offset_lag"] == 10
    assert parts[1]["offset_lag"] == 0 and parts[1]["staleness_s"] == 0
    assert parts[0]["staleness_method"] == "exact" and parts[0]["no_commit"] is False
    assert detail["by_topic"][0]["topic"] == topic

    def stored():
        body = httpx.get(
            f"{base}/api/v1/series",
            params={"metric": "offset_lag", "group": group, "start": time.time() - 120},
        ).json()
        return [v for _, v in body["points"] if v is not None]

    assert set(wait_until(stored, 30, "series points stored")) == {10}
    per_partition = httpx.get(
        f"{base}/api/v1/series",
        params={"metric": "offset_lag", "group": group, "topic": topic, "partition": 1},
    ).json()
    assert {v for _, v in per_partition["points"]} == {0}
    assert len(per_partition["points"]) <= 2000

    topology = httpx.get(f"{base}/api/v1/topology").json()["pipelines"][0]
    assert topology["commands_topic"] == topic and topology["handler"]["group"] == group
    assert topology["projections"][0]["offset_lag"] == 10

    (slo,) = httpx.get(f"{base}/api/v1/slo").json()["slos"]
    assert slo["group"] == group and slo["target_s"] == 2.0 and slo["objective"] == 0.99
    assert slo["observations_total"] >= 1 and 0 <= slo["good_total"] <= slo["observations_total"]

    health = httpx.get(f"{base}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    metrics = httpx.get(f"{base}/metrics").text
    assert f'lagwatch_group_offset_lag{{cluster="local",group="{group}"}} 10' in metrics


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"group": "g"}, "metric"),
        ({"metric": "bogus", "group": "g"}, "metric"),
        ({"metric": "offset_lag"}, "group"),
        ({"metric": "offset_lag", "group": "g", "start": "yesterday"}, "start"),
        ({"metric": "offset_lag", "group": "g", "end": "x"}, "end"),
        ({"metric": "offset_lag", "group": "g", "step": "-5"}, "step"),
        ({"metric": "offset_lag", "group": "g", "topic": "t", "partition": "one"}, "partition"),
        ({"metric": "offset_lag", "group": "g", "partition": "1"}, "partition"),
        ({"metric": "offset_lag", "group": "g", "start": "200", "end": "100"}, "start"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    collector_process: dict, params: dict, parameter: str
) -> None:
    response = httpx.get(f"{collector_process['base']}/api/v1/series", params=params)
    assert response.status_code == 400
    assert response.json()["parameter"] == parameter
    assert parameter in response.json()["error"]


def test_unknown_group_is_404_and_api_is_read_only(collector_process: dict) -> None:
    base = collector_process["base"]
    assert httpx.get(f"{base}/api/v1/groups/no-such-group").status_code == 404
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert httpx.request(method, f"{base}/api/v1/groups").status_code == 405


def test_secrets_never_leave_the_process(collector_process: dict) -> None:
    base = collector_process["base"]
    pages = [
        httpx.get(f"{base}{path}").text
        for path in ("/metrics", "/healthz", "/api/v1/groups", "/api/v1/topology")
    ]
    pages.append(httpx.get(f"{base}/api/v1/groups/{collector_process['group']}").text)
    pages.append(collector_process["log"].read_text())
    assert all(SECRET not in page for page in pages)


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LAGWATCH_")}


def test_malformed_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[collector]\ninterval_s = "fast"\n[[clusters]]\nbootstrap_servers = "x"\n')
    result = subprocess.run(
        [sys.executable, "-m", "collectors.cli", "collect", "--config", str(config)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "collector.interval_s" in result.stderr
    assert "clusters.0.bootstrap_servers" in result.stderr


def test_port_in_use_is_a_clear_error(kafka_bootstrap: str, tmp_path: Path) -> None:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "collectors.cli",
                "collect",
                "--bootstrap-servers",
                kafka_bootstrap,
                "--listen",
                f"127.0.0.1:{port}",
                "--store",
                "none",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode != 0
    assert f"127.0.0.1:{port}" in result.stderr
