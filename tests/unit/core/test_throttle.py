"""A repeated message passes once per interval and reports how often it repeated."""

from __future__ import annotations

import pytest

from collectors.core.throttle import Throttle, Verdict


def test_first_passes_repeats_within_the_interval_are_held_and_counted() -> None:
    throttle = Throttle(every_s=60)
    assert throttle.check("k", 0.0) == Verdict(True, 0, 0.0)
    assert [throttle.check("k", t).emit for t in (1.0, 30.0, 59.9)] == [False] * 3
    verdict = throttle.check("k", 60.0)
    assert verdict == Verdict(True, 3, 60.0)
    assert verdict.suffix() == " (repeated 3 times in the last 60 s)"
    # The interval starts again from the one let through.
    assert not throttle.check("k", 119.0).emit
    assert throttle.check("k", 120.0) == Verdict(True, 1, 60.0)
    assert throttle.check("k", 500.0) == Verdict(True, 0, 380.0)


def test_keys_are_independent() -> None:
    throttle = Throttle(every_s=10)
    assert throttle.check("a", 0.0).emit
    assert throttle.check("b", 1.0).emit
    assert not throttle.check("a", 2.0).emit


def test_suffix_wording() -> None:
    assert Verdict(True, 0, 5.0).suffix() == ""
    assert Verdict(False).suffix() == ""
    assert Verdict(True, 1, 61.2).suffix() == " (repeated once in the last 61 s)"
    assert Verdict(True, 1234, 60.0).suffix() == " (repeated 1,234 times in the last 60 s)"


def test_zero_interval_lets_everything_through() -> None:
    throttle = Throttle(every_s=0)
    assert all(throttle.check("k", 5.0).emit for _ in range(3))


def test_negative_interval_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="every_s must be >= 0 seconds, got -1"):
        Throttle(every_s=-1)


def test_memory_is_bounded_by_forgetting_expired_keys_first() -> None:
    throttle = Throttle(every_s=10, max_keys=4)
    for key in "abcd":
        throttle.check(key, 0.0)
    throttle.check("a", 1.0)  # held back, counted
    # A fifth key with all four within their interval: the oldest half (a, b) goes.
    assert throttle.check("e", 5.0).emit
    assert throttle.check("a", 6.0) == Verdict(True, 0, 0.0)  # forgotten: passes afresh
    assert not throttle.check("c", 6.0).emit  # kept: still held back
    assert not throttle.check("e", 6.0).emit
    # Keys whose interval is over are forgotten, not the recent ones.
    assert throttle.check("f", 11.0).emit  # c, d (let through at 0 s) expired; e, a kept
    assert not throttle.check("e", 11.0).emit
    assert not throttle.check("a", 11.0).emit
    assert throttle.check("c", 11.0) == Verdict(True, 0, 0.0)  # forgotten with its count
