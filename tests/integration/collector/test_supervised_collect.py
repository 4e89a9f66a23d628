"""A real ``lagwatch collect`` under its supervisor: a collector process that dies of a
signal (as librdkafka's assertion aborts it) is started again; a stop stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from collectors.devtools.kafka_local import free_port

from .conftest import commit, produce, wait_until


def children(pid: int) -> list[int]:
    """The processes ``pid`` started that still run (Linux ``/proc``)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"  # a zombie has ended, only not reaped yet


def test_a_collector_that_aborts_is_started_again_and_a_stop_stops_both(
    kafka_bootstrap: str, tmp_path: Path, create_topic, group_name
) -> None:
    topic, group = create_topic(), group_name()
    produce(kafka_bootstrap, topic, 5)
    commit(kafka_bootstrap, group, topic, 2)
    port, log = free_port(), tmp_path / "collect.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAGWATCH_")}
    with open(log, "wb") as out:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "collectors.cli", "collect", "--bootstrap-servers",
             kafka_bootstrap, "--listen", f"127.0.0.1:{port}", "--store",
             str(tmp_path / "lw.duckdb"), "--interval", "0.5"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api/v1/groups"

    def serving() -> bool:
        try:
            body = httpx.get(url, timeout=2).json()
        except httpx.HTTPError:
            assert supervisor.poll() is None, log.read_text()
            return False
        return any(g["group"] == group for g in body["groups"])

    try:
        wait_until(serving, 60, "the collector serves the group")
        [first] = children(supervisor.pid)
        os.kill(first, signal.SIGABRT)
        wait_until(lambda: not alive(first), 30, "the first collector process ended")
        wait_until(
            lambda: children(supervisor.pid) not in ([], [first]), 30, "a new collector process"
        )
        [second] = children(supervisor.pid)
        wait_until(serving, 60, "the new collector process serves the group")
        assert "died of SIGABRT" in log.read_text()
        assert "(restart 1)" in log.read_text()

        def restart_annotation() -> list[str]:
            answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/annotations", timeout=5)
            messages = [a["message"] for a in answer.json()["annotations"]]
            return [m for m in messages if m.startswith("collector started again")]

        # The history says why the collector started again, beside the charts.
        [again] = wait_until(restart_annotation, 30, "the restart's annotation")
        assert "died of SIGABRT" in again and again.endswith("(restart 1)"), again

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(60) == 0, log.read_text()
        wait_until(lambda: not alive(second), 30, "the collector process stopped with it")
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait(30)


def test_a_killed_supervisor_takes_its_collector_with_it(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    port = free_port()
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "collectors.cli", "collect", "--bootstrap-servers",
         kafka_bootstrap, "--listen", f"127.0.0.1:{port}", "--store", "none"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        found = wait_until(lambda: children(supervisor.pid), 60, "the collector process")
        [collector] = found
        supervisor.kill()
        supervisor.wait(30)
        # Nobody left holding the port (or a store): the collector got SIGKILL too.
        wait_until(lambda: not alive(collector), 30, "the collector process ended")
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait(30)
