"""The liveness limit: two cycles plus half a second, a cycle being the interval or the
typical (median of the last 5) duration of completed cycles when longer."""

from __future__ import annotations

from collectors.serving.liveness import (
    SLACK_S,
    is_stale,
    stale_after_s,
    typical_cycle_s,
)


def test_typical_is_the_median_of_the_last_five_completed_cycles():
    assert typical_cycle_s([]) == 0.0
    assert typical_cycle_s([1.4]) == 1.4
    assert typical_cycle_s([9.0, 0.2, 0.3, 0.25, 0.3, 0.2]) == 0.25  # the 9 s is older
    assert typical_cycle_s([0.2, 0.3, 10.0, 0.25, 0.3]) == 0.3  # one slow cycle: no move
    assert typical_cycle_s([1.0, 2.0]) == 1.5


def test_limit_follows_slow_cycles_but_never_drops_below_the_interval():
    assert stale_after_s(1.0) == 2.0 + SLACK_S
    assert stale_after_s(1.0, 0.4) == 2.0 + SLACK_S  # fast cycles: the interval rules
    assert stale_after_s(1.0, 1.35) == 2.7 + SLACK_S  # a slow start is not an outage
    assert not is_stale(2.9, 1.0, 1.35)
    assert is_stale(2.9, 1.0, 0.4)
    assert not is_stale(None, 1.0, 0.0)  # not measured yet
