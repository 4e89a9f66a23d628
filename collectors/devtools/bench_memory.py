"""Where the collector's megabytes go, for ``lagwatch bench collector``.

``MemoryProbe`` samples this process's RSS on its own thread (every 0.1 s) and keeps,
per phase of the run (set by the benchmark: cold cycle, warm-up, measured cycles) and
while a /metrics render runs, the highest RSS seen with a breakdown taken at that
moment. ``breakdown`` splits the RSS by allocator:

- ``file``: file-backed pages (shared libraries' code and data: Python, NumPy, Arrow,
  DuckDB, librdkafka), what the imports cost before any work;
- ``malloc used``: glibc malloc's bytes in use (``mallinfo2``): NumPy columns,
  librdkafka's buffers, DuckDB (this build of DuckDB allocates with glibc malloc);
- ``arrow``: bytes allocated from Arrow's pool (the store writer's and the /metrics
  render's columns);
- ``other``: the rest of the anonymous RSS: Python objects (pymalloc arenas), pages
  glibc or Arrow's allocator hold free for reuse, thread stacks.

``malloc free`` (bytes glibc's arenas hold free) is shown beside, not in the sum: after
``malloc_trim`` the pages are returned but glibc still counts them as free.

Linux only (``/proc/self/status``); the peak is ``VmHWM`` after ``reset_peak``, which
needs a writable ``/proc/self/clear_refs`` (else the kernel's lifetime peak, said so).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass, field

import pyarrow as pa

MIB = 1024 * 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        return libc
    except (OSError, AttributeError):  # not glibc >= 2.33
        return None


_LIBC = _libc()


def status_kib() -> dict[str, int]:
    """The ``Vm*`` and ``Rss*`` lines of ``/proc/self/status`` in KiB (empty off Linux)."""
    values: dict[str, int] = {}
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(("Vm", "Rss")):
                    name, rest = line.split(":", 1)
                    values[name] = int(rest.split()[0])
    except OSError:
        pass
    return values


def reset_peak() -> bool:
    """Reset the kernel's RSS high-water mark (``VmHWM``); False when not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def pymalloc_mb() -> float | None:
    """MB in Python's small-object arenas (most Python objects; bigger ones are in
    ``malloc used``), from ``sys._debugmallocstats``. It writes to file descriptor 2,
    which is pointed at a temporary file meanwhile: call it when no other thread writes
    to stderr (the benchmark: after the service stopped). None when not available."""
    if not hasattr(sys, "_debugmallocstats"):
        return None
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile("w+") as out:
            os.dup2(out.fileno(), 2)
            try:
                sys._debugmallocstats()
            finally:
                os.dup2(saved, 2)
            out.seek(0)
            text = out.read()
    finally:
        os.close(saved)
    found = re.search(r"^\d+ arenas \* \d+ bytes/arena\s+=\s+([\d,]+)", text, re.MULTILINE)
    return int(found.group(1).replace(",", "")) / MIB if found else None


def python_types(top: int = 6) -> list[tuple[str, int, float]]:
    """The ``top`` object types by total ``sys.getsizeof`` (``(type, count, MB)``,
    biggest first): the objects the garbage collector tracks, and the untracked ones
    (numbers, strings, bytes, and tuples and dicts holding only such) that tracked
    containers hold, however deep. Each object counts once, however many containers
    hold it: 100,000 keys sharing 20 topic names are 20 strings. Walks every object:
    seconds at 100,000 group-partitions."""
    import gc
    from collections import Counter

    sizes: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    seen: set[int] = set()

    def count(obj: object) -> None:
        name = type(obj).__name__
        sizes[name] += sys.getsizeof(obj)
        counts[name] += 1

    def count_untracked(obj: object) -> None:
        if gc.is_tracked(obj) or id(obj) in seen:
            return
        seen.add(id(obj))
        count(obj)
        if isinstance(obj, (tuple, frozenset)):
            for inner in obj:
                count_untracked(inner)
        elif isinstance(obj, dict):
            for key, value in list(obj.items()):
                count_untracked(key)
                count_untracked(value)

    for obj in gc.get_objects():
        count(obj)
        try:  # other threads (librdkafka callbacks, a stopping service) may change it
            if isinstance(obj, dict):
                for key, value in list(obj.items()):
                    count_untracked(key)
                    count_untracked(value)
            elif isinstance(obj, (list, tuple, set, frozenset)):
                for inner in list(obj):
                    count_untracked(inner)
        except RuntimeError:
            continue
    return [(name, counts[name], size / MIB) for name, size in sizes.most_common(top)]


@dataclass(frozen=True, slots=True)
class Breakdown:
    rss_mb: float
    file_mb: float
    malloc_used_mb: float
    malloc_free_mb: float
    arrow_mb: float
    other_mb: float

    def cells(self) -> str:
        return (
            f"{self.rss_mb:.0f} MB = {self.file_mb:.0f} file + {self.malloc_used_mb:.0f} "
            f"malloc used + {self.arrow_mb:.0f} arrow + {self.other_mb:.0f} other "
            f"| {self.malloc_free_mb:.0f} MB"
        )


def breakdown() -> Breakdown:
    """This process's RSS split as in the module docstring (MB)."""
    status = status_kib()
    rss = status.get("VmRSS", 0) / 1024
    file_mb = (status.get("RssFile", 0) + status.get("RssShmem", 0)) / 1024
    used = free = 0.0
    if _LIBC is not None:
        info = _LIBC.mallinfo2()
        used = (info.uordblks + info.hblkhd) / MIB
        free = info.fordblks / MIB
    arrow = pa.total_allocated_bytes() / MIB
    other = rss - file_mb - used - arrow
    return Breakdown(rss, file_mb, used, free, arrow, other)


@dataclass(slots=True)
class _Phase:
    peak: Breakdown | None = None
    at_end: Breakdown | None = None


@dataclass(slots=True)
class MemoryProbe:
    """Samples RSS every ``every_s`` on a daemon thread until ``stop``; ``phase`` and
    ``rendering`` are set by the benchmark's threads (plain attribute writes)."""

    every_s: float = 0.1
    phase: str = "start"
    rendering: bool = False
    phases: dict[str, _Phase] = field(default_factory=dict)
    marks: dict[str, Breakdown] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)
        self._thread.start()

    def mark(self, name: str) -> None:
        """Record the breakdown now under ``name`` (first call per name wins; later calls
        cost nothing: ``mallinfo2`` walks every malloc arena under its lock, which would
        stall the collector's threads if it ran at every call)."""
        if name not in self.marks:
            self.marks[name] = breakdown()

    def enter(self, phase: str) -> None:
        current = self.phases.setdefault(self.phase, _Phase())
        current.at_end = breakdown()
        self.phase = phase

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._sample()

    def _sample(self) -> None:
        rss = status_kib().get("VmRSS", 0) / 1024
        names = [self.phase] + (["during a /metrics render"] if self.rendering else [])
        for name in names:
            phase = self.phases.setdefault(name, _Phase())
            if phase.peak is None or rss > phase.peak.rss_mb:
                phase.peak = breakdown()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.enter("stopped")
