"""``lagwatch collect`` as a supervisor: the collector runs in a child process that is
started again when it dies of a signal.

Why: librdkafka can abort the whole process on an internal assertion while a broker is
down or restarting (``rd_kafka_enq_once_del_source_return: Assertion `eonce->refcnt > 0'
failed``, open as confluentinc/librdkafka#4605); here it took the collector down in one
of four 20 s broker outages at 100,000 group-partitions. Python cannot catch an abort,
a parent process can start the collector again, and the store is crash-safe (a restart
loses at most the cycle in flight; the restart shows as an annotation).

What the supervisor does with the child's end (``next_step``, pure):

- an exit with a code (0 after SIGTERM or Ctrl-C, 1 cannot listen, 2 bad config or
  store): the supervisor exits with that code; starting again would not help;
- death by a signal the supervisor did not ask for (SIGABRT, SIGSEGV, SIGKILL from the
  OOM killer): logged at ERROR and started again after a back-off of 1 s, doubling up to
  ``MAX_DELAY_S``, back to 1 s once a child has run ``STEADY_S``.

SIGTERM or SIGINT to the supervisor: SIGTERM to the child (its graceful stop), then the
child's exit code. The child dies with the supervisor (``PR_SET_PDEATHSIG``), so a
killed supervisor never leaves a collector holding the port and the store.
``lagwatch collect --no-supervise`` runs the collector in the calling process.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FIRST_DELAY_S = 1.0
MAX_DELAY_S = 60.0
STEADY_S = 600.0  # a child that ran this long resets the back-off
_PR_SET_PDEATHSIG = 1

log = logging.getLogger("lagwatch.collect")


@dataclass(frozen=True, slots=True)
class Restart:
    delay_s: float


@dataclass(frozen=True, slots=True)
class Exit:
    code: int


def next_step(returncode: int, stopping: bool, ran_s: float, last_delay_s: float) -> Restart | Exit:
    """What to do when the child ended with ``returncode`` (negative: killed by that
    signal) after ``ran_s`` seconds; ``stopping``: the supervisor was asked to stop;
    ``last_delay_s``: the back-off before this child (0 for the first).

    A stop asked for always exits (a child killed while stopping exits 1: it did not
    stop by itself). A code exits with it. A signal death restarts."""
    if returncode >= 0:
        return Exit(returncode)
    if stopping:
        return Exit(1)
    if ran_s >= STEADY_S or last_delay_s <= 0:
        return Restart(FIRST_DELAY_S)
    return Restart(min(MAX_DELAY_S, last_delay_s * 2))


def supervise(argv: list[str]) -> int:
    """Run ``lagwatch <argv> --no-supervise`` in a child until it exits with a code."""
    command = [sys.executable, "-m", "collectors.cli", *argv, "--no-supervise"]
    reason: list[str] = []  # why the child runs again (its start annotation says so)
    stop = threading.Event()
    child: subprocess.Popen[bytes] | None = None

    def _stop(*_: object) -> None:
        stop.set()
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    delay_s = 0.0
    restarts = 0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command + reason, preexec_fn=_die_with(os.getpid()))
        if stop.is_set():  # a stop that came while starting
            child.send_signal(signal.SIGTERM)
        returncode = child.wait()  # a signal's handler runs while it waits (PEP 475)
        ran_s = time.monotonic() - started
        step = next_step(returncode, stop.is_set(), ran_s, delay_s)
        if isinstance(step, Exit):
            return step.code
        restarts += 1
        delay_s = step.delay_s
        died = f"the collector process died of {_signal_name(-returncode)} after {ran_s:.0f} s"
        log.error("%s; starting it again in %g s (restart %d)", died, delay_s, restarts)
        reason = ["--restart-reason", f"{died} (restart {restarts})"]
        if stop.wait(delay_s):
            return 0


def _die_with(parent: int) -> Callable[[], None]:
    """For the child before exec: SIGKILL when the supervisor ``parent`` dies (Linux;
    elsewhere a no-op). A supervisor that died before the call cannot signal any more:
    the child then ends at once."""

    def arm() -> None:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:
            os._exit(1)

    return arm


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
