"""``lagwatch demo up|load|fault`` as a user runs them: the supervisor restarts a crash."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from demo_stack_helpers import free_port, wait_until

from demo_system import faults

pytestmark = pytest.mark.integration


def lagwatch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "collectors.cli", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_demo_up_load_and_faults_through_the_cli(kafka_bootstrap: str, tmp_path: Path) -> None:
    common = ["--bootstrap-servers", kafka_bootstrap, "--prefix",
              f"t-cli-{uuid.uuid4().hex[:8]}-", "--data-dir", str(tmp_path)]  # fmt: skip
    api_port, query_port = free_port(), free_port()
    up = subprocess.Popen(
        [sys.executable, "-m", "collectors.cli", "demo", "up", *common,
         "--api-port", str(api_port), "--query-port", str(query_port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    query = httpx.Client(base_url=f"http://127.0.0.1:{query_port}", timeout=60)
    try:
        wait_until(lambda: _up(query), 60, "query API up")
        api = f"http://127.0.0.1:{api_port}"
        loaded = lagwatch("demo", "load", *common, "--rate", "50", "--duration", "2",
                          "--accounts", "5", "--command-api", api)  # fmt: skip
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr

        old_pid = faults.read_pid(tmp_path, "projection-balances")
        crashed = lagwatch("demo", "fault", "crash", "--projection", "balances", *common)
        assert crashed.returncode == 0 and f"pid {old_pid}" in crashed.stdout
        new_pid = wait_until(
            lambda: (p := faults.read_pid(tmp_path, "projection-balances")) != old_pid and p,
            60, "supervisor restarted the projection",
        )  # fmt: skip
        assert new_pid

        for fault in (["pause"], ["slow", "5"], ["resume"]):
            done = lagwatch("demo", "fault", *fault, "--projection", "balances", *common)
            assert done.returncode == 0 and "in effect" in done.stdout, done.stdout

        audit = wait_until(
            lambda: (a := query.get("/audit").json())["ok"]
            and not any(r["behind"] for r in a["read_models"].values()) and a,
            60, "audit ok and caught up",
        )  # fmt: skip
        assert audit["events_in_log"] > 100
    finally:
        query.close()
        up.send_signal(signal.SIGTERM)
        output, _ = up.communicate(timeout=30)
    assert up.returncode == 0
    assert "projection-balances exited with -9; restarting" in output


def _up(client: httpx.Client) -> bool:
    try:
        return client.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False
