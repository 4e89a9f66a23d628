"""A small supervisor: run every demo process, restart the ones that die.

Each child is ``python -m demo_system.<module> ...`` with its output appended to
``<data-dir>/logs/<name>.log``. A child that exits (crash fault, SIGKILL, bug) is
restarted after a delay that doubles while it keeps dying within a few seconds of its
start (1 s up to 30 s) and resets once it has run for a while; a child killed by the
``crash`` fault is restarted after 0.2 s without backing off (it did not fail).
SIGTERM/SIGINT to the supervisor stops every child with SIGTERM (SIGKILL after a grace
period).

Faults reach children through the supervisor: it holds each child's ``Popen``, and a
child that has exited is not reaped until the supervisor's own ``poll`` sees it, so its
pid cannot have been reused by another process when ``crash`` signals it. Methods are
thread-safe (the control API calls them from its own thread).
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
    crashed_on_purpose: bool = False


@dataclass(frozen=True, slots=True)
class CrashResult:
    landed: bool
    message: str
    pid: int | None = None


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
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # notified on every (re)start

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            for child in self.children.values():
                self._spawn(child)

    def check(self, now: float | None = None) -> list[str]:
        """Restart children that exited and whose delay passed; returns their names."""
        now = time.monotonic() if now is None else now
        restarted = []
        with self._lock:
            for child in self.children.values():
                if child.process is None or child.process.poll() is None:
                    if child.process is None and now >= child.due_at:
                        self._spawn(child)
                        child.restarts += 1
                        restarted.append(child.name)
                    continue
                self._exited(child, now)
        return restarted

    def _exited(self, child: Child, now: float) -> None:
        code = child.process.returncode
        ran = now - child.started_at
        if child.crashed_on_purpose:  # the crash fault: not a failure, no backoff
            child.crashed_on_purpose = False
            child.due_at = now + 0.2
        else:
            child.delay_s = 1.0 if ran > STABLE_AFTER_S else min(30.0, child.delay_s * 2)
            child.due_at = now + (0.2 if ran > STABLE_AFTER_S else child.delay_s)
        child.process = None
        self.say(f"{child.name} exited with {code}; restarting")

    def status(self) -> dict[str, dict]:
        """``{name: {"running", "pid", "restarts"}}`` for every child."""
        with self._lock:
            return {
                name: {
                    "running": c.process is not None and c.process.poll() is None,
                    "pid": c.process.pid if c.process is not None else None,
                    "restarts": c.restarts,
                }
                for name, c in self.children.items()
            }

    def crash(self, name: str, wait_s: float = 10.0) -> CrashResult:
        """SIGKILL child ``name`` through its own process handle; it is restarted.

        A child that is restarting right now is waited for (up to ``wait_s``) and then
        killed; if it does not come up in time, nothing is killed and the message says
        that it is restarting and when it is due. Raises KeyError for an unknown name.
        """
        deadline = time.monotonic() + wait_s
        with self._lock:
            child = self.children[name]
            waited = False
            while not self._running(child):
                left = deadline - time.monotonic()
                if left <= 0:
                    due = max(0.0, child.due_at - time.monotonic())
                    return CrashResult(
                        False,
                        f"{name} is restarting (next start in {due:.1f} s) and was not "
                        f"running within {wait_s:.0f} s; nothing was killed",
                    )
                waited = True
                self._changed.wait(min(left, 0.1))
                self.check()
            process = child.process
            process.kill()  # Popen.kill: a no-op if already reaped; never a stranger's pid
            process.wait()
            child.crashed_on_purpose = True
            self._exited(child, time.monotonic())
            note = " (after waiting for its restart)" if waited else ""
            return CrashResult(
                True, f"killed {name} (pid {process.pid}){note}; restarting in 0.2 s", process.pid
            )

    @staticmethod
    def _running(child: Child) -> bool:
        return child.process is not None and child.process.poll() is None

    def run(self, stop: threading.Event, interval_s: float = 0.1) -> None:
        self.start()
        try:
            while not stop.wait(interval_s):
                self.check()
        finally:
            self.stop()

    def stop(self, grace_s: float = 10.0) -> None:
        with self._lock:
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
        self._changed.notify_all()
