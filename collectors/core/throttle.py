"""Let a repeated message through once per interval, and count the ones held back.

Pure: the caller passes ``now``. A warning that repeats every cycle (the same group
failing the same way for minutes) is logged once per ``every_s`` with how often it
repeated meanwhile, instead of once a cycle.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

# Keys remembered before the ones whose interval is over are forgotten (a key seen
# again after that starts afresh): bounds memory when keys carry ever-new texts.
MAX_KEYS = 1024


@dataclass(frozen=True, slots=True)
class Verdict:
    """``emit``: log it now. ``suppressed``: repeats held back since the key was last
    let through (0 the first time); ``since_s``: seconds since then (0.0 the first time)."""

    emit: bool
    suppressed: int = 0
    since_s: float = 0.0

    def suffix(self) -> str:
        """`` (repeated 37 times in the last 60 s)`` when repeats were held back, else ``""``."""
        if not self.emit or not self.suppressed:
            return ""
        times = "once" if self.suppressed == 1 else f"{self.suppressed:,} times"
        return f" (repeated {times} in the last {self.since_s:.0f} s)"


class Throttle:
    """Per key: the first occurrence passes; repeats within ``every_s`` of the last one
    that passed are held back and counted; the first repeat after that passes with the
    count. A held-back repeat is only reported when the key comes again after the
    interval: one that never recurs is not reported (its first line already was).
    """

    def __init__(self, every_s: float, max_keys: int = MAX_KEYS) -> None:
        if every_s < 0:
            raise ValueError(f"every_s must be >= 0 seconds, got {every_s}")
        self._every_s = every_s
        self._max_keys = max_keys
        self._passed_at: dict[Hashable, float] = {}
        self._held: dict[Hashable, int] = {}

    def check(self, key: Hashable, now: float) -> Verdict:
        last = self._passed_at.get(key)
        if last is not None and now - last < self._every_s:
            self._held[key] = self._held.get(key, 0) + 1
            return Verdict(False)
        held = self._held.pop(key, 0)
        if last is None and len(self._passed_at) >= self._max_keys:
            self._forget(now)
        self._passed_at[key] = now
        return Verdict(True, held, 0.0 if last is None else now - last)

    def _forget(self, now: float) -> None:
        """Drop keys whose interval is over (their held counts with them); if all are
        still within it, the oldest half goes."""
        old = [k for k, t in self._passed_at.items() if now - t >= self._every_s]
        if not old:
            old = sorted(self._passed_at, key=self._passed_at.__getitem__)[
                : len(self._passed_at) // 2 or 1
            ]
        for key in old:
            self._passed_at.pop(key, None)
            self._held.pop(key, None)
