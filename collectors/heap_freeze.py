"""Keep the collector's long-lived objects out of Python's full garbage collections.

At 100,000 group-partitions the collector holds a few hundred thousand long-lived
container objects (the slot layout's keys, the committed offsets read from the log,
the last snapshot's roll-ups). Every cycle also allocates many short-lived ones (the
Admin API's futures and results, the offsets log's records) that outlive a young
collection or two, so Python ran a *full* collection, which walks every long-lived
object, about twice per cycle: ~0.1-0.2 s of CPU per cycle at 100k, more than all the
column math. ``gc.freeze`` moves the objects alive at that moment into a permanent
generation that collections skip; collections then walk only what is new since.

What a frozen object costs: if it later becomes garbage inside a reference cycle,
no collection finds it while it is frozen. So the heap is re-frozen from time to time
(``gc.unfreeze``, one full ``gc.collect`` that frees such cycles, ``gc.freeze``): early
and often while the collector fills its state (the cold offsets read, the first
layouts), then every ``every_s``. ``release`` unfreezes when the service stops, so a
process that goes on (a test run) collects normally again.
"""

from __future__ import annotations

import gc

FIRST_AFTER_S = 5.0  # the first freeze: after the first cycles built the layout
EVERY_S = 300.0  # at most this long between re-freezes (one full collection each)


class HeapFreezer:
    """Decides when to (re-)freeze the heap; call ``maybe(now)`` after each cycle.

    Re-freezes at ``first_after_s`` after the first call, then at doubling gaps
    (10 s, 20 s, ...) up to ``every_s``: the state that fills during start-up (the
    cold read spans many cycles at scale) gets frozen soon, later changes within
    ``every_s``. ``now`` is a monotonic clock reading; the freezer keeps no clock.
    """

    def __init__(self, first_after_s: float = FIRST_AFTER_S, every_s: float = EVERY_S) -> None:
        if first_after_s <= 0 or every_s < first_after_s:
            raise ValueError(
                f"first_after_s must be > 0 and every_s >= first_after_s, got "
                f"first_after_s={first_after_s}, every_s={every_s}"
            )
        self._first_after = first_after_s
        self._every = every_s
        self._gap = first_after_s
        self._next_at: float | None = None
        self.freezes = 0

    def maybe(self, now: float) -> bool:
        """Re-freeze when due; True when it did."""
        if self._next_at is None:
            self._next_at = now + self._first_after
            return False
        if now < self._next_at:
            return False
        refreeze()
        self.freezes += 1
        self._gap = min(self._gap * 2, self._every)
        self._next_at = now + self._gap
        return True

    def release(self) -> None:
        """Back to normal collections (frozen objects become collectable again)."""
        if self.freezes:
            gc.unfreeze()


def refreeze() -> None:
    """Unfreeze, collect everything (frees cycles that became garbage while frozen),
    and freeze what survived."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
