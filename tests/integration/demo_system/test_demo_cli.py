"""``lagwatch demo up|load|fault`` as a user runs them: faults go through the supervisor."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from demo_stack_helpers import free_port, wait_until

pytestmark = pytest.mark.integration


def lagwatch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "collectors.cli", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_demo_up_load_and_faults_through_the_cli(kafka_bootstrap: str, tmp_path: Path) -> None:
    common = ["--bootstrap-servers", kafka_bootstrap, "--prefix",
              f"t-cli-{uuid.uuid4().hex[:8]}-", "--data-dir", str(tmp_path)]  # fmt: skip
    api_port, query_port, control_port = free_port(), free_port(), free_port()
    control_url = f"http://127.0.0.1:{control_port}"
    up = subprocess.Popen(
        [sys.executable, "-m", "collectors.cli", "demo", "up", *common,
         "--api-port", str(api_port), "--query-port", str(query_port),
         "--control-port", str(control_port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    query = httpx.Client(base_url=f"http://127.0.0.1:{query_port}", timeout=60)
    control = httpx.Client(base_url=control_url, timeout=60)
    try:
        wait_until(lambda: _up(query) and _up(control), 60, "query and control APIs up")
        api = f"http://127.0.0.1:{api_port}"
        loaded = lagwatch("demo", "load", *common, "--rate", "50", "--duration", "2",
                          "--accounts", "5", "--command-api", api)  # fmt: skip
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr

        fault = ["demo", "fault"]
        old_pid = control.get("/demo/status").json()["projections"]["balances"]["pid"]
        crashed = lagwatch(*fault, "crash", "--projection", "balances", *common,
                           "--control-url", control_url)  # fmt: skip
        assert crashed.returncode == 0, crashed.stdout + crashed.stderr
        assert f"pid {old_pid}" in crashed.stdout
        wait_until(
            lambda: (p := control.get("/demo/status").json()["projections"]["balances"])[
                "running"] and p["pid"] != old_pid,
            60, "supervisor restarted the projection",
        )  # fmt: skip

        for args in (["pause"], ["slow", "5"], ["resume"]):
            done = lagwatch(*fault, *args, "--projection", "balances", *common,
                            "--control-url", control_url)  # fmt: skip
            assert done.returncode == 0 and "in effect" in done.stdout, done.stdout + done.stderr

        audit = wait_until(
            lambda: (a := query.get("/audit").json())["ok"]
            and not any(r["behind"] for r in a["read_models"].values()) and a,
            60, "audit ok and caught up",
        )  # fmt: skip
        assert audit["events_in_log"] > 100
    finally:
        query.close()
        control.close()
        up.send_signal(signal.SIGTERM)
        output, _ = up.communicate(timeout=30)
    assert up.returncode == 0
    assert "projection-balances exited with -9; restarting" in output


def test_fault_without_a_supervisor_is_a_clear_error(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    result = lagwatch("demo", "fault", "pause", "--projection", "balances",
                      "--data-dir", str(tmp_path), "--control-url", nowhere)  # fmt: skip
    assert result.returncode == 1
    assert f"no demo supervisor answering at {nowhere}" in result.stderr
    assert "lagwatch demo up" in result.stderr


def _up(client: httpx.Client) -> bool:
    try:
        return client.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False
