"""HeapFreezer: when it re-freezes, and that nothing frozen is lost for good."""

from __future__ import annotations

import gc
import weakref

import pytest

from collectors.heap_freeze import HeapFreezer, refreeze


@pytest.fixture(autouse=True)
def _unfrozen():
    yield
    gc.unfreeze()


def test_first_freeze_after_the_delay_then_doubling_gaps_up_to_every_s() -> None:
    heap = HeapFreezer(first_after_s=5.0, every_s=30.0)
    assert not heap.maybe(100.0)  # arms the schedule
    assert not heap.maybe(104.9)
    assert heap.maybe(105.0)
    assert gc.get_freeze_count() > 0
    froze_at = []
    for now in range(106, 260):
        if heap.maybe(float(now)):
            froze_at.append(now)
    assert froze_at == [115, 135, 165, 195, 225, 255]  # gaps 10, 20, then 30 s
    assert heap.freezes == 7


def test_release_unfreezes() -> None:
    heap = HeapFreezer(first_after_s=1.0, every_s=1.0)
    heap.maybe(0.0)
    heap.maybe(1.0)
    assert gc.get_freeze_count() > 0
    heap.release()
    assert gc.get_freeze_count() == 0


def test_a_cycle_that_became_garbage_while_frozen_is_freed_at_the_next_refreeze() -> None:
    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    refreeze()
    del a, b
    gc.collect()
    assert gone() is not None  # frozen: no collection sees it
    refreeze()
    assert gone() is None


@pytest.mark.parametrize(("first", "every"), [(0.0, 10.0), (-1.0, 10.0), (10.0, 5.0)])
def test_bad_timings_are_refused_with_the_values(first: float, every: float) -> None:
    with pytest.raises(ValueError, match="first_after_s"):
        HeapFreezer(first_after_s=first, every_s=every)
