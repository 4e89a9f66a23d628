"""A small supervisor: run every demo process, restart the ones that die.

Each child is ``python -m demo_system.<module> ...`` with its output appended to
``<data-dir>/logs/<name>.log``. A child that exits (crash fault, SIGKILL, bug) is
restarted after a delay that doubles while it keeps dying within a few seconds of its
start (1 s up to 30 s) and resets once it has run for a while. SIGTERM/SIGINT to the
supervisor stops every child with SIGTERM (SIGKILL after a grace period).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from demo_system.topics import PROJECTIONS

STABLE_AFTER_S = 10.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    delay_s: float = 1.0
    due_at: float = field(default=0.0)


def demo_children(
    bootstrap: str,
    prefix: str,
    data_dir: Path,
    partitions: int = 4,
    api_port: int = 8001,
    query_port: int = 8002,
    host: str = "127.0.0.1",
) -> list[Child]:
    """The five demo processes with their command lines."""
    common = [
        "--bootstrap-servers", bootstrap, "--prefix", prefix,
        "--data-dir", str(data_dir), "--partitions", str(partitions),
    ]  # fmt: skip

    def module(name: str, *extra: str) -> list[str]:
        return [sys.executable, "-m", f"demo_system.{name}", *common, *extra]

    web = ("--host", host, "--port")
    children = [
        Child("command-api", module("command_api", *web, str(api_port))),
        Child("command-handler", module("command_handler")),
    ]
    for projection in PROJECTIONS:
        children.append(
            Child(f"projection-{projection}", module("projections", "--name", projection))
        )
    children.append(Child("query-api", module("query_api", *web, str(query_port))))
    return children


class Supervisor:
    def __init__(self, children: list[Child], log_dir: Path, say=print) -> None:
        self.children = {c.name: c for c in children}
        self.log_dir = Path(log_dir)
        self.say = say

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for child in self.children.values():
            self._spawn(child)

    def check(self, now: float | None = None) -> list[str]:
        """Restart children that exited and whose delay passed; returns their names."""
        now = time.monotonic() if now is None else now
        restarted = []
        for child in self.children.values():
            if child.process is None or child.process.poll() is None:
                if child.process is None and now >= child.due_at:
                    self._spawn(child)
                    child.restarts += 1
                    restarted.append(child.name)
                continue
            code = child.process.returncode
            ran = now - child.started_at
            child.delay_s = 1.0 if ran > STABLE_AFTER_S else min(30.0, child.delay_s * 2)
            child.due_at = now + (0.2 if ran > STABLE_AFTER_S else child.delay_s)
            child.process = None
            self.say(f"{child.name} exited with {code}; restarting")
        return restarted

    def run(self, stop: threading.Event, interval_s: float = 0.2) -> None:
        self.start()
        try:
            while not stop.wait(interval_s):
                self.check()
        finally:
            self.stop()

    def stop(self, grace_s: float = 10.0) -> None:
        running = [c.process for c in self.children.values() if c.process is not None]
        for process in running:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + grace_s
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _spawn(self, child: Child) -> None:
        log = open(self.log_dir / f"{child.name}.log", "ab")  # noqa: SIM115 (child owns it)
        child.process = subprocess.Popen(
            child.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        child.started_at = time.monotonic()
        self.say(f"{child.name} started (pid {child.process.pid})")
