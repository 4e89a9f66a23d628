"""Logging at the edge: the collector's loggers let a repeated warning through once a
minute, saying how often it repeated meanwhile (the counting is ``core.throttle``).

Per-cycle problems are already one line per kind and error (``core.log_summary``);
this keeps a failure that lasts for minutes from writing that line every cycle. A
state change (a cluster going down or coming back) must never be held back, or the
log could end on the wrong state: log it with ``extra=ALWAYS``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable

from collectors.core.throttle import Throttle

REPEAT_EVERY_S = 60.0
KEY = "lagwatch_repeat_key"
ALWAYS = {"lagwatch_always": True}


def repeat_key(*parts: Hashable) -> dict[str, object]:
    """``extra=`` for a record whose text varies (counts) while it is the same
    problem: records with equal keys count as repeats."""
    return {KEY: parts}


class RepeatFilter(logging.Filter):
    """Holds back a WARNING-or-worse record that repeats within ``every_s`` of the one
    let through; the next one let through ends with ``(repeated N times in the last
    M s)``. The key is the record's ``repeat_key`` when given, else its logger, level
    and formatted text. Lower levels and ``ALWAYS`` records always pass. Thread-safe:
    the cycle, writer and probe threads share loggers."""

    def __init__(
        self, every_s: float = REPEAT_EVERY_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._throttle = Throttle(every_s)
        self._clock = clock
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or getattr(record, "lagwatch_always", False):
            return True
        key = getattr(record, KEY, None) or (record.name, record.levelno, record.getMessage())
        with self._lock:
            verdict = self._throttle.check(key, self._clock())
        if verdict.emit and verdict.suppressed:
            record.msg = record.getMessage() + verdict.suffix()
            record.args = ()
        return verdict.emit


def throttled(name: str) -> logging.Logger:
    """The logger ``name`` with one ``RepeatFilter`` (added once, however often asked).
    A logger's filter sees the records logged on that logger itself, not its children's."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RepeatFilter) for f in logger.filters):
        logger.addFilter(RepeatFilter())
    return logger
