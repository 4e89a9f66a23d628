"""A broker outage under a running collector: how many log lines it writes.

``lagwatch bench collector --outage 20`` stops the local broker it measures (one that
``lagwatch kafka start`` runs, found by its port), keeps it down for that long, starts
it again and waits until the collector's snapshot is whole again, counting every line
the process logs from the stop on, at INFO and above (what ``lagwatch collect`` would
print at its default level, after the repeat filter of ``collectors.logs``). The issue's
target: at most a few hundred lines for a 20 s outage at 100,000 group-partitions.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from collectors.devtools import kafka_local

RECOVERY_DEADLINE_S = 600.0  # the longest wait for a whole snapshot after the restart
EXAMPLES = 8  # lines kept as written, for the report


@dataclass(frozen=True, slots=True)
class OutageResult:
    down_s: float  # from the stop until the restarted broker answered
    recovered_s: float | None  # from the stop until the first whole snapshot (None: never)
    lines: int  # lines written from the stop until recovery (or the deadline)
    by_level: dict[str, int]
    examples: list[str]  # the first lines, as formatted


class _Counting(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.levels: Counter[str] = Counter()
        self.examples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.levels[record.levelname] += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(self.format(record)[:300])


def local_port(bootstrap: str) -> int | None:
    """The port of a broker ``lagwatch kafka start`` runs at ``bootstrap``, else None."""
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    if host not in ("127.0.0.1", "localhost") or not port.isdigit():
        return None
    return int(port) if kafka_local.status(int(port)).running else None


def measure_outage(port: int, seconds: float, whole: Callable[[float], bool]) -> OutageResult:
    """Stop the broker on ``port``, keep it down ``seconds``, start it, and wait until
    ``whole(t)``: the collector's latest snapshot was taken after ``t`` (wall clock, the
    restart) and has every row exact."""
    logger = logging.getLogger()  # the root: "lagwatch.*" and "collectors.*" alike
    handler = _Counting()
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    stopped = time.monotonic()
    up = stopped
    recovered = None
    try:
        kafka_local.stop(port)
        time.sleep(seconds)
        kafka_local.start(port, progress=lambda message: None)
        up, restarted_at = time.monotonic(), time.time()
        deadline = up + RECOVERY_DEADLINE_S
        while time.monotonic() < deadline:
            if whole(restarted_at):
                recovered = time.monotonic() - stopped
                break
            time.sleep(0.2)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return OutageResult(
        down_s=up - stopped,
        recovered_s=recovered,
        lines=sum(handler.levels.values()),
        by_level=dict(handler.levels),
        examples=handler.examples,
    )


def report_lines(
    seconds: float, partitions: int, results: list[tuple[int, OutageResult]]
) -> list[str]:
    """The report's rows, one per (run number, result)."""
    out = [
        f"Broker outage: the local broker stopped with the collector running, started "
        f"again after {seconds:g} s, until the snapshot was whole again; every line the "
        f"collector's loggers wrote meanwhile at INFO and above (target: a few hundred at "
        f"most, at {partitions:,} group-partitions).",
        "",
        "| run | broker down (stop to answering) | stop to whole snapshot | lines | by level |",
        "|---|---:|---:|---:|---|",
    ]
    for i, r in results:
        levels = ", ".join(f"{k} {v}" for k, v in sorted(r.by_level.items())) or "none"
        whole = "not within the deadline" if r.recovered_s is None else f"{r.recovered_s:.0f} s"
        out.append(f"| {i} | {r.down_s:.0f} s | {whole} | {r.lines} | {levels} |")
    if results and results[0][1].examples:
        out += ["", f"The first lines of run {results[0][0]}:", "", "```"]
        out += results[0][1].examples
        out += ["```"]
    return out
