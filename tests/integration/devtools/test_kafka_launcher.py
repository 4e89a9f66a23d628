"""``lagwatch kafka start|stop|status`` against a real JVM broker of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from collectors.devtools import kafka_local

LAGWATCH = [sys.executable, "-m", "collectors.cli"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LAGWATCH, *args], capture_output=True, text=True, timeout=180, env=env, check=False
    )


def java_processes_for(data_dir: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "kafka.Kafka" in cmdline and str(data_dir) in cmdline:
            pids.append(int(proc.name))
    return pids


def test_start_twice_then_stop_leaves_no_java(tmp_path: Path) -> None:
    port = kafka_local.free_port()
    data_dir = tmp_path / "broker"
    args = ("--port", str(port), "--data-dir", str(data_dir))

    first = run("kafka", "start", *args)
    assert first.returncode == 0, first.stderr
    assert f"127.0.0.1:{port}" in first.stdout
    try:
        second = run("kafka", "start", *args)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        assert run("kafka", "status", *args).returncode == 0
    finally:
        stopped = run("kafka", "stop", *args)
    assert stopped.returncode == 0, stopped.stderr
    assert java_processes_for(data_dir.resolve()) == []
    assert run("kafka", "status", *args).returncode == 3


def test_missing_java_is_a_one_line_cause(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(tmp_path)  # nothing in it: no java
    result = run(
        "kafka",
        "start",
        "--port",
        str(kafka_local.free_port()),
        "--data-dir",
        str(tmp_path / "d"),
        env=env,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "Java 17+" in lines[0]


def test_port_taken_by_something_else(tmp_path: Path) -> None:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run("kafka", "start", "--port", str(port), "--data-dir", str(tmp_path / "d"))
    assert result.returncode != 0
    assert f"port {port}" in result.stderr
