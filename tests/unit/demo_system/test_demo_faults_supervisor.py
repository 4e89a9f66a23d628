"""Control files, pid files, the supervisor's restarts, the traffic mix."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from demo_system import faults
from demo_system.load import Traffic
from demo_system.supervisor import Child, Supervisor


def test_control_file_is_reread_only_when_it_changes(tmp_path: Path) -> None:
    control = faults.Control(tmp_path, "projection-balances")
    assert control.refresh() == {} and not control.paused
    faults.set_control(tmp_path, "projection-balances", paused=True)
    control.refresh()
    assert control.paused and control.slow_ms == 0
    faults.set_control(tmp_path, "projection-balances", slow_ms=25)
    control.refresh()
    assert control.paused and control.slow_ms == 25


def test_garbage_control_file_means_no_fault(tmp_path: Path) -> None:
    path = faults.control_file(tmp_path, "p")
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert faults.Control(tmp_path, "p").refresh() == {}


def test_pid_file_round_trip(tmp_path: Path) -> None:
    faults.write_pid(tmp_path, "x")
    assert faults.read_pid(tmp_path, "x") is not None
    assert faults.read_pid(tmp_path, "missing") is None


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_supervisor_restarts_a_child_that_dies(tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    script = f"open({str(marker)!r}, 'a').write('x'); import sys; sys.exit(1)"
    supervisor = Supervisor([Child("flaky", [sys.executable, "-c", script])], tmp_path, say=id)
    supervisor.start()
    try:
        wait_until(lambda: supervisor.check() is not None and marker.exists()
                   and len(marker.read_text()) >= 2)  # fmt: skip
        assert supervisor.children["flaky"].restarts >= 1
        assert supervisor.children["flaky"].delay_s >= 2  # backing off a crash loop
    finally:
        supervisor.stop()


def test_supervisor_stop_terminates_children(tmp_path: Path) -> None:
    child = Child("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    supervisor = Supervisor([child], tmp_path, say=id)
    supervisor.start()
    supervisor.stop(grace_s=5)
    assert child.process is not None and child.process.poll() is not None


def sleeper(name: str) -> Child:
    return Child(name, [sys.executable, "-c", "import time; time.sleep(60)"])


def test_crash_kills_the_running_child_through_its_handle_and_restarts_it_at_once(
    tmp_path: Path,
) -> None:
    supervisor = Supervisor([sleeper("p")], tmp_path, say=id)
    supervisor.start()
    try:
        old = supervisor.children["p"].process
        result = supervisor.crash("p", wait_s=5)
        assert result.landed and result.pid == old.pid and old.returncode == -9
        assert "restarting in 0.2 s" in result.message
        wait_until(lambda: supervisor.check() is not None and supervisor.status()["p"]["running"])
        assert supervisor.children["p"].process.pid != old.pid
        assert supervisor.children["p"].delay_s == 1.0  # a fault, not a crash loop
    finally:
        supervisor.stop(grace_s=5)


def test_crash_during_a_restart_waits_for_the_new_process(tmp_path: Path) -> None:
    supervisor = Supervisor([sleeper("p")], tmp_path, say=id)
    supervisor.start()
    try:
        assert supervisor.crash("p", wait_s=5).landed
        # the supervisor loop is not running: crash itself restarts when due, then kills
        second = supervisor.crash("p", wait_s=5)
        assert second.landed and "after waiting for its restart" in second.message
        assert supervisor.children["p"].restarts == 1
    finally:
        supervisor.stop(grace_s=5)


def test_crash_says_clearly_when_the_child_is_still_restarting(tmp_path: Path) -> None:
    supervisor = Supervisor([sleeper("p")], tmp_path, say=id)
    supervisor.start()
    try:
        child = supervisor.children["p"]
        child.process.kill()
        child.process.wait()
        supervisor.check()  # seen dead: restart due in 1 s (backoff)
        result = supervisor.crash("p", wait_s=0.3)
        assert not result.landed and "is restarting" in result.message
        assert "nothing was killed" in result.message
    finally:
        supervisor.stop(grace_s=5)


def test_status_reports_pid_and_restarts(tmp_path: Path) -> None:
    supervisor = Supervisor([sleeper("p")], tmp_path, say=id)
    supervisor.start()
    try:
        status = supervisor.status()["p"]
        assert status == {"running": True, "pid": supervisor.children["p"].process.pid,
                          "restarts": 0}  # fmt: skip
    finally:
        supervisor.stop(grace_s=5)


def test_traffic_is_seeded_and_mixes_rejections() -> None:
    a, b = Traffic(10, seed=1), Traffic(10, seed=1)
    assert [a.next() for _ in range(50)] == [b.next() for _ in range(50)]
    mix = [t["type"] for t in (a.next() for _ in range(2000))]
    assert {"deposit", "withdraw", "transfer"} <= set(mix)
    assert len(a.openings()) == 20
