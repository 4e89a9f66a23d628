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


def test_traffic_is_seeded_and_mixes_rejections() -> None:
    a, b = Traffic(10, seed=1), Traffic(10, seed=1)
    assert [a.next() for _ in range(50)] == [b.next() for _ in range(50)]
    mix = [t["type"] for t in (a.next() for _ in range(2000))]
    assert {"deposit", "withdraw", "transfer"} <= set(mix)
    assert len(a.openings()) == 20
