"""Durability: SIGKILL a process that is writing snapshots, then reopen its store.

Runs a real child process (no Kafka needed); a few seconds at most.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from collectors.store.db import Store
from collectors.store.schema import LATEST_VERSION
from tests.unit.store import snapshots as ss

REPO = Path(__file__).resolve().parents[3]
PARTITIONS_PER_SNAPSHOT = 2_000

CHILD = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{repo!r}, {tests!r}]
    from tests.unit.store import snapshots as ss
    from collectors.store.db import Store

    store = Store(sys.argv[1])
    parts = int(sys.argv[2])
    i = 0
    while True:
        snap = ss.snapshot(float(i), [
            ss.partition(float(i), "g", f"t{{k % 7}}", k, committed=i) for k in range(parts)
        ])
        store.write_snapshot(snap)
        i += 1
        print(i, flush=True)  # i snapshots (0 .. i-1) are committed
    """
)


def _read_lines(stream: object, lines: list[str], done: threading.Event) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.append(line.strip())
    done.set()


@pytest.mark.timeout(180)
def test_sigkill_mid_write_loses_at_most_the_cycle_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "crash" / "lagwatch.duckdb"
    code = CHILD.format(repo=str(REPO), tests=str(REPO / "tests" / "unit"))
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(path), str(PARTITIONS_PER_SNAPSHOT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    lines: list[str] = []
    eof = threading.Event()
    threading.Thread(target=_read_lines, args=(child.stdout, lines, eof), daemon=True).start()
    try:
        deadline = time.monotonic() + 120  # generous: a loaded CI machine is slow
        while len(lines) < 8:  # the child is well into its write loop
            assert not eof.is_set(), f"child exited early: {child.stderr.read()}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "child did not commit 8 snapshots in time"
            eof.wait(0.01)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        eof.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    reported = int(lines[-1])

    with Store(path) as store:
        assert store.schema_version() == LATEST_VERSION
        cursor = store._cursor()
        per_snapshot = cursor.execute(
            "SELECT observed_at, count(*) FROM partition_samples GROUP BY 1 ORDER BY 1"
        ).fetchall()
        stored = len(per_snapshot)
        # every reported snapshot is there; at most the one in flight beyond that
        assert reported <= stored <= reported + 1
        assert [at for at, _ in per_snapshot] == [float(i) for i in range(stored)]
        # and each one whole: all partitions, its group row and its 7 topic rows
        assert {n for _, n in per_snapshot} == {PARTITIONS_PER_SNAPSHOT}
        groups = cursor.execute("SELECT count(*) FROM group_samples").fetchall()[0][0]
        topics = cursor.execute("SELECT count(*) FROM group_topic_samples").fetchall()[0][0]
        assert (groups, topics) == (stored, 7 * stored)
        points = store.series("committed", "g", topic="t0", partition=0, start=0, end=1e6)
        assert points[-1][1] == stored - 1
        # the file takes new writes after the crash
        store.write_snapshot(ss.simple(float(stored)))
        assert store.rollup(now=1e6) >= 1


def test_a_second_process_cannot_open_a_store_in_use(tmp_path: Path) -> None:
    path = tmp_path / "lagwatch.duckdb"
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from collectors.store.db import Store, StoreError
        try:
            Store(sys.argv[1])
        except StoreError as exc:
            print(exc)
            sys.exit(3)
        """
    )
    with Store(path) as store:
        store.write_snapshot(ss.simple(1.0))
        other = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=30
        )
        assert other.returncode == 3, other.stderr
        assert str(path) in other.stdout and "lock" in other.stdout
        assert store.series("committed", "g", start=0, end=2, step=2) == [(0.0, 21.0)]
