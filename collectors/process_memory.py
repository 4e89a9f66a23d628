"""Process-wide memory settings of the collector process (not of a library user's).

- ``limit_malloc_arenas``: glibc gives threads that allocate at the same time arenas of
  their own (up to 8 per core). The collector's allocating threads (librdkafka's, the
  cycle, the store writer, scrapes) would each grow one, and pages freed in one arena
  never serve another; two arenas keep the collector's RSS close to what it uses.
- ``trim_malloc``: glibc keeps freed pages for reuse; ``malloc_trim(0)`` returns the
  free pages of every arena to the system (19 ms median, 66 ms max at 100,000
  group-partitions, measured by ``lagwatch bench collector``). Called after work that
  frees much at once: cycles (at most every 10 s), a /metrics render.
- ``arrow_on_malloc``: Arrow's default pool (mimalloc) keeps pages a /metrics render
  freed until asked to release them, beside glibc's own free pages; on glibc's malloc
  the two share one heap, which ``trim_malloc`` returns in one step.
- ``withhold_pandas``: pyarrow imports pandas the first time it builds an array or a
  table (~40 MB of RSS, ~1 s), to recognise pandas objects the collector never
  passes it. In the collector process nothing uses pandas, so importing it fails
  there, with a message saying why; pyarrow then carries on without it.

All are no-ops where they do not apply (not glibc, pandas already imported).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from importlib.abc import MetaPathFinder

M_ARENA_MAX = -8  # glibc malloc.h
MALLOC_ARENAS = 2


def _glibc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # not glibc
        return None


_LIBC = _glibc()


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (as ``MALLOC_ARENA_MAX`` would); True when applied.
    Arenas already created stay: call it before the collector starts its threads."""
    return _LIBC is not None and _LIBC.mallopt(M_ARENA_MAX, arenas) == 1


def trim_malloc() -> None:
    """Return glibc malloc's free pages to the system (no-op off glibc)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


class _WithheldPandas(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError(
                f"{name} is not loaded in the lagwatch collector process: nothing there "
                "needs it (collectors/process_memory.py withholds it to save ~40 MB)"
            )
        return None


def withhold_pandas() -> bool:
    """Make ``import pandas`` fail in this process from now on; True when installed,
    False when pandas is already imported (then nothing is saved or changed)."""
    if "pandas" in sys.modules:
        return False
    if not any(isinstance(f, _WithheldPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _WithheldPandas())
    return True


def arrow_on_malloc() -> None:
    """Allocate Arrow's buffers with the system allocator from now on."""
    import pyarrow as pa  # the collector imports it anyway

    pa.set_memory_pool(pa.system_memory_pool())


def lean_process() -> None:
    """Everything above, for a process that runs only the collector: call once,
    before the service starts (``lagwatch bench collector`` does). Never in a process
    that may need pandas later (tests, the dashboard)."""
    limit_malloc_arenas()
    withhold_pandas()
    arrow_on_malloc()


class PeriodicTrim:
    """``trim_malloc`` at most once per ``every_s`` (monotonic seconds passed in), for a
    loop that frees much from time to time (the cycle loop: the cold
    ``__consumer_offsets`` read, record-timestamp fetches, replaced snapshots)."""

    def __init__(self, every_s: float = 10.0) -> None:
        self.every_s = every_s
        self._next = float("-inf")

    def due(self, now: float) -> bool:
        """True (and the next one scheduled) when ``every_s`` has passed since the last."""
        if now < self._next:
            return False
        self._next = now + self.every_s
        return True

    def maybe(self, now: float) -> None:
        if self.due(now):
            trim_malloc()
