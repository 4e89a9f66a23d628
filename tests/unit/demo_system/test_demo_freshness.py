"""Query API staleness from cached lookups (pure part of ``Freshness``)."""

from __future__ import annotations


def test_a_moved_checkpoint_reports_an_upper_bound_from_an_earlier_lookup() -> None:
    """No Kafka call on the answer path: the newest earlier lookup bounds the staleness."""
    from demo_system.freshness import Freshness

    f = Freshness.__new__(Freshness)  # no consumer: only the pure lookup is exercised
    import threading

    f._lock = threading.Lock()
    f.partitions = [0, 1]
    f._first_ts = {(0, 10): 100_000, (0, 20): 104_000}  # ms
    f._at_end = {(1, 5): 0.0}  # seen at the end of partition 1 at t=0 s
    out = f.staleness({0: 25, 1: 5}, now=105.0)
    assert out["partitions"] == {0: 1.0, 1: 0.0}  # 105 - 104, from offset 20 < 25
    assert out["staleness_s"] == 1.0
    moved = f.staleness({0: 25, 1: 9}, now=105.0)  # partition 1 was at the end at t=0
    assert moved["partitions"] == {0: 1.0, 1: 105.0}  # upper bound: written after t=0
    unknown = f.staleness({0: 5, 1: 3}, now=105.0)  # nothing looked up before these
    assert unknown["partitions"] == {0: None, 1: None} and unknown["staleness_s"] is None
