"""Fault injection into running demo processes, through plain files.

Faults are addressed to the demo supervisor (its control API, ``control_api``), which
owns every child's process handle. This module holds the mechanisms it uses:

- a projection watches ``<data-dir>/control/<process>.json`` (one ``stat`` per loop,
  at least every 0.1 s, re-read when it changes): ``{"slow_ms": 50, "paused": true}``,
  and once the settings are in effect copies them to ``<process>.ack.json``
  (``wait_acknowledged``). Plain files, inspectable with ``cat``;
- every demo process writes its pid to ``<data-dir>/run/<process>.pid`` for people
  to read; nothing signals a pid from a file (it may be stale or reused).

Faults:

- ``slow MS``  — the projection waits MS per event before applying it;
- ``pause``    — it pauses its partitions (stays in the group, applies nothing);
- ``resume``   — clears pause and slow;
- ``crash``    — the supervisor SIGKILLs its own child (``Supervisor.crash``) and
  restarts it;
- ``poison``   — a malformed record is produced to ``bank.events``; projections must
  dead-letter it to ``bank.events.dlq`` and carry on;
- ``rebalance``— an extra consumer joins the projection's group for a while and
  leaves, forcing two rebalances. It never commits offsets.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from confluent_kafka import Consumer, Producer

from demo_system.topics import Names


def process_name(projection: str) -> str:
    return f"projection-{projection}"


def pid_file(data_dir: Path, process: str) -> Path:
    return Path(data_dir) / "run" / f"{process}.pid"


def control_file(data_dir: Path, process: str) -> Path:
    return Path(data_dir) / "control" / f"{process}.json"


def write_pid(data_dir: Path, process: str) -> None:
    path = pid_file(data_dir, process)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{os.getpid()}\n")


def read_pid(data_dir: Path, process: str) -> int | None:
    try:
        return int(pid_file(data_dir, process).read_text().strip())
    except (OSError, ValueError):
        return None


def set_control(data_dir: Path, process: str, **changes: object) -> dict:
    """Merge ``changes`` into the process's control file (atomic rename); returns it."""
    path = control_file(data_dir, process)
    path.parent.mkdir(parents=True, exist_ok=True)
    current = _read_json(path)
    current.update(changes)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(current))
    tmp.replace(path)
    return current


def ack_file(data_dir: Path, process: str) -> Path:
    return Path(data_dir) / "control" / f"{process}.ack.json"


def acknowledged(data_dir: Path, process: str) -> bool:
    """True if the process acknowledged exactly the settings of its control file."""
    wanted = _read_json(control_file(data_dir, process))
    return _read_json(ack_file(data_dir, process)) == wanted


def wait_acknowledged(data_dir: Path, process: str, timeout_s: float = 10.0) -> bool:
    """Wait until the process runs with the settings of its control file; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while not acknowledged(data_dir, process):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def read_control(data_dir: Path, process: str) -> dict:
    """The settings asked for in the process's control file ({} if none)."""
    return _read_json(control_file(data_dir, process))


class Control:
    """A process's view of its control file, re-read only when the file changes."""

    def __init__(self, data_dir: Path, process: str) -> None:
        self.path = control_file(data_dir, process)
        self.ack_path = ack_file(data_dir, process)
        self._stamp: tuple[int, int] | None = None
        self.settings: dict = {}
        self.changed = False  # set on every change; the process clears it once applied

    def refresh(self) -> dict:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_ino)
        except OSError:
            stamp = None
        if stamp != self._stamp:
            self._stamp = stamp
            self.settings = _read_json(self.path) if stamp else {}
            self.changed = True
        return self.settings

    def acknowledge(self) -> None:
        """Say that the current settings are in effect (atomic write)."""
        self.ack_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.ack_path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.settings))
        tmp.replace(self.ack_path)

    @property
    def paused(self) -> bool:
        return bool(self.settings.get("paused"))

    @property
    def slow_ms(self) -> int:
        return int(self.settings.get("slow_ms") or 0)


POISON = b'{"type": "deposited", "account_id": 42, "amount": "lots"}'


def poison(bootstrap: str, names: Names, value: bytes = POISON) -> None:
    """Produce one malformed record to the events topic (outside any transaction)."""
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(names.events, key=b"poison", value=value)
    if producer.flush(10) != 0:
        raise TimeoutError("poison record not delivered within 10 s")


def rebalance(
    bootstrap: str,
    names: Names,
    projection: str,
    seconds: float = 10.0,
    taken_event: threading.Event | None = None,
    join_timeout_s: float = 30.0,
) -> int:
    """Join the projection's group with an extra consumer, hold its partitions for
    ``seconds`` from the moment it gets them, then leave.

    Returns how many partitions the extra consumer was given (0 when the group did not
    hand it any within ``join_timeout_s``: the rebalance waits for every member to
    rejoin, which a busy machine can make slow); sets ``taken_event`` (if given) as soon
    as it holds any.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": names.projection_group(projection),
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "session.timeout.ms": 10000,
        }
    )
    taken: set[int] = set()
    held_since: list[float] = []

    def on_assign(c: Consumer, partitions: list) -> None:
        taken.update(tp.partition for tp in partitions)
        c.assign(partitions)
        c.pause(partitions)  # take partitions away, read nothing
        if taken and not held_since:
            held_since.append(time.monotonic())
            if taken_event is not None:
                taken_event.set()

    consumer.subscribe([names.events], on_assign=on_assign)
    deadline = time.monotonic() + join_timeout_s
    try:
        while time.monotonic() < (held_since[0] + seconds if held_since else deadline):
            consumer.poll(0.2)
    finally:
        consumer.close()
    return len(taken)


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
