"""Helpers for the demo integration tests: a stack of real processes, ``wait_until``.

Every process runs on its own (``python -m demo_system.<module>``) so that a test can
SIGKILL one and start it again.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from demo_system.read_model import db_path, snapshot
from demo_system.topics import Names, ensure_topics


def wait_until(predicate: Callable[[], object], timeout: float = 30.0, what: str = "") -> object:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DemoStack:
    """The five demo processes against one broker, under a fresh name prefix."""

    def __init__(self, bootstrap: str, data_dir: Path, prefix: str) -> None:
        self.bootstrap, self.data_dir, self.prefix = bootstrap, data_dir, prefix
        self.names = Names(prefix)
        self.api_port, self.query_port = free_port(), free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{self.api_port}", timeout=30)
        self.query = httpx.Client(base_url=f"http://127.0.0.1:{self.query_port}", timeout=60)
        ensure_topics(bootstrap, self.names)

    def argv(self, name: str) -> list[str]:
        common = ["--bootstrap-servers", self.bootstrap, "--prefix", self.prefix,
                  "--data-dir", str(self.data_dir)]  # fmt: skip
        py = [sys.executable, "-m"]
        if name == "command-api":
            return [*py, "demo_system.command_api", *common, "--port", str(self.api_port)]
        if name == "query-api":
            return [*py, "demo_system.query_api", *common, "--port", str(self.query_port)]
        if name == "command-handler":
            return [*py, "demo_system.command_handler", *common]
        projection = name.removeprefix("projection-")
        return [*py, "demo_system.projections", "--name", projection, *common]

    def start(self, name: str) -> subprocess.Popen:
        log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(self.argv(name), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.processes[name] = process
        return process

    def start_all(self) -> DemoStack:
        for name in ("command-api", "command-handler", "projection-balances",
                     "projection-activity", "query-api"):  # fmt: skip
            self.start(name)
        for client in (self.api, self.query):
            wait_until(lambda c=client: _healthy(c), 60, f"{client.base_url} healthy")
        return self

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.api.close()
        self.query.close()

    # --- reading state -------------------------------------------------------------

    def snapshot(self, projection: str):
        return snapshot(db_path(self.data_dir, projection), projection)

    def statuses(self, command_ids: list[str]) -> dict[str, str]:
        """Status per command id straight from the balances read model."""
        from demo_system.read_model import open_readonly

        db = open_readonly(db_path(self.data_dir, "balances"))
        if db is None:
            return {}
        try:
            rows = db.execute("SELECT command_id, status FROM commands").fetchall()
        except Exception:
            return {}
        finally:
            db.close()
        wanted = set(command_ids)
        return {c: s for c, s in rows if c in wanted}

    def wait_visible(self, command_ids: list[str], timeout: float = 60) -> None:
        wait_until(
            lambda: len(self.statuses(command_ids)) == len(set(command_ids)),
            timeout,
            f"{len(command_ids)} commands visible",
        )

    def wait_processing(self, timeout: float = 60) -> None:
        """Until a command goes all the way through (API, handler, balances projection).

        A fresh stack on a busy machine can take many seconds to get there: the
        handler's first ``init_transactions``, every consumer's first group join. A test
        about steady state starts its clock after this.
        """
        (command_id,) = self.send({"type": "open_account", "account_id": "ready-check"})
        self.wait_visible([command_id], timeout)

    def wait_caught_up(self, timeout: float = 60) -> dict:
        """Audit until no read model is behind; returns the last audit."""

        def caught_up() -> dict | None:
            result = self.query.get("/audit").json()
            behind = [r["behind"] for r in result["read_models"].values()]
            return result if not any(behind) else None

        return wait_until(caught_up, timeout, "read models caught up")

    def send(self, *commands: dict) -> list[str]:
        response = self.api.post("/commands/batch", json={"commands": list(commands)})
        assert response.status_code == 202, response.text
        return response.json()["command_ids"]


def _healthy(client: httpx.Client) -> bool:
    try:
        return client.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


class SupervisedDemo(DemoStack):
    """``lagwatch demo up`` (as ``python -m demo_system.cli up``): the five processes
    under the supervisor, with its control API on ``self.control``."""

    def __init__(self, bootstrap: str, data_dir: Path, prefix: str) -> None:
        super().__init__(bootstrap, data_dir, prefix)
        self.control_port = free_port()
        self.control = httpx.Client(base_url=f"http://127.0.0.1:{self.control_port}", timeout=60)
        self.supervisor: subprocess.Popen | None = None
        self.output = ""

    def common_args(self) -> list[str]:
        return ["--bootstrap-servers", self.bootstrap, "--prefix", self.prefix,
                "--data-dir", str(self.data_dir)]  # fmt: skip

    def start_all(self) -> SupervisedDemo:
        self.supervisor = subprocess.Popen(
            [sys.executable, "-m", "demo_system.cli", "up", *self.common_args(),
             "--api-port", str(self.api_port), "--query-port", str(self.query_port),
             "--control-port", str(self.control_port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        for client in (self.control, self.api, self.query):
            wait_until(lambda c=client: _healthy(c), 60, f"{client.base_url} healthy")
        wait_until(
            lambda: all(p["in_effect"] for p in self.status()["projections"].values()),
            60, "projections running",
        )  # fmt: skip
        return self

    def status(self) -> dict:
        return self.control.get("/demo/status").json()

    def fault(self, path: str, body: dict | None = None) -> httpx.Response:
        return self.control.post(f"/demo/faults/{path}", json=body)

    def stop_all(self) -> None:
        if self.supervisor is not None and self.supervisor.poll() is None:
            self.supervisor.send_signal(signal.SIGTERM)
            try:
                self.output, _ = self.supervisor.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.supervisor.kill()
                self.output, _ = self.supervisor.communicate()
        self.control.close()
        super().stop_all()
